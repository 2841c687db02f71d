"""Command line: the GUI by default, sub-commands for headless work.

TensorFlow and Qt are imported lazily so that ``--help`` and ``--version`` answer at once.
"""

from __future__ import annotations

import argparse
import sys

from cnnviz_gui import __version__
from cnnviz_gui.commands import activations as activations_command
from cnnviz_gui.commands import latent as latent_command
from cnnviz_gui.commands import oip as oip_command

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

    from cnnviz_gui.core.models.loading import ModelLoadError, open_model

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
    from cnnviz_gui.core.training import cnn as training

    if args.kind == "cnn":
        out = args.out or "mnist_cnn.keras"
        bar = TextProgress("train cnn")
        res = training.train_cnn(out, epochs=args.epochs or 8, progress=bar)
        bar.done()
        print(f"test accuracy {res.test_accuracy:.4f} on held-out digits; saved {res.path}")
        return 0
    return _train_autoencoder(args)


def _train_autoencoder(args) -> int:
    from cnnviz_gui.core.training.autoencoders import train_autoencoder

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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cnnviz",
        description="Look inside trained Keras networks. Without a sub-command the desktop app opens "
        "(optionally with MODEL or a session file NAME.cnnviz.json).",
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

    activations_command.add_parser(sub)
    latent_command.add_parser(sub)
    oip_command.add_parser(sub)
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
        from cnnviz_gui.core.runtime.native_logs import native_stderr_silenced

        with native_stderr_silenced():
            return args.func(args)
    args, _qt_args = _gui_parser().parse_known_args(argv)
    from cnnviz_gui.display_check import missing_x11_libraries, missing_x11_message

    missing = missing_x11_libraries()
    if missing:
        print(missing_x11_message(missing), file=sys.stderr)
        return 2
    from cnnviz_gui.ui.app import run_app

    return run_app(args.model)
