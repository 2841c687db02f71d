"""``cnnviz activations``: a figure of one layer's maps (or unit values) for one input, raw arrays as npz.

TensorFlow is imported only when the command runs, so ``cnnviz activations --help`` answers at once.
"""

from __future__ import annotations

from cnnviz_gui.commands.common import fail


def add_parser(sub) -> None:
    """Register the ``activations`` sub-command on the argparse sub-parsers ``sub``."""
    acts = sub.add_parser("activations", help="save a figure of one layer's activation maps for one input")
    acts.add_argument("model", help=".keras or .h5 file")
    acts.add_argument("--layer", required=True, help="layer name (see 'cnnviz info MODEL')")
    src = acts.add_mutually_exclusive_group(required=True)
    src.add_argument("--sample", type=int, help="index of a dataset sample (see --dataset)")
    src.add_argument("--image", help="an image file (PNG, JPEG, BMP)")
    acts.add_argument(
        "--dataset", default="mnist-sample", help="dataset of --sample (default: the bundled sample)"
    )
    acts.add_argument(
        "--cmap", default="viridis", help="matplotlib colour map (viridis, jet, gray, magma, ...)"
    )
    acts.add_argument(
        "--convention", default=None, help="input range: standardised, 0..1 or 0..255 (guessed)"
    )
    acts.add_argument("--out", required=True, help="figure file: .png, .svg or .pdf")
    acts.add_argument("--npz", default=None, help="also save the raw arrays to this .npz")
    acts.add_argument(
        "--whole-image",
        action="store_true",
        help="resize the whole --image to the input; by default a picture of one digit is cropped to the ink, "
        "scaled into 20x20 and centred like MNIST (28x28 grey models)",
    )
    acts.set_defaults(func=run)


def run(args) -> int:
    """Run ``cnnviz activations``; 0 on success, 2 with a message on stderr otherwise."""
    from pathlib import Path

    import numpy as np

    from cnnviz_gui.core.activations import probe as act
    from cnnviz_gui.core.activations.figures import maps_figure
    from cnnviz_gui.core.activations.maps import maps_of
    from cnnviz_gui.core.datasets import DatasetError, load_dataset
    from cnnviz_gui.core.figures import ExportError, save, save_arrays
    from cnnviz_gui.core.models.loading import ModelLoadError, open_model
    from cnnviz_gui.core.preprocess import (
        CONVENTIONS,
        ImageInputError,
        digit_from_image,
        guess_convention,
        image_to_input,
    )

    if Path(args.out).suffix.lower() not in (".png", ".svg", ".pdf"):
        return fail(f"--out must end in .png, .svg or .pdf (got '{args.out}')")
    if args.npz and not args.npz.lower().endswith(".npz"):
        return fail(f"--npz must end in .npz (got '{args.npz}')")
    try:
        loaded = open_model(args.model)
    except ModelLoadError as err:
        return fail(err.message)
    info = loaded.info
    layer = info.find_layer(args.layer)
    if layer is None:
        names = ", ".join(entry.name for entry in info.iter_layers())
        return fail(f"the model has no layer '{args.layer}'; its layers are: {names}")
    guess = guess_convention(loaded.model, str(args.model))
    convention = args.convention or guess.convention
    if convention not in CONVENTIONS:
        return fail(f"unknown --convention '{convention}'; use one of {', '.join(CONVENTIONS)}")
    class_names = None
    if args.image:
        shape = info.input_shape if info.input_shape and len(info.input_shape) == 3 else (28, 28, 1)
        try:
            if tuple(shape) == (28, 28, 1) and not args.whole_image:
                image = digit_from_image(args.image)  # one digit, centred the way MNIST digits were
            else:
                image = image_to_input(args.image, shape)
        except ImageInputError as err:
            return fail(err.message)
        source = Path(args.image).name
    else:
        try:
            ds = load_dataset(args.dataset)
        except DatasetError as err:
            return fail(err.message)
        if not 0 <= args.sample < len(ds):
            return fail(f"--sample must be between 0 and {len(ds) - 1} for {ds.name}")
        image = ds.x[args.sample]
        class_names = ds.class_names
        source = f"sample {args.sample} (label {ds.class_names[int(ds.y[args.sample])]})"
    try:
        result = act.forward(loaded, image, convention)
    except (ValueError, act.ProbeError) as err:
        return fail(f"the input does not fit the model: {getattr(err, 'message', err)}")
    key = act.get_probe(loaded).key(args.layer)
    output = result.layers[key]
    probs = result.probabilities
    if probs is not None and (class_names is None or len(class_names) != len(probs)):
        class_names = [str(i) for i in range(len(probs))]
    maps = maps_of(output)
    what = (
        f"{len(maps)} maps of {maps.shape[1]}x{maps.shape[2]}" if maps is not None else f"{output.size} units"
    )
    title = f"{info.name} / {key}: {what}; input {source}"
    if probs is not None:
        top = int(np.argmax(probs))
        title += f"; predicted {class_names[top]} ({probs[top] * 100:.1f}%)"
    try:
        fig = maps_figure(
            output, key, cmap=args.cmap, title=title, input_image=image, probabilities=probs,
            class_names=class_names,
        )  # fmt: skip
        save(fig, args.out)
        print(f"saved {args.out}")
        if args.npz:
            arrays = {
                "activations": output,
                "input": image,
                "layer": np.array(key),
                "convention": np.array(convention),
            }
            if probs is not None:
                arrays["probabilities"] = probs
            save_arrays(arrays, args.npz)
            print(f"saved {args.npz}")
    except ExportError as err:
        return fail(err.message)
    except ValueError as err:  # e.g. an unknown colour map
        return fail(str(err).splitlines()[0])
    return 0
