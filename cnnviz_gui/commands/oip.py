"""``cnnviz oip MODEL --layer L --maps SPEC``: batched OIP search from the command line."""

from __future__ import annotations

from pathlib import Path

from cnnviz_gui.commands.common import TextProgress, fail, write_outputs


def add_parser(sub) -> None:
    p = sub.add_parser(
        "oip",
        help="find the input patterns (OIPs) that drive chosen maps of a layer hardest",
        description="Batched gradient ascent on the input for the chosen maps of one layer (the articles' "
        "algorithm by default for grey models, the Lucid preset for RGB models); saves a figure (one map: "
        "snapshots + loss curve; several: an atlas, optionally with the dataset images that drive each map "
        "hardest) and optionally all results as .npz.",
    )
    p.add_argument("model", help=".keras or .h5 file")
    p.add_argument("--layer", required=True, help="layer name (see 'cnnviz info MODEL')")
    p.add_argument("--maps", default="all", help="maps or units: 0-127, 3,7,120 or all (default)")
    p.add_argument("--steps", type=int, default=None, help="ascent steps (default: the preset's, 600)")
    p.add_argument(
        "--preset",
        default=None,
        help="Seed (articles) [default for grey models], Lucid [default for RGB models], Precursor, Strategy 1 "
        "or Smooth",
    )
    p.add_argument(
        "--diversity", type=int, default=None, help="K images per map pushed to differ (default 1)"
    )
    p.add_argument(
        "--objective",
        choices=("mean", "centre"),
        default=None,
        help="mean activation of the map (default) or its single centre neuron",
    )
    p.add_argument(
        "--step-decay",
        action="store_true",
        help="shrink a map's step each time its loss falls (pixel presets; off in the articles' algorithm)",
    )
    p.add_argument(
        "--convention",
        default=None,
        help="input range the model expects: standardised, 0..1, 0..255, caffe, -1..1 or torch (guessed from "
        "the model); the search converts its image to this range on the way into the model",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed of the initial images")
    p.add_argument("--out", default=None, help="figure file: .png, .svg or .pdf (or .gif for one map)")
    p.add_argument("--npz", default=None, help="save images, losses, reacts, converged (and more) here")
    p.add_argument(
        "--data-active", action="store_true", help="also check which maps the dataset (--dataset) activates"
    )
    p.add_argument(
        "--exemplars",
        action="store_true",
        help="put the --top dataset patches that drive each map hardest beside its OIP in the atlas (and in "
        "the npz as exemplar_indices, exemplar_values, exemplar_positions, exemplar_patches)",
    )
    p.add_argument(
        "--dataset",
        default=None,
        help="dataset of --exemplars, --data-active and the ratio to the best image: mnist-sample (bundled, "
        "default), fashion_mnist, an IDX file, an .npz with x/y or an image folder",
    )
    p.add_argument("--top", type=int, default=3, help="exemplar patches per map in the atlas (default 3)")
    p.add_argument(
        "--sort",
        default="loss",
        choices=("loss", "index", "shift", "vs_exemplar"),
        help="atlas order: final loss (default), map index, share kept under a 4-px shift, ratio to the best "
        "dataset image",
    )
    p.set_defaults(func=run)


def _preset_name(name: str, presets) -> str | None:
    low = name.strip().lower()
    for key in presets:
        if key.lower() == low or key.lower().split(" ")[0] == low or key.lower().replace(" ", "") == low:
            return key
    return None


def run(args) -> int:
    from cnnviz_gui.core.activations.exemplars import ExemplarError, find_exemplars, resolve_dataset
    from cnnviz_gui.core.datasets import DatasetError
    from cnnviz_gui.core.models.loading import ModelLoadError, open_model
    from cnnviz_gui.core.oip import engine as oip
    from cnnviz_gui.core.oip.figures import atlas_figure, result_gif, run_figure
    from cnnviz_gui.core.preprocess import CONVENTIONS, guess_convention

    if args.out is None and args.npz is None:
        return fail("give --out FIG and/or --npz FILE, otherwise nothing would be saved")
    if args.out and Path(args.out).suffix.lower() not in (".png", ".svg", ".pdf", ".gif"):
        return fail(f"--out must end in .png, .svg, .pdf or .gif (got '{args.out}')")
    if args.npz and not args.npz.lower().endswith(".npz"):
        return fail(f"--npz must end in .npz (got '{args.npz}')")
    if args.convention is not None and args.convention not in CONVENTIONS:
        return fail(f"unknown --convention '{args.convention}'; use one of {', '.join(CONVENTIONS)}")
    name = None
    if args.preset is not None:
        name = _preset_name(args.preset, oip.PRESETS)
        if name is None:
            return fail(f"unknown --preset '{args.preset}'; use one of: {', '.join(oip.PRESETS)}")
    if args.diversity is not None and not 1 <= args.diversity <= 16:
        return fail(f"--diversity must be between 1 and 16 images per map, got {args.diversity}")
    if args.top < 1:
        return fail(f"--top must be at least 1, got {args.top}")
    if args.steps is not None and args.steps < 1:
        return fail(f"--steps must be at least 1, got {args.steps}")
    dataset = None
    if args.dataset is not None or args.exemplars or args.data_active:
        try:
            dataset, _ = resolve_dataset(args.dataset)
        except DatasetError as err:
            return fail(err.message)
    try:
        loaded = open_model(args.model)
    except ModelLoadError as err:
        return fail(err.message)
    channels = (loaded.info.input_shape or (None,))[-1]
    chosen = name is None
    name = name or oip.default_preset(channels)
    settings = oip.preset(name, **_overrides(args, oip.PRESETS[name]))
    convention = args.convention or guess_convention(loaded.model, str(args.model)).convention
    try:
        target = oip.OipTarget(loaded, args.layer, convention)
        maps = oip.parse_maps(args.maps, target.info.n_units)
    except oip.OipTargetError as err:
        return fail(err.message)
    except ValueError as err:
        return fail(str(err))
    if args.out and args.out.lower().endswith(".gif") and len(maps) != 1:
        return fail("a .gif shows one map's evolution: choose one map with --maps")
    if chosen:
        print(f"preset {name} (the default for {'RGB' if channels == 3 else 'grey'} models)")
    bar = TextProgress(f"oip {target.key} ({len(maps)} maps)")
    request = oip.OipRequest(
        target.key, maps, settings, with_data_active=args.data_active, progress_hz=10, convention=convention,
        dataset=dataset,
    )  # fmt: skip
    try:
        result = oip.run_oip(loaded, request, progress=lambda f, text, frame=None: bar(f, text))
        bar.done()
        exemplars = None
        if args.exemplars:
            bar = TextProgress(f"exemplars {target.key}")
            exemplars = find_exemplars(
                loaded, target.key, maps, dataset, args.top, convention,
                progress=lambda f, text="", *_: bar(f, text),
            )  # fmt: skip
            bar.done()
    except (ExemplarError, DatasetError) as err:
        return fail(err.message)
    _report(result, convention, args.convention is None)

    def figure():
        if args.out.lower().endswith(".gif"):
            result_gif(result, 0, args.out)  # writes the file itself
            return None
        if len(maps) == 1:
            return run_figure(result, 0)
        return atlas_figure(result, by=args.sort, exemplars=exemplars, top=args.top)

    def arrays() -> dict:
        saved = result.to_arrays()
        if exemplars is not None:
            saved.update({f"exemplar_{k}": v for k, v in exemplars.to_arrays().items() if k != "maps"})
        return saved

    return write_outputs(args.out, figure, args.npz, arrays)


def _overrides(args, base) -> dict:
    overrides = {"seed": args.seed}
    if args.steps is not None:
        overrides["steps"] = args.steps
        if base.stages:  # strategy 1: scale the stage budgets to the requested total
            st = base.stages
            scaled = [max(1, round(b * args.steps / sum(st))) for b in st]
            scaled[-1] = max(1, args.steps - sum(scaled[:-1]))
            overrides["stages"] = tuple(scaled)
    if args.diversity is not None:
        overrides["diversity"] = args.diversity
    if args.objective is not None:
        overrides["objective"] = args.objective
    if args.step_decay:
        overrides["step_decay"] = True
    return overrides


def _report(result, convention: str, guessed: bool) -> None:
    import numpy as np

    n, react = len(result.maps), int(result.reacts.sum())
    shown = ""
    if convention != "standardised":
        shown = f"; input {convention}" + (" (guessed)" if guessed else "")
    print(
        f"{react}/{n} maps react, {int((result.converged & result.reacts).sum())} converged; "
        f"{result.seconds:.1f} s on {result.device}{shown}"
    )
    kept = result.shift_kept[result.reacts] if result.shift_kept is not None else np.zeros(0)
    if np.isfinite(kept).any():
        print(
            f"reacting maps keep a median {np.nanmedian(kept) * 100:.0f}% of their activation under a 4-px shift"
        )
    if result.data_active is not None:
        print(
            f"{int(result.data_active.sum())}/{n} maps are activated by some image of {result.reference_dataset}"
        )
    if result.vs_best_exemplar is not None and react:
        ratio = result.vs_best_exemplar[result.reacts]
        above = int(np.sum(~(ratio < 1)))  # nan: no image activates the map, the OIP beats them all
        print(
            f"{above}/{react} reacting maps: the OIP's activation >= that of the best image of "
            f"{result.reference_dataset}"
        )
