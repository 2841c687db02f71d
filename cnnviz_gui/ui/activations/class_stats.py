"""Class statistics of a layer: heat map (classes x maps) of mean activation with silent maps marked,
the difference between two classes as bars (which maps separate them), and the panel that computes them."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnviz_gui.core.activations.statistics import (
    ClassDifference,
    ClassStats,
    class_difference,
)
from cnnviz_gui.ui.bridge import ComputeBridge
from cnnviz_gui.ui.state import AppState
from cnnviz_gui.ui.widgets.image_widgets import LiveLabel
from cnnviz_gui.ui.widgets.map_grid import colormap, lookup_table

POS_BRUSH = pg.mkBrush("#d62728")
NEG_BRUSH = pg.mkBrush("#1f77b4")


class ClassStatsPlot(QWidget):
    """Heat map of mean activation per (class, map), silent pairs marked with x; class difference bars."""

    #: a map (column) was clicked
    map_clicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.stats: ClassStats | None = None
        self.difference: ClassDifference | None = None
        self._classes: tuple[int, int] | None = None
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground("w")
        self.heat_plot = self.glw.addPlot(row=0, col=0)
        self.heat_plot.setMenuEnabled(False)
        self.heat_plot.hideButtons()
        self.heat_plot.invertY(True)
        self.heat_plot.setLabel("bottom", "map")
        self.heat_plot.setLabel("left", "class")
        self.heat = pg.ImageItem(axisOrder="row-major")
        self.heat_plot.addItem(self.heat)
        self.silent = pg.ScatterPlotItem(symbol="x", size=7, pen=pg.mkPen("#ff2020", width=1.5), brush=None)
        self.heat_plot.addItem(self.silent)
        self.colorbar = pg.ColorBarItem(
            values=(0, 1), colorMap=colormap("viridis"), interactive=False, width=12, colorMapMenu=False
        )
        self.colorbar.setImageItem(self.heat)
        self.glw.addItem(self.colorbar, row=0, col=1)
        self.diff_plot = self.glw.addPlot(row=1, col=0, colspan=2)
        self.diff_plot.setMenuEnabled(False)
        self.diff_plot.hideButtons()
        self.diff_plot.setLabel("bottom", "map")
        self.diff_plot.getAxis("left").enableAutoSIPrefix(False)
        self.diff_plot.addLine(y=0, pen=pg.mkPen("#888"))
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.85, brushes=[])
        self.diff_plot.addItem(self.bars)
        self.glw.ci.layout.setColumnMinimumWidth(1, 64)  # room for the colour bar's tick labels
        self.glw.ci.layout.setRowStretchFactor(0, 3)
        self.glw.ci.layout.setRowStretchFactor(1, 2)
        self.readout = LiveLabel("")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.glw, 1)
        lay.addWidget(self.readout)
        self.cmap = "viridis"
        self.glw.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.glw.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.set_stats(None)

    def set_colormap(self, name: str) -> None:
        self.cmap = name
        self.heat.setLookupTable(lookup_table(name))
        self.colorbar.setColorMap(colormap(name))

    def set_stats(self, stats: ClassStats | None, classes: tuple[int, int] | None = None) -> None:
        self.stats = stats
        self.readout.setText(
            "Press 'Class statistics' to compute the mean activation of every map per class"
            if stats is None
            else "hover a cell or bar for its values; click it to select that map"
        )
        if stats is None:
            self.heat.clear()
            self.silent.setData([], [])
            self.bars.setOpts(x=[], height=[], brushes=[])
            self.difference = None
            self.heat_plot.setTitle("class statistics: not computed yet", size="10pt")
            self.diff_plot.setTitle("")
            return
        means = stats.means
        lo, hi = float(means.min()), float(means.max())
        self.heat.setImage(means, autoLevels=False, levels=(lo, hi if hi > lo else lo + 1e-6))
        self.heat.setRect(QRectF(0, 0, means.shape[1], means.shape[0]))
        self.colorbar.setLevels((lo, hi if hi > lo else lo + 1e-6))
        cls, maps = np.nonzero(stats.silent)
        self.silent.setData(maps + 0.5, cls + 0.5)
        self.heat_plot.getAxis("left").setTicks(
            [[(c + 0.5, name) for c, name in enumerate(stats.class_names)], []]
        )
        self.heat_plot.setTitle(f"{stats.layer}: mean activation per map and class (x: silent)", size="10pt")
        self.heat_plot.setRange(xRange=(0, means.shape[1]), yRange=(0, means.shape[0]), padding=0.01)
        self.set_difference(classes or self._classes)

    def set_difference(self, classes: tuple[int, int] | None) -> None:
        self._classes = classes
        stats = self.stats
        if stats is None or classes is None:
            return
        a, b = classes
        if not (0 <= a < len(stats.class_names) and 0 <= b < len(stats.class_names)):
            return
        d = class_difference(stats, a, b)
        self.difference = d
        x = np.arange(len(d.diff)) + 0.5
        brushes = [POS_BRUSH if v >= 0 else NEG_BRUSH for v in d.diff]
        self.bars.setOpts(x=x, height=d.diff, width=0.85, brushes=brushes)
        names = stats.class_names
        best = ", ".join(str(int(m)) for m in d.order[:6])
        self.diff_plot.setTitle(
            f"'{names[a]}' − '{names[b]}' (red: stronger for '{names[a]}'); most separating maps: {best}",
            size="10pt",
        )
        self.diff_plot.setLabel("left", f"{names[a]} − {names[b]}")
        lo, hi = float(min(d.diff.min(), 0)), float(max(d.diff.max(), 0))
        self.diff_plot.setYRange(lo, hi if hi > lo else lo + 1e-6, padding=0.05)
        self.diff_plot.setXRange(0, len(d.diff), padding=0.01)

    # -- mouse ------------------------------------------------------------------------------------------
    def _cell(self, pos) -> tuple[int, int] | None:
        if self.stats is None:
            return None
        n_classes, n_maps = self.stats.means.shape
        for plot in (self.heat_plot, self.diff_plot):
            vb = plot.getViewBox()
            if vb.sceneBoundingRect().contains(pos):
                pt = vb.mapSceneToView(pos)
                m = int(np.floor(pt.x()))
                c = int(np.floor(pt.y())) if plot is self.heat_plot else -1
                if 0 <= m < n_maps and (c == -1 or 0 <= c < n_classes):
                    return c, m
        return None

    def _on_mouse_moved(self, pos) -> None:
        cell = self._cell(pos)
        if cell is None:
            return
        c, m = cell
        s = self.stats
        if c >= 0:
            self.readout.setText(
                f"class {s.class_names[c]}, map {m}: mean {s.means[c, m]:.4g} (std {s.stds[c, m]:.3g}), "
                f"active in {s.active_fraction[c, m] * 100:.0f}% of its samples"
                + (" — silent" if s.silent[c, m] else "")
            )
        elif self.difference is not None:
            d = self.difference
            self.readout.setText(
                f"map {m}: difference {d.diff[m]:.4g}, separation {d.separation[m]:.3g} pooled std"
            )

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self._cell(event.scenePos())
        if cell is not None:
            self.map_clicked.emit(cell[1])


class ClassStatsPanel(QWidget):
    """Controls and plot of the class statistics: compute over the Input pane's dataset for the selected
    layer (in the compute process, with progress and Cancel), choose the two classes to difference."""

    def __init__(self, state: AppState, bridge: ComputeBridge, parent=None):
        super().__init__(parent)
        self.state = state
        self.bridge = bridge
        self.stats_button = QPushButton("Class statistics")
        self.stats_button.setToolTip(
            "Mean activation of every map of the selected layer, per class of the dataset"
        )
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.per_class = QSpinBox()
        self.per_class.setRange(0, 100000)
        self.per_class.setValue(300)
        self.per_class.setSpecialValueText("all")
        self.per_class.setToolTip("Samples used per class (0: all of them)")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(200)
        self.progress.setVisible(False)
        self.class_a = QComboBox()
        self.class_b = QComboBox()
        for box in (self.class_a, self.class_b):
            box.setToolTip("Two classes whose difference is shown")
        self.stats_note = QLabel("")
        self.stats_note.setStyleSheet("color: #666")
        self.stats_note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        sbar = QHBoxLayout()
        sbar.addWidget(self.stats_button)
        sbar.addWidget(QLabel("per class"))
        sbar.addWidget(self.per_class)
        sbar.addWidget(self.cancel_button)
        sbar.addWidget(self.progress)
        sbar.addStretch(1)
        sbar.addWidget(QLabel("Difference"))
        sbar.addWidget(self.class_a)
        sbar.addWidget(QLabel("vs"))
        sbar.addWidget(self.class_b)
        self.plot = ClassStatsPlot()
        bottom_lay = QVBoxLayout(self)
        bottom_lay.setContentsMargins(0, 0, 0, 0)
        bottom_lay.addLayout(sbar)
        bottom_lay.addWidget(self.stats_note)
        bottom_lay.addWidget(self.plot, 1)

        self.stats_button.clicked.connect(self.compute_stats)
        self.cancel_button.clicked.connect(lambda: self.job is not None and self.bridge.stop(self.job))
        self.job = None
        self.class_a.currentIndexChanged.connect(self._on_classes_chosen)
        self.class_b.currentIndexChanged.connect(self._on_classes_chosen)
        state.dataset_changed.connect(self._on_dataset_changed)
        state.layer_selected.connect(self._on_layer_selected)
        state.model_changed.connect(lambda *_: self.plot.set_stats(None))
        if state.dataset is not None:
            self._on_dataset_changed(state.dataset)

    def _on_dataset_changed(self, ds) -> None:
        for box, default in ((self.class_a, 4), (self.class_b, 9)):
            box.blockSignals(True)
            box.clear()
            for c, name in enumerate(ds.class_names):
                box.addItem(name, c)
            box.setCurrentIndex(min(default, box.count() - 1))
            box.blockSignals(False)
        self.plot.set_stats(None)
        self.stats_note.setText(f"over {ds.name}")

    def compute_stats(self) -> None:
        """Class statistics of the selected layer over the dataset, in the compute process with progress."""
        loaded, ds, layer = self.state.loaded, self.state.dataset, self.state.layer
        if loaded is None or ds is None or not layer or not self.state.dataset_key:
            self.stats_note.setText("Open a model, choose a dataset (Input pane) and a layer first")
            return
        per_class = self.per_class.value() or None

        def finished(stats):
            self._stats_running(False)
            self.plot.set_stats(stats, self.classes())
            silent = int(stats.silent.sum())
            self.stats_note.setText(
                f"{stats.layer} over {int(stats.counts.sum())} samples of {ds.name}; "
                f"{silent} (map, class) pairs silent (marked x)"
            )

        def failed(err):
            self._stats_running(False)
            self.stats_note.setText(f"Class statistics failed: {err.message}")

        def stopped(_partial):
            self._stats_running(False)
            self.stats_note.setText("cancelled")

        self._stats_running(True)
        params = {"model": loaded.id, "dataset": self.state.dataset_key, "layer": layer,
                  "convention": self.state.convention, "max_per_class": per_class}  # fmt: skip
        self.job = self.bridge.request(
            "activations.class_stats", params, kind="class-stats", label=f"Class statistics of {layer}",
            on_result=finished, on_error=failed, on_progress=self._on_stats_progress, on_stopped=stopped,
        )  # fmt: skip

    def _stats_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        self.stats_button.setEnabled(not running)
        self.progress.setVisible(running)
        self.progress.setValue(0)

    def _on_stats_progress(self, fraction: float, text: str = "", payload=None) -> None:
        self.progress.setValue(int(round(fraction * 100)))
        self.stats_note.setText(text)

    def classes(self) -> tuple[int, int] | None:
        a, b = self.class_a.currentData(), self.class_b.currentData()
        return None if a is None or b is None else (int(a), int(b))

    def _on_classes_chosen(self, *_) -> None:
        self.plot.set_difference(self.classes())

    def set_classes(self, a: int, b: int) -> None:
        self.class_a.setCurrentIndex(a)
        self.class_b.setCurrentIndex(b)

    def _on_layer_selected(self, layer: str) -> None:
        stats = self.plot.stats
        if stats is not None and layer and stats.layer.split("/")[-1] != layer:
            self.plot.set_stats(None)
            self.stats_note.setText(f"Press 'Class statistics' for {layer}")
