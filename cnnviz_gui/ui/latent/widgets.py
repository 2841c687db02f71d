"""Widgets of the Latent tab: the class-coloured scatter, image tiles, the manifold plot, generation rows.

They only draw what they are given (NumPy arrays); the panel computes through the bridge.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal

from cnnviz_gui.core.figures import image_grid
from cnnviz_gui.core.latent.figures import class_color

#: at most this many points are drawn by default (a class-stratified random subset), so pan and zoom stay
#: smooth; the person can ask for all of them
DEFAULT_MAX_SHOWN = 20000


def _gray(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images, np.float32)
    if images.ndim == 4:
        return images[..., 0] if images.shape[-1] == 1 else images.mean(-1)
    return images


def _levels(a: np.ndarray) -> tuple[float, float]:
    lo, hi = float(np.nanmin(a)), float(np.nanmax(a))
    if lo >= 0 and hi <= 1:
        return 0.0, 1.0
    return lo, hi if hi > lo else lo + 1e-6


def subset_indices(labels: np.ndarray | None, n: int, max_shown: int | None, seed: int = 0) -> np.ndarray:
    """Indices of the points to draw: all, or a uniform random subset of ``max_shown`` (so each class keeps its
    share on average); the same seed gives the same subset, so redraws do not flicker."""
    if max_shown is None or n <= max_shown:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_shown, replace=False))


class LatentScatter(pg.PlotWidget):
    """Encoded points, one ScatterPlotItem per class (one brush each), a legend, and markers.

    Emits ``hovered(x, y)`` while the mouse moves over the plot and ``clicked(x, y)`` on a left click, in
    plot coordinates (anywhere, not only on points).
    """

    hovered = Signal(float, float)
    clicked = Signal(float, float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.plotItem.showGrid(x=True, y=True, alpha=0.25)
        self.plotItem.setMenuEnabled(False)
        self.legend = self.plotItem.addLegend(
            offset=(-10, 10), labelTextColor="k", brush=pg.mkBrush(255, 255, 255, 110)
        )
        self.class_items: list[pg.ScatterPlotItem] = []
        self.input_marker = pg.ScatterPlotItem(
            size=20, symbol="star", brush=pg.mkBrush("#ffd60a"), pen=pg.mkPen("k", width=1.5), pxMode=True
        )
        self.input_marker.setZValue(20)
        self.pin_marker = pg.ScatterPlotItem(
            size=13, symbol="+", brush=pg.mkBrush("k"), pen=pg.mkPen("k", width=2), pxMode=True
        )
        self.pin_marker.setZValue(21)
        self.ab_markers = pg.ScatterPlotItem(
            size=12, symbol="o", brush=pg.mkBrush(255, 255, 255, 230), pen=pg.mkPen("#d62728", width=2.5)
        )
        self.ab_markers.setZValue(19)
        self.ab_line = pg.PlotDataItem(pen=pg.mkPen("#d62728", width=1.5, style=Qt.PenStyle.DashLine))
        self.ab_line.setZValue(18)
        self.ab_text = [pg.TextItem(t, color="#d62728", anchor=(-0.3, 1.1)) for t in ("A", "B")]
        for item in (self.input_marker, self.pin_marker, self.ab_markers, self.ab_line, *self.ab_text):
            self.addItem(item)
        self.message = pg.TextItem("", color="#555", anchor=(0.5, 0.5))
        self.addItem(self.message)
        self.n_shown = 0
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)

    # -- data ---------------------------------------------------------------------------------------------
    def set_points(
        self,
        points: np.ndarray | None,
        labels: np.ndarray | None,
        class_names: list[str] | None = None,
        axis_names: tuple[str, str] = ("z0", "z1"),
        max_shown: int | None = DEFAULT_MAX_SHOWN,
        size: float = 4.0,
    ) -> None:
        """Draw ``points`` (N, 2) coloured by ``labels``; at most ``max_shown`` of them (None: all)."""
        for item in self.class_items:
            self.removeItem(item)
        self.class_items = []
        self.legend.clear()
        if points is None or len(points) == 0:
            self.n_shown = 0
            self.set_message("Encode a dataset to see its latent space")
            return
        self.set_message("")
        idx = subset_indices(labels, len(points), max_shown)
        self.n_shown = len(idx)
        pts = np.asarray(points, np.float32)[idx]
        labs = np.zeros(len(idx), np.int64) if labels is None else np.asarray(labels)[idx].astype(np.int64)
        names = list(class_names or [])
        for c in np.unique(labs):
            sel = labs == c
            color = class_color(c)
            item = pg.ScatterPlotItem(
                x=pts[sel, 0], y=pts[sel, 1], size=size, pen=None, brush=pg.mkBrush(color), pxMode=True,
                useCache=True, hoverable=False, name=names[c] if c < len(names) else str(c),
            )  # fmt: skip
            item.setZValue(1)
            self.addItem(item)
            self.class_items.append(item)
        self.setLabel("bottom", axis_names[0])
        self.setLabel("left", axis_names[1])

    def set_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        if text:
            (x0, x1), (y0, y1) = self.plotItem.vb.viewRange()
            self.message.setPos((x0 + x1) / 2, (y0 + y1) / 2)

    def set_input_point(self, p: tuple[float, float] | None) -> None:
        self.input_marker.setData([] if p is None else [{"pos": p}])

    def set_pin(self, p: tuple[float, float] | None) -> None:
        self.pin_marker.setData([] if p is None else [{"pos": p}])

    def set_ab(self, a: tuple[float, float] | None, b: tuple[float, float] | None) -> None:
        spots = [{"pos": p} for p in (a, b) if p is not None]
        self.ab_markers.setData(spots)
        for text, p in zip(self.ab_text, (a, b), strict=True):
            text.setVisible(p is not None)
            if p is not None:
                text.setPos(*p)
        if a is not None and b is not None:
            self.ab_line.setData([a[0], b[0]], [a[1], b[1]])
        else:
            self.ab_line.setData([], [])

    def fit(self, bounds: tuple[float, float, float, float]) -> None:
        x0, x1, y0, y1 = bounds
        self.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def visible_bounds(self) -> tuple[float, float, float, float]:
        (x0, x1), (y0, y1) = self.plotItem.vb.viewRange()
        return float(x0), float(x1), float(y0), float(y1)

    # -- mouse --------------------------------------------------------------------------------------------
    def _to_view(self, scene_pos) -> QPointF | None:
        vb = self.plotItem.vb
        if not vb.sceneBoundingRect().contains(scene_pos):
            return None
        return vb.mapSceneToView(scene_pos)

    def _on_mouse_moved(self, scene_pos) -> None:
        p = self._to_view(scene_pos)
        if p is not None and self.n_shown:
            self.hovered.emit(p.x(), p.y())

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        p = self._to_view(event.scenePos())
        if p is not None and self.n_shown:
            self.clicked.emit(p.x(), p.y())


class ImageTile(pg.GraphicsLayoutWidget):
    """One image (or a mosaic) shown with square pixels, a title above it."""

    def __init__(self, title: str = "", parent=None, background="w"):
        super().__init__(parent)
        self.setBackground(background)
        self.title = self.addLabel(title, color="k", size="9pt")
        self.nextRow()
        self.view = self.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        self.array: np.ndarray | None = None

    def set_image(self, image: np.ndarray | None, title: str | None = None) -> None:
        if title is not None:
            self.title.setText(title, color="k", size="9pt")
        if image is None:
            self.array = None
            self.image.clear()
            return
        a = np.ascontiguousarray(_gray(image[None] if image.ndim == 3 else image), np.float32)
        a = a[0] if a.ndim == 3 else a
        same_shape = self.array is not None and self.array.shape == a.shape
        self.array = a
        self.image.setImage(np.nan_to_num(a, nan=1.0), autoLevels=False, levels=_levels(a))
        if not same_shape:  # a new size: fit it (the same size keeps the view: cheaper for live updates)
            self.view.autoRange(padding=0.01)


class ManifoldPlot(pg.PlotWidget):
    """The decoded n x n grid as one image, placed on the latent axes it was decoded from."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.plotItem.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.addItem(self.image)
        self.mosaic: np.ndarray | None = None
        self.setTitle("Decode an n x n grid over the scatter's visible region", size="9pt")

    def clear_grid(self) -> None:
        self.mosaic = None
        self.image.clear()
        self.setTitle("Decode an n x n grid over the scatter's visible region", size="9pt")

    def set_grid(self, mosaic, bounds, n: int, axis_names=("z0", "z1"), note: str = "") -> None:
        self.mosaic = np.asarray(mosaic, np.float32)
        x0, x1, y0, y1 = bounds
        # row 0 of the mosaic is the top (largest y); the y axis points up, so flip rows to keep that order
        self.image.setImage(np.ascontiguousarray(self.mosaic[::-1]), autoLevels=False, levels=_levels(mosaic))
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self.setLabel("bottom", axis_names[0])
        self.setLabel("left", axis_names[1])
        extra = f" — {note}" if note else ""
        self.setTitle(
            f"decoded {n} x {n} grid over x {x0:.2f}..{x1:.2f}, y {y0:.2f}..{y1:.2f}{extra}", size="9pt"
        )
        self.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.01)


