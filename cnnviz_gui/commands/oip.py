"""``cnnviz oip MODEL --layer L --maps SPEC``: batched OIP search from the command line."""

from __future__ import annotations

from pathlib import Path

from cnnviz_gui.commands.common import TextProgress, fail


def add_parser(sub) -> None:
    p = sub.add_parser(
        "oip",
        help="find the input patterns (OIPs) that drive chosen maps of a layer hardest",
        description="Batched gradient ascent on the input (the articles' algorithm by default) for the "
        "chosen maps of one layer; saves a figure (one map: snapshots + loss curve; several: an atlas) and "
        "optionally all results as .npz.",
    )
    p.add_argument("model", help=".keras or .h5 file")
    p.add_argument("--layer", required=True, help="layer name (see 'cnnviz info MODEL')")
    p.add_argument("--maps", default="all", help="maps or units: 0-127, 3,7,120 or all (default)")
    p.add_argument("--steps", type=int, default=None, help="ascent steps (default: the preset's, 600)")
    p.add_argument(
        "--preset",
        default="Seed (articles)",
        help="Seed (articles) [default], Precursor, Strategy 1 or Smooth",
    )
    p.add_argument(
        "--convention",
        default=None,
        help="input range the model expects: standardised, 0..1, 0..255, caffe, -1..1 or torch (guessed from "
        "the model); the search optimises a standardised image and maps it to this range",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed of the initial images")
    p.add_argument("--out", default=None, help="figure file: .png, .svg or .pdf (or .gif for one map)")
    p.add_argument("--npz", default=None, help="save images, losses, reacts, converged (and more) here")
    p.add_argument(
        "--data-active", action="store_true", help="also check which maps the bundled sample activates"
    )
    p.set_defaults(func=run)


def _preset_name(name: str, presets) -> str | None:
    low = name.strip().lower()
    for key in presets:
        if key.lower() == low or key.lower().split(" ")[0] == low or key.lower().replace(" ", "") == low:
            return key
    return None


def run(args) -> int:
    from cnnviz_gui.core.figures import ExportError, save, save_arrays
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
    name = _preset_name(args.preset, oip.PRESETS)
    if name is None:
        return fail(f"unknown --preset '{args.preset}'; use one of: {', '.join(oip.PRESETS)}")
    overrides = {"seed": args.seed}
    if args.steps is not None:
        if args.steps < 1:
            return fail(f"--steps must be at least 1, got {args.steps}")
        overrides["steps"] = args.steps
        if oip.PRESETS[name].stages:  # strategy 1: scale the stage budgets to the requested total
            st = oip.PRESETS[name].stages
            scaled = [max(1, round(b * args.steps / sum(st))) for b in st]
            scaled[-1] = max(1, args.steps - sum(scaled[:-1]))
            overrides["stages"] = tuple(scaled)
    settings = oip.preset(name, **overrides)
    try:
        loaded = open_model(args.model)
    except ModelLoadError as err:
        return fail(err.message)
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
    bar = TextProgress(f"oip {target.key} ({len(maps)} maps)")
    request = oip.OipRequest(
        target.key, maps, settings, with_data_active=args.data_active, progress_hz=10, convention=convention
    )
    result = oip.run_oip(loaded, request, progress=lambda f, text, frame=None: bar(f, text))
    bar.done()
    n, react = len(maps), int(result.reacts.sum())
    shown = ""
    if convention != "standardised":
        shown = f"; input {convention}" + (" (guessed)" if args.convention is None else "")
    print(
        f"{react}/{n} maps react, {int((result.converged & result.reacts).sum())} converged; "
        f"{result.seconds:.1f} s on {result.device}{shown}"
    )
    if result.data_active is not None:
        print(f"{int(result.data_active.sum())}/{n} maps are activated by some image of the bundled sample")
    try:
        if args.out:
            if args.out.lower().endswith(".gif"):
                result_gif(result, 0, args.out)
            elif n == 1:
                save(run_figure(result, 0), args.out)
            else:
                save(atlas_figure(result), args.out)
            print(f"saved {args.out}")
        if args.npz:
            save_arrays(result.to_arrays(), args.npz)
            print(f"saved {args.npz}")
    except ExportError as err:
        return fail(err.message)
    return 0
