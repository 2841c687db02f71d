"""The lower pages of the Attribution tab: several methods side by side (the pinned inputs as rows) and the
sanity check's row of maps with their rank correlations and what they mean.

Both draw RGB mosaics built in NumPy from the results the compute process returned.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnviz_gui.core.attribution.display import colourise, grey_rgb, normalise, overlay_rgb
from cnnviz_gui.core.attribution.types import METHODS, SIGNED_METHODS
from cnnviz_gui.ui.attribution.controls import class_name
from cnnviz_gui.ui.attribution.images import MosaicPane

#: method names short enough for a column title
SHORT_NAMES = {**METHODS, "ig": "IG"}


def fit_image(image01: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """An input image (H, W, C) in 0..1 at the size of its attribution map (the model's input size)."""
    image = np.asarray(image01, dtype=np.float32)
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[:2] == tuple(hw):
        return image
    from cnnviz_gui.core.preprocess import fit_input

    return fit_input(image, (int(hw[0]), int(hw[1]), image.shape[-1]))


class MethodsPanel(QWidget):
    """Methods side by side for the current input and, as more rows, Compare's pinned inputs."""

    #: the person asked for the comparison
    compare_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.boxes: dict[str, QCheckBox] = {}
        row = QHBoxLayout()
        for key, name in METHODS.items():
            box = QCheckBox(name)
            box.setChecked(True)
            self.boxes[key] = box
            row.addWidget(box)
        row.addStretch(1)
        self.pins_box = QCheckBox("Compare's pinned inputs as rows")
        self.pins_box.setChecked(True)
        self.pins_box.setToolTip("Besides the current input, one row per input pinned in the Compare tab")
        self.compare_button = QPushButton("Compare methods")
        self.compare_button.setToolTip(
            "Every chosen method for the same inputs and the same target class per row"
        )
        second = QHBoxLayout()
        second.addWidget(self.pins_box)
        second.addStretch(1)
        second.addWidget(self.compare_button)
        self.mosaic = MosaicPane("Choose methods and press 'Compare methods'")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(row)
        lay.addLayout(second)
        lay.addWidget(self.mosaic, 1)
        self.compare_button.clicked.connect(self.compare_requested.emit)

    def methods(self) -> list[str]:
        return [key for key, box in self.boxes.items() if box.isChecked()]

    def show_results(self, results: dict, images: np.ndarray, labels: list[str], cmap: str | None,
                     alpha: float, contrast: float, names: list[str] | None = None) -> None:  # fmt: skip
        """One row per input: the input, then each method's map over it."""
        methods = list(results)
        first = results[methods[0]]
        hw = first.attribution.shape[1:]
        rows, row_labels = [], []
        for i, image in enumerate(images):
            image = fit_image(image, hw)
            row = [grey_rgb(image)]
            for m in methods:
                row.append(
                    overlay_rgb(image, results[m].attribution[i], cmap, alpha, contrast, m in SIGNED_METHODS)
                )
            rows.append(row)
            c = int(first.class_index[i])
            p = float(first.probabilities[i, c])
            row_labels.append(f"{labels[i]}\nclass {class_name(c, names)} p={p:.2f}")
        self.mosaic.set_tiles(rows, ["input"] + [SHORT_NAMES.get(m, m) for m in methods], row_labels)

    def session_state(self) -> dict:
        return {"compare_methods": self.methods(), "pinned_rows": self.pins_box.isChecked()}

    def restore_session(self, state: dict) -> None:
        chosen = state.get("compare_methods")
        if isinstance(chosen, list) and all(isinstance(m, str) for m in chosen):
            for key, box in self.boxes.items():
                box.setChecked(key in chosen)
        if isinstance(state.get("pinned_rows"), bool):
            self.pins_box.setChecked(state["pinned_rows"])


class SanityPanel(QWidget):
    """The cascading randomisation check: the maps after each step, their rank correlations, the sentence."""

    #: the person asked for the sanity check
    sanity_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.run_button = QPushButton("Run the sanity check")
        self.run_button.setToolTip(
            "Recompute the map on a copy of the model whose weights are randomised from the output down "
            "(Adebayo et al. 2018); the model you opened is not changed"
        )
        self.steps = QSpinBox()
        self.steps.setRange(1, 12)
        self.steps.setValue(8)
        self.steps.setToolTip("At most this many randomisation steps (layers with weights are grouped)")
        top = QHBoxLayout()
        top.addWidget(QLabel("Steps"))
        top.addWidget(self.steps)
        top.addStretch(1)
        top.addWidget(self.run_button)
        self.mosaic = MosaicPane("Press 'Run the sanity check' to test the current method on this input")
        self.sentence = QLabel(
            "A map that barely changes when the model's learned weights are destroyed explains the input, "
            "not the model."
        )
        self.sentence.setWordWrap(True)
        self.sentence.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(top)
        lay.addWidget(self.mosaic, 1)
        lay.addWidget(self.sentence)
        self.run_button.clicked.connect(self.sanity_requested.emit)

    def show_result(self, sanity, image01: np.ndarray, cmap: str | None, contrast: float) -> None:
        """The input, the original map and the map after each step, with ρ under each."""
        signed = sanity.method in SIGNED_METHODS
        image = fit_image(image01, sanity.original.shape)
        tiles = [grey_rgb(image), colourise(normalise(sanity.original, contrast, signed), cmap, signed)]
        tiles += [colourise(normalise(m, contrast, signed), cmap, signed) for m in sanity.maps]
        below = ["input", "original\nρ = 1"]
        for label, rho, flat in zip(sanity.labels, sanity.similarity, sanity.constant, strict=False):
            below.append(f"{label}\nρ = {rho:.2f}" + (" (flat)" if flat else ""))
        columns = ["", METHODS.get(sanity.method, sanity.method)] + [
            f"step {s + 1}" for s in range(len(sanity.maps))
        ]
        self.mosaic.set_tiles([tiles], columns, None, below)
        self.sentence.setText(f"{sanity.explanation} <b>{sanity.verdict}</b>")
