"""``cnnviz predict MODEL (--image F | --sample N)``: the top-k classes with names and probabilities."""

from __future__ import annotations

from cnnviz_gui.commands.common import fail
from cnnviz_gui.commands.inputs import InputError, add_input_arguments, read_input, read_labels


def add_parser(sub) -> None:
    """Register the ``predict`` sub-command on the argparse sub-parsers ``sub``."""
    p = sub.add_parser(
        "predict",
        help="print a classifier's top-k classes for one input",
        description="Run one input through a classifier and print its most probable classes with their names "
        "(from --labels, the built-in ImageNet names for 1000 outputs, else the class indices). Probabilities "
        "are the model's output; a softmax is applied only when the model outputs logits.",
    )
    p.add_argument("model", help=".keras or .h5 file")
    add_input_arguments(p)
    p.add_argument(
        "--labels", default=None, help="class names: .txt one per line, or .json list or dict index -> name"
    )
    p.add_argument("--top", type=int, default=5, metavar="K", help="how many classes (default 5)")
    p.add_argument(
        "--json", action="store_true", help='print [{"class": int, "name": str, "probability": float}, ...]'
    )
    p.set_defaults(func=run)


def run(args) -> int:
    """Run ``cnnviz predict``; 0 on success, 2 with a message on stderr otherwise."""
    import json

    from cnnviz_gui.core.activations.predictions import LabelsError, predict
    from cnnviz_gui.core.activations.probe import ProbeError
    from cnnviz_gui.core.models.loading import ModelLoadError, open_model

    if args.top < 1:
        return fail(f"--top must be at least 1 (got {args.top})")
    from cnnviz_gui.core.preprocess import CONVENTIONS

    if args.convention is not None and args.convention not in CONVENTIONS:
        return fail(f"unknown --convention '{args.convention}'; use one of {', '.join(CONVENTIONS)}")
    try:
        labels = read_labels(args.labels)
    except InputError as err:
        return fail(err.message)
    try:
        loaded = open_model(args.model)
    except ModelLoadError as err:
        return fail(err.message)
    if not loaded.info.image_input and loaded.info.n_inputs != 1:
        return fail(loaded.info.input_note)
    try:
        given = read_input(args, loaded)
    except InputError as err:
        return fail(err.message)
    from pathlib import Path

    try:
        result = predict(
            loaded, given.image, given.convention, top=args.top, labels=labels,
            labels_source=Path(args.labels).name if args.labels else "",
        )  # fmt: skip
    except LabelsError as err:
        return fail(err.message)
    except (ValueError, ProbeError) as err:
        return fail(f"cannot predict with this model: {getattr(err, 'message', err)}")
    if args.json:
        print(json.dumps(result.to_list(), indent=2))
        return 0
    how = "guessed" if given.guessed else "given"
    print(f"{loaded.info.name}: input {given.source}; convention {given.convention} ({how}: {given.reason})")
    logits = "; softmax applied to the model's logits" if result.from_logits else ""
    print(f"top {len(result.top)} of {result.n_classes} classes (names: {result.names_from}){logits}")
    width = max(len(p.name) for p in result.top)
    for rank, p in enumerate(result.top, 1):
        print(f"{rank:3d}. class {p.index:<5d} {p.name:<{width}}  {p.probability * 100:7.3f}%")
    return 0
