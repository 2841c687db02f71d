"""Long session: open the default model 200 times, switch layers 1,000 times; memory growth and retracing.

Target (issue 5): resident memory grows less than 50 MB after warm-up; no tf.function retracing warnings.
Run alone with ``python tests/benchmarks/bench_memory.py`` or through ``bench_summary.py`` (make bench).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/: long_session
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

OPENS = int(os.environ.get("CNNVIZ_BENCH_OPENS", "200"))
SWITCHES = int(os.environ.get("CNNVIZ_BENCH_SWITCHES", "1000"))


def measure() -> dict:
    """Rows for the summary table: name -> (value, unit, target or "")."""
    import tempfile

    from long_session import run_session
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from cnnviz_gui.core.compute import ComputeThread, configure_tensorflow
    from cnnviz_gui.core.resources import default_model_path
    from cnnviz_gui.ui.app import configure_pyqtgraph
    from cnnviz_gui.ui.bridge import ComputeBridge
    from cnnviz_gui.ui.main_window import MainWindow
    from cnnviz_gui.ui.state import AppState

    settings_dir = tempfile.mkdtemp(prefix="cnnviz-bench-")  # never the user's recent files
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, settings_dir)
    app = QApplication.instance() or QApplication([])
    configure_tensorflow()
    configure_pyqtgraph()
    window = MainWindow(AppState(), ComputeBridge(ComputeThread()))
    window.show_message_box = lambda *args, **kwargs: None
    window.show()
    try:
        r = run_session(window, str(default_model_path()), opens=OPENS, switches=SWITCHES)
    finally:
        window.close()
        window.deleteLater()
        app.processEvents()
    growth_opens = r["rss_after_opens_mb"] - r["rss_start_mb"]
    return {
        f"memory growth, {OPENS} opens + {SWITCHES} layer switches": (r["growth_mb"], "MB", "< 50"),
        f"  of which {OPENS} opens": (growth_opens, "MB", ""),
        "  resident memory after warm-up": (r["rss_start_mb"], "MB", ""),
        "retracing warnings (steady state)": (len(r["retracing_warnings"]), "", "0"),
        "extra traces per opened model": (r["extra_traces"], "", "0"),
        "long session duration": (r["seconds"], "s", ""),
    }


if __name__ == "__main__":
    for name, (value, unit, target) in measure().items():
        print(f"{name:55} {value:10.1f} {unit:4} {target}")
