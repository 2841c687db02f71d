"""Run Python's garbage collector on the GUI thread only.

Python collects reference cycles on whichever thread happens to allocate when a threshold is crossed. When
that is not the GUI thread (e.g. the thread that reads the compute process's messages) and the garbage holds
Qt wrappers (a closed dialog, a replaced widget), their C++ destructors run off the GUI thread: that thread then waits for the GIL inside ``QObject::~QObject`` while
the GUI thread, holding the GIL, waits for a Qt mutex the other thread holds — the whole app hangs (seen
when TensorFlow still ran on a thread of the GUI process).

So automatic collection is turned off and a GUI timer collects instead (pyqtgraph's ``GarbageCollector``
idea). pyqtgraph's version runs a full collection every tenth middle one, a walk over every old object
each time (150–190 ms when TensorFlow's objects were among them).
:class:`GuiThreadCollector` keeps CPython's own rule: a full collection only once the objects promoted since
the last one exceed a quarter of those that survived it.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

#: milliseconds between checks; a check collects only the generations whose thresholds were crossed
INTERVAL_MS = 250


class GuiThreadCollector(QObject):
    """Collect garbage on a GUI-thread timer with CPython's generation thresholds and full-collection rule."""

    def __init__(self, interval_ms: int = INTERVAL_MS):
        super().__init__()
        self.thresholds = gc.get_threshold()
        self.long_lived = len(gc.get_objects(generation=2))  # survivors of the last full collection
        self.pending = 0  # objects promoted to the oldest generation since then
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        if gc.isenabled():  # someone turned automatic collection back on
            gc.disable()
        c0, c1, c2 = gc.get_count()
        t0, t1, t2 = self.thresholds
        if c0 <= t0:
            return
        if c1 < t1:
            gc.collect(0)
            return
        if c2 >= t2 and self.pending > self.long_lived // 4:
            gc.collect(2)
            self.long_lived = len(gc.get_objects(generation=2))
            self.pending = 0
            return
        young = len(gc.get_objects(generation=0)) + len(gc.get_objects(generation=1))
        self.pending += max(young - gc.collect(1), 0)


_collector: GuiThreadCollector | None = None


def collect_on_gui_thread() -> GuiThreadCollector:
    """Install the GUI-thread collector once per process (from the GUI thread, after the QApplication)."""
    global _collector
    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        raise RuntimeError("the garbage collector's timer must be installed on the GUI thread")
    if _collector is None:
        _collector = GuiThreadCollector()
    gc.disable()
    return _collector
