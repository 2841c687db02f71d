"""A non-editable install finds every bundled resource (wheel built from this checkout)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_wheel_ships_resources_and_finds_them(tmp_path):
    res = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    wheel = next((tmp_path / "dist").glob("cnnviz-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "cnnviz_gui/_resources/models/mnist_cnn.keras",
        "cnnviz_gui/_resources/data/mnist_10k.npz",
        "cnnviz_gui/_resources/models/README.md",
        "cnnviz_gui/ui/main_window.py",
        "cnnviz_gui/_resources/docs/user-guide.md",
        "cnnviz_gui/_resources/docs/images/dialog-training.png",
    ):
        assert needed in names
    # install it (without dependencies: they are the venv's) into a folder and use it from elsewhere
    target = tmp_path / "site"
    res = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    code = (
        "import cnnviz_gui, cnnviz_gui.core.resources as r, cnnviz_gui.core.datasets as d\n"
        "print(cnnviz_gui.__file__); print(r.default_model_path()); print(len(d.load_bundled_mnist()))\n"
        "print(r.user_guide_path())\n"
    )
    env = dict(os.environ, PYTHONPATH=str(target))
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120
    )
    assert res.returncode == 0, res.stderr
    pkg, model, n, guide = res.stdout.strip().splitlines()
    assert pkg.startswith(str(target)) and model.startswith(str(target)) and guide.startswith(str(target))
    assert Path(model).is_file() and n == "10000"
