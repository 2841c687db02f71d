"""Run Python's garbage collector on the GUI thread only.

Python collects reference cycles on whichever thread happens to allocate when a threshold is crossed. When
that is the compute thread and the garbage holds Qt wrappers (a closed dialog, a replaced widget), their C++
destructors run off the GUI thread: the compute thread then waits for the GIL inside ``QObject::~QObject``
while the GUI thread, holding the GIL, waits for a Qt mutex the compute thread holds — the whole app hangs
(seen while a training job traced its first step). pyqtgraph's :class:`GarbageCollector` turns automatic
collection off and collects on a GUI timer with the same generation thresholds, so cycles are freed only here.
"""

from __future__ import annotations

import gc

from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import QCoreApplication, QThread, QTimer

from cnnviz_gui.core.memory import release_unused

#: seconds between checks; a check collects only the generations whose thresholds were crossed
INTERVAL_S = 0.5

_collector: GarbageCollector | None = None


def collect_on_gui_thread() -> GarbageCollector:
    """Install the GUI-thread collector once per process (call from the GUI thread, after the QApplication)."""
    global _collector
    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        raise RuntimeError("the garbage collector's timer must be installed on the GUI thread")
    if _collector is None:
        _collector = GarbageCollector(interval=INTERVAL_S)
    elif gc.isenabled():  # someone turned automatic collection back on
        gc.disable()
    return _collector


def release_unused_later() -> None:
    """Collect now-unreachable objects (e.g. a replaced model) on the GUI thread once events are processed."""
    QTimer.singleShot(0, release_unused)
