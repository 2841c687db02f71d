"""Control rows of the Latent tab: what was recognised (and how to correct it), dataset, projection, axes."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cnnviz_gui.ui.latent.widgets import DEFAULT_MAX_SHOWN

PROJECTION_LABELS = {"axes": "latent axes", "pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}


def _compact(*boxes: QComboBox, chars: int = 8) -> None:
    """Let combo boxes shrink to a few characters so the rows fit beside the docks."""
    for box in boxes:
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        box.setMinimumContentsLength(chars)


class CorrectionBar(QWidget):
    """Says what was recognised as encoder and decoder and lets the person correct it."""

    default_requested = Signal(str)  # "ae" or "vae"
    submodels_chosen = Signal(str, str)  # encoder, decoder
    bottleneck_chosen = Signal(str)
    files_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("font-weight: bold")
        self.encoder_box, self.decoder_box, self.bottleneck_box = QComboBox(), QComboBox(), QComboBox()
        self.encoder_box.setToolTip("A nested sub-model to use as the encoder")
        self.decoder_box.setToolTip("A nested sub-model to use as the decoder")
        self.bottleneck_box.setToolTip(
            "Split the model at this layer: encoder = input..layer, decoder = layer..output"
        )
        self.use_submodels = QPushButton("Use sub-models")
        self.split = QPushButton("Split here")
        self.files = QPushButton("Encoder + decoder files…")
        self.files.setToolTip("Open an encoder model file and a decoder model file")
        self.default_ae, self.default_vae = QPushButton("Open default AE"), QPushButton("Open default VAE")
        self.default_ae.setToolTip("Open the bundled MNIST autoencoder (2-D latent space)")
        self.default_vae.setToolTip("Open the bundled MNIST variational autoencoder (2-D latent space)")
        _compact(self.encoder_box, self.decoder_box, self.bottleneck_box)
        self.correct = QPushButton("Correct…")
        self.correct.setCheckable(True)
        self.correct.setToolTip("Choose the encoder and decoder yourself")
        top = QHBoxLayout()
        top.addWidget(self.message, 1)
        for w in (self.correct, self.default_ae, self.default_vae):
            top.addWidget(w, 0, Qt.AlignmentFlag.AlignTop)
        self.choices = QWidget()
        grid = QGridLayout(self.choices)
        grid.setContentsMargins(0, 0, 0, 0)
        for r, row in enumerate(((QLabel("Encoder"), self.encoder_box, QLabel("Decoder"), self.decoder_box,
                                  self.use_submodels),
                                 (QLabel("Bottleneck"), self.bottleneck_box, self.split, self.files))):  # fmt: skip
            for c, w in enumerate(row):
                grid.addWidget(w, r, c, 1, 2 if w is self.files else 1)
        grid.setColumnStretch(5, 1)
        self.choices.setVisible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.choices)
        self.correct.toggled.connect(self.choices.setVisible)
        self.default_ae.clicked.connect(lambda: self.default_requested.emit("ae"))
        self.default_vae.clicked.connect(lambda: self.default_requested.emit("vae"))
        self.use_submodels.clicked.connect(
            lambda: self.submodels_chosen.emit(self.encoder_box.currentText(), self.decoder_box.currentText())
        )
        self.split.clicked.connect(lambda: self.bottleneck_chosen.emit(self.bottleneck_box.currentText()))
        self.files.clicked.connect(self.files_requested.emit)
        self.set_candidates([], [])

    def set_message(self, text: str, open_choices: bool = False) -> None:
        """Show ``text``; ``open_choices`` unfolds the correction controls (when nothing was recognised)."""
        self.message.setText(text)
        if open_choices:
            self.correct.setChecked(True)

    def set_candidates(self, submodels: list[str], bottlenecks: list[str]) -> None:
        for box, items in ((self.encoder_box, submodels), (self.decoder_box, submodels),
                           (self.bottleneck_box, bottlenecks)):  # fmt: skip
            box.clear()
            box.addItems(items)
            box.setEnabled(bool(items))
        self.use_submodels.setEnabled(len(submodels) >= 2)
        self.split.setEnabled(bool(bottlenecks))
        if len(submodels) >= 2:
            self.decoder_box.setCurrentIndex(1)

    def set_current(self, rec) -> None:
        """Show the recognised choice in the boxes."""
        if rec.how in ("nested", "named"):
            self.encoder_box.setCurrentText(rec.encoder_name)
            self.decoder_box.setCurrentText(rec.decoder_name)
        elif rec.bottleneck:
            self.bottleneck_box.setCurrentText(rec.bottleneck)


class ExploreControls(QWidget):
    """Dataset + Encode, projection, the two shown axes, how many points to draw, hover, export part."""

    def __init__(self, dataset_labels: list[str], export_parts: tuple[str, ...], parent=None):
        super().__init__(parent)
        self.dataset_box = QComboBox()
        self.dataset_box.addItems(dataset_labels)
        self.encode_button = QPushButton("Encode")
        self.encode_button.setToolTip("Encode the dataset with the encoder (VAE: the z_mean output)")
        self.projection_box = QComboBox()
        self.projection_box.setToolTip("How a latent space of more than 2 dimensions is shown in 2-D")
        self.x_box, self.y_box = QComboBox(), QComboBox()
        self.points_box = QComboBox()
        self.points_box.addItems([f"≤ {DEFAULT_MAX_SHOWN // 1000}k points", "all points"])
        self.points_box.setToolTip("Many points: a random subset keeps pan and zoom smooth")
        self.hover_box = QCheckBox("hover")
        self.hover_box.setToolTip("Decode the point under the mouse while it moves (a click always decodes)")
        self.hover_box.setChecked(True)
        self.export_box = QComboBox()
        self.export_box.addItems(list(export_parts))
        self.export_box.setToolTip("What File > Export… saves from this tab")
        self._methods: list[str] = []
        self._pending: dict = {}  # a session's projection and axes, applied once the model offers them
        self._z_dim = 2
        _compact(self.dataset_box, self.projection_box, self.export_box, self.points_box)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for w in (QLabel("Dataset"), self.dataset_box, self.encode_button, QLabel("Projection"),
                  self.projection_box, QLabel("x"), self.x_box, QLabel("y"), self.y_box, self.points_box):  # fmt: skip
            lay.addWidget(w)
        lay.addStretch(1)
        #: drawn beside the Scatter/Manifold tabs: hover decoding on/off, what File > Export… saves
        self.view_options = QWidget()
        opts = QHBoxLayout(self.view_options)
        opts.setContentsMargins(0, 0, 4, 2)
        for w in (self.hover_box, QLabel("Export"), self.export_box):
            opts.addWidget(w)
        self.projection_box.currentIndexChanged.connect(self._fill_axes)
        self.set_projections(["axes"], 2)

    def set_projections(self, methods: list[str], z_dim: int) -> None:
        self._methods, self._z_dim = list(methods), int(z_dim)
        for box in (self.projection_box, self.x_box, self.y_box):
            box.blockSignals(True)
        self.projection_box.clear()
        self.projection_box.addItems([PROJECTION_LABELS.get(m, m) for m in methods])
        self.projection_box.setCurrentIndex(methods.index("pca") if "pca" in methods else 0)
        self.projection_box.setEnabled(len(methods) > 1)
        self._fill_axes()
        self._apply_pending()
        for box in (self.projection_box, self.x_box, self.y_box):
            box.blockSignals(False)

    def _fill_axes(self, *_) -> None:
        method = self.projection_method()
        prefix = "PC" if method == "pca" else "z"
        start = 1 if method == "pca" else 0
        for box, default in ((self.x_box, 0), (self.y_box, 1)):
            blocked = box.blockSignals(True)
            box.clear()
            box.addItems([f"{prefix}{i + start}" for i in range(self._z_dim)])
            box.setCurrentIndex(min(default, self._z_dim - 1))
            box.setEnabled(method in ("axes", "pca") and self._z_dim > 2)
            box.blockSignals(blocked)

    def projection_method(self) -> str:
        i = self.projection_box.currentIndex()
        return self._methods[i] if 0 <= i < len(self._methods) else "axes"

    def axes(self) -> tuple[int, int]:
        return max(self.x_box.currentIndex(), 0), max(self.y_box.currentIndex(), 0)

    def max_shown(self) -> int | None:
        return DEFAULT_MAX_SHOWN if self.points_box.currentIndex() == 0 else None

    # -- sessions -------------------------------------------------------------------------------------------
    def session_state(self) -> dict:
        return {
            "dataset": self.dataset_box.currentText(),
            "projection": self.projection_method(),
            "axes": list(self.axes()),
            "all_points": self.max_shown() is None,
            "hover": self.hover_box.isChecked(),
        }

    def restore_session(self, state: dict) -> None:
        """Dataset, points and hover now; projection and axes now or when the model's projections arrive."""
        if isinstance(state.get("dataset"), str) and self.dataset_box.findText(state["dataset"]) >= 0:
            self.dataset_box.setCurrentText(state["dataset"])
        if isinstance(state.get("all_points"), bool):
            self.points_box.setCurrentIndex(1 if state["all_points"] else 0)
        if isinstance(state.get("hover"), bool):
            self.hover_box.setChecked(state["hover"])
        self._pending = {k: state[k] for k in ("projection", "axes") if k in state}
        if self._pending.get("projection") in self._methods:
            self.projection_box.setCurrentIndex(self._methods.index(self._pending["projection"]))
            self._apply_pending()

    def _apply_pending(self) -> None:
        """Select the session's projection and axes when this model offers them (then forget them)."""
        method, axes = self._pending.get("projection"), self._pending.get("axes")
        if method not in self._methods:
            return
        self.projection_box.setCurrentIndex(self._methods.index(method))
        self._fill_axes()
        if isinstance(axes, list) and len(axes) == 2 and all(isinstance(a, int) for a in axes):
            if all(0 <= a < self.x_box.count() for a in axes):
                self.x_box.setCurrentIndex(axes[0])
                self.y_box.setCurrentIndex(axes[1])
        self._pending = {}
