"""The app's log file in the user's log folder, and a hook that logs uncaught exceptions."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

LOG_NAME = "cnnviz.log"


def log_dir() -> Path:
    """The per-user log folder (XDG state folder on Linux, Library/Logs on macOS, LOCALAPPDATA on Windows)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "cnnviz" / "Logs"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Logs" / "cnnviz"
    else:
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "cnnviz"
    return base


def setup_logging(
    level: int = logging.INFO, path: str | os.PathLike | None = None, rotate: bool = True
) -> Path:
    """Log to a rotating file (``path``, default in :func:`log_dir`); returns the file's path.

    The GUI and the compute process write to the same file; each line names its process. Only the GUI
    rotates it (``rotate``); the compute process reopens the file when it was rotated away.
    ``CNNVIZ_DEBUG=1`` logs at DEBUG (e.g. every job of the compute process with its time).
    """
    if os.environ.get("CNNVIZ_DEBUG"):
        level = logging.DEBUG
    path = Path(path) if path is not None else log_dir() / LOG_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger("cnnviz_gui")
    if not any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        if rotate:
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
            )
        else:
            handler = logging.handlers.WatchedFileHandler(path, encoding="utf-8")
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(processName)s/%(threadName)s %(name)s: %(message)s"
            )
        )
        root.addHandler(handler)
    root.setLevel(level)
    return path


def install_crash_handler(notify: Callable[[str, str], None] | None = None) -> None:
    """Log uncaught exceptions (any thread); ``notify(message, details)`` tells the person (GUI thread only)."""
    log = logging.getLogger("cnnviz_gui.crash")

    def hook(exc_type, exc, tb):
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("uncaught exception\n%s", details)
        if notify is not None and threading.current_thread() is threading.main_thread():
            try:
                notify(f"An unexpected error occurred: {exc_type.__name__}: {exc}", details)
            except Exception:
                log.exception("could not show the error")

    sys.excepthook = hook
    threading.excepthook = lambda args: hook(args.exc_type, args.exc_value, args.exc_traceback)
