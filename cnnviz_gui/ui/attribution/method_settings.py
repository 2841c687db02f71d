"""The parameters of the slower attribution methods, shown beside the method they belong to: SmoothGrad's
samples and noise, integrated gradients' steps and baseline, occlusion's patch, stride and fill."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QSpinBox, QWidget

from cnnviz_gui.core.attribution.types import BASELINES, AttributionRequest

_DEFAULTS = AttributionRequest()
#: which settings each method shows
SHOWN = {
    "smoothgrad": ("samples", "noise"),
    "ig": ("steps", "baseline"),
    "occlusion": ("patch", "stride", "baseline"),
}


def _spin(low: int, high: int, value: int, tip: str, auto: bool = False) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setToolTip(tip)
    spin.setKeyboardTracking(False)  # typed numbers count when confirmed, not at every key
    if auto:
        spin.setSpecialValueText("auto")
    return spin


class MethodSettings(QWidget):
    """The settings of the chosen slow method in one row (nothing for Grad-CAM and saliency)."""

    #: a setting changed (the slow map is computed again)
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.samples = _spin(1, 1024, _DEFAULTS.samples, "SmoothGrad: noisy copies of the input averaged")
        self.noise = QDoubleSpinBox()
        self.noise.setRange(0.0, 1.0)
        self.noise.setSingleStep(0.05)
        self.noise.setValue(_DEFAULTS.noise)
        self.noise.setKeyboardTracking(False)
        self.noise.setToolTip("SmoothGrad: the noise's standard deviation as a fraction of the input's range")
        self.steps = _spin(2, 4096, _DEFAULTS.steps, "Integrated gradients: points along the path")
        self.baseline = QComboBox()
        self.baseline.addItems(BASELINES)
        self.baseline.setToolTip(
            "Integrated gradients' start image and occlusion's patch fill: black, the input blurred, or the "
            "input's mean colour"
        )
        self.patch = _spin(
            0, 512, 0, "Occlusion: the patch size in pixels (auto: a seventh of the image)", True
        )
        self.stride = _spin(
            0, 512, 0, "Occlusion: the step between patches in pixels (auto: half the patch)", True
        )
        self.widgets = {"samples": self.samples, "noise": self.noise, "steps": self.steps,
                        "baseline": self.baseline, "patch": self.patch, "stride": self.stride}  # fmt: skip
        names = {"samples": "Samples", "noise": "Noise", "steps": "Steps", "baseline": "Baseline",
                 "patch": "Patch", "stride": "Stride"}  # fmt: skip
        self.labels: dict[str, QLabel] = {}
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for key, widget in self.widgets.items():
            self.labels[key] = QLabel(names[key])
            lay.addWidget(self.labels[key])
            lay.addWidget(widget)
        for spin in (self.samples, self.steps, self.patch, self.stride, self.noise):
            spin.valueChanged.connect(lambda *_: self.changed.emit())
        self.baseline.currentIndexChanged.connect(lambda *_: self.changed.emit())
        self.show_for("gradcam")

    def show_for(self, method: str) -> None:
        """Show the settings of ``method`` only."""
        shown = SHOWN.get(method, ())
        for key, widget in self.widgets.items():
            widget.setVisible(key in shown)
            self.labels[key].setVisible(key in shown)
        self.labels["baseline"].setText("Fill" if method == "occlusion" else "Baseline")

    def values(self) -> dict:
        """The settings as :class:`~cnnviz_gui.core.attribution.types.AttributionRequest` fields."""
        return {
            "samples": self.samples.value(),
            "noise": float(self.noise.value()),
            "steps": self.steps.value(),
            "baseline": self.baseline.currentText(),
            "patch": self.patch.value() or None,
            "stride": self.stride.value() or None,
        }

    def session_state(self) -> dict:
        return {"settings": self.values()}

    def restore_session(self, state: dict) -> None:
        values = state.get("settings")
        if not isinstance(values, dict):
            return
        for key in ("samples", "steps", "patch", "stride"):
            v = values.get(key)
            if v is None and key in ("patch", "stride"):
                v = 0
            if isinstance(v, int) and not isinstance(v, bool):
                spin = self.widgets[key]
                if spin.minimum() <= v <= spin.maximum():
                    spin.setValue(v)
        noise = values.get("noise")
        if isinstance(noise, int | float) and not isinstance(noise, bool) and 0.0 <= noise <= 1.0:
            self.noise.setValue(float(noise))
        if values.get("baseline") in BASELINES:
            self.baseline.setCurrentText(values["baseline"])
