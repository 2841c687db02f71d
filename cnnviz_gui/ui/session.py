"""Sessions in the main window: save, open, recent sessions, and the last session kept across restarts.

Views join by implementing two optional methods (see :class:`SessionView`): the window stores
``{view.title: view.session_state()}`` and gives each view its dictionary back through ``restore_session``.
Restoring applies what it can and tells the person what it could not (a model file that moved, a layer the
model no longer has, a view this version does not have).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from cnnviz_gui import __version__
from cnnviz_gui.core.resources import default_model_path
from cnnviz_gui.core.session import (
    SESSION_SUFFIX,
    Session,
    SessionError,
    last_session_path,
    load_session,
    portable_model_path,
    resolve_model_path,
    save_session,
    session_path,
)
from cnnviz_gui.ui.messages import Messages
from cnnviz_gui.ui.model.opener import ModelOpener
from cnnviz_gui.ui.settings import string_list
from cnnviz_gui.ui.state import AppState
from cnnviz_gui.ui.views import ViewRegistry

log = logging.getLogger(__name__)
MAX_RECENT_SESSIONS = 10
SESSION_FILTER = f"cnnviz sessions (*{SESSION_SUFFIX});;JSON files (*.json);;All files (*)"


@runtime_checkable
class SessionView(Protocol):
    """A view whose settings are saved in sessions (JSON-compatible values only)."""

    title: str

    def session_state(self) -> dict[str, Any]: ...

    def restore_session(self, state: dict[str, Any]) -> None: ...


class SessionManager(QObject):
    """Collects the app's state into a :class:`Session` and applies one back.

    Collaborators: the app ``state``, the model ``opener``, the ``views`` (tabs and docks), ``messages``
    for the person, the ``settings`` (recent sessions) and ``dialog_parent`` for file dialogs.
    """

    #: (session, notes): a session was applied; notes list what could not be restored
    restored = Signal(object, list)

    def __init__(self, state: AppState, opener: ModelOpener, views: ViewRegistry, messages: Messages,
                 settings: QSettings, dialog_parent: QWidget | None = None):  # fmt: skip
        super().__init__(dialog_parent)
        self.state, self.opener, self.view_registry = state, opener, views
        self.messages, self.settings, self.dialog_parent = messages, settings, dialog_parent
        self.current_path: Path | None = None
        self.last_notes: list[str] = []

    # -- collecting -----------------------------------------------------------------------------------
    def views(self) -> list:
        return self.view_registry.all()

    def collect(self) -> Session:
        """The current state: model, convention, selection, input, active tab and every view's state."""
        state = self.state
        views: dict[str, dict] = {}
        for view in self.views():
            if isinstance(view, SessionView):
                try:
                    views[view.title] = dict(view.session_state())
                except Exception:  # a view's bug must not stop the others from being saved
                    log.exception("session_state of %s failed", view.title)
        return Session(
            model_path=portable_model_path(state.info.path) if state.info is not None else None,
            convention=state.convention,
            layer=state.layer,
            maps=list(state.maps),
            input_image=state.input_image,
            input_label=state.input_label,
            current_view=self.view_registry.current_title(),
            views=views,
            app_version=__version__,
        )

    # -- saving ---------------------------------------------------------------------------------------
    def save(self, path: str | Path | None = None) -> Path | None:
        """Save to ``path`` (or the current session file; asks when there is none); returns the path."""
        if path is None and self.current_path is None:
            return self.save_as_dialog()
        target = session_path(path) if path is not None else self.current_path
        try:
            written = save_session(self.collect(), target)
        except SessionError as err:
            self.messages.show("Session not saved", err.message)
            return None
        self.current_path = written
        self._remember(written)
        self.messages.status(f"Session saved to {written}", 8000)
        return written

    def save_as_dialog(self) -> Path | None:
        start = str(self.current_path or Path.home() / ("session" + SESSION_SUFFIX))
        path, _ = QFileDialog.getSaveFileName(self.dialog_parent, "Save session", start, SESSION_FILTER)
        return self.save(path) if path else None

    def save_last(self) -> Path | None:
        """Save the session for the next start (on close); failures are only logged."""
        if self.state.loaded is None:
            return None
        try:
            return save_session(self.collect(), last_session_path())
        except SessionError as err:
            log.warning("last session not saved: %s", err.message)
            return None

    # -- opening --------------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(self.current_path.parent) if self.current_path else ""
        path, _ = QFileDialog.getOpenFileName(self.dialog_parent, "Open session", start, SESSION_FILTER)
        if path:
            self.open(path)

    def open(self, path: str | Path, remember: bool = True) -> bool:
        """Read a session file and apply it; a broken file is set aside and explained."""
        try:
            session = load_session(path)
        except SessionError as err:
            self.messages.show("Cannot open session", err.message)
            if err.set_aside is not None or not Path(path).exists():
                self._forget(Path(path))
            return False
        if remember:
            self.current_path = Path(path)
            self._remember(Path(path))
        self.apply(session, Path(path).name)
        return True

    def restore_last(self) -> bool:
        """Apply the last session if there is one; a corrupted one is set aside with a message."""
        path = last_session_path()
        if not path.is_file():
            return False
        return self.open(path, remember=False)

    def apply(self, session: Session, source: str = "session") -> None:
        """Open the session's model, then restore input, convention, selection and views."""
        notes: list[str] = []
        if session.input_image is not None:
            self.state.set_input(session.input_image, session.input_label)
        model = resolve_model_path(session.model_path)
        if model and not Path(model).exists():
            notes.append(f"The model file {model} no longer exists; the default model was opened instead.")
            model = None
        if not model:
            model = str(default_model_path())
        self.opener.open(
            model,
            then=lambda loaded: self._apply_rest(session, source, notes),
            otherwise=self._open_default_if_none,
        )

    def _open_default_if_none(self) -> None:
        """The session's model was refused (or consent declined): never leave the window without a model."""
        if self.state.loaded is None:
            self.opener.open(str(default_model_path()))

    def _apply_rest(self, session: Session, source: str, notes: list[str]) -> None:
        state, info = self.state, self.state.info
        if session.convention:
            state.set_convention(session.convention)
        if session.layer:
            layer = info.find_layer(session.layer) if info is not None else None
            if layer is None:
                notes.append(f"The model has no layer '{session.layer}'; no layer is selected.")
            else:
                maps = [m for m in session.maps if m < max(layer.n_maps, 1)]
                if len(maps) < len(session.maps):
                    notes.append(f"Some selected maps do not exist in layer '{session.layer}'.")
                state.select_layer(session.layer)
                if maps:
                    state.select_maps(session.layer, maps)
        by_title = {getattr(v, "title", None): v for v in self.views()}
        for title, view_state in session.views.items():
            view = by_title.get(title)
            if not isinstance(view, SessionView):
                notes.append(f"This version has no '{title}' view; its settings were not restored.")
                continue
            try:
                view.restore_session(view_state)
            except Exception as err:
                log.exception("restore_session of %s failed", title)
                notes.append(f"The '{title}' view could not restore its settings ({type(err).__name__}).")
        self.view_registry.show(session.current_view)
        self.last_notes = notes
        if notes:
            self.messages.show(
                "Session restored in part", f"{source}: " + " ".join(notes), details="\n".join(notes)
            )
        else:
            self.messages.status(f"Restored session {source}", 8000)
        self.restored.emit(session, notes)

    # -- recent sessions ------------------------------------------------------------------------------
    def recent(self) -> list[str]:
        return string_list(self.settings, "recent_sessions")

    def _remember(self, path: Path) -> None:
        path = str(Path(path).resolve())
        items = [p for p in self.recent() if p != path]
        self.settings.setValue("recent_sessions", ([path] + items)[:MAX_RECENT_SESSIONS])

    def _forget(self, path: Path) -> None:
        path = str(Path(path).resolve())
        self.settings.setValue("recent_sessions", [p for p in self.recent() if p != path])

    def fill_recent_menu(self, menu) -> None:
        menu.clear()
        for p in self.recent():
            action = menu.addAction(Path(p).name)
            action.setToolTip(p)
            action.triggered.connect(lambda checked=False, p=p: self.open(p))
        if not menu.actions():
            menu.addAction("(none)").setEnabled(False)
