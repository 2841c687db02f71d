"""core never loads Qt; ui never loads TensorFlow/Keras; --help answers without TensorFlow."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import cnnviz_gui.core
import cnnviz_gui.ui


def _modules(package) -> list[str]:
    """Every module of ``package``, sub-packages included."""
    return [m.name for m in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}.")]


def _loaded_after_import(modules: list[str], forbidden: list[str]) -> dict[str, list[str]]:
    code = (
        "import importlib, sys, json\n"
        f"forbidden = {forbidden!r}\n"
        "out = {}\n"
        f"for name in {modules!r}:\n"
        "    before = set(sys.modules)\n"
        "    importlib.import_module(name)\n"
        "    out[name] = sorted(f for f in forbidden if f in sys.modules)\n"
        "print(json.dumps(out))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    import json

    return json.loads(res.stdout.strip().splitlines()[-1])


def test_core_modules_do_not_load_qt():
    mods = _modules(cnnviz_gui.core)
    assert "cnnviz_gui.core.models.loading" in mods and "cnnviz_gui.core.runtime.jobs" in mods
    loaded = _loaded_after_import(mods, ["PySide6", "pyqtgraph", "PyQt5", "PyQt6"])
    assert {m: v for m, v in loaded.items() if v} == {}


def test_ui_modules_do_not_load_tensorflow():
    mods = _modules(cnnviz_gui.ui)
    assert "cnnviz_gui.ui.main_window" in mods
    loaded = _loaded_after_import(mods, ["tensorflow", "keras"])
    assert {m: v for m, v in loaded.items() if v} == {}


def test_help_and_version_do_not_import_tensorflow():
    code = (
        "import sys\nfrom cnnviz_gui.cli import main\n"
        "for argv in (['--help'], ['--version'], ['info', '--help']):\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
        "print('TF' if 'tensorflow' in sys.modules or 'keras' in sys.modules else 'clean')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "usage: cnnviz" in res.stdout and "cnnviz 0." in res.stdout
    assert res.stdout.strip().splitlines()[-1] == "clean"
