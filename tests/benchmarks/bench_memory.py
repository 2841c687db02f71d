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
OIPS = int(os.environ.get("CNNVIZ_BENCH_OIPS", "200"))


def single_map_oip(window, i: int) -> None:
    """One single-map OIP search on Conv2D_2 (map ``i % 64``) through the OIP tab; waits until it ends."""
    from long_session import wait_until

    panel = next(
        window.tabs.widget(k)
        for k in range(window.tabs.count())
        if type(window.tabs.widget(k)).__name__ == "OipPanel"
    )
    panel.form.select_layer("Conv2D_2")
    panel.form.maps_edit.setText(str(i % 64))
    panel.form.steps.setValue(20)
    panel.start()
    wait_until(lambda: not panel.running, timeout=60)
    if panel.result is None:
        raise RuntimeError(f"OIP run {i} gave no result: {panel.info_label.text()}")


def measure() -> dict:
    """Rows for the summary table: name -> (value, unit, target or "")."""
    import tempfile

    from long_session import run_session
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from cnnviz_gui.core.resources import default_model_path
    from cnnviz_gui.core.runtime.jobs import ComputeThread, configure_tensorflow
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
        has_oip = any(type(window.tabs.widget(k)).__name__ == "OipPanel" for k in range(window.tabs.count()))
        actions = [("single-map OIPs", OIPS, single_map_oip)] if has_oip and OIPS else []
        r = run_session(window, str(default_model_path()), opens=OPENS, switches=SWITCHES, actions=actions)
    finally:
        window.close()
        window.deleteLater()
        app.processEvents()
    growth_opens = r["rss_after_opens_mb"] - r["rss_start_mb"]
    oips = r["actions"].get("single-map OIPs", 0)
    what = f"{OPENS} opens + {SWITCHES} layer switches" + (f" + {oips} single-map OIPs" if oips else "")
    rows = {
        f"memory growth, {what}": (r["growth_mb"], "MB", "< 50"),
        f"  of which {OPENS} opens": (growth_opens, "MB", ""),
        "  resident memory after warm-up": (r["rss_start_mb"], "MB", ""),
        "retracing warnings (steady state)": (len(r["retracing_warnings"]), "", "0"),
        "extra traces per opened model": (r["extra_traces"], "", "0"),
        "long session duration": (r["seconds"], "s", ""),
    }
    if oips:
        rows[f"  of which {oips} single-map OIPs"] = (r["rss_end_mb"] - r["rss_after_switches_mb"], "MB", "")
    return rows


if __name__ == "__main__":
    for name, (value, unit, target) in measure().items():
        print(f"{name:55} {value:10.1f} {unit:4} {target}")
