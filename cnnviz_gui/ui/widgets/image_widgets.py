"""Small image helpers shared by the Input pane: numpy images to QImage, and a fixed-size image preview."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget


def to_qimage(image01: np.ndarray) -> QImage:
    """An image (H, W), (H, W, 1) or (H, W, 3) in 0..1 as a QImage that owns its pixels."""
    a = np.asarray(image01, dtype=np.float32)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    u8 = np.ascontiguousarray(np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8))
    h, w = u8.shape[:2]
    if u8.ndim == 2:
        img = QImage(u8.data, w, h, w, QImage.Format.Format_Grayscale8)
    else:
        u8 = np.ascontiguousarray(u8[..., :3])
        img = QImage(u8.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    return img.copy()  # detach from the numpy buffer


def thumbnail(image01: np.ndarray, side: int = 48) -> QPixmap:
    """A small picture of an image in 0..1 (grey or RGB, in colour): pixels kept when enlarged (a digit),
    smoothed when made smaller (a photo)."""
    image = to_qimage(image01)
    smaller = max(image.width(), image.height()) > side
    mode = Qt.TransformationMode.SmoothTransformation if smaller else Qt.TransformationMode.FastTransformation
    return QPixmap.fromImage(image).scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, mode)


class ImagePreview(QWidget):
    """Shows a small image enlarged with visible pixels (nearest neighbour), e.g. the 28x28 the model sees.

    Fixed size, so a new image never triggers a layout; ``set_image`` only schedules a repaint.
    """

    def __init__(self, side: int = 140, parent=None, caption: str = ""):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setFixedSize(side, side)
        self._image: QImage | None = None
        self.array: np.ndarray | None = None
        if caption:
            self.setToolTip(caption)

    def sizeHint(self) -> QSize:
        return QSize(self.width(), self.height())

    def set_image(self, image01: np.ndarray | None) -> None:
        self.array = None if image01 is None else np.asarray(image01, dtype=np.float32)
        self._image = None if image01 is None else to_qimage(image01)
        self.update()

    def paintEvent(self, event) -> None:
        with QPainter(self) as p:
            p.fillRect(self.rect(), QColor("#202020"))
            if self._image is None:
                p.setPen(QColor("#909090"))
                p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no input")
                return
            iw, ih = self._image.width(), self._image.height()
            scale = min(self.width() / iw, self.height() / ih)
            w, h = int(iw * scale), int(ih * scale)
            target = QRect((self.width() - w) // 2, (self.height() - h) // 2, w, h)
            # pixels visible when enlarged (a 28x28 digit); smooth when a photo is shown smaller than it is
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 1)
            p.drawImage(target, self._image)


class LiveLabel(QWidget):
    """One line of text that changes often (live status, hover read-outs).

    Unlike a QLabel, a new text never asks the layout to recompute (a QLabel's ``setText`` posts a layout
    request that re-lays out and repaints the whole tab); the widget only repaints itself. Long texts are
    elided at the right.
    """

    def __init__(self, text: str = "", parent=None, color: str | None = None):
        super().__init__(parent)
        self._text = text
        self._color = QColor(color) if color else None
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self.fontMetrics().height() + 4)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paints its own background

    def sizeHint(self) -> QSize:
        return QSize(200, self.height())

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        if text != self._text:
            self._text = text
            self.update()

    def paintEvent(self, event) -> None:
        with QPainter(self) as p:
            p.fillRect(self.rect(), self.palette().color(self.backgroundRole()))
            if self._color is not None:
                p.setPen(self._color)
            else:
                p.setPen(self.palette().color(self.foregroundRole()))
            shown = self.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight, self.width() - 4)
            p.drawText(
                self.rect().adjusted(2, 0, -2, 0),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                shown,
            )
