"""Widgets of the OIP panel: the live view (image, snapshot strip, loss curve), the atlas grid and the colour
map choice (the preference until the person picks one)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import QGraphicsItem, QHBoxLayout, QLabel, QSizePolicy, QSplitter, QVBoxLayout, QWidget

from cnnviz_gui.core.activations.maps import mosaic
from cnnviz_gui.core.oip.figures import contrast_stretch
from cnnviz_gui.ui.widgets.map_grid import MapGrid, TileLabels, lookup_table


def _image_plot(glw: pg.GraphicsLayoutWidget, title: str = ""):
    plot = glw.addPlot(title=title)
    plot.hideAxis("left")
    plot.hideAxis("bottom")
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setAspectLocked(True)
    plot.invertY(True)
    plot.setMouseEnabled(False, False)
    item = pg.ImageItem(axisOrder="row-major")
    item.setLookupTable(lookup_table("viridis"))
    plot.addItem(item)
    return plot, item


def _levels(a: np.ndarray) -> tuple[float, float]:
    lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
    return (lo, hi if hi > lo else lo + 1e-6)


def result_summary(r) -> str:
    """One line about a finished (or stopped) run: reactions, convergence, time, input convention."""
    n = len(r.maps)
    text = (
        f"{r.layer}: {int(r.reacts.sum())}/{n} maps react, "
        f"{int((r.converged & r.reacts).sum())} converged; {r.seconds:.1f} s on {r.device}; "
        f"input {r.convention}"
    )
    if r.data_active is not None:
        text += (
            f"; {int(r.data_active.sum())}/{n} are activated by some image of the bundled sample (*: none)"
        )
    if r.stopped:
        text += f" — stopped at step {int(r.steps_used.max())}"
    return text


class LiveView(QWidget):
    """The evolving image (large), the strip of snapshots (initial image first) and the loss curve."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground("k")
        self.image_plot, self.image = _image_plot(self.glw, "current image")
        self.glw.ci.layout.setColumnStretchFactor(0, 1)
        self.curve_widget = pg.PlotWidget()
        self.curve_widget.setBackground("w")
        self.loss_plot = self.curve_widget.getPlotItem()
        self.loss_plot.setLabel("bottom", "step")
        self.loss_plot.setLabel("left", "loss (mean activation)")
        self.loss_plot.showGrid(x=True, y=True, alpha=0.3)
        self.loss_plot.setTitle("loss curve", color="#333")
        self.curve_widget.setAntialiasing(False)  # cheaper repaints while the curve grows live
        # an axis with a grid spans the plot, so each new piece of the curve repainted both axes with their
        # grid lines and tick labels (2.5 ms each); cached as pixmaps, they are re-rendered only when the
        # axes change, which the live curve makes rare (its range grows in jumps)
        for name in ("left", "bottom"):
            self.loss_plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.curve = self.loss_plot.plot([], [], pen=pg.mkPen("#1f77b4", width=2), antialias=False)
        self.marks = pg.ScatterPlotItem(size=7, brush=pg.mkBrush("#d62728"), pen=None)
        self.loss_plot.addItem(self.marks)
        self.strip_glw = pg.GraphicsLayoutWidget()
        self.strip_glw.setBackground("k")
        self.strip_plot, self.strip = _image_plot(self.strip_glw)
        self.strip_labels = TileLabels(min_pixels=30)
        self.strip_plot.addItem(self.strip_labels)
        self.strip_glw.setMinimumHeight(110)
        self.status = QLabel("Choose a layer and maps, then press Start.")
        self.status.setWordWrap(True)
        # a fixed height: a new text every frame must not re-lay out the whole panel
        self.status.setFixedHeight(3 * self.status.fontMetrics().lineSpacing() + 4)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        top = QSplitter()
        top.addWidget(self.glw)
        top.addWidget(self.curve_widget)
        top.setSizes([420, 520])
        split = QSplitter()
        split.setOrientation(pg.QtCore.Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.strip_glw)
        split.setSizes([480, 110])
        self.header = QHBoxLayout()
        self.header.addWidget(self.status, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(self.header)
        lay.addWidget(split, 1)
        self._strip_shape: tuple = ()
        self._yrange: tuple | None = None
        self.contrast = False

    def set_colormap(self, name: str) -> None:
        """Colour map of the current image and the snapshot strip."""
        self.image.setLookupTable(lookup_table(name))
        self.strip.setLookupTable(lookup_table(name))

    def show_image(self, image: np.ndarray, title: str = "") -> None:
        img = np.ascontiguousarray(image, dtype=np.float32)
        if self.contrast:
            img = contrast_stretch(img[None])[0]
        self.image.setImage(img, autoLevels=False, levels=_levels(img))
        self.image.setRect(QRectF(0, 0, img.shape[1], img.shape[0]))
        if title:
            self.image_plot.setTitle(title)

    def show_curve(self, curve: np.ndarray, marks: list[int] | None = None, total: int | None = None) -> None:
        """The loss curve; ``marks`` (snapshot steps) are redrawn only when given. With ``total`` (live) the
        axes span all steps and grow in jumps, so most updates repaint the line only, not the axes."""
        curve = np.asarray(curve, dtype=np.float32)
        ok = np.isfinite(curve)
        x = np.flatnonzero(ok)
        self.curve.setData(x, curve[ok])
        if total is None:
            self._yrange = None
            self.loss_plot.enableAutoRange()
        elif ok.any():
            lo, hi = float(curve[ok].min()), float(curve[ok].max())
            if self._yrange is None or lo < self._yrange[0] or hi > self._yrange[1]:
                pad = max(hi - lo, abs(hi), 1e-3) * 0.25
                self._yrange = (lo - pad if lo < 0 else min(0.0, lo), hi + pad)
                self.loss_plot.setRange(xRange=(0, total), yRange=self._yrange, padding=0.02)
        if marks is not None:
            pts = [s for s in marks if s < len(curve) and ok[s]]
            self.marks.setData(pts, curve[pts])

    def show_strip(self, initial: np.ndarray | None, snapshots, steps) -> None:
        """The initial image and the snapshots, labelled by ``steps`` (step numbers or texts)."""
        frames = [] if initial is None else [np.asarray(initial, np.float32)]
        frames += [np.asarray(s, np.float32) for s in (snapshots if snapshots is not None else [])]
        if not frames:
            self.strip.clear()
            self.strip_labels.set_items([], 1)
            return
        stack = np.stack(frames)
        if self.contrast:
            stack = contrast_stretch(stack)
        h, w = stack.shape[1:]
        n_slots = max(len(stack), 9)
        grid = mosaic(stack, ncols=n_slots, pad=2)
        self.strip.setImage(grid, autoLevels=False, levels=_levels(stack))
        self.strip.setRect(QRectF(0, 0, grid.shape[1], grid.shape[0]))
        names = (["initial"] if initial is not None else []) + [
            s if isinstance(s, str) else f"step {int(s)}" for s in steps
        ]
        self.strip_labels.set_items([(k * (w + 2), 0, t) for k, t in enumerate(names)], min(h, w))
        if self._strip_shape != grid.shape:
            self.strip_plot.setRange(xRange=(0, n_slots * (w + 2)), yRange=(0, h), padding=0.02)
            self._strip_shape = grid.shape

    def clear(self, text: str = "") -> None:
        self._yrange = None
        self.image.clear()
        self.curve.setData([], [])
        self.marks.setData([], [])
        self.show_strip(None, None, [])
        if text:
            self.status.setText(text)


class AtlasView(MapGrid):
    """The layer's OIPs in one mosaic, ordered (by final loss or index); non-reacting maps crossed out."""

    #: a tile was clicked: the position of its map in the result
    tile_clicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent, colorbar=False, labels=True)
        # red with a white rim: visible on every colour map (magma and inferno tiles are red themselves)
        self.crosses = pg.ScatterPlotItem(
            symbol="x", size=18, brush=pg.mkBrush("#ff3030"), pen=pg.mkPen("w", width=1.5)
        )
        self.plot.addItem(self.crosses)
        self.order = np.zeros(0, int)
        self.result = None
        self.map_clicked.connect(lambda k: self.tile_clicked.emit(int(self.order[k])))

    def set_result(self, result, by: str = "loss", contrast: bool = True, initial: bool = False) -> None:
        """Show the final OIPs (or, with ``initial``, the start images in the same places)."""
        from cnnviz_gui.core.oip.figures import atlas_order

        self.result = result
        self.order = atlas_order(result, by)
        images = (result.initial if initial else result.images)[self.order, :, :, 0]
        shown = contrast_stretch(images) if contrast else images
        lv = (0.0, 1.0) if contrast else _levels(images)
        names = []
        self._dead = []
        for k, i in enumerate(self.order):
            mark = "" if result.data_active is None or result.data_active[i] else "*"
            names.append(f"{int(result.maps[i])}{mark}")
            if not result.reacts[i]:
                self._dead.append(k)
        self.set_maps(shown, per_map=False, levels=lv, names=names)
        self.readout.setText("hover a tile for its map and loss; click it to see its run")

    _dead: list[int] = []

    def set_maps(self, maps, *args, **kwargs) -> None:
        """As :meth:`MapGrid.set_maps`; the crosses follow the tiles when the grid re-flows."""
        super().set_maps(maps, *args, **kwargs)
        h, w = np.asarray(maps).shape[1:3]
        sx, sy = w + self.pad, h + self.pad
        xs = [(k % self.ncols) * sx + w / 2 for k in self._dead]
        ys = [(k // self.ncols) * sy + h / 2 for k in self._dead]
        self.crosses.setData(xs, ys)

    def _on_mouse_moved(self, pos) -> None:
        hit = self._scene_to_tile(pos)
        if hit is None or self.result is None:
            return
        i = int(self.order[hit[0]])
        r = self.result
        state = "reacts" if r.reacts[i] else "does not react"
        if r.data_active is not None:
            state += ", data-active" if r.data_active[i] else ", never active on the sample"
        conv = "converged" if r.converged[i] else "not converged"
        self.readout.setText(f"map {int(r.maps[i])}: final loss {r.losses[i]:.4g}, {state}, {conv}")
