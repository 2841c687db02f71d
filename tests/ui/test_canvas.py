"""The drawing canvas on its own: a pen with pressure, the pen's eraser end, undo depth, incremental repaint."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QInputDevice, QMouseEvent, QPointingDevice, QTabletEvent
from PySide6.QtWidgets import QApplication

from cnnviz_gui.ui.input.canvas import MAX_UNDO, DrawingCanvas


@pytest.fixture
def canvas(qtbot):
    c = DrawingCanvas()
    qtbot.addWidget(c)
    c.show()
    return c


def _pen(kind=QPointingDevice.PointerType.Pen) -> QPointingDevice:
    caps = QInputDevice.Capability.Position | QInputDevice.Capability.Pressure
    return QPointingDevice("pen", 7, QInputDevice.DeviceType.Stylus, kind, caps, 1, 3)


def _tablet(canvas, device, kind, x, y, pressure) -> None:
    pos = QPointF(x, y)
    event = QTabletEvent(
        kind, device, pos, pos, pressure, 0.0, 0.0, 0.0, 0.0, 0.0,
        Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton,
    )  # fmt: skip
    QApplication.sendEvent(canvas, event)


def _pen_stroke(canvas, device, y, pressure) -> None:
    _tablet(canvas, device, QEvent.Type.TabletPress, 40, y, pressure)
    _tablet(canvas, device, QEvent.Type.TabletMove, 240, y, pressure)
    _tablet(canvas, device, QEvent.Type.TabletRelease, 240, y, 0.0)


def test_pen_pressure_sets_the_line_width_and_the_eraser_end_erases(canvas):
    pen = _pen()
    _pen_stroke(canvas, pen, 60, 0.1)
    _pen_stroke(canvas, pen, 180, 1.0)
    ink = canvas.ink()
    light = int((ink[:, 140][:120] > 0.5).sum())
    firm = int((ink[:, 140][120:] > 0.5).sum())
    assert light < firm and firm == pytest.approx(1.2 * canvas.brush, abs=2)
    assert canvas.strokes == 2
    _pen_stroke(canvas, _pen(QPointingDevice.PointerType.Eraser), 180, 1.0)
    assert canvas.ink()[120:, 60:220].max() == 0 and canvas.ink()[:120].max() == 1.0
    assert not canvas.eraser  # the pen's eraser end does not switch the tool


def test_undo_depth_and_set_ink(canvas, qtbot):
    for _ in range(MAX_UNDO + 5):
        qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=canvas.rect().center())
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=canvas.rect().center())
    undone = 0
    while canvas.undo():
        undone += 1
    assert undone == MAX_UNDO
    before = canvas.ink().copy()  # the oldest strokes stay: only MAX_UNDO steps are kept
    assert before.max() == 1.0
    digit = np.zeros((28, 28), np.float32)
    digit[4:24, 12:16] = 1.0
    canvas.set_ink(digit)
    ink = canvas.ink()
    assert ink.shape == (canvas.height(), canvas.width())
    assert ink[canvas.height() // 2, canvas.width() // 2] > 0.9 and ink[5, 5] == 0
    assert canvas.undo()
    np.testing.assert_array_equal(canvas.ink(), before)


def test_a_stroke_repaints_only_its_neighbourhood(canvas, qtbot, monkeypatch):
    regions = []
    original = canvas.update

    def record(*args):
        regions.append(args[0] if args else canvas.rect())
        original(*args)

    monkeypatch.setattr(canvas, "update", record)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPointF(100, 100).toPoint())
    qtbot.mouseMove(canvas, QPointF(110, 104).toPoint())
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPointF(110, 104).toPoint())
    assert len(regions) >= 2
    limit = canvas.brush + 16
    assert all(r.width() <= limit and r.height() <= limit for r in regions)


def test_the_right_button_erases_a_whole_stroke_and_ends_it(canvas, qtbot):
    from PySide6.QtCore import QPoint

    y = canvas.height() // 2
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(20, y))
    qtbot.mouseMove(canvas, QPoint(canvas.width() - 20, y))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(canvas.width() - 20, y))
    assert canvas.ink()[y, 30 : canvas.width() - 30].min() == 1.0 and canvas.strokes == 1
    x = canvas.width() // 2
    qtbot.mousePress(canvas, Qt.MouseButton.RightButton, pos=QPoint(x, 10))
    for yy in range(10, canvas.height() - 10, 8):  # a drag with the right button held
        move = QMouseEvent(QEvent.Type.MouseMove, QPointF(x, yy), QPointF(x, yy), Qt.MouseButton.NoButton,
                           Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
        QApplication.sendEvent(canvas, move)
    qtbot.mouseRelease(canvas, Qt.MouseButton.RightButton, pos=QPoint(x, canvas.height() - 10))
    assert canvas.strokes == 2, "releasing the right button ends its stroke"
    assert canvas.ink()[y, x - 3 : x + 3].max() == 0.0, (
        "the right-button drag erased the line where it crossed"
    )
    assert canvas.ink()[y, 30 : x - 20].min() == 1.0 and not canvas.eraser
    before = canvas.ink().copy()
    move = QMouseEvent(QEvent.Type.MouseMove, QPointF(x + 40, y + 40), QPointF(x + 40, y + 40),
                       Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(canvas, move)
    assert (canvas.ink() == before).all(), "no button held: nothing is drawn"
