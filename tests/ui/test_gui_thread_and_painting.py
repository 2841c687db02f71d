"""GUI-thread policies: garbage freed on the GUI thread only (a compute-thread free deadlocked); cached axes."""

import gc
import threading
import weakref

from PySide6.QtCore import QObject

from cnnviz_gui.core.compute import ComputeThread


class _Cycle(QObject):
    """A Qt object in a reference cycle: only the garbage collector can free it."""

    def __init__(self):
        super().__init__()
        self.me = self


def test_cycles_with_qt_objects_are_collected_on_the_gui_thread(new_window, qtbot):
    compute = ComputeThread()
    w = new_window(compute=compute)
    try:
        assert not gc.isenabled()  # automatic collection (on any thread) is off while a window exists
        freed_on = []
        for _ in range(20):
            obj = _Cycle()
            weakref.finalize(obj, lambda: freed_on.append(threading.current_thread().name))
            del obj

        def allocate(progress, cancelled):  # enough cycles to cross every generation threshold many times
            junk = []
            for i in range(200_000):
                a = []
                a.append(a)
                if i % 1000 == 0:
                    junk.append(a)
            return len(junk)

        done = []
        w.bridge.submit(allocate, kind="test", on_result=done.append)
        qtbot.waitUntil(lambda: bool(done), timeout=30_000)
        qtbot.waitUntil(lambda: len(freed_on) == 20, timeout=10_000)  # the GUI timer collects them
        assert set(freed_on) == {threading.main_thread().name}
    finally:
        w.close()
    assert not compute.alive


def test_axes_are_cached_and_still_follow_the_range(new_window, qtbot):
    from PySide6.QtWidgets import QGraphicsItem

    w = new_window()
    w.tabs.setCurrentWidget(w.latent_panel)
    plot = w.latent_panel.scatter
    axis = plot.plotItem.getAxis("bottom")
    assert axis.cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache

    def axis_pixels():
        qtbot.wait(50)
        rect = axis.mapRectToScene(axis.boundingRect())
        top_left = plot.mapFromScene(rect.topLeft())
        image = plot.grab().toImage()
        xs, ys = range(top_left.x() + 5, top_left.x() + 300), range(top_left.y() + 1, top_left.y() + 20)
        return [image.pixel(x, y) for y in ys for x in xs]  # tick marks and labels

    plot.plotItem.setXRange(0, 1, padding=0)
    before = axis_pixels()
    plot.plotItem.setXRange(3, 4, padding=0)  # same label widths: nothing but the range changes
    after = axis_pixels()
    assert before != after  # the tick labels were drawn again for the new range, not taken from the cache
