"""The predictions beside the maps: the top-k classes with names (every class for small outputs).

Names come, first match wins, from a labels file the person chose (``.txt`` one name a line, ``.json`` a list
or a dict index -> name), the dataset's class names when their count fits the output, the 1000 ImageNet
names built in for 1000-way outputs, else the class index (:func:`core.activations.predictions.class_names_for`,
plain NumPy, no TensorFlow). A labels file that cannot be used is explained and changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnviz_gui.core.activations.predictions import LabelsError, class_names_for, load_labels
from cnnviz_gui.ui.activations.plots import ALL_BARS_UP_TO, ProbabilityBars

LABELS_FILTER = "Class names (*.txt *.json);;All files (*)"


class PredictionsPanel(QWidget):
    """Top-k spin box, a labels-file button, where the names come from, and the bars."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.bars = ProbabilityBars()
        self.top_spin = QSpinBox()
        self.top_spin.setRange(1, ALL_BARS_UP_TO)
        self.top_spin.setValue(5)
        self.top_spin.setPrefix("top ")
        self.top_spin.setToolTip(
            f"How many of the most probable classes to show (outputs of over {ALL_BARS_UP_TO} classes)"
        )
        self.labels_button = QPushButton("Labels…")
        self.labels_button.setToolTip(
            "Class names from a file: .txt with one name a line, or .json with a list or a dict index -> name"
        )
        self.source_label = QLabel("")
        self.source_label.setStyleSheet("color: #666")
        self.source_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020")
        self.message.setVisible(False)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.top_spin)
        row.addWidget(self.labels_button)
        row.addWidget(self.source_label, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(row)
        lay.addWidget(self.message)
        lay.addWidget(self.bars, 1)

        self.labels: list[str] | None = None
        self.labels_path = ""
        self.dataset_names: list[str] | None = None
        self.n_classes = 0
        self._note = ""
        self.top_spin.valueChanged.connect(self.bars.set_top)
        self.labels_button.clicked.connect(self._choose_labels_file)

    # -- names ----------------------------------------------------------------------------------------
    def names_for(self, n: int) -> tuple[list[str], str]:
        """The class names for ``n`` outputs and where they come from."""
        if self.labels is not None and len(self.labels) == n:
            return list(self.labels), Path(self.labels_path).name
        if self.dataset_names is not None and len(self.dataset_names) == n:
            return list(self.dataset_names), "the dataset"
        return class_names_for(n)

    @property
    def class_names(self) -> list[str] | None:
        """The names in use for the current output (None before there is one)."""
        return self.names_for(self.n_classes)[0] if self.n_classes else self.dataset_names

    def set_dataset_names(self, names: list[str] | None) -> None:
        self.dataset_names = list(names) if names else None
        self._redraw()

    def load_labels_file(self, path: str) -> bool:
        """Use the class names of ``path``; a file that cannot be used (unreadable, or as many names as the
        model has not outputs) is explained below the button and nothing changes."""
        try:
            labels = load_labels(path)
            if self.n_classes:
                class_names_for(self.n_classes, labels, Path(path).name)
        except LabelsError as err:
            self.show_message(err.message)
            return False
        self.labels, self.labels_path = labels, str(path)
        self.show_message("")
        self._redraw()
        return True

    def clear_labels(self) -> None:
        self.labels, self.labels_path = None, ""
        self._redraw()

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _choose_labels_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Class names for the model's outputs", "", LABELS_FILTER)
        if path:
            self.load_labels_file(path)

    # -- probabilities --------------------------------------------------------------------------------
    def set_probabilities(self, p: np.ndarray | None, note: str = "") -> None:
        self._note = note
        self.n_classes = 0 if p is None else len(p)
        names, source = self.names_for(self.n_classes) if p is not None else (None, "")
        self.bars.set_probabilities(p, names, note)
        many = p is not None and len(p) > ALL_BARS_UP_TO
        if self.top_spin.isEnabled() != many:
            self.top_spin.setEnabled(many)
        text = f"names: {source}" if p is not None else ""
        if self.source_label.text() != text:
            self.source_label.setText(text)
            self.source_label.setToolTip(text)

    def _redraw(self) -> None:
        if self.bars.probabilities is not None:
            self.set_probabilities(self.bars.probabilities, self._note)