class GenerationView(pg.GraphicsLayoutWidget):
    """One block per sampling method, side by side: decoded samples labelled with the class the default CNN
    predicts, and the histogram of the CNN's confidence (number of samples per bin) over all samples."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.setToolTip(
            "conf.: the default CNN's top class probability for a decoded sample (the histogram counts samples "
            "per bin); off data: farther from every encoded point than 3x the data's typical spacing"
        )
        self.columns: list[tuple] = []
        self.clear_result()

    def clear_result(self) -> None:
        """No samples: what the Generate button does."""
        self.clear()
        self.columns = []
        self.addLabel(
            "Generate to sample from the prior, a fitted Gaussian and the data's neighbourhoods", color="k"
        )

    def set_result(self, result, class_names: list[str] | None = None, n_show: int = 12) -> None:
        self.clear()
        self.columns = []
        names = list(class_names or [str(i) for i in range(10)])
        top = max(int(result.histogram(s.method).max()) for s in result.sets) if result.sets else 1
        for col, s in enumerate(result.sets):
            self.addLabel(
                f"<b>{s.title}</b><br><b>{s.fraction_off_data() * 100:.0f}% off data</b><br>mean conf. "
                f"{s.confidence.mean():.2f} ({s.fraction_confident() * 100:.0f}% ≥ 0.9)",
                row=0, col=2 * col, colspan=2, color="k", size="9pt",
            )  # fmt: skip
            vb = self.addViewBox(row=1, col=2 * col, lockAspect=True, invertY=True, enableMouse=False)
            imgs = _gray(s.images[:n_show])
            ncols = 4
            item = pg.ImageItem(
                np.ascontiguousarray(image_grid(imgs, ncols=ncols, pad=2, fill=1.0)), axisOrder="row-major",
                levels=(0, 1),
            )  # fmt: skip
            vb.addItem(item)
            h, w = imgs.shape[1] + 2, imgs.shape[2] + 2
            for i in range(len(imgs)):
                r, c = divmod(i, ncols)
                k = int(s.predicted[i])
                label = pg.TextItem(names[k] if k < len(names) else str(k), color="#ff5a5f", anchor=(0, 0))
                label.setPos(c * w, r * h)
                vb.addItem(label)
            plot = self.addPlot(row=1, col=2 * col + 1)
            bins = result.bins
            plot.addItem(
                pg.BarGraphItem(
                    x0=bins[:-1],
                    width=np.diff(bins),
                    height=result.histogram(s.method),
                    brush="#5b8fd6",
                    pen="w",
                )
            )
            plot.setXRange(0, 1, padding=0.02)
            plot.setYRange(0, top * 1.05, padding=0)
            plot.setMouseEnabled(False, False)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setLabel("bottom", "CNN confidence")
            plot.getAxis("bottom").setTicks([[(0, "0"), (0.5, "0.5"), (0.9, "0.9"), (1, "1")]])
            plot.getAxis("left").setWidth(28)
            self.columns.append((vb, item, plot))
