"""The Summary tab: the open model's layer table as text, with the input it expects."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget

from cnnviz_gui.core import figures
from cnnviz_gui.ui.state import AppState


class SummaryView(QWidget):
    """Central tab with the model's description (same text as ``cnnviz info``)."""

    title = "Summary"

    def __init__(self, state: AppState, bridge=None, parent=None):
        super().__init__(parent)
        self.state = state
        self.text = QPlainTextEdit(readOnly=True)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.text.setFont(font)
        self.text.setPlaceholderText("Loading TensorFlow and the default model…")
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        state.model_changed.connect(lambda loaded: self.text.setPlainText(loaded.info.format_text()))

    def export_figure(self):
        info = self.state.info
        if info is None:
            return None
        text = info.format_text()
        fig = figures.new_figure(9, 0.22 * (text.count("\n") + 3))
        fig.text(0.01, 0.99, text, family="monospace", fontsize=8, va="top")
        return fig

    def export_arrays(self):
        return None
