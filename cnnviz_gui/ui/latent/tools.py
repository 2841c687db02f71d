"""The Latent tab's tool pages: manifold grid, interpolation strip, generation. Widgets and signals only;
the panel runs the work through the bridge and hands the results back."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from cnnviz_gui.ui.latent.widgets import GenerationView, ImageTile, ManifoldPlot


def _controls_row(row_widgets: list) -> QHBoxLayout:
    """A row of controls (left-aligned) for a tool page."""
    row = QHBoxLayout()
    for w in row_widgets:
        row.addWidget(w)
    row.addStretch(1)
    return row


class ManifoldTab(QWidget):
    """n and a button; the decoded n x n grid over the scatter's visible region as one mosaic."""

    requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.n = QSpinBox(minimum=2, maximum=30, value=20)
        self.n.setToolTip("n: the grid has n x n decoded images (up to 30 x 30)")
        self.button = QPushButton("Decode grid over the visible region")
        self.button.clicked.connect(self.requested.emit)
        self.plot = ManifoldPlot()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 2, 0, 0)
        lay.addLayout(_controls_row([QLabel("n"), self.n, self.button]))
        lay.addWidget(self.plot, 1)


class InterpolationTab(QWidget):
    """A and B from the pinned point or a dataset sample, the number of steps, and the decoded strip."""

    #: ("A" or "B") set that end to the pinned point
    from_pin = Signal(str)
    #: ("A" or "B", sample index) set that end to an encoded sample
    from_sample = Signal(str, int)
    requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.a_index, self.b_index = QSpinBox(maximum=99999), QSpinBox(maximum=99999, value=1)
        self.steps = QSpinBox(minimum=2, maximum=30, value=10)
        row = []
        for end, index in (("A", self.a_index), ("B", self.b_index)):
            pin, sample = QPushButton(f"{end} = pinned"), QPushButton(f"{end} = sample")
            pin.setToolTip(f"Click the scatter to pin a point, then use it as {end}")
            sample.setToolTip(f"Use the encoded dataset sample with this index as {end}")
            pin.clicked.connect(lambda checked=False, end=end: self.from_pin.emit(end))
            sample.clicked.connect(
                lambda checked=False, end=end, index=index: self.from_sample.emit(end, index.value())
            )
            row += [pin, sample, index]
        self.button = QPushButton("Interpolate A → B")
        self.button.clicked.connect(self.requested.emit)
        self.strip = ImageTile("pick A and B (pinned points or samples), then interpolate")
        lay = QVBoxLayout(self)
        lay.addLayout(_controls_row(row + [QLabel("steps"), self.steps, self.button]))
        lay.addWidget(self.strip, 1)


class GenerationTab(QWidget):
    """Samples per method and a button; per method the decoded samples and the confidence histogram."""

    requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.n_samples = QSpinBox(minimum=8, maximum=2000, value=200, singleStep=50)
        self.n_samples.setToolTip("Samples drawn with each method")
        self.button = QPushButton("Generate and classify with the default CNN")
        self.button.clicked.connect(self.requested.emit)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("color: #555")
        self.view = GenerationView()
        row = _controls_row([QLabel("samples per method"), self.n_samples, self.button])
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.summary)  # full width: two lines, so the samples and histograms keep their height
        lay.addWidget(self.view, 1)
