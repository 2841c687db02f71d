"""``cnnviz info MODEL [--json]``: a model's layer tree, as text or JSON."""

from __future__ import annotations

from cnnviz_gui.commands.common import fail


def add_parser(sub) -> None:
    p = sub.add_parser("info", help="print a model's layer tree")
    p.add_argument("model", help=".keras or .h5 file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args) -> int:
    import json

    from cnnviz_gui.core.models.loading import ModelLoadError, open_model

    try:
        loaded = open_model(args.model)
    except ModelLoadError as err:
        return fail(err.message)
    info = loaded.info
    if args.json:
        print(json.dumps(info.to_dict(), indent=2))
    else:
        print(info.format_text())
    return 0
