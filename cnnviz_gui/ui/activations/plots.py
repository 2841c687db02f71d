"""The plots of the Activations tab: class probabilities, a dense layer's unit values, one map large.

Each updates only its items for a new input (bar heights, pixels, a text item); axes, ticks, titles and
ranges change only when the layer or the classes do, so live updates never re-lay out a widget.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QFontMetricsF

from cnnviz_gui.ui.widgets.map_grid import TileLabels, colormap, lookup_table, nice_levels

TOP_BRUSH = pg.mkBrush("#ff9f1c")
BAR_BRUSH = pg.mkBrush("#5b8fd6")


#: outputs with at most this many classes show a bar for every class; more show the top k
ALL_BARS_UP_TO = 20
#: characters of a class name drawn beside its bar (ImageNet names can be long)
NAME_CHARS = 34


class ProbabilityBars(pg.PlotWidget):
    """Class probabilities: every class as a bar (up to 20 classes), else the ``top`` most probable with
    their names written on the bars; the top class highlighted.

    Live updates change bar lengths and texts only: in top-k mode the names are text items inside the plot,
    so a new set of classes never changes the axis (and the layout) while a person draws."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.setMenuEnabled(False)
        self.hideButtons()
        self.setMouseEnabled(False, False)
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brushes=[])
        self.addItem(self.bars)
        self.getPlotItem().invertY(True)
        self.setXRange(0, 1, padding=0.02)
        self.setLabel("bottom", "probability")
        self.setTitle("class probabilities", size="10pt")
        # the prediction is a text item inside the plot: changing it never re-lays out the widget
        self.prediction = pg.TextItem("", color="#202020", anchor=(1, 0))
        self.prediction.setPos(1.0, -1.6)
        self.addItem(self.prediction)
        self.name_items: list[pg.TextItem] = []
        self.probabilities: np.ndarray | None = None
        self.shown: list[int] = []  # the classes with a bar, top to bottom
        self.shown_names: list[str] = []
        self._ticks: tuple = ()
        self._mode: tuple = ()
        self.text = ""
        self.top = 5

    def set_top(self, k: int) -> None:
        """How many classes the top-k mode shows (1..20)."""
        self.top = max(1, min(int(k), ALL_BARS_UP_TO))
        if self.probabilities is not None:
            self.set_probabilities(self.probabilities, self._names, self._note)

    _names: list[str] | None = None
    _note = ""

    def set_probabilities(self, p: np.ndarray | None, names: list[str] | None = None, note: str = "") -> None:
        """Update bar lengths and texts; axis ticks and ranges only when the classes (or k) change."""
        self.probabilities, self._names, self._note = p, names, note
        if p is None:
            self.bars.setOpts(x0=[], y=[], width=[], brushes=[])
            self._set_names([])
            self.shown, self.shown_names = [], []
            self.text = "no class output"
            self.prediction.setText(self.text)
            return
        n = len(p)
        names = names if names and len(names) == n else [str(i) for i in range(n)]
        top = int(np.argmax(p))
        if n <= ALL_BARS_UP_TO:
            shown = list(range(n))
            self._set_names([])
            self._set_mode(("all", n))
            ticks = tuple(names)
            if ticks != self._ticks:
                self._ticks = ticks
                self.getAxis("left").setTicks([[(i, names[i]) for i in range(n)]])
        else:
            k = min(self.top, n)
            shown = [int(i) for i in np.lexsort((np.arange(n), -np.asarray(p, np.float64)))[:k]]
            self._set_mode(("top", k))
            self._set_names([f"{_short(names[i])}  {p[i] * 100:.1f}%" for i in shown])
        self.shown, self.shown_names = shown, [names[i] for i in shown]
        brushes = [TOP_BRUSH if i == top else BAR_BRUSH for i in shown]
        self.bars.setOpts(x0=np.zeros(len(shown)), y=np.arange(len(shown)), width=p[shown], height=0.7,
                          brushes=brushes)  # fmt: skip
        self.text = f"predicted {names[top]} ({p[top] * 100:.1f}%){note}"
        self.prediction.setHtml(f"<b>predicted {_short(names[top])}</b> ({p[top] * 100:.1f}%){note}")

    def _set_mode(self, mode: tuple) -> None:
        """All bars with class ticks, or the top k with names on the bars (axis hidden)."""
        if mode == self._mode:
            return
        self._mode = mode
        rows = mode[1]
        if mode[0] == "top":
            self._ticks = ()
            self.getAxis("left").setTicks([[]])
            self.showAxis("left", False)
            self.setTitle(f"top {rows} classes", size="10pt")
        else:
            self.showAxis("left", True)
            self.setTitle("class probabilities", size="10pt")
        self.setYRange(-1.6, rows - 0.4, padding=0)  # a free row on top for the prediction text
        self.prediction.setPos(1.0, -1.6)

    def _set_names(self, texts: list[str]) -> None:
        while len(self.name_items) < len(texts):
            item = pg.TextItem("", color="#202020", anchor=(0, 0.5))
            self.addItem(item)
            self.name_items.append(item)
        for row, item in enumerate(self.name_items):
            if row < len(texts):
                if item.toPlainText() != texts[row]:
                    item.setText(texts[row])
                item.setPos(0.0, row)
                item.setVisible(True)
            else:
                item.setVisible(False)


def _short(name: str) -> str:
    """A class name cut to NAME_CHARS characters ("great grey owl, great gray…")."""
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


