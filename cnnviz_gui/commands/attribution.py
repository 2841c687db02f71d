"""``cnnviz attribution MODEL --method M (--image F | --sample N) --out FIG``: which pixels made the model decide.

TensorFlow is imported only when the command runs, so ``cnnviz attribution --help`` answers at once.
"""

from __future__ import annotations

from pathlib import Path

from cnnviz_gui.commands.common import TextProgress, fail, write_outputs

METHOD_CHOICES = ("gradcam", "gradcampp", "saliency", "smoothgrad", "ig", "occlusion")


def add_parser(sub) -> None:
    """Register the ``attribution`` sub-command on the argparse sub-parsers ``sub``."""
    p = sub.add_parser(
        "attribution",
        help="save a heat map of the pixels that made the model choose a class",
        description="Attribution for one input: Grad-CAM, Grad-CAM++, saliency, SmoothGrad, integrated "
        "gradients or occlusion. The score is the class's pre-softmax logit when the model ends in a "
        "softmax. Saves the input, the map over it and the raw map; --sanity adds the cascading "
        "randomisation check (Adebayo et al. 2018).",
    )
    p.add_argument("model", help=".keras or .h5 file")
    p.add_argument(
        "--method", required=True, help="gradcam, gradcampp, saliency, smoothgrad, ig or occlusion"
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--image", help="an image file (PNG, JPEG, BMP)")
    src.add_argument("--sample", type=int, help="index of a digit of the bundled MNIST sample (0..9999)")
    p.add_argument(
        "--class", dest="class_index", type=int, default=None, help="target class (default: predicted)"
    )
    p.add_argument(
        "--layer", default=None, help="layer of gradcam/gradcampp (default: the last one with maps)"
    )
    p.add_argument(
        "--steps",
        type=int,
        default=None,
        help="ig: points along the path (default 64); smoothgrad: noisy samples (default 32)",
    )
    p.add_argument(
        "--baseline",
        default="black",
        help="ig baseline / occlusion fill: black, blurred or mean (input's mean colour)",
    )
    p.add_argument("--noise", type=float, default=0.2, help="smoothgrad noise, fraction of the input's range")
    p.add_argument(
        "--patch", type=int, default=None, help="occlusion patch size in pixels (default: 1/7 of the image)"
    )
    p.add_argument(
        "--stride", type=int, default=None, help="occlusion stride in pixels (default: half the patch)"
    )
    p.add_argument(
        "--convention",
        default=None,
        help="input range: standardised, 0..1, 0..255, caffe, -1..1, torch (guessed)",
    )
    p.add_argument("--sanity", action="store_true", help="add the cascading weight-randomisation check")
    p.add_argument("--cmap", default=None, help="matplotlib colour map (default jet; signed maps RdBu_r)")
    p.add_argument("--alpha", type=float, default=0.5, help="opacity of the map over the input (0..1)")
    p.add_argument("--out", required=True, help="figure file: .png, .svg or .pdf")
    p.add_argument(
        "--npz",
        default=None,
        help="also save attribution, layer_map (CAM methods), class_index, score, baseline_score (ig) and "
        "randomized_similarity (--sanity)",
    )
    p.add_argument(
        "--whole-image",
        action="store_true",
        help="resize the whole --image to the input; by default a picture of one digit is cropped to the ink, "
        "scaled into 20x20 and centred like MNIST (28x28 grey models)",
    )
    p.set_defaults(func=run)


def _check_flags(args) -> str | None:
    if args.method not in METHOD_CHOICES:
        return f"unknown --method '{args.method}'; use one of {', '.join(METHOD_CHOICES)}"
    if Path(args.out).suffix.lower() not in (".png", ".svg", ".pdf"):
        return f"--out must end in .png, .svg or .pdf (got '{args.out}')"
    if args.npz and not args.npz.lower().endswith(".npz"):
        return f"--npz must end in .npz (got '{args.npz}')"
    if args.steps is not None and args.steps < (2 if args.method == "ig" else 1):
        return f"--steps must be at least {2 if args.method == 'ig' else 1}, got {args.steps}"
    if not 0.0 <= args.alpha <= 1.0:
        return f"--alpha must be between 0 and 1, got {args.alpha}"
    if args.class_index is not None and args.class_index < 0:
        return f"--class must be 0 or more, got {args.class_index}"
    return None


def _load_input(args, info):
    """``(image (H, W, C) in 0..1, text for the title, class names or None)`` or a message string."""
    from cnnviz_gui.core.datasets import load_bundled_mnist
    from cnnviz_gui.core.preprocess import ImageInputError, digit_from_image, image_to_input

    shape = info.input_shape if info.input_shape and len(info.input_shape) == 3 else (28, 28, 1)
    if args.image:
        try:
            if tuple(shape) == (28, 28, 1) and not args.whole_image:
                image = digit_from_image(args.image)  # one digit, centred the way MNIST digits were
            else:
                image = image_to_input(args.image, shape)
        except ImageInputError as err:
            return err.message
        return image, Path(args.image).name, None
    ds = load_bundled_mnist()
    if not 0 <= args.sample < len(ds):
        return f"--sample must be between 0 and {len(ds) - 1} (the bundled MNIST sample)"
    label = ds.class_names[int(ds.y[args.sample])]
    return ds.x[args.sample], f"sample {args.sample} (label {label})", None


def run(args) -> int:
    """Run ``cnnviz attribution``; 0 on success, 2 with a message on stderr otherwise."""
    problem = _check_flags(args)
    if problem:
        return fail(problem)
    import matplotlib

    if args.cmap is not None and args.cmap not in matplotlib.colormaps:
        return fail(f"unknown --cmap '{args.cmap}'; try jet, viridis, magma, inferno or RdBu_r")

    from cnnviz_gui.core.attribution import AttributionError, AttributionRequest, attribute, sanity_check
    from cnnviz_gui.core.attribution.figures import describe_result, overlay_figure
    from cnnviz_gui.core.models.loading import ModelLoadError, open_model
    from cnnviz_gui.core.preprocess import CONVENTIONS, guess_convention

    if args.convention is not None and args.convention not in CONVENTIONS:
        return fail(f"unknown --convention '{args.convention}'; use one of {', '.join(CONVENTIONS)}")
    try:
        loaded = open_model(args.model)
    except ModelLoadError as err:
        return fail(err.message)
    convention = args.convention or guess_convention(loaded.model, str(args.model)).convention
    got = _load_input(args, loaded.info)
    if isinstance(got, str):
        return fail(got)
    image, source, class_names = got
    request = AttributionRequest(
        method=args.method, class_index=args.class_index, layer=args.layer, baseline=args.baseline,
        noise=args.noise, patch=args.patch, stride=args.stride,
    )  # fmt: skip
    if args.steps is not None:
        request.steps = request.samples = args.steps
    slow = args.method in ("smoothgrad", "ig", "occlusion") or args.sanity
    bar = TextProgress(f"attribution {args.method}") if slow else None
    try:
        result = attribute(loaded, image, request, convention, progress=bar)
        sanity = None
        if args.sanity:
            sanity_bar = TextProgress("sanity check")
            if bar is not None:
                bar.done()
            bar = sanity_bar
            sanity = sanity_check(loaded, image, convention, request, progress=bar)
    except AttributionError as err:
        if bar is not None:
            bar.done()
        return fail(err.message)
    if bar is not None:
        bar.done()
    line = describe_result(result, 0, class_names)
    print(f"{line}; input {source}, {convention}")
    if sanity is not None:
        print(sanity.verdict)
    title = f"{loaded.info.name}: {line}; input {source}"

    def arrays() -> dict:
        saved = result.to_arrays(0)
        if sanity is not None:
            saved["randomized_similarity"] = float(sanity.randomized_similarity)
        return saved

    return write_outputs(
        args.out,
        lambda: overlay_figure(image, result, cmap=args.cmap, alpha=args.alpha, title=title, sanity=sanity),
        args.npz,
        arrays,
    )
