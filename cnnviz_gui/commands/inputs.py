"""What the commands that run one input share: its flags (``--image``/``--sample``/``--dataset``/``--fit``,
``--convention``, ``--labels``) and turning them into an image in 0..1, a convention and class names.

Core modules are imported inside the functions, so ``--help`` answers without TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

CONVENTION_HELP = (
    "input range the model expects: standardised, 0..1, 0..255, caffe (VGG/ResNet), -1..1 (MobileNet, "
    "Inception, Xception) or torch (DenseNet); guessed from the model when not given"
)


def add_input_arguments(p, digits: bool = True) -> None:
    """``--sample N | --image FILE`` (one required), ``--dataset``, ``--fit`` and ``--convention``."""
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--sample", type=int, help="index of a dataset sample (see --dataset)")
    src.add_argument("--image", help="an image file (PNG, JPEG, BMP, ...) of any size")
    p.add_argument(
        "--dataset", default="mnist-sample", help="dataset of --sample (default: the bundled sample)"
    )
    p.add_argument(
        "--fit",
        choices=("crop", "pad"),
        default="crop",
        help="how --image of another aspect ratio fits an RGB model's input: keep the centre (crop, default) "
        "or fit it whole and pad with black (pad); grey models get the image whole, padded with its "
        "background, a dark-on-light picture inverted",
    )
    p.add_argument("--convention", default=None, help=CONVENTION_HELP)
    if digits:
        p.add_argument(
            "--whole-image",
            action="store_true",
            help="use the whole --image; by default a picture of one digit is cropped to the ink, scaled into "
            "20x20 and centred like MNIST (28x28 grey models)",
        )


class InputError(Exception):
    """Bad input flags; ``message`` is the one line the command prints."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class CommandInput:
    """One input for a model: the image (H, W, C) in 0..1, its description, convention and class names."""

    image: object
    source: str
    convention: str
    guessed: bool
    reason: str
    class_names: list[str] | None


def convention_for(loaded, path: str, given: str | None) -> tuple[str, bool, str]:
    """(convention, guessed, reason): ``given`` when set (checked), else the model's guess."""
    from cnnviz_gui.core.preprocess import CONVENTIONS, guess_convention

    if given is not None:
        if given not in CONVENTIONS:
            raise InputError(f"unknown --convention '{given}'; use one of {', '.join(CONVENTIONS)}")
        return given, False, "given with --convention"
    guess = guess_convention(loaded.model, str(path))
    return guess.convention, True, guess.reason


def read_input(args, loaded) -> CommandInput:
    """The image named by ``--image`` or ``--sample``/``--dataset``, fitted to the model's input."""
    from pathlib import Path

    from cnnviz_gui.core.datasets import DatasetError, load_dataset
    from cnnviz_gui.core.photos import PhotoError, photo_to_input
    from cnnviz_gui.core.preprocess import ImageInputError, digit_from_image, image_to_input

    info = loaded.info
    convention, guessed, reason = convention_for(loaded, args.model, args.convention)
    shape = info.input_shape if info.input_shape and len(info.input_shape) == 3 else (28, 28, 1)
    if args.image:
        try:
            if tuple(shape) == (28, 28, 1) and not getattr(args, "whole_image", False):
                image = digit_from_image(args.image)  # one digit, centred the way MNIST digits were
            elif shape[-1] == 1:  # grey models: digits or scans, light on dark as MNIST (paper inverted)
                image = image_to_input(args.image, shape)
            else:
                image = photo_to_input(args.image, shape, mode=args.fit)
        except (ImageInputError, PhotoError) as err:
            raise InputError(err.message) from err
        return CommandInput(image, Path(args.image).name, convention, guessed, reason, None)
    try:
        ds = load_dataset(args.dataset)
    except DatasetError as err:
        raise InputError(err.message) from err
    if not 0 <= args.sample < len(ds):
        raise InputError(f"--sample must be between 0 and {len(ds) - 1} for {ds.name}")
    image = ds.x[args.sample]
    source = f"sample {args.sample} (label {ds.class_names[int(ds.y[args.sample])]})"
    return CommandInput(image, source, convention, guessed, reason, ds.class_names)


def read_labels(path: str | None) -> list[str] | None:
    """The class names of ``--labels FILE`` (None without the flag)."""
    if path is None:
        return None
    from cnnviz_gui.core.activations.predictions import LabelsError, load_labels

    try:
        return load_labels(path)
    except LabelsError as err:
        raise InputError(err.message) from err