class UnitBars(pg.PlotWidget):
    """A dense layer's unit values as a bar chart (a heat strip beneath shows the same values)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.setMenuEnabled(False)
        self.hideButtons()
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.85, brush=BAR_BRUSH, pen=None)
        self.addItem(self.bars)
        self.strip = pg.ImageItem(axisOrder="row-major")
        self.addItem(self.strip)
        self.setLabel("bottom", "unit")
        self.setLabel("left", "activation")

        self.values: np.ndarray | None = None

    def set_values(self, v: np.ndarray, cmap: str) -> None:
        v = np.asarray(v, dtype=np.float32).ravel()
        self.values = v
        n = len(v)
        self.bars.setOpts(x=np.arange(n), height=v, width=0.85)
        lo, hi = float(min(v.min(), 0)), float(max(v.max(), 1e-6))
        h = 0.06 * (hi - lo)
        self.strip.setLookupTable(lookup_table(cmap))
        self.strip.setImage(v[None, :], autoLevels=False, levels=(float(v.min()), float(v.max()) + 1e-6))
        self.strip.setRect(QRectF(-0.5, lo - 1.6 * h, n, h))
        self.setXRange(-0.6, n - 0.4, padding=0)
        self.setYRange(lo - 1.7 * h, hi, padding=0.02)


class LargeMap(pg.GraphicsLayoutWidget):
    """One map large, with its values written on small maps and a colour bar; hover reports values.

    The plot is aspect-locked, so its view range follows the plot's size. Its axes therefore get fixed sizes
    (set from the map's shape, never from the ticks on screen): an axis that sized itself to its tick labels
    would change the plot's width, hence the range, hence the labels (``-0.5`` or not), hence its width again,
    and the layout would never settle.
    """

    #: (row, col, value) under the mouse
    hovered = Signal(int, int, float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("k")
        self.plot = self.addPlot()
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.values = TileLabels(min_pixels=24)
        self.plot.addItem(self.values)
        self.colorbar = pg.ColorBarItem(
            values=(0, 1), colorMap=colormap("viridis"), interactive=False, width=12, colorMapMenu=False
        )
        self.addItem(self.colorbar)
        self.index: int | None = None
        self.map: np.ndarray | None = None
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.hint = pg.TextItem("click a map\nto see it large", color="#bbbbbb", anchor=(0.5, 0.5))
        self.hint.setPos(0.5, 0.5)
        self.plot.addItem(self.hint, ignoreBounds=True)

    def show_map(self, m: np.ndarray | None, index: int | None, cmap: str, title: str = "") -> None:
        self.index = index
        self.map = m
        if m is None:
            self.image.clear()
            self.values.set_items([], 1)
            self._title = ""
            self.plot.setTitle(" ")
            self._show_axes(False)
            if self._shape != ():
                self._shape = ()
                self.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            return
        self._show_axes(True)
        lo, hi = nice_levels(float(m.min()), float(m.max()))
        if cmap != self._cmap:
            self._cmap = cmap
            self.image.setLookupTable(lookup_table(cmap))
            self.colorbar.setColorMap(colormap(cmap))
        self.image.setImage(m, autoLevels=False, levels=(lo, hi))
        if (lo, hi) != self._levels:
            self._levels = (lo, hi)
            self.colorbar.setLevels((lo, hi))
        h, w = m.shape
        items = [(c, r, f"{m[r, c]:.2g}") for r in range(h) for c in range(w)] if h * w <= 256 else []
        self.values.set_items(items, 1.0, centered=True)
        if title != self._title:
            self._title = title
            self.plot.setTitle(title, size="10pt")
        if m.shape != self._shape:
            self._shape = m.shape
            self._fix_axis_sizes(m.shape)
            self.plot.autoRange(padding=0.02)

    _title = ""
    _axes: bool | None = None
    _shape: tuple | None = None
    _cmap = ""
    _levels: tuple = ()

    def _show_axes(self, on: bool) -> None:
        """Axes and colour bar only while a map is shown (changed only when that changes)."""
        if on != self._axes:
            self._axes = on
            for side in ("left", "bottom"):
                self.plot.showAxis(side, on)
            self.colorbar.setVisible(on)
            self.hint.setVisible(not on)

    def _fix_axis_sizes(self, shape: tuple[int, int]) -> None:
        """Give the axes room for the widest tick label a map of this shape can show, whatever the range."""
        left, bottom = self.plot.getAxis("left"), self.plot.getAxis("bottom")
        metrics = QFontMetricsF(left.style["tickFont"] or self.font())
        widest = metrics.horizontalAdvance(f"-{max(shape)}.5")
        ticks_x = left.style["tickTextOffset"][0] + max(0, left.style["tickLength"])
        ticks_y = bottom.style["tickTextOffset"][1] + max(0, bottom.style["tickLength"])
        left.setWidth(math.ceil(widest + ticks_x) + 2)
        bottom.setHeight(math.ceil(metrics.height() + ticks_y) + 2)

    def _on_mouse_moved(self, pos) -> None:
        vb = self.plot.getViewBox()
        if self.map is None or not vb.sceneBoundingRect().contains(pos):
            return
        pt = vb.mapSceneToView(pos)
        row, col = int(np.floor(pt.y())), int(np.floor(pt.x()))
        h, w = self.map.shape
        if 0 <= row < h and 0 <= col < w:
            self.hovered.emit(row, col, float(self.map[row, col]))
