"""A layer's maps as one mosaic image: index labels, colour maps, per-map or shared levels, colour bar,
hover read-out and click to pick a map."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QTransform
from PySide6.QtWidgets import QGraphicsRectItem, QVBoxLayout, QWidget

from cnnviz_gui.core.activations.maps import mosaic, normalise_per_map
from cnnviz_gui.ui.widgets.image_widgets import LiveLabel

COLORMAPS = ("viridis", "jet", "gray", "magma", "inferno", "plasma", "cividis")
_LUTS: dict[str, np.ndarray] = {}


#: colours in a lookup table: more than 256, so that pyqtgraph colours an image into an RGBA one instead of
#: an 8-bit indexed one, which Qt draws scaled up (as every map and OIP image is) about 7x slower
LUT_SIZE = 512


def lookup_table(name: str) -> np.ndarray:
    """A uint8 (LUT_SIZE, 4) lookup table for a matplotlib colour map name (cached)."""
    if name not in _LUTS:
        _LUTS[name] = colormap(name).getLookupTable(0.0, 1.0, LUT_SIZE, alpha=True)
    return _LUTS[name]


_CMAPS: dict[str, pg.ColorMap] = {}


def colormap(name: str) -> pg.ColorMap:
    """A pyqtgraph ColorMap for a matplotlib colour map name (cached).

    The maps pyqtgraph ships with matplotlib's tables (viridis, magma, inferno, plasma, turbo) are read from
    its files, gray and jet are interpolated as matplotlib defines them, others are sampled from
    ``matplotlib.colormaps``: building the window never imports pyplot (its font cache costs a second at the
    window's first start).
    """
    if name not in _CMAPS:
        if name in _PG_MAPS:
            cmap = pg.colormap.get(name)
        elif name in _SEGMENTS:  # matplotlib's definitions, interpolated as it does
            pos = np.linspace(0.0, 1.0, 256)
            rgb = [np.interp(pos, *np.array(seg).T) for seg in _SEGMENTS[name]]
            cmap = pg.ColorMap(pos, (np.stack(rgb, axis=1) * 255).round().astype(np.uint8), name=name)
        else:
            import matplotlib

            try:
                mpl = matplotlib.colormaps[name]
            except KeyError:
                raise ValueError(f"unknown colour map '{name}'") from None
            pos = np.linspace(0.0, 1.0, 256)
            cmap = pg.ColorMap(pos, (mpl(pos) * 255).round().astype(np.uint8), name=name)
        _CMAPS[name] = cmap
    return _CMAPS[name]


#: (x, value) points per channel of the maps the window shows at its start that pyqtgraph does not ship
_SEGMENTS = {
    "gray": ([(0, 0), (1, 1)],) * 3,
    "jet": (
        [(0, 0), (0.35, 0), (0.66, 1), (0.89, 1), (1, 0.5)],
        [(0, 0), (0.125, 0), (0.375, 1), (0.64, 1), (0.91, 0), (1, 0)],
        [(0, 0.5), (0.11, 1), (0.34, 1), (0.65, 0), (1, 0)],
    ),
}
#: the maps pyqtgraph ships with matplotlib's tables (its cividis differs: that one is sampled from matplotlib)
_PG_MAPS = frozenset({"viridis", "magma", "inferno", "plasma", "turbo"})


def view_point(plot, pos) -> tuple[float, float] | None:
    """The data coordinates (x, y) under a scene position of ``plot``, None outside its view box."""
    vb = plot.getViewBox()
    if not vb.sceneBoundingRect().contains(pos):
        return None
    pt = vb.mapSceneToView(pos)
    return pt.x(), pt.y()


_NICE = np.array([1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0])


def nice_ceil(x: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (times a power of ten) at or above ``x`` (0 for
    ``x <= 0``)."""
    if not np.isfinite(x) or x <= 0:
        return 0.0
    scale = 10.0 ** np.floor(np.log10(x))
    return float(_NICE[np.searchsorted(_NICE, x / scale - 1e-9)] * scale)


def nice_levels(lo: float, hi: float) -> tuple[float, float]:
    """Levels that contain (lo, hi), rounded outwards to round numbers.

    While a person draws, the colour scale (and its colour bar) then stays put instead of jumping with every
    stroke, and the colour bar's axis is not rebuilt each time."""
    nlo = -nice_ceil(-lo) if lo < 0 else 0.0 if lo >= 0 and lo < 0.5 * hi else lo
    nhi = nice_ceil(hi) if hi > 0 else -nice_ceil(-hi) * 0.5 if hi < 0 else 0.0
    if nhi <= nlo:
        nhi = nlo + max(abs(nlo) * 1e-3, 1e-6)
    return float(nlo), float(nhi)


class TileLabels(pg.GraphicsObject):
    """Paints short texts at data positions in one paint call (map indices, or values of a small map).

    Texts keep their screen size whatever the zoom and are skipped when the tiles are too small on screen.
    """

    def __init__(self, color="white", min_pixels: float = 18.0):
        super().__init__()
        self._items: list[tuple[float, float, str]] = []
        self._rect = QRectF()
        self._color = QColor(color)
        self._shadow = QColor("black")
        self._min_pixels = min_pixels
        self._tile = 1.0
        self._centered = False
        self.font = QFont()
        self.font.setPixelSize(10)
        self.small_font = QFont()
        self.small_font.setPixelSize(8)

    def set_items(self, items: list[tuple[float, float, str]], tile: float, centered: bool = False) -> None:
        self.prepareGeometryChange()
        self._items = items
        self._tile = tile
        self._centered = centered
        if items:
            xs = [x for x, _, _ in items]
            ys = [y for _, y, _ in items]
            self._rect = QRectF(min(xs), min(ys), max(xs) - min(xs) + tile, max(ys) - min(ys) + tile)
        else:
            self._rect = QRectF()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, p: QPainter, *args) -> None:
        if not self._items:
            return
        tr = p.transform()
        if abs(tr.m11()) * self._tile < self._min_pixels:
            return
        p.setTransform(QTransform())
        side = abs(tr.m11()) * self._tile
        p.setFont(self.font if side >= 40 else self.small_font)  # small tiles: a smaller index
        for dx, color in ((1, self._shadow), (0, self._color)):
            p.setPen(color)
            for x, y, text in self._items:
                pt = tr.map(QPointF(x, y))
                if self._centered:
                    p.drawText(
                        QRectF(pt.x() + dx, pt.y() + dx, side, side), Qt.AlignmentFlag.AlignCenter, text
                    )
                else:
                    p.drawText(QPointF(pt.x() + 2 + dx, pt.y() + (11 if side >= 40 else 9) + dx), text)


