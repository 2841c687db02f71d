"""Start-up: launch ``python -m cnnviz_gui`` offscreen, as a person starts the app, and time it.

The app prints ``cnnviz-timing <event> <unix time>`` lines when ``CNNVIZ_TIMING=1`` (see ``ui/app.py``):
``window-visible``, ``model-ready`` (the bundled model is open) and ``first-maps`` (its first maps are on
screen); ``CNNVIZ_EXIT_WHEN_READY=1`` closes the window once the first maps are shown; at the close it prints
``cnnviz-rss <GUI MB> <compute MB>`` (both processes still running, the model open) and, with
``CNNVIZ_WATCHDOG=1``, the longest GUI stall of the whole run (``cnnviz-stall <own ms> <gap ms>``; *own*
leaves out the time the OS gave the process no core, see ``ui/watchdog.py``). Times count from the launch.

Each variant runs ``CNNVIZ_BENCH_STARTUP_RUNS`` times (default 3; medians), interleaved: the default, and
without loading TensorFlow's native libraries before its import (``CNNVIZ_NO_TF_PRELOAD=1``; both happen in
the compute process now, so this only moves the compute process's own start). Targets (issues 5 and 13):
window within 1.5 s, bundled model within 8 s, no GUI stall of 100 ms, GUI process within 400 MB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from harness import main, median, say

RUNS = int(os.environ.get("CNNVIZ_BENCH_STARTUP_RUNS", "3"))


def launch(extra_env: dict | None = None, timeout: float = 180) -> dict:
    """One launch; seconds from launch to each event, the watchdog's figures and both processes' memory."""
    with tempfile.TemporaryDirectory() as home:  # never the user's settings
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "HOME": home,
            "XDG_CONFIG_HOME": os.path.join(home, "config"),
            "XDG_STATE_HOME": os.path.join(home, "state"),
            "XDG_DATA_HOME": os.path.join(home, "data"),
            "CNNVIZ_TIMING": "1",
            "CNNVIZ_WATCHDOG": "1",
            "CNNVIZ_EXIT_WHEN_READY": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            **(extra_env or {}),
        }
        start = time.time()
        res = subprocess.run(
            [sys.executable, "-m", "cnnviz_gui"], env=env, capture_output=True, text=True, timeout=timeout
        )
    out = {"rc": res.returncode}
    for line in res.stderr.splitlines():
        parts = line.split()
        if line.startswith("cnnviz-timing ") and len(parts) == 3:
            out[parts[1]] = float(parts[2]) - start
        elif line.startswith("cnnviz-stall ") and len(parts) == 3:
            out["max_stall_ms"], out["max_gap_ms"] = float(parts[1]), float(parts[2])
        elif line.startswith("cnnviz-rss ") and len(parts) == 3:
            out["gui_rss_mb"], out["compute_rss_mb"] = float(parts[1]), float(parts[2])
    if "first-maps" not in out:
        raise RuntimeError(
            f"the app did not report its first maps (rc {res.returncode}):\n{res.stderr[-2000:]}"
        )
    return out


def measure() -> dict:
    """Rows for the summary table: name -> (value, unit, target)."""
    preload, plain = [], []
    for k in range(RUNS):  # interleaved, so a busy moment on the machine hits both variants
        say(f"startup: launch {k + 1} of {RUNS} (and one without the TensorFlow preload)")
        preload.append(launch())
        plain.append(launch({"CNNVIZ_NO_TF_PRELOAD": "1"}))

    def m(runs: list[dict], key: str) -> float:
        return median([r.get(key, float("nan")) for r in runs])

    return {
        f"startup: window visible (median of {RUNS})": (m(preload, "window-visible"), "s", "< 1.5"),
        "startup: bundled model ready": (m(preload, "model-ready"), "s", "< 8"),
        "startup: first maps on screen": (m(preload, "first-maps"), "s", ""),
        "startup: longest GUI stall (own), launch to exit": (m(preload, "max_stall_ms"), "ms", "< 100"),
        "startup: longest GUI gap incl. starved by other programs": (m(preload, "max_gap_ms"), "ms", ""),
        "startup: GUI process memory (RSS), model shown": (m(preload, "gui_rss_mb"), "MB", "< 400"),
        "startup: compute process memory (RSS), model shown": (m(preload, "compute_rss_mb"), "MB", ""),
        "startup: first maps, no TF library preload": (m(plain, "first-maps"), "s", ""),
        "startup: longest GUI stall (own), no TF library preload": (m(plain, "max_stall_ms"), "ms", ""),
    }


if __name__ == "__main__":
    main(measure)
