"""The status bar's job line: what the compute process is doing, a busy bar, Stop, and the compute device."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton

from cnnviz_gui.ui.bridge import ComputeBridge
from cnnviz_gui.ui.state import AppState

#: a job is shown as running only when it still runs this long after it started: live forward passes (a few
#: ms each) would otherwise make the status bar flicker and re-lay out on every stroke
SHOW_AFTER_MS = 150


class StatusLine:
    """Fills ``status_bar``: job text and busy bar (with ``on_stop`` behind a Stop button), device label."""

    def __init__(
        self, status_bar: QStatusBar, bridge: ComputeBridge, state: AppState, on_stop: Callable[[], None]
    ):
        self.bridge, self.state = bridge, state
        self.job_label = QLabel("Starting…")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setRange(0, 0)
        self.progress.setVisible(False)
        self.device_label = QLabel("Device: loading TensorFlow…")
        self.stop_button = QToolButton()
        self.stop_button.setText("Stop")
        self.stop_button.setToolTip("Stop the running job (Esc)")
        self.stop_button.clicked.connect(on_stop)
        self.stop_button.setVisible(False)
        status_bar.addWidget(self.job_label, 1)
        for widget in (self.progress, self.stop_button, self.device_label):
            status_bar.addPermanentWidget(widget)
        self._busy_text = ""
        bridge.status_changed.connect(self._on_status)

    def _on_status(self, text: str) -> None:
        self._busy_text = text
        if text:
            QTimer.singleShot(SHOW_AFTER_MS, self._show_if_still_busy)
        else:
            self.update_idle()

    def _show_if_still_busy(self) -> None:
        if self._busy_text and self.bridge.busy:
            self.show_job(self._busy_text)

    def show_job(self, text: str) -> None:
        self.job_label.setText(text + "…")
        self.progress.setVisible(True)
        self.stop_button.setVisible(True)

    def update_idle(self) -> None:
        if self.bridge.busy:
            return
        self.progress.setVisible(False)
        self.stop_button.setVisible(False)
        info = self.state.info
        self.job_label.setText(f"Ready — {info.name}" if info else "Ready")

    def set_device(self, device: str) -> None:
        self.device_label.setText(f"Device: {device}")
