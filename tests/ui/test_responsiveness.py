"""GUI responsiveness, measured in a fresh process as the app runs.

The scenarios (``responsiveness_scenarios.py``: open a model and switch layers, train an epoch, draw, encode
10,000 digits, a whole-layer OIP atlas, Stop) run in their own pytest process: a long test process accumulates TensorFlow state (every
traced function of every earlier test stays registered), which makes freeing a model far slower than in the
app and would blame the app for the test suite's history.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_gui_stays_responsive_in_a_fresh_process():
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
         "-o", "python_files=responsiveness_scenarios.py", "tests/ui/responsiveness_scenarios.py"],
        cwd=REPO, capture_output=True, text=True, timeout=600, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )  # fmt: skip
    lines = [line.lstrip(".sFE") for line in res.stdout.splitlines()]  # pytest's progress dots precede them
    figures = [
        line
        for line in lines
        if line.startswith(("open +", "training", "drawing", "tab ", "encoding", "OIP", "Stop"))
    ]
    print("\n".join(figures))
    assert res.returncode == 0, res.stdout[-6000:] + res.stderr[-2000:]
    assert len([f for f in figures if f.startswith("Stop during")]) >= 2, res.stdout[-3000:]
