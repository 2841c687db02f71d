"""The OIP settings form: layer, maps, preset (with its description and the model's default), every setting of
a search, and the reference dataset of the quality read-outs and exemplars."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from cnnviz_gui.core.datasets import BUNDLED, dataset_sources
from cnnviz_gui.core.oip import engine as oip

#: the reference dataset choice that follows the Input pane's dataset
INPUT_DATASET = "input"
OBJECTIVES = (("mean of the map", "mean"), ("centre neuron", "centre"))


def format_maps(maps: list[int]) -> str:
    """[0, 1, 2, 5, 7, 8] -> '0-2,5,7-8'."""
    maps = sorted(set(int(m) for m in maps))
    parts, start = [], None
    for k, m in enumerate(maps):
        if start is None:
            start = m
        if k + 1 == len(maps) or maps[k + 1] != m + 1:
            parts.append(str(start) if start == m else f"{start}-{m}")
            start = None
    return ",".join(parts)


class Note(QLabel):
    """A word-wrapped note across the form that never widens it and always gets the height its text needs
    at the form's width (a wrapped label whose text changes is otherwise left with its old height)."""

    def __init__(self, text: str = "", italic: bool = False):
        super().__init__(text)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(1)
        if italic:
            font = self.font()
            font.setItalic(True)
            self.setFont(font)

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        width = max(self.width() - 2 * self.margin(), 50)
        flags = Qt.TextFlag.TextWordWrap | int(self.alignment().value)
        height = self.fontMetrics().boundingRect(QRect(0, 0, width, 100_000), flags, self.text()).height()
        height += 2 * self.margin() + 2
        if height != self.height() or height != self.minimumHeight():
            self.setFixedHeight(height)


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(t) for t in text.replace(";", ",").split(",") if t.strip())


