"""Start-up: launch ``python -m cnnviz_gui`` offscreen; time to window visible and to default model ready.

The app prints ``cnnviz-timing <event> <unix time>`` lines when ``CNNVIZ_TIMING=1`` (see ``ui/app.py``),
quits when the model is ready with ``CNNVIZ_EXIT_WHEN_READY=1`` and, with ``CNNVIZ_WATCHDOG=1``, prints the
longest GUI stall of the run (``cnnviz-stall <max stall ms> <max gap ms>``). Each variant runs a few times
(median): with TensorFlow's native libraries loaded without the GIL (the default) and without
(``CNNVIZ_NO_TF_PRELOAD=1``). Targets (issue 5): window within 1.5 s, default model within 8 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = int(os.environ.get("CNNVIZ_BENCH_STARTUP_RUNS", "3"))


def launch(extra_env: dict | None = None, timeout: float = 120) -> dict:
    """One launch; seconds from launch to each event, and the watchdog's figures."""
    with tempfile.TemporaryDirectory() as home:  # never the user's settings
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "HOME": home,
            "XDG_CONFIG_HOME": os.path.join(home, "config"),
            "XDG_STATE_HOME": os.path.join(home, "state"),
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
    if "model-ready" not in out:
        raise RuntimeError(
            f"the app did not report a ready model (rc {res.returncode}):\n{res.stderr[-2000:]}"
        )
    return out


#: loads TensorFlow's native libraries on a thread while a 10 ms GUI heartbeat runs; prints the longest gap
_DLOPEN_PROBE = r"""
import ctypes, os, sys, threading, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtWidgets import QApplication
from cnnviz_gui.core.runtime import tf_loader
from cnnviz_gui.ui.watchdog import GuiWatchdog
app = QApplication([])
wd = GuiWatchdog(threshold_ms=1e9).start()
done = threading.Event()
def load():
    if sys.argv[1] == "released":
        tf_loader.preload_tensorflow_libraries()
    else:  # what the import does: dlopen with the GIL held
        ctypes.CDLL(str(tf_loader._extension_path()))
    done.set()
t0 = time.perf_counter()
threading.Thread(target=load).start()
while not done.is_set():
    app.processEvents(); time.sleep(0.001)
wd.stop()
print(f"{wd.max_gap_ms:.1f} {time.perf_counter() - t0:.3f}")
"""


def dlopen_gap(mode: str) -> tuple[float, float]:
    """(longest GUI gap in ms, seconds) while the libraries load with the GIL ``held`` or ``released``."""
    res = subprocess.run(
        [sys.executable, "-c", _DLOPEN_PROBE, mode], capture_output=True, text=True, timeout=120
    )
    gap, seconds = res.stdout.split()[-2:]
    return float(gap), float(seconds)


def _median(runs: list[dict], key: str) -> float:
    values = [r[key] for r in runs if key in r]
    return statistics.median(values) if values else float("nan")


def measure() -> dict:
    """Rows for the summary table: name -> (value, unit, target)."""
    preload, plain, held, released = [], [], [], []
    for _ in range(RUNS):  # interleaved, so a busy moment on the machine hits both variants
        preload.append(launch())
        plain.append(launch({"CNNVIZ_NO_TF_PRELOAD": "1"}))
        held.append(dict(zip(("gap", "s"), dlopen_gap("held"), strict=True)))
        released.append(dict(zip(("gap", "s"), dlopen_gap("released"), strict=True)))
    return {
        "TF native libraries load: GUI gap, GIL held (import)": (_median(held, "gap"), "ms", ""),
        "TF native libraries load: GUI gap, GIL released": (_median(released, "gap"), "ms", "< 100"),
        "TF native libraries load: duration": (_median(released, "s"), "s", ""),
        f"startup: window visible (median of {RUNS})": (_median(preload, "window-visible"), "s", "< 1.5"),
        f"startup: default model ready (median of {RUNS})": (_median(preload, "model-ready"), "s", "< 8"),
        "startup: longest GUI stall, TF libraries preloaded": (_median(preload, "max_stall_ms"), "ms", ""),
        "startup: longest GUI gap incl. starved, TF preloaded": (_median(preload, "max_gap_ms"), "ms", ""),
        "startup: longest GUI stall, plain TF import": (_median(plain, "max_stall_ms"), "ms", ""),
        "startup: longest GUI gap incl. starved, plain import": (_median(plain, "max_gap_ms"), "ms", ""),
        "startup: default model ready, plain TF import": (_median(plain, "model-ready"), "s", ""),
    }


if __name__ == "__main__":
    for name, (value, unit, target) in measure().items():
        print(f"{name:55} {value:10.2f} {unit:4} {target}")
