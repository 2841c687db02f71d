"""A drawing canvas for digits: mouse or pen, brush size, eraser, undo, clear.

Strokes are painted incrementally with a QPainter onto a QImage and only the dirty rectangle is repainted,
so a stroke costs well under a millisecond. ``ink()`` returns the drawing as a float array in 0..1 without
copying pixel by pixel; ``ink_changed`` is emitted after every stroke segment.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QTabletEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

CANVAS_SIZE = 280
MAX_UNDO = 50


class DrawingCanvas(QWidget):
    """A square black canvas on which light ink is drawn (MNIST's convention)."""

    #: the drawing changed (a stroke segment, undo, clear)
    ink_changed = Signal()
    #: a stroke ended (mouse or pen released)
    stroke_finished = Signal()

    def __init__(self, parent=None, size: int = CANVAS_SIZE):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setFixedSize(size, size)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw a digit with the mouse or a pen (light ink on black, as in MNIST)")
        # RGB32 is the raster engine's native format: painting and blitting it need no conversion
        self.image = QImage(size, size, QImage.Format.Format_RGB32)
        self.image.fill(QColor(0, 0, 0))
        self.brush = float(round(size * 0.065))
        self.eraser = False
        self._undo: list[QImage] = []
        self._last: QPointF | None = None
        self._pressure = 1.0
        self.strokes = 0

    def sizeHint(self) -> QSize:
        return self.image.size()

    # -- settings -------------------------------------------------------------------------------------
    def set_brush(self, width: float) -> None:
        self.brush = float(max(1.0, width))

    def set_eraser(self, on: bool) -> None:
        self.eraser = bool(on)

    # -- content --------------------------------------------------------------------------------------
    def ink(self) -> np.ndarray:
        """The drawing as (H, W) float32 in 0..1 (ink is 1)."""
        img = self.image
        buf = np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes())
        a = buf.reshape(img.height(), img.bytesPerLine() // 4, 4)[: img.height(), : img.width(), 1]
        return a.astype(np.float32) * (1.0 / 255.0)

    def is_empty(self) -> bool:
        return not self.ink().any()

    def clear(self) -> None:
        """Erase everything (undoable)."""
        self._push_undo()
        self.image.fill(QColor(0, 0, 0))
        self.update()
        self.ink_changed.emit()

    def undo(self) -> bool:
        """Take back the last stroke or clear; False when there is nothing to undo."""
        if not self._undo:
            return False
        self.image = self._undo.pop()
        self.update()
        self.ink_changed.emit()
        return True

    @property
    def drawing(self) -> bool:
        """A stroke is being drawn (pressed, not yet released)."""
        return self._last is not None

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def set_ink(self, ink: np.ndarray) -> None:
        """Replace the drawing by an (H, W) array in 0..1 (scaled to the canvas); undoable."""
        self._push_undo()
        a = np.ascontiguousarray(np.clip(np.asarray(ink, np.float32), 0, 1) * 255).astype(np.uint8)
        src = QImage(a.data, a.shape[1], a.shape[0], a.shape[1], QImage.Format.Format_Grayscale8)
        self.image = src.scaled(
            self.image.size(),
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        ).convertToFormat(QImage.Format.Format_RGB32)
        self.update()
        self.ink_changed.emit()

    def _push_undo(self) -> None:
        self._undo.append(self.image.copy())
        del self._undo[:-MAX_UNDO]

    # -- drawing --------------------------------------------------------------------------------------
    def _draw_to(self, pos: QPointF) -> None:
        start = self._last if self._last is not None else pos
        pen = self._pen()
        with QPainter(self.image) as p:
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(pen)
            if start == pos:
                p.drawPoint(pos)
            else:
                p.drawLine(start, pos)
        r = pen.widthF() / 2 + 2
        dirty = QRectF(start, pos).normalized().adjusted(-r, -r, r, r).toAlignedRect()
        self._last = pos
        self.update(dirty)
        self.ink_changed.emit()

    def _begin(self, pos: QPointF) -> None:
        self._push_undo()
        self._last = None
        self._draw_to(pos)

    def _end(self) -> None:
        if self._last is not None:
            self._last = None
            self.strokes += 1
            self.stroke_finished.emit()

    def mousePressEvent(self, event) -> None:
        """The left button draws (or erases with the eraser chosen); the right button always erases."""
        if self._button is not None or event.button() not in (
            Qt.MouseButton.LeftButton,
            Qt.MouseButton.RightButton,
        ):
            return
        self._button = event.button()
        self._pressure = 1.0
        self._begin(event.position())

    def mouseMoveEvent(self, event) -> None:
        if self._last is not None and self._button is not None and event.buttons() & self._button:
            self._draw_to(event.position())

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == self._button:
            self._button = None
            self._end()

    _button: Qt.MouseButton | None = None  # the button of the stroke being drawn

    def _pen(self) -> QPen:
        erasing = self.eraser or self._button == Qt.MouseButton.RightButton
        color = QColor(0, 0, 0) if erasing else QColor(255, 255, 255)
        width = self.brush * (1.6 if erasing else 1.0) * self._pressure
        return QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)

    def tabletEvent(self, event: QTabletEvent) -> None:
        """A pen: pressure scales the brush; the eraser end of the pen erases."""
        kind = event.type()
        self._pressure = 0.4 + 0.8 * float(event.pressure()) if event.pressure() > 0 else 1.0
        eraser = self.eraser
        if event.pointerType() == event.pointerType().Eraser:
            self.eraser = True
        if kind == QTabletEvent.Type.TabletPress:
            self._begin(event.position())
        elif kind == QTabletEvent.Type.TabletMove and self._last is not None:
            self._draw_to(event.position())
        elif kind == QTabletEvent.Type.TabletRelease:
            self._end()
        self.eraser = eraser
        event.accept()

    def paintEvent(self, event) -> None:
        with QPainter(self) as p:
            r: QRect = event.rect()
            p.drawImage(r, self.image, r)
