"""Create the QApplication and the main window; TensorFlow loads on the compute thread afterwards."""

from __future__ import annotations

import sys

import pyqtgraph as pg
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from cnnviz_gui.core.compute import ComputeThread
from cnnviz_gui.core.logs import install_crash_handler, setup_logging
from cnnviz_gui.core.resources import resource_path
from cnnviz_gui.ui.bridge import ComputeBridge
from cnnviz_gui.ui.main_window import MainWindow
from cnnviz_gui.ui.preferences_dialog import apply_theme
from cnnviz_gui.ui.state import AppState

_configured = False


def configure_pyqtgraph() -> None:
    global _configured
    if not _configured:
        pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
        _configured = True


def create_main_window(compute: ComputeThread | None = None) -> MainWindow:
    """Build the window (without opening a model); the app and tests share this."""
    configure_pyqtgraph()
    state = AppState()
    bridge = ComputeBridge(compute or ComputeThread())
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
    window = create_main_window()
    apply_theme(window.preferences.theme, app)
    install_crash_handler(
        lambda message, details: window.show_message(
            "Unexpected error", f"{message}\n\nThe details were written to {log_path}.", details
        )
    )
    window.show()
    app.processEvents()
    window.start(model_path)
    return app.exec()