class OipForm(QWidget):
    """Layer and maps to search, a preset, and the settings it fills in (all editable)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.layer_box = QComboBox()
        self.layer_box.setToolTip("The layer whose maps (or units) are maximised")
        self.maps_edit = QLineEdit("all")
        self.maps_edit.setToolTip("Maps: all, 0-127, 3,7,120 — or select maps in the Layers tree")
        self.preset_box = QComboBox()
        self.preset_box.addItems(list(oip.PRESETS))
        self.preset_box.setToolTip("A preset fills in the settings below; every setting stays editable")
        self.preset_note = Note(italic=True)
        self.default_note = Note()
        self.default_note.setVisible(False)
        self.steps = QSpinBox(minimum=1, maximum=100000, value=600)
        self.eps = QDoubleSpinBox(decimals=4, minimum=0.0001, maximum=1.0, singleStep=0.005, value=0.01)
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        self.restarts = QSpinBox(minimum=1, maximum=64, value=1)
        self.precursor = QSpinBox(minimum=0, maximum=256, value=0)
        self.precursor.setToolTip("K long-scale start images tried per map; the best one is continued")
        self.redirect = QSpinBox(minimum=0, maximum=100000, value=0)
        self.redirect.setToolTip("ReLU-gradient redirection during the first steps so that dead maps start")
        self.stages = QLineEdit("")
        self.stages.setPlaceholderText("e.g. 20,40,80,400 (strategy 1)")
        self.init_box = QComboBox()
        self.init_box.addItems(["multi-scale grids", "Fourier 1/f"])
        self.factors = QLineEdit("0.5, 0.5, 0.5, 0.5")
        self.factors.setToolTip("Amplitude of the 3x3, 7x7, 14x14, 28x28 fluctuations")
        self.jitter = QSpinBox(minimum=0, maximum=8, value=0)
        self.tv = QDoubleSpinBox(decimals=3, minimum=0.0, maximum=10.0, singleStep=0.01, value=0.0)
        self.optimizer = QComboBox()
        self.optimizer.addItems(["normalised", "adam"])
        self.threshold = QLineEdit("1e-4")
        self.threshold.setToolTip("Converged: |relative loss change| below this in 4 successive steps")
        self.early_stop = QCheckBox("stop a map when converged")
        self.diversity = QSpinBox(minimum=1, maximum=16, value=1)
        self.diversity.setToolTip(
            "K images per map, optimised together and pushed apart (the cosine similarity of their Gram "
            "matrices at the layer is penalised), so that each shows another facet of what the map detects"
        )
        self.objective = QComboBox()
        for text, key in OBJECTIVES:
            self.objective.addItem(text, key)
        self.objective.setToolTip(
            "What is maximised: the mean activation over the whole map, or its single neuron at the centre "
            "(dense units and class logits are their own value either way)"
        )
        self.step_decay = QCheckBox("step decay")
        self.step_decay.setToolTip(
            "Shrink a map's step each time its loss falls (the fixed step rocking across ReLU kinks); not in "
            "the articles' algorithm, off in Seed mode"
        )
        self.reference = QComboBox()
        self.reference.addItem("the Input pane's dataset", INPUT_DATASET)
        for key, label in dataset_sources():
            self.reference.addItem(label, key)
        self.reference.addItem("none (no comparison with data)", "")
        # long names (a folder's path) must not widen the form: the box shows the start, the list all of it
        self.reference.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.reference.setMinimumContentsLength(10)
        self.reference.setToolTip(
            "The images the OIPs are compared with: the activation relative to the best image (×) and the "
            "dataset exemplars beside each OIP in the atlas (one pass over the dataset, kept for later runs)"
        )
        self.data_check = QCheckBox("check data activation")
        self.data_check.setToolTip(
            "Also find which maps some image of the reference dataset activates; the atlas marks with * the "
            "maps no image does (their OIPs show patterns the data never shows)"
        )
        self.data_check.setChecked(True)
        rows = [
            ("Layer", self.layer_box),
            ("Maps", self.maps_edit),
            ("Preset", self.preset_box),
            (None, self.preset_note),
            (None, self.default_note),
            ("Steps", self.steps),
            ("Epsilon", self.eps),
            ("Seed", self.seed),
            ("Restarts", self.restarts),
            ("Precursor starts", self.precursor),
            ("Redirect steps", self.redirect),
            ("Stages", self.stages),
            ("Start image", self.init_box),
            ("Scale factors", self.factors),
            ("Jitter (px)", self.jitter),
            ("TV weight", self.tv),
            ("Optimizer", self.optimizer),
            ("Convergence", self.threshold),
            ("Diversity (K)", self.diversity),
            ("Objective", self.objective),
            ("Reference data", self.reference),
        ]
        for label, w in rows:
            if label is None:  # a note under the row above, across the form
                form.addRow(w)
            else:
                form.addRow(label, w)
        form.addRow(self.step_decay)
        form.addRow(self.early_stop)
        form.addRow(self.data_check)
        self.preset_box.currentTextChanged.connect(self.apply_preset)
        self.reference.currentIndexChanged.connect(self._on_reference)
        self.apply_preset(self.preset_box.currentText())

    def set_layers(self, info) -> None:
        """List the layers of ``info`` with maps or units; choose the deepest conv layer."""
        self.layer_box.clear()
        for layer in info.iter_layers():
            shape = layer.output_shape
            if layer.children or shape is None:
                continue
            if len(shape) == 3 and shape[-1]:
                self.layer_box.addItem(f"{layer.name}  ({shape[-1]} maps)", (layer.name, int(shape[-1])))
            elif len(shape) == 1 and shape[0]:
                self.layer_box.addItem(f"{layer.name}  ({shape[0]} units)", (layer.name, int(shape[0])))
        convs = [i for i in range(self.layer_box.count()) if "maps" in self.layer_box.itemText(i)]
        if convs:
            self.layer_box.setCurrentIndex(convs[-1])

    def select_layer(self, name: str) -> bool:
        for k in range(self.layer_box.count()):
            if self.layer_box.itemData(k)[0] == name:
                self.layer_box.setCurrentIndex(k)
                return True
        return False

    @property
    def layer(self) -> str | None:
        data = self.layer_box.currentData()
        return data[0] if data else None

    @property
    def n_units(self) -> int:
        data = self.layer_box.currentData()
        return data[1] if data else 0

    def set_default_preset(self, channels: int | None) -> str:
        """Choose the default preset of a model with ``channels`` input channels and say so in the form."""
        name = oip.default_preset(channels)
        self.preset_box.setCurrentText(name)
        self.apply_preset(name)
        kind = "RGB" if channels == 3 else "grey" if channels == 1 else f"{channels}-channel"
        self.default_note.setText(f"{name} is the default preset for this model ({kind} input).")
        self.default_note.setVisible(True)
        return name

    def set_input_dataset(self, name: str) -> None:
        """Name the Input pane's dataset in the reference choice."""
        self.reference.setItemText(
            0, f"the Input pane's dataset ({name})" if name else "the Input pane's dataset"
        )

    def reference_key(self, input_key: str) -> str | None:
        """The source key of the reference dataset (``input_key``: the Input pane's; empty: the bundled
        sample), or None for no comparison with data."""
        key = self.reference.currentData()
        if key == INPUT_DATASET:
            return input_key or BUNDLED
        return key or None

    def _on_reference(self, *_) -> None:
        self.data_check.setEnabled(bool(self.reference.currentData()))

    def apply_preset(self, name: str) -> None:
        s = oip.PRESETS[name]
        self.preset_note.setText(oip.PRESET_DESCRIPTIONS.get(name, ""))
        self.steps.setValue(s.steps)
        self.eps.setValue(s.epsilon)
        self.restarts.setValue(s.restarts)
        self.precursor.setValue(s.precursor_starts)
        self.redirect.setValue(s.redirect_steps)
        self.stages.setText(",".join(str(b) for b in s.stages))
        self.steps.setEnabled(not s.stages)
        self.init_box.setCurrentIndex(0 if s.init == "multiscale" else 1)
        self.factors.setText(", ".join(f"{f:g}" for f in s.factors))
        self.jitter.setValue(s.jitter)
        self.tv.setValue(s.tv_weight)
        self.optimizer.setCurrentText(s.optimizer)
        self.threshold.setText(f"{s.conv_threshold:g}")
        self.early_stop.setChecked(s.early_stop)
        self.diversity.setValue(s.diversity)
        self.objective.setCurrentIndex(max(self.objective.findData(s.objective), 0))
        self.step_decay.setChecked(s.step_decay)

    def settings(self) -> oip.OipSettings:
        """The form as settings (raises ValueError with a readable message)."""
        try:
            factors = _floats(self.factors.text())
            stages = tuple(int(v) for v in _floats(self.stages.text()))
            threshold = float(self.threshold.text())
        except ValueError as err:
            raise ValueError(
                "Scale factors, stages and the convergence threshold must be numbers, e.g. "
                "'0.5, 0.5, 0.5, 0.5', '20,40,80,400' and '1e-4'."
            ) from err
        base = oip.PRESETS[self.preset_box.currentText()]
        s = replace(
            base,
            steps=self.steps.value(),
            epsilon=self.eps.value(),
            seed=self.seed.value(),
            restarts=self.restarts.value(),
            precursor_starts=self.precursor.value(),
            redirect_steps=self.redirect.value(),
            stages=stages,
            init="multiscale" if self.init_box.currentIndex() == 0 else "fourier",
            factors=factors,
            jitter=self.jitter.value(),
            tv_weight=self.tv.value(),
            optimizer=self.optimizer.currentText(),
            conv_threshold=threshold,
            early_stop=self.early_stop.isChecked(),
            diversity=self.diversity.value(),
            objective=self.objective.currentData(),
            step_decay=self.step_decay.isChecked(),
        )
        s.validate()
        return s

    # -- sessions -------------------------------------------------------------------------------------------
    def session_state(self) -> dict:
        """Every field of the form as JSON values (the preset first: restoring it fills in its defaults)."""
        return {
            "preset": self.preset_box.currentText(),
            "layer": self.layer,
            "maps": self.maps_edit.text(),
            "steps": self.steps.value(),
            "epsilon": self.eps.value(),
            "seed": self.seed.value(),
            "restarts": self.restarts.value(),
            "precursor_starts": self.precursor.value(),
            "redirect_steps": self.redirect.value(),
            "stages": self.stages.text(),
            "start_image": self.init_box.currentText(),
            "factors": self.factors.text(),
            "jitter": self.jitter.value(),
            "tv_weight": self.tv.value(),
            "optimizer": self.optimizer.currentText(),
            "convergence": self.threshold.text(),
            "early_stop": self.early_stop.isChecked(),
            "data_check": self.data_check.isChecked(),
            "diversity": self.diversity.value(),
            "objective": self.objective.currentData(),
            "step_decay": self.step_decay.isChecked(),
            "reference": self.reference.currentData(),
        }

    def restore_session(self, state: dict) -> None:
        """Apply what :meth:`session_state` stored; unknown or ill-typed entries are skipped."""
        if state.get("preset") in oip.PRESETS:
            self.preset_box.setCurrentText(state["preset"])
            self.apply_preset(state["preset"])
        if isinstance(state.get("layer"), str):
            self.select_layer(state["layer"])
        spins = {
            "steps": self.steps,
            "epsilon": self.eps,
            "seed": self.seed,
            "restarts": self.restarts,
            "precursor_starts": self.precursor,
            "redirect_steps": self.redirect,
            "jitter": self.jitter,
            "tv_weight": self.tv,
            "diversity": self.diversity,
        }
        for key, box in spins.items():
            value = state.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                box.setValue(value if isinstance(box, QDoubleSpinBox) else int(value))
        edits = {"maps": self.maps_edit, "stages": self.stages, "factors": self.factors}
        edits["convergence"] = self.threshold
        for key, edit in edits.items():
            if isinstance(state.get(key), str):
                edit.setText(state[key])
        for key, box in {"start_image": self.init_box, "optimizer": self.optimizer}.items():
            if isinstance(state.get(key), str) and box.findText(state[key]) >= 0:
                box.setCurrentText(state[key])
        checks = {"early_stop": self.early_stop, "data_check": self.data_check, "step_decay": self.step_decay}
        for key, check in checks.items():
            if isinstance(state.get(key), bool):
                check.setChecked(state[key])
        for key, box in {"objective": self.objective, "reference": self.reference}.items():
            if isinstance(state.get(key), str) and box.findData(state[key]) >= 0:
                box.setCurrentIndex(box.findData(state[key]))
