"""The image panes of the Attribution tab: one image (overlay or raw map) and a labelled mosaic of tiles.

Each pane creates its ImageItem once; a new map only replaces pixels (``setImage(..., autoLevels=False)``).
RGB images arrive as float arrays in 0..1 built in NumPy (``core.attribution.display``) and are shown as
uint8; single-channel maps are coloured by a lookup table with fixed levels and a colour bar.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from cnnviz_gui.ui.widgets.image_widgets import LiveLabel
from cnnviz_gui.ui.widgets.map_grid import colormap, lookup_table, nice_ceil


def to_uint8(rgb01: np.ndarray) -> np.ndarray:
    """An RGB image in 0..1 as C-contiguous uint8 (what pyqtgraph draws fastest)."""
    return np.ascontiguousarray(np.clip(np.asarray(rgb01, np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8))


def rgb_mosaic(tiles: list[list[np.ndarray]], pad: int) -> np.ndarray:
    """RGB tiles (rows x columns, each (h, w, 3) in 0..1) as one image with gaps of ``pad`` pixels."""
    nrows, ncols = len(tiles), max(len(row) for row in tiles)
    h, w = tiles[0][0].shape[:2]
    out = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad, 3), 0.12, np.float32)
    for r, row in enumerate(tiles):
        for c, tile in enumerate(row):
            out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = tile
    return out


def _bare_plot(glw: pg.GraphicsLayoutWidget) -> pg.PlotItem:
    plot = glw.addPlot()
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setAspectLocked(True)
    plot.invertY(True)
    plot.hideAxis("left")
    plot.hideAxis("bottom")
    return plot


class ImagePane(QWidget):
    """One image, aspect-locked, with a title and a hover read-out; optionally a colour bar (raw maps).

    ``set_rgb`` shows an RGB image; ``set_map`` a single-channel map through a colour map with the given
    levels. ``hovered`` reports (row, col) under the mouse.
    """

    #: (row, col) of the image pixel under the mouse, (-1, -1) outside
    hovered = Signal(int, int)

    def __init__(self, title: str = "", colorbar: bool = False, parent=None):
        super().__init__(parent)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground("k")
        self.glw.setMinimumSize(160, 160)
        self.plot = _bare_plot(self.glw)
        self.plot.setTitle(title, size="9pt")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.message = pg.TextItem("", color="#dddddd", anchor=(0.5, 0.5))
        self.plot.addItem(self.message, ignoreBounds=True)
        self.colorbar = None
        if colorbar:
            self.colorbar = pg.ColorBarItem(
                values=(0, 1), colorMap=colormap("jet"), interactive=False, width=12, colorMapMenu=False
            )
            self.colorbar.axis.enableAutoSIPrefix(
                False
            )  # tiny gradients read as 0.00004, not "4" with a hidden unit
            self.colorbar.axis.setWidth(60)
            self.glw.addItem(self.colorbar)
        self.readout = LiveLabel(" ")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.glw, 1)
        lay.addWidget(self.readout)
        self.array: np.ndarray | None = None  # what is shown: RGB uint8 or the raw map
        self.levels = (0.0, 1.0)
        self._shape: tuple = ()
        self._cmap = ""
        self._title = title
        self.glw.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def set_title(self, title: str) -> None:
        """A new title (re-lays out the pane: call it when the method or layer changes, not per stroke)."""
        if title != self._title:
            self._title = title
            self.plot.setTitle(title, size="9pt")

    def _fit(self, h: int, w: int) -> None:
        """After ``setImage``: one image pixel is one unit of the plot (the rect scales the image it has)."""
        if (h, w) != self._shape:
            self._shape = (h, w)
            self.image.setRect(QRectF(0, 0, w, h))
            self.plot.setRange(xRange=(0, w), yRange=(0, h), padding=0.02)
        if self.message.toPlainText():
            self.message.setText("")

    def set_rgb(self, rgb01: np.ndarray) -> None:
        """Show an RGB image (H, W, 3) in 0..1."""
        u8 = to_uint8(rgb01)
        self.array = u8
        self.image.setImage(u8, autoLevels=False, levels=(0, 255))
        self._fit(*u8.shape[:2])

    def set_map(self, values: np.ndarray, cmap: str, levels: tuple[float, float]) -> None:
        """Show a map (h, w) through the colour map ``cmap`` between ``levels`` (the colour bar follows)."""
        a = np.ascontiguousarray(values, dtype=np.float32)
        self.array = a
        if cmap != self._cmap:
            self._cmap = cmap
            self.image.setLookupTable(lookup_table(cmap))
            if self.colorbar is not None:
                self.colorbar.setColorMap(colormap(cmap))
        self.image.setImage(a, autoLevels=False, levels=levels)
        self._fit(*a.shape[:2])
        if self.colorbar is not None and levels != self.levels:
            self.colorbar.setLevels(levels)  # rebuilds the bar's axis: only when the (rounded) levels change
        self.levels = levels

    def clear(self, message: str = "") -> None:
        """Empty the pane and say why (the text wraps to the pane's width)."""
        self.array = None
        self._shape = ()
        self.image.clear()
        self.message.setTextWidth(max(120, self.glw.width() - 40))
        self.message.setText(message)
        self.message.setPos(0, 0)
        self.plot.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
        self.readout.setText(" ")

    def _on_mouse_moved(self, pos) -> None:
        vb = self.plot.getViewBox()
        if self.array is None or not vb.sceneBoundingRect().contains(pos):
            self.hovered.emit(-1, -1)
            return
        pt = vb.mapSceneToView(pos)
        row, col = int(np.floor(pt.y())), int(np.floor(pt.x()))
        h, w = self.array.shape[:2]
        self.hovered.emit(row, col) if 0 <= row < h and 0 <= col < w else self.hovered.emit(-1, -1)


def map_levels(values: np.ndarray, signed: bool) -> tuple[float, float]:
    """Levels of a raw map rounded outwards to round numbers (0..top, or -top..top for signed maps), so the
    colour bar stays put while a person draws."""
    a = np.asarray(values, dtype=np.float32)
    top = float(np.abs(a).max() if signed else max(float(a.max()), 0.0)) if a.size else 0.0
    top = nice_ceil(top) or 1e-12
    return (-top, top) if signed else (0.0, top)


class MosaicPane(QWidget):
    """Tiles of equal size as one RGB image, with column labels on top, row labels on the left and
    optional labels under the columns (several lines each)."""

    def __init__(self, message: str = "", parent=None):
        super().__init__(parent)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground("k")
        self.plot = _bare_plot(self.glw)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.message = pg.TextItem(message, color="#dddddd", anchor=(0.5, 0.5))
        self.plot.addItem(self.message, ignoreBounds=True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.glw)
        self.array: np.ndarray | None = None
        self.tile_shape: tuple[int, int] = (0, 0)
        self.columns: list[str] = []
        self.rows: list[str] = []
        self.below: list[str] = []

    def set_tiles(self, tiles: list[list[np.ndarray]], columns: list[str], rows: list[str] | None = None,
                  below: list[str] | None = None) -> None:  # fmt: skip
        """Show ``tiles`` (rows x columns of RGB (h, w, 3) in 0..1) with their labels."""
        h, w = tiles[0][0].shape[:2]
        pad = max(1, h // 14)
        rgb = rgb_mosaic(tiles, pad)
        self.array = to_uint8(rgb)
        self.tile_shape = (h, w)
        self.columns, self.rows, self.below = list(columns), list(rows or []), list(below or [])
        self.message.setText("")
        self.image.setImage(self.array, autoLevels=False, levels=(0, 255))
        self.image.setRect(QRectF(0, 0, rgb.shape[1], rgb.shape[0]))
        xs = [c * (w + pad) + w / 2 for c in range(len(columns))]
        ys = [r * (h + pad) + h / 2 for r in range(len(self.rows))]
        top = list(zip(xs, self.columns, strict=True))
        bottom = list(zip(xs, self.below, strict=False))
        if not bottom and len(top) > 2:  # every other column title below: twice the room for each
            top, bottom = top[0::2], top[1::2]
        self._axis("top", top)
        self._axis("left", list(zip(ys, self.rows, strict=False)))
        self._axis("bottom", bottom)
        self.plot.setRange(xRange=(0, rgb.shape[1]), yRange=(0, rgb.shape[0]), padding=0.01)

    def _axis(self, name: str, ticks: list[tuple[float, str]]) -> None:
        if not ticks:
            self.plot.hideAxis(name)
            return
        self.plot.showAxis(name)
        axis = self.plot.getAxis(name)
        axis.setTicks([ticks, []])
        axis.setStyle(tickLength=0)
        axis.setTextPen("#e0e0e0")
        axis.setPen("#000000")
        if name == "bottom":
            lines = max(label.count("\n") + 1 for _, label in ticks)
            axis.setHeight(8 + 15 * lines)

    def clear(self, message: str = "") -> None:
        self.array = None
        self.image.clear()
        for name in ("top", "left", "bottom"):
            self.plot.hideAxis(name)
        self.message.setText(message)
        self.message.setPos(0, 0)
        self.plot.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
