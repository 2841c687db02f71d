"""GUI-thread policy: garbage is freed on the GUI thread only (freeing Qt objects on another thread, e.g. the
one that reads the compute process's messages, deadlocked)."""

import gc
import threading
import weakref

from compute_test_ops import MODULE as TEST_OPS
from PySide6.QtCore import QObject

from cnnviz_gui.core.runtime.local import LocalCompute


class _Cycle(QObject):
    """A Qt object in a reference cycle: only the garbage collector can free it."""

    def __init__(self):
        super().__init__()
        self.me = self


def test_cycles_with_qt_objects_are_collected_on_the_gui_thread(new_window, qtbot):
    compute = LocalCompute(extra_ops=(TEST_OPS,))  # its worker thread allocates in this process
    w = new_window(backend=compute)
    try:
        assert not gc.isenabled()  # automatic collection (on any thread) is off while a window exists
        freed_on = []
        for _ in range(20):
            obj = _Cycle()
            weakref.finalize(obj, lambda: freed_on.append(threading.current_thread().name))
            del obj

        done = []
        w.bridge.request("test.garbage", kind="test", on_result=done.append)
        qtbot.waitUntil(lambda: bool(done), timeout=30_000)
        qtbot.waitUntil(lambda: len(freed_on) == 20, timeout=10_000)  # the GUI timer collects them
        assert set(freed_on) == {threading.main_thread().name}
    finally:
        w.close()
    assert not compute.alive
