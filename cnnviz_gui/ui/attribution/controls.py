"""Controls of the Attribution tab: method, CAM layer, colours, opacity, contrast; the target-class list."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from cnnviz_gui.core.attribution.types import CAM_METHODS, METHODS
from cnnviz_gui.ui.attribution.method_settings import MethodSettings

#: methods answered on every stroke (one compiled call each)
FAST_METHODS = ("gradcam", "gradcampp", "saliency")
#: colour maps of the tab; "auto": jet for unsigned maps, RdBu_r for signed ones (integrated gradients,
#: occlusion), as the command line does
COLOURS = ("auto", "jet", "viridis", "magma", "inferno", "hot", "gray", "RdBu_r", "coolwarm", "seismic")
METHOD_TIPS = {
    "gradcam": "Grad-CAM: the layer's maps weighted by the mean gradient of the class score (coarse regions)",
    "gradcampp": "Grad-CAM++: Grad-CAM with pixel-wise weights; better for several instances of a class",
    "saliency": "saliency: the largest absolute gradient of the class score over the channels of each pixel",
    "smoothgrad": "SmoothGrad: saliency averaged over noisy copies of the input (slower; when a stroke ends)",
    "ig": "integrated gradients from a black image to the input; the map sums to the score difference "
    "(slower; when a stroke ends)",
    "occlusion": "occlusion: the score drop when a patch hides each region (slower; when a stroke ends)",
}


class DisplayControls(QWidget):
    """Method, CAM layer and the method's settings; colour map, opacity and contrast below."""

    #: the method changed (its key)
    method_changed = Signal(str)
    #: the CAM layer changed (its key)
    layer_changed = Signal(str)
    #: a setting of the slower methods changed (SmoothGrad's samples, IG's steps…)
    settings_changed = Signal()
    #: colour map, opacity or contrast changed (nothing to compute: the maps are drawn again)
    style_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.method_box = QComboBox()
        for key, name in METHODS.items():
            self.method_box.addItem(name, key)
            self.method_box.setItemData(
                self.method_box.count() - 1, METHOD_TIPS[key], Qt.ItemDataRole.ToolTipRole
            )
        self.method_box.setToolTip(
            "Attribution method (Grad-CAM, Grad-CAM++ and saliency follow every stroke)"
        )
        self.layer_box = QComboBox()
        self.layer_box.setMinimumContentsLength(10)
        self.layer_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.layer_box.setToolTip(
            "The layer whose maps Grad-CAM weights (default: the last one before the classifier)"
        )
        self.cmap_box = QComboBox()
        self.cmap_box.addItems(COLOURS)
        self.cmap_box.setToolTip("Colour map of the heat map (auto: jet; red/blue for signed maps)")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.setFixedWidth(90)
        self.opacity.setToolTip("Opacity of the heat map over the input")
        self.contrast = QDoubleSpinBox()
        self.contrast.setRange(50.0, 100.0)
        self.contrast.setSingleStep(0.5)
        self.contrast.setDecimals(1)
        self.contrast.setValue(99.0)
        self.contrast.setSuffix(" %")
        self.contrast.setToolTip(
            "Contrast: this percentile of the map is shown at full colour (100: the maximum; lower values "
            "saturate the strongest pixels and bring out weaker ones)"
        )
        self.settings = MethodSettings()
        #: the rows of controls; the view adds its buttons at their ends
        self.first_row, self.second_row = QHBoxLayout(), QHBoxLayout()
        for row, pairs in ((self.first_row, (("Method", self.method_box), ("Layer", self.layer_box))),
                           (self.second_row, (("Colours", self.cmap_box), ("Opacity", self.opacity),
                                              ("Contrast", self.contrast)))):  # fmt: skip
            for label, widget in pairs:
                row.addWidget(QLabel(label))
                row.addWidget(widget)
            if row is self.first_row:
                row.addWidget(self.settings)
            row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(self.first_row)
        lay.addLayout(self.second_row)
        self.method_box.currentIndexChanged.connect(self._on_method)
        self.layer_box.currentIndexChanged.connect(lambda *_: self.layer_changed.emit(self.layer or ""))
        self.settings.changed.connect(self.settings_changed.emit)
        self.cmap_box.currentIndexChanged.connect(lambda *_: self.style_changed.emit())
        self.opacity.valueChanged.connect(lambda *_: self.style_changed.emit())
        self.contrast.valueChanged.connect(lambda *_: self.style_changed.emit())
        self._on_method()

    # -- values ---------------------------------------------------------------------------------------
    @property
    def method(self) -> str:
        return self.method_box.currentData()

    @property
    def layer(self) -> str | None:
        return self.layer_box.currentData() if self.layer_box.count() else None

    @property
    def cmap(self) -> str | None:
        """The chosen colour map; None for "auto" (jet, or RdBu_r for signed maps)."""
        name = self.cmap_box.currentText()
        return None if name == "auto" else name

    @property
    def alpha(self) -> float:
        return self.opacity.value() / 100.0

    def set_method(self, key: str) -> bool:
        i = self.method_box.findData(key)
        if i < 0 or not self._enabled(i):
            return False
        self.method_box.setCurrentIndex(i)
        return True

    def clear_layers(self) -> None:
        """Forget the layers of the previous model (the method stays as chosen)."""
        blocked = self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.blockSignals(blocked)
        self.layer_box.setEnabled(False)

    def set_layers(self, keys: list[str], default: str | None) -> None:
        """The layers Grad-CAM can use; without any, the CAM methods are disabled (saliency is chosen)."""
        blocked = self.layer_box.blockSignals(True)
        self.layer_box.clear()
        for key in keys:
            self.layer_box.addItem(key, key)
        if default is not None:
            self.layer_box.setCurrentIndex(max(0, self.layer_box.findData(default)))
        self.layer_box.blockSignals(blocked)
        model: QStandardItemModel = self.method_box.model()
        for i in range(self.method_box.count()):
            if self.method_box.itemData(i) in CAM_METHODS:
                model.item(i).setEnabled(bool(keys))
        if not keys and self.method in CAM_METHODS:
            self.set_method("saliency")
        self._on_method()

    def _enabled(self, i: int) -> bool:
        return self.method_box.model().item(i).isEnabled()

    def _on_method(self, *_) -> None:
        self.layer_box.setEnabled(self.method in CAM_METHODS and self.layer_box.count() > 0)
        self.settings.show_for(self.method)
        self.method_changed.emit(self.method)

    # -- sessions -------------------------------------------------------------------------------------
    def session_state(self) -> dict:
        return {"method": self.method, "colormap": self.cmap_box.currentText(), "opacity": self.alpha,
                "contrast": float(self.contrast.value()), **self.settings.session_state()}  # fmt: skip

    def restore_session(self, state: dict) -> None:
        self.settings.restore_session(state)
        if isinstance(state.get("method"), str):
            self.set_method(state["method"])
        if state.get("colormap") in COLOURS:
            self.cmap_box.setCurrentText(state["colormap"])
        opacity = state.get("opacity")
        if isinstance(opacity, int | float) and not isinstance(opacity, bool) and 0 <= opacity <= 1:
            self.opacity.setValue(int(round(opacity * 100)))
        contrast = state.get("contrast")
        if isinstance(contrast, int | float) and not isinstance(contrast, bool) and 50 <= contrast <= 100:
            self.contrast.setValue(float(contrast))


