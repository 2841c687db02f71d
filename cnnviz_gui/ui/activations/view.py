"""The Activations tab: the selected layer's maps (or unit values) and the class probabilities, live.

Every change of input, layer, convention or model asks the compute process for one forward pass
(``kind="probe"``): a newer request supersedes a pending one, so strokes on the canvas never queue stale
forward passes. Only the selected layer and the model's output come back; another layer asks again.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from cnnviz_gui.core.activations.maps import maps_of
from cnnviz_gui.core.activations.probe import Activations
from cnnviz_gui.ui.activations.map_browser import MapBrowser
from cnnviz_gui.ui.activations.plots import LargeMap, UnitBars
from cnnviz_gui.ui.activations.predictions_panel import PredictionsPanel
from cnnviz_gui.ui.bridge import ComputeBridge
from cnnviz_gui.ui.state import AppState
from cnnviz_gui.ui.widgets.colour_choice import ColourChoice
from cnnviz_gui.ui.widgets.image_widgets import LiveLabel

log = logging.getLogger(__name__)


class ActivationView(QWidget):
    """Central tab: maps of the selected layer, dense unit values, class probabilities; live."""

    title = "Activations"
    #: the view shows new activations (after every forward pass that reached the screen)
    rendered = Signal()
    #: the first maps of a newly opened model are on screen (its name)
    first_maps = Signal(str)

    def __init__(self, state: AppState, bridge: ComputeBridge, parent=None):
        super().__init__(parent)
        self.state = state
        self.bridge = bridge
        self.acts: Activations | None = None
        self.last_latency_ms: float | None = None
        self._requested_at = 0.0

        self.layer_label = QLabel("No model")
        self.layer_label.setStyleSheet("font-weight: bold")
        self.colours = ColourChoice("Colour map of the maps")
        self.levels_box = QComboBox()
        self.levels_box.addItems(["shared levels", "levels per map"])
        self.levels_box.setToolTip(
            "Shared: one colour scale for the whole layer; per map: each map scaled to its range"
        )
        # a live line: a new text repaints only itself, never re-lays out the tab
        self.status = LiveLabel("", color="#666666")
        top = QHBoxLayout()
        top.addWidget(self.layer_label)
        top.addStretch(1)
        top.addWidget(self.colours)
        top.addWidget(self.levels_box)

        self.browser = MapBrowser()
        self.grid = self.browser.grid
        self.units = UnitBars()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.browser)
        self.stack.addWidget(self.units)
        self.large = LargeMap()
        self.predictions = PredictionsPanel()
        self.probs = self.predictions.bars
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.large)
        right.addWidget(self.predictions)
        right.setSizes([300, 300])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.stack)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([520, 280])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.status)
        lay.addWidget(split, 1)

        self.colours.changed.connect(self._on_style_changed)
        self.levels_box.currentIndexChanged.connect(self._on_style_changed)
        self.browser.map_clicked.connect(self._on_map_clicked)
        self.large.hovered.connect(
            lambda r, c, v: self.grid.readout.setText(
                f"map {self.large.index}  row {r}, col {c}  value {v:.4g}"
            )
        )
        state.model_changed.connect(self._on_model_changed)
        state.input_changed.connect(lambda *_: self.request())
        state.convention_changed.connect(lambda *_: self.request())
        state.layer_selected.connect(self._on_layer_selected)
        state.model_reopened.connect(lambda *_: self.request())
        state.maps_selected.connect(self._on_maps_selected)
        state.dataset_changed.connect(lambda ds: self.set_class_names(list(ds.class_names)))
        self.large.show_map(None, None, self.cmap)
        self.browser.clear("Open a model and choose an input")
        if state.loaded is not None:
            self._on_model_changed(state.loaded)

    # -- properties -----------------------------------------------------------------------------------
    @property
    def cmap(self) -> str:
        return self.colours.name

    @property
    def per_map(self) -> bool:
        return self.levels_box.currentIndex() == 1

    @property
    def class_names(self) -> list[str] | None:
        """The class names in use: a labels file, the dataset's, the ImageNet names or the indices."""
        return self.predictions.class_names

    def set_class_names(self, names: list[str] | None) -> None:
        """The dataset's class names (used when their count fits the model's output)."""
        self.predictions.set_dataset_names(names)

    # -- sessions and preferences --------------------------------------------------------------------
    def session_state(self) -> dict:
        return {
            **self.colours.session_state(),
            "levels_per_map": self.per_map,
            "maps": self.browser.session_state(),
            "labels_file": self.predictions.labels_path,
            "top_classes": self.predictions.top_spin.value(),
        }

    def restore_session(self, state: dict) -> None:
        """Colour map (when it was chosen in the view, else the preference stays) and levels mode."""
        self.colours.restore_session(state)
        if isinstance(state.get("levels_per_map"), bool):
            self.levels_box.setCurrentIndex(1 if state["levels_per_map"] else 0)
        if isinstance(state.get("maps"), dict):
            self.browser.restore_session(state["maps"])
        if isinstance(state.get("top_classes"), int) and not isinstance(state["top_classes"], bool):
            self.predictions.top_spin.setValue(state["top_classes"])
        labels = state.get("labels_file")
        if isinstance(labels, str) and labels and Path(labels).is_file():
            self.predictions.load_labels_file(labels)

    def apply_preferences(self, prefs) -> None:
        """The default colour map, unless the person chose one in this view."""
        self.colours.apply_preference(prefs.colormap)

    # -- events ---------------------------------------------------------------------------------------
    def _on_model_changed(self, loaded) -> None:
        self.acts = None
        if not self.state.layer and (first := _first_layer(loaded.info)) is not None:
            self.state.select_layer(first)  # which asks for its maps
        else:
            self.request()

    def _on_style_changed(self, *_):
        self.grid.set_colormap(self.cmap)
        self.render()

    def _on_map_clicked(self, i: int) -> None:
        if self.state.layer:
            self.state.select_maps(self.state.layer, [i])

    def _on_maps_selected(self, layer: str, maps: list) -> None:
        self._show_large(maps[0] if len(maps) == 1 else None)

    def _on_layer_selected(self, *_) -> None:
        """Draw the layer at once when its output is here; ask for it otherwise."""
        if self.current_output() is None:
            self.request()
        else:
            self.render()

    # -- compute --------------------------------------------------------------------------------------
    def request(self) -> None:
        """Ask for a forward pass of the current model, input and convention (superseding older ones): the
        selected layer and the model's output come back."""
        loaded, image = self.state.loaded, self.state.input_image
        if loaded is None or image is None:
            return
        if not self.isVisible() and self._first_maps_of == loaded.id:
            self._stale = True  # another tab is shown (e.g. Attribution while drawing): catch up when shown
            return
        if not self.state.layer and _first_layer(loaded.info) is not None:
            return  # a new model's convention arrives before its first layer is selected: wait for that
        self._stale = False
        self._requested_at = time.perf_counter()
        if self._warm_job is not None and self._warm_job.state == "queued":
            self.bridge.cancel_kind("warm")  # this view first; the warm-up is asked for again afterwards
            self._warm_job = None
        layers = [self.state.layer] if self.state.layer else []
        params = {"model": loaded.id, "image": image, "convention": self.state.convention, "layers": layers}
        job = self._forward_job
        if job is not None and not job.ended and not job.cancelled and _same_pass(job.params, params):
            return  # the same pass is on its way (the state replaces its input arrays, never edits them)
        self._forward_job = self.bridge.request("activations.forward", params, kind="probe",
                                                label="Forward pass", on_result=self._on_result,
                                                on_error=self._on_error)  # fmt: skip

    def _on_result(self, acts: Activations) -> None:
        self.acts = acts
        self.render()
        self.last_latency_ms = (time.perf_counter() - self._requested_at) * 1000
        loaded = self.state.loaded
        if loaded is not None and loaded.id != self._first_maps_of and self.current_output() is not None:
            self._first_maps_of = loaded.id
            log.info("first maps of %s in %.1f s", loaded.info.name, time.time() - loaded.read_started)
            self.first_maps.emit(loaded.info.name)
        self._warm_up()

    _first_maps_of = ""
    _stale = False
    _warm_job = None
    _forward_job = None

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.request()

    _warmed = ""

    def _warm_up(self) -> None:
        """After the first maps, compile every layer's read-out in the background: later switches are fast."""
        loaded = self.state.loaded
        if (
            loaded is None
            or self._warmed == loaded.id
            or (self._warm_job is not None and not self._warm_job.ended)
        ):
            return

        def done(ready: bool, model_id=loaded.id) -> None:
            if ready:
                self._warmed = model_id

        self._warm_job = self.bridge.request("activations.warm", {"model": loaded.id}, kind="warm",
                                             label="Preparing every layer", on_result=done)  # fmt: skip

    def _on_error(self, err) -> None:
        self.acts = None
        self.browser.clear(f"The forward pass failed: {err.message}")
        self.stack.setCurrentWidget(self.browser)
        self.status.setText("forward pass failed")

    # -- drawing --------------------------------------------------------------------------------------
    def current_output(self) -> tuple[str, np.ndarray] | None:
        layer = self.state.layer
        if self.acts is None or not layer:
            return None
        if layer in self.acts.layers:
            return layer, self.acts.layers[layer]
        for key, value in self.acts.layers.items():
            if key.split("/")[-1] == layer:
                return key, value
        return None

    def _set_text(self, label: QLabel, text: str) -> None:
        if label.text() != text:
            label.setText(text)

    def render(self) -> None:
        """Show the current activations. Repeated calls for new inputs of the same layer only replace
        pixels, bar heights and texts (the live path); nothing is rebuilt."""
        t = time.perf_counter()
        info = self.state.info
        if self.acts is not None:
            self.predictions.set_probabilities(
                self.acts.probabilities, " from logits" if self.acts.from_logits else ""
            )
        cur = self.current_output()
        if cur is None:
            if info is not None and self.state.layer and self.acts is not None:
                self.browser.clear(f"{self.state.layer} cannot be read out in this model")
                self.stack.setCurrentWidget(self.browser)
            return
        layer, out = cur
        maps = self._maps(out)
        if maps is None:
            self._render_units(layer, out, info)
        else:
            if self.stack.currentWidget() is not self.browser:
                self.stack.setCurrentWidget(self.browser)
                self.large.setVisible(True)
            self.browser.set_maps(maps, per_map=self.per_map)
            n, h, w = maps.shape
            silent = int((maps.reshape(n, -1).max(axis=1) <= 0).sum())
            self._set_text(self.layer_label, f"{layer} — {n} maps of {h}x{w}")
            lo, hi = float(maps.min()), float(maps.max())
            self._set_text(
                self.status, f"range {lo:.3g} … {hi:.3g}; {silent} of {n} maps silent for this input"
            )
            sel = self.state.maps
            self._show_large(sel[0] if len(sel) == 1 else self.large.index)
        self.render_count += 1
        self.last_render_ms = (time.perf_counter() - t) * 1000
        self.rendered.emit()

    render_count = 0
    last_render_ms = 0.0
    _maps_of: tuple = (None, None)

    def _maps(self, out: np.ndarray) -> np.ndarray | None:
        """``maps_of(out)``, converted once per output (a 112x112x64 output is 3 MB to reorder)."""
        if self._maps_of[0] is not out:
            self._maps_of = (out, maps_of(out))
        return self._maps_of[1]

    def _render_units(self, layer: str, out: np.ndarray, info) -> None:
        self.units.set_values(out, self.cmap)
        if self.stack.currentWidget() is not self.units:
            self.stack.setCurrentWidget(self.units)
            self.large.setVisible(False)  # a dense layer has no map to show large
        self.units.setTitle(f"{layer}: {out.size} units (a dense layer: no maps)", size="10pt")
        why = f"{layer} is a dense layer: its {out.size} units are values, not maps (see the bars)"
        if info is not None and not info.conv_layers:
            why += "; this model has no convolutional layers, so no layer has maps"
        if self.grid.message.toPlainText() != why:
            self.browser.clear(why)
        self._set_text(self.layer_label, f"{layer} — {out.size} units")
        self.large.show_map(None, None, self.cmap)
        self._set_text(self.status, why)

    def _show_large(self, i: int | None) -> None:
        self.browser.show_map(i)
        cur = self.current_output()
        maps = self._maps(cur[1]) if cur is not None else None
        if maps is None or i is None or not 0 <= i < len(maps):
            if self.large.index is not None or self.large._title == "":
                self.large.show_map(None, None, self.cmap)
            return
        self.large.show_map(maps[i], i, self.cmap, f"{cur[0]} map {i}")

    # -- export ---------------------------------------------------------------------------------------
    def export_figure(self):
        cur = self.current_output()
        if cur is None:
            return None
        from cnnviz_gui.core.activations.figures import maps_figure

        layer, out = cur
        label = self.state.input_label or "current input"
        shown = self.browser.description() if maps_of(out) is not None else ""
        indices = self.browser.order if shown else None
        return maps_figure(
            out,
            layer,
            cmap=self.cmap,
            title=f"{self.state.info.name} / {layer}{f' ({shown})' if shown else ''}; input: {label}",
            indices=indices,
            input_image=self.state.input_image,
            probabilities=self.acts.probabilities,
            class_names=self.class_names,
            shared_levels=not self.per_map,
        )

    def export_arrays(self) -> dict | None:
        cur = self.current_output()
        if cur is None:
            return None
        arrays = {
            "activations": cur[1],
            "layer": np.array(cur[0]),
            "convention": np.array(self.state.convention),
        }
        if self.state.input_image is not None:
            arrays["input"] = self.state.input_image
        if self.acts.probabilities is not None:
            arrays["probabilities"] = self.acts.probabilities
        return arrays


def _first_layer(info) -> str | None:
    """The layer a new model opens on: its first convolution, else its first layer."""
    first = info.conv_layers[0] if info.conv_layers else next(iter(info.iter_layers()), None)
    return first.name if first is not None else None


def _same_pass(a: dict, b: dict) -> bool:
    """Whether two forward-pass requests ask for the same thing (the same input array, not an equal one)."""
    return a["image"] is b["image"] and all(a[k] == b[k] for k in ("model", "convention", "layers"))
