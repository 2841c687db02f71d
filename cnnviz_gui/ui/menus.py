"""The main window's menus: File, Model, View, Help (actions call the window's methods)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence

from cnnviz_gui.core.resources import default_model_path
from cnnviz_gui.ui.model.panel import recent_labels

if TYPE_CHECKING:
    from cnnviz_gui.ui.main_window import MainWindow


def _action(window, text: str, slot, shortcut=None) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(lambda checked=False: slot())
    return action


def build_menus(w: MainWindow) -> None:
    bar = w.menuBar()
    file_menu = bar.addMenu("&File")
    w.open_action = _action(w, "&Open model…", w.open_dialog, QKeySequence.StandardKey.Open)
    file_menu.addAction(w.open_action)
    w.recent_menu = file_menu.addMenu("Open &recent")
    w.recent_menu.aboutToShow.connect(lambda: fill_recent_menu(w))
    w.default_action = _action(
        w, "Open &default MNIST model", lambda: w.open_model_file(str(default_model_path()))
    )
    file_menu.addAction(w.default_action)
    file_menu.addSeparator()
    w.open_session_action = _action(w, "Open &session…", w.sessions.open_dialog, "Ctrl+Shift+O")
    file_menu.addAction(w.open_session_action)
    w.recent_sessions_menu = file_menu.addMenu("Recent sess&ions")
    w.recent_sessions_menu.aboutToShow.connect(lambda: w.sessions.fill_recent_menu(w.recent_sessions_menu))
    w.save_session_action = _action(
        w, "&Save session", lambda: w.sessions.save(), QKeySequence.StandardKey.Save
    )
    w.save_session_as_action = _action(w, "Save session &as…", w.sessions.save_as_dialog, "Ctrl+Shift+S")
    file_menu.addActions([w.save_session_action, w.save_session_as_action])
    file_menu.addSeparator()
    w.export_action = _action(w, "&Export…", w.export_dialog, "Ctrl+E")
    file_menu.addAction(w.export_action)
    file_menu.addSeparator()
    w.preferences_action = _action(w, "&Preferences…", w.preferences_dialog, "Ctrl+,")
    file_menu.addAction(w.preferences_action)
    file_menu.addSeparator()
    file_menu.addAction(_action(w, "&Quit", w.close, "Ctrl+Q"))

    model_menu = bar.addMenu("&Model")
    w.train_action = _action(w, "&Train a model…", w.training_dialog, "Ctrl+T")
    w.stop_action = _action(w, "&Stop the running job", w.stop_jobs, "Esc")
    model_menu.addActions([w.train_action, w.stop_action])

    w.view_menu = bar.addMenu("&View")
    for action in w.view_menu_actions:
        w.view_menu.addAction(action)
    w.view_menu.addSeparator()
    w.tabs_menu = w.view_menu.addMenu("&Tabs")
    for action in w.tab_actions:
        w.tabs_menu.addAction(action)
    step = lambda d: w.tabs.setCurrentIndex((w.tabs.currentIndex() + d) % w.tabs.count())  # noqa: E731
    w.view_menu.addActions([_action(w, "&Next tab", lambda: step(1), "Ctrl+PgDown"),
                            _action(w, "&Previous tab", lambda: step(-1), "Ctrl+PgUp")])  # fmt: skip
    w.find_layer_action = _action(w, "&Find a layer", w.find_layer, "Ctrl+F")
    w.view_menu.addAction(w.find_layer_action)

    help_menu = bar.addMenu("&Help")
    w.guide_action = _action(w, "&User guide", w.user_guide, "F1")
    w.shortcuts_action = _action(w, "&Keyboard shortcuts", w.shortcuts_dialog, "Ctrl+/")
    help_menu.addActions([w.guide_action, w.shortcuts_action])
    help_menu.addSeparator()
    help_menu.addAction(_action(w, "&About cnnviz", w._about))


def fill_recent_menu(w: MainWindow) -> None:
    w.recent_menu.clear()
    paths = w.opener.recent_files()
    for p, label in zip(paths, recent_labels(paths), strict=True):
        action = w.recent_menu.addAction(label)
        action.setToolTip(p)
        action.triggered.connect(lambda checked=False, p=p: w.open_model_file(p))
    if not w.recent_menu.actions():
        w.recent_menu.addAction("(none)").setEnabled(False)


def tab_action(w: MainWindow, index: int) -> QAction:
    """View > Go to <tab> with Ctrl+1 … Ctrl+9."""
    action = _action(w, f"Go to {w.tabs.tabText(index)}", lambda: w.tabs.setCurrentIndex(index),
                     f"Ctrl+{index + 1}" if index < 9 else None)  # fmt: skip
    w.addAction(action)
    return action
