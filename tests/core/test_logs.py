"""Uncaught exceptions are logged to the user's log folder and reported to the person."""

from __future__ import annotations

import logging
import sys
import threading

from cnnviz_gui.core.runtime import logs


def test_crash_handler_logs_and_notifies(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    path = logs.setup_logging()
    assert path == tmp_path / "cnnviz" / "cnnviz.log"
    told = []
    logs.install_crash_handler(lambda msg, details: told.append((msg, details)))
    try:
        raise ValueError("broken thing")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    t = threading.Thread(target=lambda: 1 / 0)
    t.start()
    t.join()
    for h in logging.getLogger("cnnviz_gui").handlers:
        h.flush()
    text = path.read_text()
    assert "ValueError: broken thing" in text and "ZeroDivisionError" in text
    assert len(told) == 1 and told[0][0] == "An unexpected error occurred: ValueError: broken thing"
    assert "Traceback" in told[0][1]
    root = logging.getLogger("cnnviz_gui")
    for h in list(root.handlers):
        if getattr(h, "baseFilename", "") == str(path):
            root.removeHandler(h)
            h.close()