class MapGrid(QWidget):
    """Every map of a layer in one ImageItem; hover says map, position and value; click picks a map."""

    #: a map was clicked: its index
    map_clicked = Signal(int)
    #: (map, row, col, value) under the mouse, or map -1 when outside the maps
    hovered = Signal(int, int, int, float)

    def __init__(self, parent=None, colorbar: bool = True, labels: bool = True):
        super().__init__(parent)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground("k")
        self.plot = self.glw.addPlot()
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.labels = TileLabels() if labels else None
        if self.labels is not None:
            self.plot.addItem(self.labels)
        self.message = pg.TextItem("", color="#dddddd", anchor=(0.5, 0.5))
        self.plot.addItem(self.message)
        self.highlight = QGraphicsRectItem()
        self.highlight.setPen(pg.mkPen("#ff4040", width=2, cosmetic=True))
        self.highlight.setVisible(False)
        self.plot.addItem(self.highlight)
        self.colorbar = None
        if colorbar:
            self.colorbar = pg.ColorBarItem(
                values=(0, 1), colorMap=colormap("viridis"), interactive=False, width=14, colorMapMenu=False
            )
            self.glw.addItem(self.colorbar)
        self.readout = LiveLabel(" ")  # changes with every mouse move: never re-lays out the view
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.glw, 1)
        lay.addWidget(self.readout)
        self.maps: np.ndarray | None = None
        self.cmap = "viridis"
        self.per_map = False
        self.pad = 1
        self.ncols = 1
        self.levels = (0.0, 1.0)
        self.image.setLookupTable(lookup_table(self.cmap))
        self.glw.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.glw.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.plot.getViewBox().sigResized.connect(self._on_view_resized)

    # -- content --------------------------------------------------------------------------------------
    def set_colormap(self, name: str) -> None:
        if name == self.cmap and self.image.lut is not None:
            return
        self.cmap = name
        self.image.setLookupTable(lookup_table(name))
        if self.colorbar is not None:
            self.colorbar.setColorMap(colormap(name))

    def set_maps(
        self,
        maps: np.ndarray,
        per_map: bool | None = None,
        levels: tuple[float, float] | None = None,
        ncols: int | None = None,
        names: list[str] | None = None,
    ) -> None:
        """Show maps (N, H, W). ``per_map`` scales each map to its own range; otherwise ``levels`` (or the
        layer's own minimum and maximum) are shared by every map. ``names`` label the tiles (default: the
        map index); NaN tiles stay empty.

        Live updates of the same layout only replace the pixels (one ``setImage`` with precomputed levels):
        labels, ranges and the layout are touched only when the shape, names or columns change.
        """
        maps = np.asarray(maps, dtype=np.float32)
        if per_map is not None:
            self.per_map = per_map
        self.maps = maps
        n, h, w = maps.shape
        pad = 1 if max(h, w) < 8 else 2
        self._auto_columns = ncols is None
        ncols = ncols or self.fitting_columns(n, h + pad, w + pad)
        if self.per_map:
            shown, lv = normalise_per_map(maps), (0.0, 1.0)
        else:
            shown = maps
            if levels is None:
                finite = maps[np.isfinite(maps)] if np.isnan(maps).any() else maps
                levels = nice_levels(float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            lv = levels
            if lv[1] <= lv[0]:
                lv = (lv[0], lv[0] + 1e-6)
        changed = lv != self.levels
        self.levels = lv
        grid = mosaic(shown, ncols, pad)
        self.image.setImage(grid, autoLevels=False, levels=lv)
        if self.colorbar is not None and (changed or not self._layout):
            self.colorbar.setLevels(lv)  # rebuilds the colour bar's axis: only when the levels change
        layout = (grid.shape, ncols, pad)
        labels = tuple(names) if names is not None else n
        if layout != self._layout or labels != self._labels:
            # new texts alone (maps sorted by activation while drawing) keep the view's zoom and pan
            reframe = layout != self._layout
            self._layout, self._labels = layout, labels
            self.pad, self.ncols = pad, ncols
            self.names = names
            if reframe:
                self.image.setRect(QRectF(0, 0, grid.shape[1], grid.shape[0]))
            if self.labels is not None:
                step_x, step_y = w + pad, h + pad
                texts = names if names is not None else [str(i) for i in range(n)]
                self.labels.set_items(
                    [((i % ncols) * step_x, (i // ncols) * step_y, texts[i]) for i in range(n) if texts[i]],
                    min(h, w),
                )
            self.set_highlight(self._highlighted)
            if reframe:
                self.message.setText("")
                self.readout.setText(self.hint)
                self.plot.autoRange(padding=0.01)

    _layout: tuple = ()
    _labels: tuple | int = ()
    _auto_columns = True
    #: the read-out line's text while no map is hovered
    hint = "hover a map for its values; click it to see it large"

    def fitting_columns(self, n: int, tile_h: int, tile_w: int) -> int:
        """The number of columns that shows ``n`` tiles largest in the grid's current view."""
        rect = self.plot.getViewBox().sceneBoundingRect()
        vw, vh = max(rect.width(), 50.0), max(rect.height(), 50.0)
        best, best_scale = 1, 0.0
        for cols in range(1, n + 1):
            rows = -(-n // cols)
            scale = min(vw / (cols * tile_w), vh / (rows * tile_h))
            if scale > best_scale * 1.0001:
                best, best_scale = cols, scale
        return best

    def _on_view_resized(self, *_) -> None:
        """Re-flow the tiles when the view's shape changes."""
        if self.maps is not None and self._auto_columns:
            n, h, w = self.maps.shape
            if self.fitting_columns(n, h + self.pad, w + self.pad) != self.ncols:
                self.set_maps(self.maps, levels=None if self.per_map else self.levels, names=self.names)

    _highlighted: int | None = None
    names: list[str] | None = None
    #: optional ``describe(i) -> str`` naming tile ``i`` in the hover read-out (default "map i")
    describe = None

    _last_shape: tuple = ()
    _highlighted: int | None = None

    def set_highlight(self, i: int | None) -> None:
        """Outline map ``i`` (None: no outline)."""
        self._highlighted = i
        if self.maps is None or i is None or not 0 <= i < len(self.maps):
            self.highlight.setVisible(False)
            return
        x, y = self.tile_origin(i)
        h, w = self.maps.shape[1:]
        self.highlight.setRect(QRectF(x - 0.5, y - 0.5, w + 1, h + 1))
        self.highlight.setVisible(True)

    def clear(self, message: str = "") -> None:
        """Empty the grid and say why (e.g. a dense layer has no maps)."""
        self.maps = None
        self.highlight.setVisible(False)
        self.image.clear()
        if self.labels is not None:
            self.labels.set_items([], 1)
        self.message.setText(message)
        self.message.setPos(0, 0)
        self.plot.setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
        self._layout, self._labels = (), ()
        self.readout.setText(message or " ")

    # -- geometry -------------------------------------------------------------------------------------
    def tile_at(self, x: float, y: float) -> tuple[int, int, int] | None:
        """(map, row, col) of the mosaic pixel at data coordinates (x, y), or None in padding/outside."""
        if self.maps is None or x < 0 or y < 0:
            return None
        n, h, w = self.maps.shape
        c, col = divmod(int(x), w + self.pad)
        r, row = divmod(int(y), h + self.pad)
        if c >= self.ncols or col >= w or row >= h:
            return None
        i = r * self.ncols + c
        return (i, row, col) if i < n else None

    def tile_origin(self, i: int) -> tuple[int, int]:
        """Top-left data coordinates (x, y) of map ``i``."""
        n, h, w = self.maps.shape
        return (i % self.ncols) * (w + self.pad), (i // self.ncols) * (h + self.pad)

    def _scene_to_tile(self, pos):
        pt = view_point(self.plot, pos)
        return None if pt is None else self.tile_at(*pt)

    def _on_mouse_moved(self, pos) -> None:
        hit = self._scene_to_tile(pos)
        if hit is None:
            self.hovered.emit(-1, -1, -1, float("nan"))
            return
        i, row, col = hit
        value = float(self.maps[i, row, col])
        if np.isnan(value):
            self.hovered.emit(-1, -1, -1, float("nan"))
            return
        name = f"map {i}" if self.describe is None else self.describe(i)
        self.readout.setText(f"{name}  row {row}, col {col}  value {value:.4g}")
        self.hovered.emit(i, row, col, value)

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        hit = self._scene_to_tile(event.scenePos())
        if hit is not None:
            self.map_clicked.emit(hit[0])
