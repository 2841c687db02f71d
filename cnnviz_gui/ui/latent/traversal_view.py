"""The Latent tab's Traversal page: every latent dimension moved around a centre, and a slider per dimension.

Widgets and signals only: the panel asks the compute process for the traversal and for each slider's decode
and hands the results back (``set_traversal``, ``set_image``).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cnnviz_gui.ui.latent.widgets import ImageTile

#: at most this many sliders: with more latent dimensions, those that change the image most
MAX_SLIDERS = 32
#: slider positions per standard deviation: a slider moves in steps of 0.01 SD from -R to +R
SLIDER_STEPS = 100
CENTRES = (("mean", "the data's mean"), ("pinned", "the pinned point"))


class TraversalPlot(pg.PlotWidget):
    """The traversal as one mosaic: a row per latent dimension (labelled with its name and how much it changes
    the image), a column per step from -R to +R standard deviations (labelled with the offset)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackground("w")
        self.plotItem.setMenuEnabled(False)
        self.plotItem.hideButtons()
        self.plotItem.invertY(True)
        self.setAspectLocked(True)
        self.plotItem.vb.setDefaultPadding(0.01)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.addItem(self.image)
        self.mosaic: np.ndarray | None = None
        self.row_labels: list[str] = []
        self.column_labels: list[str] = []
        self._tiles = (0, 0, 0)  # tile height, width and the gap between tiles, in mosaic pixels
        for side in ("left", "bottom"):
            self.getAxis(side).setStyle(tickLength=0)
            self.getAxis(side).setPen("#888")
            self.getAxis(side).setTextPen("k")
        self.plotItem.vb.sigRangeChanged.connect(lambda *_: self._label_ticks())
        self.plotItem.vb.sigResized.connect(lambda *_: self._label_ticks())

    def clear_traversal(self) -> None:
        self.mosaic = None
        self.image.clear()
        self.row_labels, self.column_labels = [], []
        self._label_ticks()

    def set_traversal(self, tr, mosaic: np.ndarray, pad: int) -> None:
        """Show ``mosaic`` (rows x steps tiles of ``tr.traversal``, ``pad`` pixels apart) with its labels."""
        rows, steps, h, w = np.shape(tr.traversal)[:4]
        image = np.asarray(mosaic, np.float32)
        if image.ndim == 3 and image.shape[-1] != 3:
            image = image.mean(-1)
        self.mosaic = image
        self.image.setImage(np.ascontiguousarray(image), autoLevels=False, levels=(0.0, 1.0))
        self.row_labels = [f"z{int(k)}  {c:.3f}" for k, c in zip(tr.dims, tr.change, strict=True)]
        self.column_labels = ["0" if o == 0 else f"{o:+.3g}" for o in tr.offsets]
        self._tiles = (h, w, pad)
        self._label_ticks()
        unit = "SD of the data" if tr.scale == "data" else "prior SD"
        self.setLabel("bottom", f"offset ({unit})", color="k")
        self.setLabel("left", "latent dimension, mean pixel change", color="k")
        self.enableAutoRange()  # fits the whole mosaic, also when the page is resized or first shown

    def _label_ticks(self) -> None:
        """Label every row and column that has room on screen (every n-th when tiles are small)."""
        h, w, pad = self._tiles
        left, bottom = self.getAxis("left"), self.getAxis("bottom")
        if not self.row_labels or not h:
            left.setTicks([[]])
            bottom.setTicks([[]])
            return
        vb = self.plotItem.vb
        (x0, x1), (y0, y1) = vb.viewRange()
        size = vb.size()
        row_px = (h + pad) * size.height() / max(y1 - y0, 1e-9)
        col_px = (w + pad) * size.width() / max(x1 - x0, 1e-9)
        metrics = self.fontMetrics()
        widest = max(metrics.horizontalAdvance(label) for label in self.column_labels) + 6
        every_row = max(1, int(np.ceil((metrics.height() + 1) / max(row_px, 1e-9))))
        every_col = max(1, int(np.ceil(widest / max(col_px, 1e-9))))
        left.setTicks(
            [[(r * (h + pad) + h / 2, t) for r, t in enumerate(self.row_labels) if r % every_row == 0]]
        )
        bottom.setTicks(
            [[(c * (w + pad) + w / 2, t) for c, t in enumerate(self.column_labels) if c % every_col == 0]]
        )


