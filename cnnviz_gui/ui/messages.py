"""Telling the person things: a message box for what they must read, the status bar for the rest."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QStatusBar


class Messages:
    """One place that shows messages; ``box(title, text, details)`` shows the modal box (replaceable in
    tests), ``last`` keeps the last (title, text) shown."""

    def __init__(self, status_bar: QStatusBar, box: Callable[[str, str, str], None]):
        self.status_bar = status_bar
        self.box = box
        self.last: tuple[str, str] | None = None

    def show(self, title: str, text: str, details: str = "") -> None:
        """Something went wrong or must be read; the app and the open model stay as they were."""
        self.last = (title, text)
        self.status_bar.showMessage(text.splitlines()[0][:200] if text else title, 10000)
        self.box(title, text, details)

    def status(self, text: str, ms: int = 5000) -> None:
        self.status_bar.showMessage(text, ms)
