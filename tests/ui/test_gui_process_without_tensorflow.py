"""The GUI process never imports TensorFlow or Keras, nor maps TensorFlow's libraries, while the real app
opens the bundled model and shows its maps (checked in a fresh process, as the app runs); building and
showing the window does not import matplotlib's pyplot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, os, sys, time
from PySide6.QtWidgets import QApplication

def main():
    app = QApplication(sys.argv[:1])
    from cnnviz_gui.ui.app import configure_pyqtgraph, create_bridge
    from cnnviz_gui.ui.main_window import MainWindow
    from cnnviz_gui.ui.state import AppState

    configure_pyqtgraph()
    w = MainWindow(AppState(), create_bridge(spare=False))
    w.show_message_box = lambda *a: None
    w.show()
    app.processEvents()
    built = sorted(m for m in sys.modules if m.startswith(("matplotlib.pyplot", "matplotlib.font_manager")))
    w.start()
    end = time.monotonic() + 240
    while w.activation_view.acts is None and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    maps = open("/proc/self/maps").read() if os.path.exists("/proc/self/maps") else ""
    child = w.bridge.pid
    child_maps = open(f"/proc/{child}/maps").read() if child and os.path.exists(f"/proc/{child}/maps") else ""
    report = {
        "maps_shown": w.activation_view.acts is not None,
        "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf_keras")),
        "tf_libraries_mapped": "libtensorflow" in maps,
        "compute_pid": child, "gui_pid": os.getpid(),
        "compute_maps_tf": "libtensorflow" in child_maps,
        "matplotlib_at_start": built,
    }
    w.close()
    print("REPORT " + json.dumps(report))

if __name__ == "__main__":
    main()
"""


def test_the_gui_process_has_no_tensorflow(tmp_path):
    script = tmp_path / "gui_only.py"
    script.write_text(SCRIPT)
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
    }
    res = subprocess.run(
        [sys.executable, str(script)], cwd=REPO, capture_output=True, text=True, timeout=400, env=env
    )
    line = next((x for x in res.stdout.splitlines() if x.startswith("REPORT ")), None)
    assert line is not None, res.stdout[-2000:] + res.stderr[-3000:]
    report = json.loads(line[len("REPORT ") :])
    assert report["maps_shown"], report
    assert report["modules"] == [], f"the GUI process imported {report['modules'][:5]}"
    assert not report["tf_libraries_mapped"]
    assert report["compute_pid"] != report["gui_pid"] and report["compute_maps_tf"], report
    # pyplot's import (and its font cache, a second on a first start) is left to the first exported figure
    assert report["matplotlib_at_start"] == [], report["matplotlib_at_start"]
