"""The Activations tab's large map settles its layout: an aspect-locked plot whose axes sized themselves to
their tick labels re-laid itself out forever at some sizes (a 3x3 map at 274x282: the left axis gained and
lost a ``-0.5`` label with every re-layout)."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QApplication

from cnnviz_gui.ui.activations.plots import LargeMap
from cnnviz_gui.ui.app import configure_pyqtgraph


def range_changes_while_idle(large: LargeMap, rounds: int = 40) -> int:
    """View-range changes during ``rounds`` event-loop passes once the first layout had time to run."""
    for _ in range(20):
        QApplication.processEvents()
    changes = []
    large.plot.vb.sigRangeChanged.connect(lambda *_: changes.append(1))
    for _ in range(rounds):  # bounded: a layout that never settles makes the count grow, not the test hang
        QApplication.processEvents()
    large.plot.vb.sigRangeChanged.disconnect()
    return len(changes)


def test_large_map_layout_settles_at_every_size(qtbot):
    configure_pyqtgraph()
    large = LargeMap()
    qtbot.addWidget(large)
    large.show()
    qtbot.waitExposed(large)
    rng = np.random.default_rng(0)
    restless = []
    for shape in [(3, 3), (5, 5), (7, 7), (28, 28)]:
        large.show_map(rng.random(shape).astype(np.float32) * 2, 120, "viridis", f"Conv2D_3 map 120 {shape}")
        for width, height in [(274, h) for h in range(240, 330, 6)] + [(w, 282) for w in range(200, 360, 10)]:
            large.resize(width, height)
            n = range_changes_while_idle(large)
            if n:
                restless.append((shape, width, height, n))
    assert restless == [], (
        f"the large map kept re-laying itself out (shape, width, height, changes): {restless}"
    )
    # the axes keep room for the widest label of a map of that shape, and the map is still shown in full
    left = large.plot.getAxis("left")
    assert left.width() >= left.textWidth
    (x0, x1), (y0, y1) = large.plot.vb.viewRange()
    assert x0 <= 0 and x1 >= 28 and y0 <= 0 and y1 >= 28


def test_two_windows_showing_a_3x3_map_large_go_idle(new_window, default_model_path, qtbot):
    """The reported case: two windows, layer Conv2D_3 (maps of 3x3), map 120 large in both; then the event
    loop must go idle instead of re-laying out the large map on every pass."""
    windows = []
    for size in [(1000, 700), (1400, 900)]:
        w = new_window()
        w.resize(*size)
        w.open_model_file(str(default_model_path))
        w._set_default_input()
        w.tabs.setCurrentWidget(w.activation_view)
        windows.append(w)
    qtbot.wait(1)
    for w in windows:
        w.state.select_layer("Conv2D_3")
        w.state.select_maps("Conv2D_3", [120])
    for w in windows:
        large = w.activation_view.large
        assert large.index == 120 and large.map.shape == (3, 3) and "Conv2D_3 map 120" in large._title
        assert range_changes_while_idle(large) == 0, f"window of {w.size().toTuple()} never settles"
