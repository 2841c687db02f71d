"""Command line: the GUI by default, sub-commands for headless work.

TensorFlow and Qt are imported lazily so that ``--help`` and ``--version`` answer at once.
"""

from __future__ import annotations

import argparse
import sys

from cnnviz_gui import __version__
from cnnviz_gui.commands import latent as latent_command

SUBCOMMANDS = ("info", "train", "activations", "oip", "latent")


class TextProgress:
    """A one-line text progress bar on stderr."""

    def __init__(self, label: str, width: int = 30, stream=None):
        self.label, self.width = label, width
        self.stream = stream or sys.stderr
        self._last = None

    def __call__(self, fraction: float, text: str = "") -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        filled = int(round(fraction * self.width))
        line = f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {fraction * 100:5.1f}% {text}"
        if line != self._last:
            self.stream.write(line[:160].ljust(min(len(self._last or ""), 160)))
            self.stream.flush()
            self._last = line

    def done(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _fail(message: str, code: int = 2) -> int:
    print(f"cnnviz: {message}", file=sys.stderr)
    return code


def _cmd_info(args) -> int:
    import json

    from cnnviz_gui.core.models import ModelLoadError, open_model

    try:
        loaded = open_model(args.model)
    except ModelLoadError as err:
        return _fail(err.message)
    info = loaded.info
    if args.json:
        print(json.dumps(info.to_dict(), indent=2))
    else:
        print(info.format_text())
    return 0


def _cmd_train(args) -> int:
    from cnnviz_gui.core import training

    if args.kind == "cnn":
        out = args.out or "mnist_cnn.keras"
        bar = TextProgress("train cnn")
        res = training.train_cnn(out, epochs=args.epochs or 8, progress=bar)
        bar.done()
        print(f"test accuracy {res.test_accuracy:.4f} on held-out digits; saved {res.path}")
        return 0
    return _train_autoencoder(args)


def _train_autoencoder(args) -> int:
    from cnnviz_gui.core.autoencoders import train_autoencoder

    kind = args.kind
    if args.latent_dim < 1:
        return _fail(f"--latent-dim must be at least 1, got {args.latent_dim}")
    if args.beta < 0:
        return _fail(f"--beta must not be negative, got {args.beta}")
    out = args.out or f"mnist_{kind}.keras"
    bar = TextProgress(f"train {kind}")
    res = train_autoencoder(
        out, kind=kind, epochs=args.epochs or 15, latent_dim=args.latent_dim, beta=args.beta, progress=bar
    )
    bar.done()
    last = {k: v[-1] for k, v in res.history.items() if v}
    print("final training losses: " + ", ".join(f"{k} {v:.2f}" for k, v in last.items()))
    print("held-out losses:       " + ", ".join(f"{k} {v:.2f}" for k, v in res.test_losses.items()))
    ext = ", ".join(f"z{i} [{lo:+.2f}, {hi:+.2f}]" for i, (lo, hi) in enumerate(res.extent))
    print(f"latent extent (1st..99th percentile): {ext}; r99 = {res.r99:.2f}")
    print(f"saved {res.path}")
    return 0


def _cmd_activations(args) -> int:
    from pathlib import Path

    import numpy as np

    from cnnviz_gui.core import activations as act
    from cnnviz_gui.core.activation_figures import maps_figure
    from cnnviz_gui.core.datasets import DatasetError, load_dataset
    from cnnviz_gui.core.figures import ExportError, save, save_arrays
    from cnnviz_gui.core.models import ModelLoadError, open_model
    from cnnviz_gui.core.preprocess import CONVENTIONS, ImageInputError, guess_convention, image_to_input

    if Path(args.out).suffix.lower() not in (".png", ".svg", ".pdf"):
        return _fail(f"--out must end in .png, .svg or .pdf (got '{args.out}')")
    if args.npz and not args.npz.lower().endswith(".npz"):
        return _fail(f"--npz must end in .npz (got '{args.npz}')")
    try:
        loaded = open_model(args.model)
    except ModelLoadError as err:
        return _fail(err.message)
    info = loaded.info
    layer = info.find_layer(args.layer)
    if layer is None:
        names = ", ".join(entry.name for entry in info.iter_layers())
        return _fail(f"the model has no layer '{args.layer}'; its layers are: {names}")
    guess = guess_convention(loaded.model, str(args.model))
    convention = args.convention or guess.convention
    if convention not in CONVENTIONS:
        return _fail(f"unknown --convention '{convention}'; use one of {', '.join(CONVENTIONS)}")
    class_names = None
    if args.image:
        shape = info.input_shape if info.input_shape and len(info.input_shape) == 3 else (28, 28, 1)
        try:
            image = image_to_input(args.image, shape)
        except ImageInputError as err:
            return _fail(err.message)
        source = Path(args.image).name
    else:
        try:
            ds = load_dataset(args.dataset)
        except DatasetError as err:
            return _fail(err.message)
        if not 0 <= args.sample < len(ds):
            return _fail(f"--sample must be between 0 and {len(ds) - 1} for {ds.name}")
        image = ds.x[args.sample]
        class_names = ds.class_names
        source = f"sample {args.sample} (label {ds.class_names[int(ds.y[args.sample])]})"
    try:
        result = act.forward(loaded, image, convention)
    except (ValueError, act.ProbeError) as err:
        return _fail(f"the input does not fit the model: {getattr(err, 'message', err)}")
    key = act.get_probe(loaded).key(args.layer)
    output = result.layers[key]
    probs = result.probabilities
    if probs is not None and (class_names is None or len(class_names) != len(probs)):
        class_names = [str(i) for i in range(len(probs))]
    maps = act.maps_of(output)
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
        return _fail(err.message)
    except ValueError as err:  # e.g. an unknown colour map
        return _fail(str(err).splitlines()[0])
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cnnviz",
        description="Look inside trained Keras networks. Without a sub-command the desktop app opens "
        "(optionally with MODEL).",
    )
    p.add_argument("--version", action="version", version=f"cnnviz {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    info = sub.add_parser("info", help="print a model's layer tree")
    info.add_argument("model", help=".keras or .h5 file")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.set_defaults(func=_cmd_info)

    train = sub.add_parser("train", help="train a default model on the bundled MNIST sample")
    train.add_argument("kind", choices=["cnn", "ae", "vae"])
    train.add_argument("--epochs", type=int, default=None)
    train.add_argument("--out", default=None, help="output .keras file")
    train.add_argument("--latent-dim", type=int, default=2, help="AE/VAE latent dimension")
    train.add_argument("--beta", type=float, default=1.0, help="VAE weight of the KL term")
    train.set_defaults(func=_cmd_train)

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
    acts.set_defaults(func=_cmd_activations)
    latent_command.add_parser(sub)
    return p


def _gui_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cnnviz", add_help=False)
    p.add_argument("model", nargs="?", default=None)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in argv if not a.startswith("-")), None)
    if first in SUBCOMMANDS or any(a in ("-h", "--help", "--version") for a in argv):
        args = build_parser().parse_args(argv)
        if getattr(args, "func", None) is None:
            build_parser().print_help()
            return 0
        from cnnviz_gui.core.native_logs import native_stderr_silenced

        with native_stderr_silenced():
            return args.func(args)
    args, _qt_args = _gui_parser().parse_known_args(argv)
    from cnnviz_gui.ui.app import run_app

    return run_app(args.model)
