"""A main window on a synchronous compute thread whose message boxes and questions are recorded."""

from __future__ import annotations

import pytest

from cnnviz_gui.core.compute import ComputeThread
from cnnviz_gui.ui.app import configure_pyqtgraph
from cnnviz_gui.ui.bridge import ComputeBridge
from cnnviz_gui.ui.main_window import MainWindow
from cnnviz_gui.ui.state import AppState


def make_window(qtbot, compute: ComputeThread | None = None, answer: bool = True) -> MainWindow:
    configure_pyqtgraph()
    w = MainWindow(AppState(), ComputeBridge(compute or ComputeThread(synchronous=True)))
    w.messages = []
    w.questions = []
    w.show_message_box = lambda parent, title, text, details="": w.messages.append((title, text, details))

    def ask(parent, title, text):
        w.questions.append(title)
        return answer

    w.ask_question = ask
    qtbot.addWidget(w)
    w.show()
    return w


@pytest.fixture
def new_window(qtbot):
    """A factory: ``new_window()`` builds another window (e.g. a second start of the app)."""
    return lambda **kw: make_window(qtbot, **kw)
