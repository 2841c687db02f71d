"""Command line: the GUI by default, sub-commands for headless work.

TensorFlow and Qt are imported lazily so that ``--help`` and ``--version`` answer at once. Only ``cnnviz``
and ``cnnviz MODEL_FILE`` (or a session file) open the window: anything else that is not a known
sub-command, and any unknown flag, exits with status 2 and the usage.
"""

from __future__ import annotations

import argparse
import sys

from cnnviz_gui import __version__
from cnnviz_gui.commands import activations, attribution, exemplars, info, latent, oip, predict, train

#: sub-command modules, each with ``add_parser(sub)`` that sets ``func``; the order is the help's order
COMMANDS = (info, train, activations, predict, attribution, oip, exemplars, latent)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cnnviz",
        description="Look inside trained Keras networks. Without a sub-command the desktop app opens "
        "(optionally with MODEL or a session file NAME.cnnviz.json).",
    )
    p.add_argument("--version", action="version", version=f"cnnviz {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return p


def subcommand_names() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(action.choices)


def _gui_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cnnviz",
        usage="cnnviz [MODEL_FILE | SESSION.cnnviz.json]\n       cnnviz COMMAND ... (cnnviz --help)",
    )
    p.add_argument("model", nargs="?", default=None)
    return p


def _gui_arguments(argv: list[str]) -> str | None:
    """The model or session file to open; exits 2 with the usage for anything else.

    A lone word that is no file is taken for a mistyped sub-command, not a model to open: the person would
    otherwise wait for a window they did not ask for.
    """
    from pathlib import Path

    parser = _gui_parser()
    args = parser.parse_args(argv)  # unknown flags and extra words exit 2 here
    if args.model is not None and not Path(args.model).exists() and "." not in Path(args.model).name:
        parser.error(
            f"'{args.model}' is neither a sub-command ({', '.join(subcommand_names())}) nor a model file"
        )
    return args.model


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in argv if not a.startswith("-")), None)
    if first in subcommand_names() or any(a in ("-h", "--help", "--version") for a in argv):
        args = build_parser().parse_args(argv)
        if getattr(args, "func", None) is None:
            build_parser().print_help()
            return 0
        from cnnviz_gui.core.runtime.native_logs import native_stderr_silenced

        with native_stderr_silenced():
            return args.func(args)
    model = _gui_arguments(argv)
    from cnnviz_gui.display_check import missing_x11_libraries, missing_x11_message

    missing = missing_x11_libraries()
    if missing:
        print(missing_x11_message(missing), file=sys.stderr)
        return 2
    from cnnviz_gui.ui.app import run_app

    return run_app(model)
