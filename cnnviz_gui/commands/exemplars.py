"""``cnnviz exemplars MODEL --layer L``: the dataset images that drive each map hardest, and where."""

from __future__ import annotations

from pathlib import Path

from cnnviz_gui.commands.common import TextProgress, fail, write_outputs


def add_parser(sub) -> None:
    p = sub.add_parser(
        "exemplars",
        help="find the dataset images whose strongest response in each map is highest (with the patch it sees)",
        description="One batched pass of a dataset through the model: for each chosen map of a layer, the top K "
        "images by the map's strongest response anywhere, the position of that response and the receptive-field "
        "patch around it. Saves a mosaic figure and/or the arrays (indices, values, positions, patches).",
    )
    p.add_argument("model", help=".keras or .h5 file")
    p.add_argument("--layer", required=True, help="layer name (see 'cnnviz info MODEL')")
    p.add_argument("--maps", default="all", help="maps or units: 0-127, 3,7,120 or all (default)")
    p.add_argument(
        "--dataset",
        default="mnist-sample",
        help="mnist-sample (bundled, default), mnist, fashion_mnist, cifar10, IDX file, .npz with x/y, or an "
        "image folder with one sub-folder per class",
    )
    p.add_argument("--top", type=int, default=5, help="images per map (default 5)")
    p.add_argument(
        "--convention",
        default=None,
        help="input range the model expects: standardised, 0..1, 0..255, caffe, -1..1 or torch (guessed)",
    )
    p.add_argument("--out", default=None, help="figure file: .png, .svg or .pdf")
    p.add_argument("--npz", default=None, help="save indices, values, positions, patches (and more) here")
    p.set_defaults(func=run)


def run(args) -> int:
    from cnnviz_gui.core.activations.exemplar_figure import exemplar_figure, exemplar_summary
    from cnnviz_gui.core.activations.exemplars import (
        ExemplarError,
        find_exemplars,
        layer_key,
        resolve_dataset,
    )
    from cnnviz_gui.core.datasets import DatasetError
    from cnnviz_gui.core.models.loading import ModelLoadError, open_model
    from cnnviz_gui.core.oip.types import parse_maps
    from cnnviz_gui.core.preprocess import CONVENTIONS, guess_convention

    if args.out is None and args.npz is None:
        return fail("give --out FIG and/or --npz FILE, otherwise nothing would be saved")
    if args.out and Path(args.out).suffix.lower() not in (".png", ".svg", ".pdf"):
        return fail(f"--out must end in .png, .svg or .pdf (got '{args.out}')")
    if args.npz and not args.npz.lower().endswith(".npz"):
        return fail(f"--npz must end in .npz (got '{args.npz}')")
    if args.convention is not None and args.convention not in CONVENTIONS:
        return fail(f"unknown --convention '{args.convention}'; use one of {', '.join(CONVENTIONS)}")
    if args.top < 1:
        return fail(f"--top must be at least 1, got {args.top}")
    try:
        dataset, _ = resolve_dataset(args.dataset)
    except DatasetError as err:
        return fail(err.message)
    try:
        loaded = open_model(args.model)
    except ModelLoadError as err:
        return fail(err.message)
    convention = args.convention or guess_convention(loaded.model, str(args.model)).convention
    try:
        key, shape = layer_key(loaded, args.layer)
        maps = parse_maps(args.maps, shape[-1])
        bar = TextProgress(f"exemplars {key} ({len(maps)} maps)")
        result = find_exemplars(
            loaded, key, maps, dataset, args.top, convention, progress=lambda f, text="", *_: bar(f, text)
        )
        bar.done()
    except ExemplarError as err:
        return fail(err.message)
    except ValueError as err:
        return fail(str(err))
    guessed = " (guessed)" if args.convention is None else ""
    print(f"{exemplar_summary(result)}; input {convention}{guessed}")
    return write_outputs(args.out, lambda: exemplar_figure(result), args.npz, result.to_arrays)
