"""The live view of the OIP panel: the current image(s) — the K diverse images side by side, in colour for RGB
models —, the loss curve, the strip of snapshots and, for a finished run, the dataset exemplars of the map.

Live frames arrive up to ~30 times a second: every image item is created once and updated with
``setImage(..., autoLevels=False)``; colour images go in as uint8 (drawn without a lookup table or scaling).
The atlas is in :mod:`cnnviz_gui.ui.oip.atlas`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QGraphicsItem, QHBoxLayout, QLabel, QSizePolicy, QSplitter, QVBoxLayout, QWidget

from cnnviz_gui.core.labelled_grid import contrast_stretch
from cnnviz_gui.ui.oip import images as im
from cnnviz_gui.ui.widgets.map_grid import TileLabels, lookup_table

STRIP_SLOTS = 9  # the snapshot strip keeps room for the initial image and 8 snapshots


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
    """One line about a finished (or stopped) run: reactions, convergence, time, input convention, and the
    quality read-outs when they were computed."""
    n = len(r.maps)
    react = int(r.reacts.sum())
    text = (
        f"{r.layer}: {react}/{n} maps react, {int((r.converged & r.reacts).sum())} converged; "
        f"{r.seconds:.1f} s on {r.device}; input {r.convention}"
    )
    if r.diversity > 1:
        text += f"; {r.diversity} images per map"
    data = r.reference_dataset or "the dataset"
    if r.data_active is not None:
        text += f"; {int(r.data_active.sum())}/{n} are activated by some image of {data} (*: none)"
    kept = r.shift_kept[r.reacts] if r.shift_kept is not None else np.zeros(0)
    if np.isfinite(kept).any():
        text += f"; reacting maps keep a median {np.nanmedian(kept) * 100:.0f}% under a 4-px shift"
    if r.vs_best_exemplar is not None and react:
        above = int(np.sum(~(r.vs_best_exemplar[r.reacts] < 1)))  # nan: no image activates the map
        text += f"; {above}/{react} reacting maps reach the best image of {data}"
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
        self.exemplar_glw = pg.GraphicsLayoutWidget()
        self.exemplar_glw.setBackground("k")
        self.exemplar_plot, self.exemplar_image = _image_plot(self.exemplar_glw)
        self.exemplar_plot.setTitle(None)  # no title row: the caption is a label above
        self.exemplar_labels = TileLabels(min_pixels=9)
        self.exemplar_plot.addItem(self.exemplar_labels)
        self.exemplar_title = QLabel(" ")  # a plot title as long as this would widen the plot beyond view
        self.exemplar_title.setWordWrap(True)
        self.exemplar_title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self.exemplar_box = QWidget()
        box = QVBoxLayout(self.exemplar_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(1)
        box.addWidget(self.exemplar_title)
        box.addWidget(self.exemplar_glw, 1)
        self.exemplar_box.setMinimumHeight(150)
        self.exemplar_box.setVisible(False)
        self.status = QLabel("Choose a layer and maps, then press Start.")
        self.status.setWordWrap(True)
        # a fixed height: a new text every frame must not re-lay out the whole panel
        self.status.setFixedHeight(4 * self.status.fontMetrics().lineSpacing() + 4)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.top = top = QSplitter()
        top.addWidget(self.glw)
        top.addWidget(self.curve_widget)
        top.setSizes([420, 520])
        self._room_for = 1
        split = QSplitter()
        split.setOrientation(pg.QtCore.Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.strip_glw)
        split.addWidget(self.exemplar_box)
        split.setSizes([480, 110, 170])
        self.header = QHBoxLayout()
        self.header.addWidget(self.status, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(self.header)
        lay.addWidget(split, 1)
        self._strip_shape: tuple = ()
        self._image_shape: tuple = ()
        self._yrange: tuple | None = None
        self.contrast = False
        self.colour = False  # the images shown are RGB

    def make_room(self, images: int) -> None:
        """Widen the image area for ``images`` side by side (diversity); the loss curve keeps the rest."""
        if images == self._room_for:
            return
        self._room_for = images
        total = sum(self.top.sizes()) or 940
        share = 0.45 if images <= 1 else min(0.66, 0.5 + 0.06 * images)
        self.top.setSizes([int(total * share), total - int(total * share)])

    def set_colormap(self, name: str) -> None:
        """Colour map of the current image and the snapshot strip."""
        self.image.setLookupTable(lookup_table(name))
        self.strip.setLookupTable(lookup_table(name))

    def show_image(self, image: np.ndarray, title: str = "") -> None:
        """One image: (H, W) or (H, W, 1) grey, (H, W, 3) colour, display values 0..1."""
        self.show_images(np.asarray(image)[None], title)

    def show_images(self, images: np.ndarray, title: str = "", exact: bool = False) -> None:
        """K images (K, H, W[, C]) side by side (diversity). With contrast enhancement each is stretched
        between its own percentiles (``exact``: from every value; otherwise large frames use a sample)."""
        a = im.squeeze_grey(images)
        self.colour = im.is_rgb(a) and a.ndim == 4
        if self.contrast:
            a = contrast_stretch(a) if exact else im.stretch(a)
        if self.colour:
            row = im.to_u8(im.side_by_side(a, pad=2, fill=0.0))
            self.image.setImage(row, autoLevels=False, levels=None)
        else:
            row = np.ascontiguousarray(im.side_by_side(a, pad=2), dtype=np.float32)
            self.image.setImage(row, autoLevels=False, levels=(0.0, 1.0) if self.contrast else _levels(row))
        if row.shape[:2] != self._image_shape:  # a new layout: the rectangle and the range follow
            self._image_shape = row.shape[:2]
            self.image.setRect(QRectF(0, 0, row.shape[1], row.shape[0]))
            self.image_plot.autoRange(padding=0.02)
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
        """The initial image and the snapshots (grey or colour), labelled by ``steps`` (numbers or texts)."""
        frames = [] if initial is None else [im.squeeze_grey(initial)]
        frames += [im.squeeze_grey(f) for f in (snapshots if snapshots is not None else [])]
        if not frames:
            self.strip.clear()
            self.strip_labels.set_items([], 1)
            return
        stack = np.stack(frames)
        if self.contrast:
            stack = im.stretch(stack)
        h, w = stack.shape[1:3]
        n_slots = max(len(stack), STRIP_SLOTS)
        if stack.ndim == 4:  # colour
            grid = im.to_u8(im.grid(stack, n_slots, 2, fill=0.0))
            self.strip.setImage(grid, autoLevels=False, levels=None)
        else:
            grid = im.grid(stack, n_slots, 2)
            self.strip.setImage(
                grid, autoLevels=False, levels=(0.0, 1.0) if self.contrast else _levels(stack)
            )
        self.strip.setRect(QRectF(0, 0, grid.shape[1], grid.shape[0]))
        names = (["initial"] if initial is not None else []) + [
            s if isinstance(s, str) else f"step {int(s)}" for s in steps
        ]
        self.strip_labels.set_items([(k * (w + 2), 0, t) for k, t in enumerate(names)], min(h, w))
        if self._strip_shape != grid.shape:
            self.strip_plot.setRange(xRange=(0, n_slots * (w + 2)), yRange=(0, h), padding=0.02)
            self._strip_shape = grid.shape

    def show_exemplars(
        self, tiles: np.ndarray | None, labels: list[str] | None = None, title: str = "", band: int = 12
    ) -> None:
        """Dataset exemplars of the shown map in one row: ``tiles`` (k, h, w, 3) RGB in 0..1, each with a
        label band of ``band`` pixels on top where ``labels`` go; ``title`` above; None hides the strip."""
        if tiles is None:
            self.exemplar_box.setVisible(False)
            self.exemplar_image.clear()
            self.exemplar_labels.set_items([], 1)
            return
        k, h, w = tiles.shape[:3]
        space = max(6, w // 8)
        row = im.to_u8(im.grid(tiles, k, space, fill=0.0))
        self.exemplar_image.setImage(row, autoLevels=False, levels=None)
        self.exemplar_image.setRect(QRectF(0, 0, row.shape[1], row.shape[0]))
        self.exemplar_labels.set_items([(j * (w + space), 0, t) for j, t in enumerate(labels or [])], band)
        self.exemplar_title.setText(title)
        self.exemplar_box.setVisible(True)
        self.exemplar_plot.enableAutoRange()  # fits the row now and whenever the strip is resized
        self.exemplar_plot.autoRange(padding=0.02)

    def clear(self, text: str = "") -> None:
        self._yrange = None
        self._image_shape = ()
        self.image.clear()
        self.show_exemplars(None)
        self.curve.setData([], [])
        self.marks.setData([], [])
        self.show_strip(None, None, [])
        if text:
            self.status.setText(text)
