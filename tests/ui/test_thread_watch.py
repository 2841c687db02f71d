"""The dangling-thread check itself: it sees a QThread, a pool worker and the compute thread left running."""

from __future__ import annotations

import threading

from conftest import ThreadWatch
from PySide6.QtCore import QRunnable, QThread, QThreadPool

from cnnviz_gui.core.runtime.executor import Executor


class Sleeper(QThread):
    def __init__(self, event: threading.Event):
        super().__init__()
        self.event = event

    def run(self):
        self.event.wait(5)


def test_watch_reports_threads_until_they_stop(monkeypatch):
    watch = ThreadWatch(monkeypatch)
    release = threading.Event()
    qthread = Sleeper(release)
    qthread.setObjectName("sleeper")
    qthread.start()

    class Job(QRunnable):
        def run(self):
            release.wait(5)

    QThreadPool.globalInstance().start(Job())
    compute = Executor(lambda event: None, name="cnnviz-compute-test")
    left = watch.left_running()
    assert "QThread sleeper" in left and "QThreadPool worker" in left and "cnnviz-compute-test" in left

    release.set()
    assert compute.shutdown()
    qthread.wait(5000)
    QThreadPool.globalInstance().waitForDone(5000)
    assert watch.wait_all_stopped() == []