class DimensionSliders(QWidget):
    """One slider per latent dimension (up to :data:`MAX_SLIDERS`), each from -R to +R standard deviations
    around the centre; ``changed(dim)`` while one moves, ``changed(-1)`` after "reset to centre"."""

    changed = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.note = QLabel("The sliders appear with the traversal.")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #555")
        self.reset_button = QPushButton("Reset to centre")
        self.reset_button.setToolTip("Move every slider back to 0: the centre of the traversal")
        self.reset_button.setEnabled(False)
        self.reset_button.clicked.connect(self.reset)
        self.rows: list[tuple[int, QSlider, QLabel]] = []
        self.range_sd = 3.0
        self._grid_widget = QWidget()
        self._grid = QGridLayout(self._grid_widget)
        self._grid.setContentsMargins(2, 2, 2, 2)
        self._grid.setVerticalSpacing(2)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self._grid_widget)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.note)
        lay.addWidget(self.reset_button, 0, Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(scroll, 1)

    def set_dimensions(self, dims, changes, range_sd: float, z_dim: int) -> None:
        """A slider for each of ``dims`` (in that order, at most :data:`MAX_SLIDERS`), all at the centre."""
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.rows, self.range_sd = [], float(range_sd)
        shown = [int(k) for k in dims[:MAX_SLIDERS]]
        for r, (k, change) in enumerate(zip(shown, changes, strict=False)):
            name = QLabel(f"z{k}")
            name.setToolTip(f"latent dimension {k}; mean pixel change over the traversal {change:.3f}")
            slider = QSlider(Qt.Orientation.Horizontal)
            end = int(round(range_sd * SLIDER_STEPS))
            slider.setRange(-end, end)
            slider.setPageStep(max(1, SLIDER_STEPS // 2))
            slider.setMinimumWidth(50)
            slider.setToolTip(
                f"z{k}: from -{range_sd:g} to +{range_sd:g} standard deviations around the centre"
            )
            value = QLabel(self._value_text(0.0))
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("+10.00 SD"))
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            slider.valueChanged.connect(lambda _v, k=k, label=value, s=slider: self._moved(k, s, label))
            for c, w in enumerate((name, slider, value)):
                self._grid.addWidget(w, r, c)
            self.rows.append((k, slider, value))
        self._grid.setColumnStretch(1, 1)
        self._grid.setRowStretch(len(shown), 1)
        self.reset_button.setEnabled(bool(shown))
        if z_dim > MAX_SLIDERS:
            self.note.setText(
                f"{MAX_SLIDERS} of {z_dim} dimensions: the {MAX_SLIDERS} that change the image most (the "
                "traversal's top rows); the others stay at the centre."
            )
        else:
            self.note.setText(
                f"{len(shown)} dimensions, most influential first; each slider moves its coordinate from "
                f"-{range_sd:g} to +{range_sd:g} SD."
            )

    def _value_text(self, offset: float) -> str:
        return f"{offset:+.2f} SD"

    def _offset(self, slider: QSlider) -> float:
        return slider.value() / SLIDER_STEPS

    def _moved(self, k: int, slider: QSlider, label: QLabel) -> None:
        label.setText(self._value_text(self._offset(slider)))
        self.changed.emit(k)

    def offsets(self) -> dict[int, float]:
        """Latent dimension -> offset from the centre in standard deviations, for every slider."""
        return {k: self._offset(slider) for k, slider, _ in self.rows}

    def set_offset(self, k: int, offset_sd: float) -> None:
        """Move the slider of dimension ``k`` to ``offset_sd`` standard deviations (clipped to +-R)."""
        for dim, slider, _ in self.rows:
            if dim == k:
                slider.setValue(int(round(np.clip(offset_sd, -self.range_sd, self.range_sd) * SLIDER_STEPS)))

    def reset(self) -> None:
        """Every slider back to 0 (the centre); one ``changed(-1)`` instead of one per slider."""
        for _, slider, label in self.rows:
            blocked = slider.blockSignals(True)
            slider.setValue(0)
            slider.blockSignals(blocked)
            label.setText(self._value_text(0.0))
        self.changed.emit(-1)


class TraversalTab(QWidget):
    """Centre, steps and range; the traversal mosaic; the sliders and the image they decode, shown large."""

    requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.centre_box = QComboBox()
        for key, label in CENTRES:
            self.centre_box.addItem(label, key)
        self.centre_box.setToolTip(
            "The point each dimension is moved around: the mean of the encoded data, or the point pinned "
            "on the scatter (click)"
        )
        self.steps = QSpinBox(minimum=2, maximum=31, value=9)
        self.steps.setToolTip("Decoded images per dimension, from -R to +R")
        self.range_sd = QDoubleSpinBox(minimum=0.25, maximum=10.0, value=3.0, singleStep=0.5, decimals=2)
        self.range_sd.setToolTip(
            "R: each dimension moves from -R to +R standard deviations of the encoded data"
        )
        self.button = QPushButton("Traverse")
        self.button.setToolTip("Decode every latent dimension moved around the centre, rows sorted by change")
        self.button.clicked.connect(self.requested.emit)
        self.message = QLabel("Encode a dataset: each latent dimension is then moved around the centre.")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #555")
        self.plot = TraversalPlot()
        self.sliders = DimensionSliders()
        self.image = ImageTile("the sliders' point, decoded")
        self.image.setMinimumSize(160, 160)
        #: where the sliders' point is (changes with every move; a label, so the image's layout stays put)
        self.point_label = QLabel("")
        self.point_label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.point_label.setWordWrap(True)
        # two lines, always: a longer text neither moves nor resizes the image (no layout pass per move)
        self.point_label.setFixedHeight(2 * self.point_label.fontMetrics().lineSpacing() + 4)
        image_box = QWidget()
        box = QVBoxLayout(image_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.image, 1)
        box.addWidget(self.point_label)
        split = QSplitter(Qt.Orientation.Horizontal)
        for w, stretch in ((self.plot, 3), (self.sliders, 2), (image_box, 3)):
            split.addWidget(w)
            split.setStretchFactor(split.count() - 1, stretch)
        split.setSizes([420, 260, 360])
        row = QHBoxLayout()
        for w in (QLabel("centre"), self.centre_box, QLabel("steps"), self.steps, QLabel("range ±"),
                  self.range_sd, QLabel("SD"), self.button):  # fmt: skip
            row.addWidget(w)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 2, 0, 0)
        lay.addLayout(row)
        lay.addWidget(self.message)
        lay.addWidget(split, 1)

    def set_message(self, text: str) -> None:
        self.message.setText(text)

    def centre_choice(self) -> str:
        """The chosen centre: "mean" or "pinned"."""
        return str(self.centre_box.currentData())

    def session_state(self) -> dict:
        return {
            "traversal_centre": self.centre_choice(),
            "traversal_steps": self.steps.value(),
            "traversal_range": self.range_sd.value(),
        }

    def restore_session(self, state: dict) -> None:
        index = self.centre_box.findData(state.get("traversal_centre"))
        if index >= 0:
            self.centre_box.setCurrentIndex(index)
        steps, range_sd = state.get("traversal_steps"), state.get("traversal_range")
        if isinstance(steps, int) and not isinstance(steps, bool):
            self.steps.setValue(steps)
        if isinstance(range_sd, int | float) and not isinstance(range_sd, bool):
            self.range_sd.setValue(float(range_sd))