def class_name(index: int, names: list[str] | None) -> str:
    """``"3"``, or ``"3 dress"`` when the dataset names the classes."""
    if names is not None and 0 <= index < len(names) and str(names[index]) != str(index):
        return f"{index} {names[index]}"
    return str(index)


class ClassChoice(QWidget):
    """The most probable classes of the input; click one to explain it instead of the prediction."""

    #: the person chose a target class (its index), or None: follow the prediction
    target_chosen = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel("Target class")
        self.title.setStyleSheet("font-weight: bold")
        self.list = QListWidget()
        self.list.setToolTip("The most probable classes; click one to see what speaks for it")
        self.list.setMinimumWidth(170)
        self.follow_button = QPushButton("Follow the prediction")
        self.follow_button.setToolTip("Explain the predicted class of every new input again")
        self.follow_button.setEnabled(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.title)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.follow_button)
        self.classes: list[int] = []
        self.list.itemClicked.connect(self._on_clicked)
        self.follow_button.clicked.connect(lambda: self.target_chosen.emit(None))
        self._bold = QFont(self.list.font())
        self._bold.setBold(True)

    def show_classes(self, probabilities: np.ndarray, target: int, names: list[str] | None, top_k: int = 5,
                     following: bool = True) -> None:  # fmt: skip
        """The ``top_k`` most probable classes (and the target when it is not among them), the target in bold."""
        p = np.asarray(probabilities, dtype=np.float64)
        order = [int(c) for c in np.argsort(-p, kind="stable")[:top_k]]
        if target not in order:
            order.append(int(target))
        predicted = order[0]
        texts = []
        for c in order:
            note = " (predicted)" if c == predicted else ""
            texts.append(f"{class_name(c, names)}   p = {_probability(float(p[c]))}{note}")
        if self.list.count() != len(texts):
            self.list.clear()
            self.list.addItems(texts)
        for i, text in enumerate(texts):
            item: QListWidgetItem = self.list.item(i)
            if item.text() != text:
                item.setText(text)
            item.setFont(self._bold if order[i] == target else self.list.font())
            item.setSelected(order[i] == target)
        self.classes = order
        self.follow_button.setEnabled(not following)
        title = "Target class: the prediction" if following else f"Target class: {class_name(target, names)}"
        if self.title.text() != title:
            self.title.setText(title)

    def clear(self) -> None:
        self.list.clear()
        self.classes = []

    def _on_clicked(self, item: QListWidgetItem) -> None:
        row = self.list.row(item)
        if 0 <= row < len(self.classes):
            self.target_chosen.emit(self.classes[row])


def _probability(p: float) -> str:
    return f"{p:.2f}" if p >= 0.01 else f"{p:.1e}"
