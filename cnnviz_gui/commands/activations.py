"""``cnnviz activations``: a figure of one layer's maps (or units) for one input, raw arrays as npz.

Only the chosen layer and the model's output are read out (one compiled call), so a big model's figure
costs its own forward pass plus the figure. TensorFlow is imported only when the command runs.
"""

from __future__ import annotations

from cnnviz_gui.commands.common import fail, write_outputs
from cnnviz_gui.commands.inputs import InputError, add_input_arguments, read_input, read_labels


def add_parser(sub) -> None:
    """Register the ``activations`` sub-command on the argparse sub-parsers ``sub``."""
    acts = sub.add_parser("activations", help="save a figure of one layer's activation maps for one input")
    acts.add_argument("model", help=".keras or .h5 file")
    acts.add_argument("--layer", required=True, help="layer name (see 'cnnviz info MODEL'), nested ones too")
    add_input_arguments(acts)
    acts.add_argument(
        "--cmap", default="viridis", help="matplotlib colour map (viridis, jet, gray, magma, ...)"
    )
    acts.add_argument("--labels", default=None, help="class names for the predictions: .txt or .json")
    acts.add_argument("--top", type=int, default=5, metavar="K", help="classes shown beside the maps (5)")
    acts.add_argument("--out", required=True, help="figure file: .png, .svg or .pdf")
    acts.add_argument("--npz", default=None, help="also save the raw arrays to this .npz")
    acts.set_defaults(func=run)


def run(args) -> int:
    """Run ``cnnviz activations``; 0 on success, 2 with a message on stderr otherwise."""
    from pathlib import Path

    import numpy as np

    from cnnviz_gui.core.activations import probe as act
    from cnnviz_gui.core.activations.figures import maps_figure
    from cnnviz_gui.core.activations.maps import maps_of
    from cnnviz_gui.core.activations.predictions import LabelsError, class_names_for
    from cnnviz_gui.core.models.loading import ModelLoadError, open_model

    if Path(args.out).suffix.lower() not in (".png", ".svg", ".pdf"):
        return fail(f"--out must end in .png, .svg or .pdf (got '{args.out}')")
    if args.npz and not args.npz.lower().endswith(".npz"):
        return fail(f"--npz must end in .npz (got '{args.npz}')")
    if args.top < 1:
        return fail(f"--top must be at least 1 (got {args.top})")
    from cnnviz_gui.core.preprocess import CONVENTIONS

    if args.convention is not None and args.convention not in CONVENTIONS:
        return fail(f"unknown --convention '{args.convention}'; use one of {', '.join(CONVENTIONS)}")
    try:
        labels = read_labels(args.labels)
        loaded = open_model(args.model)
    except InputError as err:
        return fail(err.message)
    except ModelLoadError as err:
        return fail(err.message)
    info = loaded.info
    layer = info.find_layer(args.layer)
    try:
        probe = act.get_probe(loaded)
    except act.ProbeError as err:
        return fail(err.message)
    if layer is None and args.layer not in probe:
        names = ", ".join(entry.name for entry in info.iter_layers())
        return fail(f"the model has no layer '{args.layer}'; its layers are: {names}")
    try:
        given = read_input(args, loaded)
    except InputError as err:
        return fail(err.message)
    convention = given.convention
    try:
        result = act.forward(loaded, given.image, convention, layers=[args.layer])
    except (ValueError, act.ProbeError) as err:
        return fail(f"the input does not fit the model: {getattr(err, 'message', err)}")
    key = probe.key(args.layer)
    output = result.layers[key]
    probs = result.probabilities
    class_names = None
    if probs is not None:
        known = given.class_names if given.class_names and len(given.class_names) == len(probs) else None
        try:
            class_names, _ = class_names_for(len(probs), labels or known, args.labels or "")
        except LabelsError as err:
            return fail(err.message)
    maps = maps_of(output)
    what = (
        f"{len(maps)} maps of {maps.shape[1]}x{maps.shape[2]}" if maps is not None else f"{output.size} units"
    )
    title = f"{info.name} / {key}: {what}; input {given.source}, {convention}"
    if probs is not None:
        top = int(np.argmax(probs))
        title += f"; predicted {class_names[top]} ({probs[top] * 100:.1f}%)"
    arrays = {
        "activations": output,
        "input": given.image,
        "layer": np.array(key),
        "convention": np.array(convention),
    }
    if probs is not None:
        arrays["probabilities"] = probs
    try:
        return write_outputs(
            args.out,
            lambda: maps_figure(
                output,
                key,
                cmap=args.cmap,
                title=title,
                input_image=given.image,
                probabilities=probs,
                class_names=class_names,
                top=args.top,
            ),  # fmt: skip
            args.npz,
            lambda: arrays,
        )
    except ValueError as err:  # e.g. an unknown colour map
        return fail(str(err).splitlines()[0])
