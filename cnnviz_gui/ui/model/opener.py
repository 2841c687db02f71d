"""Opening models: in the compute process, with safe mode, consent for one file, messages and recent files.

The model lives in the compute process under an id; the GUI keeps its description (:class:`OpenModel`).
Opening a model stops the jobs of the previous one first (so the open does not wait behind them), and the
open is *sticky*: when the compute process is restarted the model is reopened there by itself.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal

from cnnviz_gui.core.models.loading import ModelLoadError
from cnnviz_gui.core.runtime.jobs import JobError
from cnnviz_gui.ui.bridge import ComputeBridge
from cnnviz_gui.ui.messages import Messages
from cnnviz_gui.ui.state import AppState, OpenModel

log = logging.getLogger(__name__)
MAX_RECENT = 10
#: kinds of jobs an open leaves running: TensorFlow's start, reading data, training (not about the model)
KEEP_ON_OPEN = ("startup", "startup-data", "dataset", "training", "open")


class ModelOpener(QObject):
    """Opens model files for the window: ``open(path)``; the result becomes ``state.loaded``."""

    #: the list of recent model files changed (most recent first)
    recent_changed = Signal(list)
    #: (text) what the opener is doing, for the status line ("Opening x.keras")
    busy = Signal(str)

    def __init__(self, state: AppState, bridge: ComputeBridge, messages: Messages, settings: QSettings,
                 ask_consent: Callable[[ModelLoadError], bool], parent: QObject | None = None):  # fmt: skip
        super().__init__(parent)
        self.state, self.bridge, self.messages, self.settings = state, bridge, messages, settings
        self.ask_consent = ask_consent
        self._ids = itertools.count(1)
        self._started = 0.0

    # -- opening ------------------------------------------------------------------------------------------------
    def open(self, path: str, allow_unsafe: bool = False, then=None, otherwise=None) -> None:
        """Open ``path``; on refusal explain it and keep the current model.

        ``then(open_model)`` runs once the model is open (a session restores its selection with it);
        ``otherwise()`` after the person was told why it could not be opened.
        """
        path = str(path)
        self._started = time.monotonic()
        self.busy.emit(f"Opening {Path(path).name}")
        self.bridge.stop(
            keep=KEEP_ON_OPEN, grace=False
        )  # the previous model's work must not hold the open up
        model_id = f"m{next(self._ids)}"
        self.bridge.request(
            "models.open", {"model_id": model_id, "path": path, "allow_unsafe": allow_unsafe}, kind="open",
            label=f"Opening {Path(path).name}", sticky="model",
            on_result=lambda opened: self._opened(path, opened, then),
            on_error=lambda err: self._failed(path, err, allow_unsafe, then, otherwise),
            on_replayed=self._reopened,
        )  # fmt: skip

    def _opened(self, path: str, opened, then) -> None:
        model = OpenModel(opened.model_id, path, opened.info, opened.convention, opened.read_started)
        self.remember(path)
        self.state.set_model(model)
        self.bridge.request(
            "models.close", {"keep": [model.id]}, kind="close", label="Closing the previous model"
        )
        seconds = time.time() - opened.read_started
        log.info("opened %s in %.1f s", model.info.name, seconds)
        self.messages.status(f"Opened {model.info.name} in {time.monotonic() - self._started:.1f} s", 5000)
        if then is not None:
            then(model)

    def _reopened(self, opened) -> None:
        """The compute process was restarted and reopened the model: views refresh what they show."""
        current = self.state.loaded
        if current is not None and current.id == opened.model_id:
            current.read_started = opened.read_started
            self.messages.status(
                f"The compute process was restarted; {current.info.name} is open again.", 8000
            )
            self.state.model_reopened.emit(current)

    def _failed(self, path: str, err: JobError, was_unsafe: bool, then=None, otherwise=None) -> None:
        exc = err.exception
        if isinstance(exc, ModelLoadError) and exc.needs_consent and not was_unsafe:
            if self.ask_consent(exc):
                self.open(path, allow_unsafe=True, then=then, otherwise=otherwise)
                return
            self.messages.show(
                "Model not opened", f"{Path(path).name} was not opened; nothing from it was run."
            )
        elif isinstance(exc, ModelLoadError):
            details = ""
            if exc.summary is not None and exc.summary.layers:
                details = (
                    "What the file contains (read without building the model):\n" + exc.summary.format_text()
                )
            self.messages.show("Cannot open model", exc.message, details)
        else:
            self.messages.show("Cannot open model", err.message, err.details)
        if otherwise is not None:
            otherwise()

    # -- recent files ---------------------------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or []) if isinstance(v, str)]

    def remember(self, path: str) -> None:
        path = str(Path(path).resolve())
        items = [p for p in self.recent_files() if p != path][: MAX_RECENT - 1]
        self.settings.setValue("recent_files", [path, *items])
        self.recent_changed.emit([path, *items])
