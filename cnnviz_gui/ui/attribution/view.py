"""The Attribution tab: the current input with the heat map over it and the raw map beside it, the target
class, several methods side by side and the sanity check.

Live while drawing: every new input asks the compute process for Grad-CAM, Grad-CAM++ or saliency
(``kind="attribution-live"``: the newest stroke supersedes pending work). The slower methods (SmoothGrad,
integrated gradients, occlusion) show a live saliency or Grad-CAM preview while a stroke is drawn and are
computed when the input settles (the stroke ends, a sample or an image is chosen) or on Compute, with
progress and Stop. Work is asked for only while the tab is visible; a hidden tab catches up when shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cnnviz_gui.core.attribution.display import DEFAULT_CMAP, DEFAULT_SIGNED_CMAP, overlay_rgb
from cnnviz_gui.core.attribution.types import CAM_METHODS, METHODS, AttributionRequest
from cnnviz_gui.ui.attribution import export
from cnnviz_gui.ui.attribution.controls import FAST_METHODS, ClassChoice, DisplayControls
from cnnviz_gui.ui.attribution.images import ImagePane, map_levels
from cnnviz_gui.ui.attribution.jobs import SlowJobs
from cnnviz_gui.ui.attribution.panels import MethodsPanel, SanityPanel, fit_image
from cnnviz_gui.ui.bridge import ComputeBridge
from cnnviz_gui.ui.state import AppState
from cnnviz_gui.ui.widgets.image_widgets import LiveLabel

LIVE_KIND, LAYERS_KIND = "attribution-live", "attribution-layers"
TOP_K = 5

PinsFn = Callable[[], list[dict]]


def batch_size(input_shape) -> int:
    """Images per compiled call of the slow methods: 64 for digits, fewer for bigger inputs, so that each
    call stays short and Stop ends a job between two calls (5 for 224x224)."""
    if not input_shape or len(input_shape) != 3 or not input_shape[0] or not input_shape[1]:
        return 64
    return int(np.clip(64 * 64 * 64 // (int(input_shape[0]) * int(input_shape[1])), 4, 64))


class AttributionView(QWidget):
    """Central tab: heat map over the input, raw map, target classes, methods side by side, sanity check.

    ``pins`` returns Compare's pinned inputs (dicts with ``image`` and ``label``): the rows of the methods
    side by side besides the current input.
    """

    title = "Attribution"
    #: a new map of the current input is on screen
    rendered = Signal()

    def __init__(self, state: AppState, bridge: ComputeBridge, pins: PinsFn | None = None, parent=None):
        super().__init__(parent)
        self.state, self.bridge = state, bridge
        self.pins: PinsFn = pins or (lambda: [])
        self.shown = export.Shown()
        # the map shown is a live preview of a slower method that waits for the stroke's end
        self.preview = False
        self.target: int | None = None  # None: the predicted class of each input
        self.class_names: list[str] | None = None
        self.settled = True
        self._pending = False  # something changed while the tab was hidden
        self.last_latency_ms: float | None = None
        self.last_render_ms = 0.0
        self.render_count = 0

        self.controls = DisplayControls()
        self.compute_button = QPushButton("Compute")
        self.compute_button.setToolTip("Compute the chosen method for the current input now")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumWidth(140)
        self.progress.setVisible(False)
        self.export_box = QComboBox()
        for key, text in export.FIGURES.items():
            self.export_box.addItem(text, key)
        self.export_box.setToolTip("What File > Export saves as a figure (the .npz holds every array)")
        for widget in (self.compute_button, self.stop_button, self.progress):
            self.controls.second_row.addWidget(widget)
        self.status = LiveLabel("", color="#666666")
        self.jobs = SlowJobs(bridge, self.progress, self.stop_button, self.status.setText, self._on_error)

        self.overlay = ImagePane("heat map over the input")
        self.raw = ImagePane("raw map", colorbar=True)
        self.classes = ClassChoice()
        side = QWidget()
        side_lay = QVBoxLayout(side)
        side_lay.setContentsMargins(0, 0, 0, 0)
        side_lay.addWidget(self.classes, 1)
        side_lay.addWidget(QLabel("File > Export saves"))
        side_lay.addWidget(self.export_box)
        top = QSplitter(Qt.Orientation.Horizontal)
        for widget in (self.overlay, self.raw, side):
            top.addWidget(widget)
        top.setSizes([300, 300, 180])
        self.methods_panel = MethodsPanel()
        self.sanity_panel = SanityPanel()
        self.lower = QTabWidget()
        self.lower.addTab(self.methods_panel, "Methods side by side")
        self.lower.addTab(self.sanity_panel, "Sanity check")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.lower)
        split.setSizes([300, 420])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.controls)
        lay.addWidget(self.status)
        lay.addWidget(split, 1)

        self.controls.method_changed.connect(lambda *_: self.refresh())
        self.controls.layer_changed.connect(self._on_layer_changed)
        self.controls.settings_changed.connect(self._on_settings_changed)
        self.controls.style_changed.connect(self.restyle)
        self.compute_button.clicked.connect(self.compute_now)
        self.classes.target_chosen.connect(self.set_target)
        self.methods_panel.compare_requested.connect(self.compare)
        self.sanity_panel.sanity_requested.connect(self.run_sanity)
        self.overlay.hovered.connect(self._on_hover)
        self.raw.hovered.connect(self._on_hover_raw)
        state.model_changed.connect(self._on_model_changed)
        state.model_reopened.connect(lambda *_: self.refresh())
        state.input_changed.connect(self._on_input_changed)
        state.input_settled.connect(self._on_input_settled)
        state.convention_changed.connect(lambda *_: self.refresh())
        state.dataset_changed.connect(self._on_dataset_changed)
        self._clear("Open a model and choose an input")
        if state.loaded is not None:
            self._on_model_changed(state.loaded)

    # -- what is asked --------------------------------------------------------------------------------
    @property
    def method(self) -> str:
        return self.controls.method

    def _request(self, method: str | None = None) -> AttributionRequest:
        method = method or self.method
        layer = self.controls.layer if method in CAM_METHODS else None
        request = AttributionRequest(method=method, class_index=self.target, layer=layer,
                                     **self.controls.settings.values())  # fmt: skip
        request.batch_size = batch_size(self.state.info.input_shape if self.state.info else None)
        return request

    def _problem(self) -> str | None:
        """Why nothing can be computed now (None: it can)."""
        problem = self._model_problem()
        if problem is None and self.state.input_image is None:
            return "Choose an input (Input pane)"
        return problem

    def _model_problem(self) -> str | None:
        """Why the open model cannot be explained (None: it can)."""
        loaded = self.state.loaded
        if loaded is None:
            return "Open a model and choose an input"
        shape = loaded.info.input_shape
        if not loaded.info.image_input or shape is None or len(shape) != 3:
            return f"{loaded.info.name} has no image input: attribution explains images"
        out = loaded.info.output_shape
        if out is not None and len(out) != 1:
            return (
                f"{loaded.info.name} gives {tuple(out)}, not one vector of class scores: attribution explains "
                "classifiers (for an autoencoder, see the Latent tab)"
            )
        return None

    def _ready(self) -> bool:
        """A model and an input are there and the tab is visible (a hidden tab catches up when shown)."""
        problem = self._problem()
        if problem is not None:
            self._clear(problem)
            return False
        if not self.isVisible():
            self._pending = True
            return False
        return True

    def preview_method(self) -> str:
        """What the live map shows while a slower method waits: saliency for the gradient methods, Grad-CAM
        (when the model allows it) for occlusion, which is about regions too."""
        if self.method == "occlusion" and self.controls.layer is not None:
            return "gradcam"
        return "saliency"

    # -- live -----------------------------------------------------------------------------------------
    def request_live(self) -> None:
        """Ask for the chosen fast method (or the preview of a slow one) for the current input."""
        if not self._ready():
            return
        method = self.method if self.method in FAST_METHODS else self.preview_method()
        request = self._request(method)
        image = self.state.input_image
        params = {"model": self.state.model_id, "image": image, "convention": self.state.convention,
                  "method": method, "class_index": self.target, "layer": request.layer,
                  "contrast": float(self.controls.contrast.value()), "top_k": TOP_K}  # fmt: skip
        asked = time.perf_counter()
        self.bridge.request("attribution.live", params, kind=LIVE_KIND, label=METHODS[method],
                            on_result=lambda live: self._on_live(live, image, method, asked),
                            on_error=self._on_error)  # fmt: skip

    def _on_live(self, live, image: np.ndarray, method: str, asked: float) -> None:
        if method != self.method and self.settled and "map" not in self.jobs and self._has_final_map():
            return  # a preview that arrives after the slow map of the same input: keep the map
        self.preview = method != self.method
        self._show(live.result, image)
        self.last_latency_ms = (time.perf_counter() - asked) * 1000

    def _has_final_map(self) -> bool:
        r = self.shown.result
        return r is not None and r.method == self.method and self.shown.image is self.state.input_image

    # -- slow -----------------------------------------------------------------------------------------
    def compute_slow(self) -> None:
        """The chosen method for the current input with progress and Stop (SmoothGrad, IG, occlusion)."""
        if not self._ready():
            return
        image = self.state.input_image
        params = {"model": self.state.model_id, "images": image, "convention": self.state.convention,
                  "request": self._request()}  # fmt: skip

        def done(result):
            self.preview = False
            self._show(result, image)

        self.jobs.request("map", "attribution.compute", params, METHODS[self.method], done)

    def compute_now(self) -> None:
        """The Compute button: the chosen method for the current input, now."""
        self.request_live() if self.method in FAST_METHODS else self.compute_slow()

    def refresh(self) -> None:
        """Everything the current settings ask for: the live map, and the slow one once the input settled."""
        self.jobs.cancel("map")
        self.request_live()
        if self.method not in FAST_METHODS and self.settled:
            self.compute_slow()

    # -- methods side by side and sanity check ---------------------------------------------------------
    def compare(self) -> None:
        """The chosen methods for the current input and (optionally) Compare's pinned inputs, same classes."""
        if not self._ready():
            return
        methods = self.methods_panel.methods()
        if not methods:
            self.status.setText("Choose at least one method to compare")
            return
        image = self.state.input_image
        images, labels = [image], ["current input"]
        if self.methods_panel.pins_box.isChecked():
            for k, pin in enumerate(self.pins()):
                images.append(fit_image(pin["image"], image.shape[:2]))
                labels.append(f"pin {k + 1}")
        batch = np.stack([fit_image(im, image.shape[:2]) for im in images])
        request = self._request(methods[0])
        request.layer = self.controls.layer
        params = {"model": self.state.model_id, "images": batch, "convention": self.state.convention,
                  "methods": methods, "request": request}  # fmt: skip

        def done(results):
            self.shown.comparison, self.shown.comparison_images = results, batch
            self.shown.comparison_labels = labels
            self._draw_comparison()
            seconds = sum(r.seconds for r in results.values())
            self.status.setText(f"{len(results)} methods compared for {len(batch)} inputs in {seconds:.1f} s")

        self.jobs.request("compare", "attribution.compare", params, "Comparing methods", done)
        self.lower.setCurrentWidget(self.methods_panel)

    def run_sanity(self) -> None:
        """The cascading randomisation check of the chosen method for the current input and target."""
        if not self._ready():
            return
        image = self.state.input_image
        params = {"model": self.state.model_id, "image": image, "convention": self.state.convention,
                  "request": self._request(), "max_steps": self.sanity_panel.steps.value()}  # fmt: skip

        def done(sanity):
            self.shown.sanity, self.shown.sanity_image = sanity, image
            self._draw_sanity()
            self.status.setText(
                f"Sanity check of {METHODS[sanity.method]} in {sanity.seconds:.1f} s: rank correlation "
                f"{sanity.randomized_similarity:.2f} with every layer randomised (see below)"
            )

        self.jobs.request("sanity", "attribution.sanity", params, "Sanity check", done)
        self.lower.setCurrentWidget(self.sanity_panel)

    def stop(self) -> None:
        """Stop the slow jobs of this tab (their partial work is dropped)."""
        self.jobs.stop()

    def _on_error(self, err) -> None:
        message = getattr(err, "message", str(err))
        self.status.setText(f"Attribution failed: {message}")
        if self.shown.result is None:
            self._clear(f"Attribution failed: {message}")

    # -- state ----------------------------------------------------------------------------------------
    def _on_model_changed(self, loaded) -> None:
        self.jobs.cancel_all()
        self.bridge.cancel_kind(LIVE_KIND)
        self.target = None
        self.shown = export.Shown()
        self.classes.clear()
        self.methods_panel.mosaic.clear("Choose methods and press 'Compare methods'")
        self.sanity_panel.mosaic.clear(
            "Press 'Run the sanity check' to test the current method on this input"
        )
        self.controls.clear_layers()
        self._clear(self._problem() or "Computing…")
        if self._model_problem() is None:
            self.bridge.request("attribution.layers", {"model": loaded.id}, kind=LAYERS_KIND,
                                label="Attribution layers", on_result=self._on_layers,
                                on_error=self._on_error)  # fmt: skip

    def _on_layers(self, found: dict) -> None:
        blocked = self.controls.blockSignals(True)  # one refresh below, not one per change
        self.controls.set_layers(found["layers"], found["default"])
        self.controls.blockSignals(blocked)
        self.refresh()

    def _on_layer_changed(self, *_) -> None:
        if self.method in CAM_METHODS or self.preview_method() in CAM_METHODS:
            self.refresh()

    def _on_settings_changed(self) -> None:
        if self.method not in FAST_METHODS:
            self.jobs.cancel("map")
            self.compute_slow()

    def _on_input_changed(self, image, label: str) -> None:
        self.settled = False
        self.jobs.cancel("map")  # a slow map of an older input is never shown
        self.request_live()

    def _on_input_settled(self) -> None:
        self.settled = True
        if self.method not in FAST_METHODS:
            self.compute_slow()

    def _on_dataset_changed(self, ds) -> None:
        self.class_names = list(ds.class_names) if ds is not None else None
        self.shown.class_names = self.class_names
        self.render()

    def set_target(self, index: int | None) -> None:
        """Explain class ``index`` for every input from now on (None: each input's predicted class)."""
        self.target = None if index is None else int(index)
        self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._pending:
            self._pending = False
            self.refresh()

    # -- drawing --------------------------------------------------------------------------------------
    def _names(self, result) -> list[str] | None:
        names = self.class_names
        return names if names is not None and len(names) == result.probabilities.shape[-1] else None

    def _cmap_for(self, signed: bool) -> str:
        return self.controls.cmap or (DEFAULT_SIGNED_CMAP if signed else DEFAULT_CMAP)

    def _show(self, result, image: np.ndarray) -> None:
        self.shown.result = result
        self.shown.image = image
        info = self.state.info
        self.shown.model_name = info.name if info is not None else ""
        self.shown.input_label = self.state.input_label or "current input"
        self.shown.convention = self.state.convention
        self.shown.class_names = self.class_names
        self.render()

    def render(self) -> None:
        """Draw the shown result with the current colours, opacity and contrast (pixels and texts only)."""
        r = self.shown.result
        if r is None:
            return
        t = time.perf_counter()
        c = self.controls
        image = fit_image(self.shown.image, r.attribution.shape[1:])
        self.overlay.set_rgb(
            overlay_rgb(image, r.attribution[0], c.cmap, c.alpha, c.contrast.value(), r.signed)
        )
        raw = r.layer_map[0] if r.layer_map is not None else r.attribution[0]
        self.raw.set_map(raw, self._cmap_for(r.signed), map_levels(raw, r.signed))
        where = f" at {r.layer} ({raw.shape[0]}x{raw.shape[1]})" if r.layer_map is not None else ""
        self.overlay.set_title(f"{r.method_name} over the input" + (" (preview)" if self.preview else ""))
        self.raw.set_title(f"raw map{where}")
        names = self._names(r)
        target = int(r.class_index[0])
        self.classes.show_classes(r.probabilities[0], target, names, TOP_K, following=self.target is None)
        from cnnviz_gui.core.attribution.figures import describe_result

        text = describe_result(r, 0, names)
        if self.preview:
            text = f"{text}; {METHODS[self.method]} follows when the stroke ends (or press Compute)"
        if "map" not in self.jobs or not self.preview:
            self.status.setText(text)
        self.render_count += 1
        self.last_render_ms = (time.perf_counter() - t) * 1000
        self.rendered.emit()

    def restyle(self) -> None:
        """Colours, opacity or contrast changed: every image is drawn again from the results kept."""
        self.render()
        self._draw_comparison()
        self._draw_sanity()

    def _draw_comparison(self) -> None:
        s, c = self.shown, self.controls
        if s.comparison:
            first = next(iter(s.comparison.values()))
            self.methods_panel.show_results(s.comparison, s.comparison_images, s.comparison_labels, c.cmap,
                                            c.alpha, c.contrast.value(), self._names(first))  # fmt: skip

    def _draw_sanity(self) -> None:
        s = self.shown
        if s.sanity is not None:
            self.sanity_panel.show_result(
                s.sanity, s.sanity_image, self.controls.cmap, self.controls.contrast.value()
            )

    def _clear(self, message: str) -> None:
        self.shown.result = None
        self.overlay.clear(message)
        self.raw.clear("")
        self.status.setText(message)

    def _on_hover(self, row: int, col: int) -> None:
        r = self.shown.result
        if r is None or row < 0:
            self.overlay.readout.setText(" ")
            return
        a = r.attribution[0]
        if row < a.shape[0] and col < a.shape[1]:
            self.overlay.readout.setText(f"row {row}, col {col}: attribution {a[row, col]:.4g}")

    def _on_hover_raw(self, row: int, col: int) -> None:
        values = self.raw.array
        if values is None or row < 0:
            self.raw.readout.setText(" ")
            return
        self.raw.readout.setText(f"row {row}, col {col}: value {values[row, col]:.4g}")

    # -- sessions and export --------------------------------------------------------------------------
    def session_state(self) -> dict:
        return {**self.controls.session_state(), **self.methods_panel.session_state(),
                "export": self.export_box.currentData()}  # fmt: skip

    def restore_session(self, state: dict) -> None:
        """Method, colour map, opacity and contrast; the methods compared; what File > Export saves."""
        self.controls.restore_session(state)
        self.methods_panel.restore_session(state)
        i = self.export_box.findData(state.get("export"))
        if i >= 0:
            self.export_box.setCurrentIndex(i)

    def export_figure(self):
        c = self.controls
        return export.figure(self.shown, self.export_box.currentData(), c.cmap, c.alpha, c.contrast.value())

    def export_arrays(self) -> dict | None:
        return export.arrays(self.shown)
