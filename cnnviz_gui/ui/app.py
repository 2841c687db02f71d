"""Create the QApplication and the main window; the compute process starts beside it and loads TensorFlow."""

from __future__ import annotations

import logging
import os
import sys
import time

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from cnnviz_gui.core.resources import resource_path
from cnnviz_gui.core.runtime.compute_process import ComputeProcess
from cnnviz_gui.core.runtime.diagnostics import rss_mb
from cnnviz_gui.core.runtime.logs import install_crash_handler, setup_logging
from cnnviz_gui.ui.bridge import ComputeBridge
from cnnviz_gui.ui.main_window import MainWindow
from cnnviz_gui.ui.preferences_dialog import apply_theme
from cnnviz_gui.ui.state import AppState

_configured = False
log = logging.getLogger(__name__)


def timing_mark(event: str) -> None:
    """With ``CNNVIZ_TIMING=1``, print ``cnnviz-timing <event> <unix time>`` on stderr (for benchmarks)."""
    if os.environ.get("CNNVIZ_TIMING"):
        print(f"cnnviz-timing {event} {time.time():.4f}", file=sys.stderr, flush=True)


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options, once per process: row-major images, antialiasing.

    (Cached axis pixmaps were tried: they cut repaints of still plots, but an axis with a grid spans its whole
    plot, so every pan re-rendered a plot-sized pixmap: scatter pan frames went from 4.9 to 15.4 ms at p95.)
    """
    global _configured
    if not _configured:
        pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
        _configured = True


def create_bridge(
    log_path: str | None = None, spare: bool | None = None, extra_ops: tuple[str, ...] = ()
) -> ComputeBridge:
    """A bridge to a new compute process (started now, in parallel with the window).

    ``spare``: keep a second compute process with TensorFlow imported, idle, so that a restart after a crash
    or a Stop that had to kill takes the model's open time instead of TensorFlow's import as well (default
    on; ``CNNVIZ_SPARE_PROCESS=0`` turns it off). ``extra_ops``: modules of more operations (tests).
    """
    if spare is None:
        spare = os.environ.get("CNNVIZ_SPARE_PROCESS", "1") != "0"

    def factory() -> ComputeProcess:
        return ComputeProcess(log_path=log_path, extra_ops=extra_ops)

    return ComputeBridge(factory(), spare_factory=factory if spare else None)


def create_main_window(backend=None) -> MainWindow:
    """Build the window (without opening a model) on ``backend`` (default: a new compute process)."""
    configure_pyqtgraph()
    state = AppState()
    bridge = ComputeBridge(backend) if backend is not None else create_bridge()
    return MainWindow(state, bridge)


def run_app(model_path: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("cnnviz")
    app.setOrganizationName("cnnviz")
    icon = QIcon()
    for png in sorted(resource_path("icons").glob("cnnviz-*.png")):
        icon.addFile(str(png))
    app.setWindowIcon(icon)
    log_path = setup_logging()
    configure_pyqtgraph()
    window = MainWindow(AppState(), create_bridge(str(log_path)))
    apply_theme(window.preferences.theme, app)
    install_crash_handler(
        lambda message, details: window.show_message(
            "Unexpected error", f"{message}\n\nThe details were written to {log_path}.", details
        )
    )
    window.show()
    app.processEvents()
    timing_mark("window-visible")
    _watch_startup(window)
    window.start(model_path)
    return app.exec()


def _watch_startup(window: MainWindow) -> None:
    """Timing marks, an optional watchdog (``CNNVIZ_WATCHDOG=1`` logs GUI stalls), exit for benchmarks.

    With ``CNNVIZ_TIMING=1``: ``model-ready`` when the model is open, ``first-maps`` when its first maps are on
    screen, and ``cnnviz-rss <GUI MB> <compute MB>`` when the window closes (both processes still running).
    ``CNNVIZ_EXIT_WHEN_READY=1`` closes the window once the first maps are shown.
    """

    def ready(_loaded) -> None:
        window.state.model_changed.disconnect(ready)
        timing_mark("model-ready")

    def first_maps(_name: str) -> None:
        window.activation_view.first_maps.disconnect(first_maps)
        timing_mark("first-maps")
        if os.environ.get("CNNVIZ_EXIT_WHEN_READY"):
            QTimer.singleShot(300, window.close)

    window.state.model_changed.connect(ready)
    window.activation_view.first_maps.connect(first_maps)
    if os.environ.get("CNNVIZ_TIMING"):
        window.installEventFilter(_MemoryAtClose(window))
    if os.environ.get("CNNVIZ_WATCHDOG"):
        from cnnviz_gui.ui.watchdog import GuiWatchdog

        window.watchdog = GuiWatchdog(parent=window).start()

        def report() -> None:
            window.watchdog.stop()
            log.info("GUI watchdog: %s", window.watchdog.report())
            if os.environ.get("CNNVIZ_TIMING"):
                wd = window.watchdog
                print(f"cnnviz-stall {wd.max_stall_ms:.1f} {wd.max_gap_ms:.1f}", file=sys.stderr, flush=True)

        QApplication.instance().aboutToQuit.connect(report)


class _MemoryAtClose(QObject):
    """Prints ``cnnviz-rss <GUI MB> <compute MB>`` when the window is about to close (before the window's
    own close handler ends the compute process)."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.printed = False

    def eventFilter(self, obj, event) -> bool:
        if obj is self.window and event.type() == QEvent.Type.Close and not self.printed:
            self.printed = True
            pid = getattr(self.window.bridge.backend, "pid", None)  # the process running now
            compute = rss_mb(pid) if pid else float("nan")
            print(f"cnnviz-rss {rss_mb():.1f} {compute:.1f}", file=sys.stderr, flush=True)
        return False
