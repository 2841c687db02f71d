"""The watchdog itself: it sees a busy GUI thread and a thread holding the GIL, and stays quiet otherwise."""

from __future__ import annotations

import gc
import threading
import time

from PySide6.QtCore import QCoreApplication, QEvent, QTimer


def test_quiet_event_loop_has_no_stall(gui_watchdog, qtbot):
    # earlier tests' windows may still be waiting for deferred deletion: finish that before listening
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()
    gc.collect()
    qtbot.wait(50)
    gui_watchdog.reset()
    qtbot.wait(300)
    assert gui_watchdog.beats >= 10
    assert gui_watchdog.max_gap_ms >= 9  # a 10 ms heartbeat
    assert gui_watchdog.stalls == [] or all(s.own_ms < 100 for s in gui_watchdog.stalls), (
        gui_watchdog.report()
    )


def test_busy_gui_thread_is_a_stall(gui_watchdog, qtbot):
    def busy():  # 300 ms of the GUI thread's own CPU time, however busy the machine is
        end = time.thread_time() + 0.3
        while time.thread_time() < end:
            pass

    QTimer.singleShot(20, busy)
    qtbot.wait(500)
    assert gui_watchdog.max_gap_ms >= 290
    stall = max(gui_watchdog.stalls, key=lambda s: s.duration_ms)
    assert stall.duration_ms >= 290 and stall.own_ms > 200, gui_watchdog.report()
    assert "GUI" in stall.stacks and "busy" in stall.stacks["GUI"]


def test_a_thread_holding_the_gil_stalls_the_gui(gui_watchdog, qtbot):
    """A long C call (here ``sum`` over a big range) on another thread never lets the GUI thread run."""
    done = threading.Event()

    def hog():
        sum(range(30_000_000))
        done.set()

    gui_watchdog.reset()
    thread = threading.Thread(target=hog, name="cnnviz-compute-hog")
    thread.start()
    qtbot.waitUntil(done.is_set, timeout=20_000)
    thread.join()
    qtbot.wait(30)
    assert gui_watchdog.max_stall_ms > 100, gui_watchdog.report()
