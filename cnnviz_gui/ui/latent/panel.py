"""The Latent tab: explore an autoencoder's latent space (scatter, hover-decode, manifold, traversal and
sliders per dimension, interpolation, generation, statistics and the fit to the prior).

The latent space lives in the compute process (id ``latent``, closed with its model); every request goes
through the bridge and jobs of one kind supersede each other (``latent-decode`` while the mouse moves,
``latent-slider`` while a slider does). What the tab shows is one
:class:`~cnnviz_gui.ui.latent.exploration.Exploration`, replaced as a whole.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QPlainTextEdit,
    QProgressBar,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cnnviz_gui.core.datasets import dataset_sources
from cnnviz_gui.core.figures import image_grid
from cnnviz_gui.core.latent.projection import available_projections
from cnnviz_gui.core.latent.space import bundled_autoencoder_path, data_bounds
from cnnviz_gui.ui.bridge import ComputeBridge
from cnnviz_gui.ui.latent import export as latent_export
from cnnviz_gui.ui.latent.controls import CorrectionBar, ExploreControls
from cnnviz_gui.ui.latent.exploration import Exploration
from cnnviz_gui.ui.latent.tools import GenerationTab, InterpolationTab, ManifoldTab
from cnnviz_gui.ui.latent.traversal_jobs import TraversalJobs
from cnnviz_gui.ui.latent.traversal_view import TraversalTab
from cnnviz_gui.ui.latent.widgets import ImageTile, LatentScatter
from cnnviz_gui.ui.state import AppState

NOT_AN_AE = (
    "{reason}\n\nTo explore a latent space, open an autoencoder (the buttons on the right open the bundled "
    "MNIST autoencoder or VAE), pick the bottleneck layer where this model should be split (below), or open "
    "an encoder file and a decoder file."
)
JOB_KINDS = ("latent-encode", "latent-project", "latent-input", "latent-decode", "latent-grid", "latent-interp",
             "latent-generate", "latent-traverse", "latent-slider")  # fmt: skip
EXPORT_PARTS = ("scatter", "manifold grid", "traversal", "interpolation strip", "generation")
_space_ids = itertools.count(1)


def prior_fit_lines(fit, kind: str) -> list[str]:
    """The statistics' lines on the prior N(0, I): the verdict first (for an AE: what the figures are for),
    then centre, spread, r99, prior samples on the data (and a VAE's posterior variances)."""

    def vector(values) -> str:
        return ", ".join(f"{x:+.2f}" for x in values[:6]) + (", …" if len(values) > 6 else "")

    lines = [
        f"Verdict: {fit.judgement(kind, 'train longer')}.",
        f"On the prior N(0, I), {fit.n_prior:,} samples:",
        f"  centre ({vector(fit.centre)})",
        f"  spread ({vector(fit.spread).replace('+', '')})",
        f"  r99 = {fit.r99:.2f}",
        f"  on the data: {fit.on_data_share * 100:.0f}% of the prior samples (within {fit.factor:g}x the "
        "median nearest-neighbour spacing of an encoded point)",
    ]
    if fit.posterior_variance is not None:
        pv = ", ".join(f"{x:.2g}" for x in fit.posterior_variance[:6])
        lines.append(f"  posterior variances ({pv}{', …' if len(fit.posterior_variance) > 6 else ''})")
    if fit.sampled_on_data_share is not None:
        lines.append(f"  on posterior samples (z_mean + σ·ε): {fit.sampled_on_data_share * 100:.0f}%")
    return lines


class LatentPanel(QWidget):
    """Central tab "Latent"."""

    title = "Latent"
    #: the person asked to open a model file (the main window opens it)
    open_model_requested = Signal(str)

    def __init__(self, state: AppState, bridge: ComputeBridge, parent=None):
        super().__init__(parent)
        self.state, self.bridge = state, bridge
        self.view = Exploration()
        self.last_decode_ms: float | None = None
        self._manual = False  # the encoder/decoder were chosen by the person

        self.correction = CorrectionBar()
        self.controls = ExploreControls([label for _, label in dataset_sources()], EXPORT_PARTS)
        self.datasets = [key for key, _ in dataset_sources()]
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setVisible(False)
        self.controls.layout().addWidget(self.progress)

        self.scatter = LatentScatter()
        self.decoded_tile = ImageTile("hover over the scatter to decode")
        self.stats_text = QPlainTextEdit(readOnly=True)
        self.stats_text.setStyleSheet("font-family: monospace; font-size: 9pt")
        self.stats_text.setPlaceholderText("Statistics of the encoded points appear here")
        self.right = right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.decoded_tile)
        right.addWidget(self.stats_text)
        right.setSizes([260, 300])
        self.manifold_tab, self.interpolation_tab = ManifoldTab(), InterpolationTab()
        self.generation_tab = GenerationTab()
        self.grid_n, self.manifold = self.manifold_tab.n, self.manifold_tab.plot
        self.steps, self.strip = self.interpolation_tab.steps, self.interpolation_tab.strip
        self.n_samples, self.gen_view = self.generation_tab.n_samples, self.generation_tab.view
        self.gen_summary = self.generation_tab.summary
        self.traversal_tab = TraversalTab()
        self.traversal_plot, self.sliders = self.traversal_tab.plot, self.traversal_tab.sliders
        self.slider_tile, self.slider_label = self.traversal_tab.image, self.traversal_tab.point_label
        self.traversal_jobs = TraversalJobs(self)
        self.views = QTabWidget()
        self.views.addTab(self.scatter, "Scatter")
        self.views.addTab(self.manifold_tab, "Manifold grid")
        self.views.addTab(self.traversal_tab, "Traversal")
        self.views.setCornerWidget(self.controls.view_options, Qt.Corner.TopRightCorner)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.views)
        top.addWidget(right)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 1)
        top.setSizes([760, 300])

        self.bottom = QTabWidget()
        self.bottom.addTab(self.interpolation_tab, "Interpolation")
        self.bottom.addTab(self.generation_tab, "Generation")
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(top)
        main.addWidget(self.bottom)
        main.setStretchFactor(0, 1)
        main.setStretchFactor(1, 1)
        main.setSizes([500, 360])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.correction)
        lay.addWidget(self.controls)
        lay.addWidget(main, 1)

        c, k = self.correction, self.controls
        c.default_requested.connect(
            lambda kind: self.open_model_requested.emit(str(bundled_autoencoder_path(kind)))
        )
        c.submodels_chosen.connect(lambda enc, dec: self.recognise(encoder=enc, decoder=dec))
        c.bottleneck_chosen.connect(lambda name: self.recognise(bottleneck=name))
        c.files_requested.connect(self._ask_files)
        k.encode_button.clicked.connect(lambda: self.encode())
        k.projection_box.currentTextChanged.connect(lambda *_: self.project())
        k.x_box.currentIndexChanged.connect(lambda *_: self.project())
        k.y_box.currentIndexChanged.connect(lambda *_: self.project())
        k.points_box.currentIndexChanged.connect(lambda *_: self._draw_points())
        self.views.currentChanged.connect(self._on_view_changed)
        self.bottom.currentChanged.connect(lambda i: k.export_box.setCurrentIndex(i + self.views.count()))
        self.manifold_tab.requested.connect(lambda: self.decode_grid())
        self.interpolation_tab.from_pin.connect(lambda end: self.set_endpoint(end, self._pinned_z()))
        self.interpolation_tab.from_sample.connect(lambda end, i: self.set_endpoint(end, self._sample_z(i)))
        self.interpolation_tab.requested.connect(lambda: self.interpolate())
        self.generation_tab.requested.connect(lambda: self.generate())
        t = self.traversal_tab
        t.requested.connect(lambda: self.traverse())
        t.centre_box.currentIndexChanged.connect(lambda *_: self.traverse(auto=True))
        t.steps.valueChanged.connect(lambda *_: self.traverse(auto=True))
        t.range_sd.valueChanged.connect(lambda *_: self.traverse(auto=True))
        self.sliders.changed.connect(lambda *_: self.slide())
        self.scatter.hovered.connect(self._on_hover)
        self.scatter.clicked.connect(self._on_click)
        state.model_changed.connect(self._on_model_changed)
        state.input_changed.connect(lambda *_: self.encode_input())
        self._show_status("Open an autoencoder to explore its latent space.")
        if state.loaded is not None:
            self._on_model_changed(state.loaded)

    # -- sessions -------------------------------------------------------------------------------------
    def session_state(self) -> dict:
        spins = {"grid_n": self.grid_n, "steps": self.steps, "samples": self.n_samples}
        return {**self.controls.session_state(), **self.traversal_tab.session_state(),
                **{k: box.value() for k, box in spins.items()}}  # fmt: skip

    def restore_session(self, state: dict) -> None:
        self.controls.restore_session(state)
        self.traversal_tab.restore_session(state)
        for key, box in {"grid_n": self.grid_n, "steps": self.steps, "samples": self.n_samples}.items():
            if isinstance(state.get(key), int) and not isinstance(state[key], bool):
                box.setValue(state[key])

    # -- what is shown: one value -------------------------------------------------------------------
    def _set(self, **changes) -> Exploration:
        self.view = self.view.but(**changes)
        return self.view

    space = property(lambda self: self.view.space)
    recognition = property(lambda self: self.view.recognition)
    dataset = property(lambda self: self.view.encoded)
    z = property(lambda self: self.view.z)
    labels = property(lambda self: self.view.labels)
    stats = property(lambda self: self.view.stats)
    projection = property(lambda self: self.view.projection)
    shown = property(lambda self: self.view.shown)
    pinned = property(lambda self: self.view.pinned)
    grid = property(lambda self: self.view.grid)
    interpolation = property(lambda self: self.view.interpolation)
    generation = property(lambda self: self.view.generation)
    decoded = property(lambda self: self.view.decoded)
    traversal = property(lambda self: self.view.traversal)

    # -- recognising -----------------------------------------------------------------------------------
    def _on_model_changed(self, loaded) -> None:
        self._request = None
        self.recognise()

    def _reopen(self) -> None:
        """The compute process was restarted: recognise the space again there (what is shown stays)."""
        if self._request is not None and self.view.space is not None:
            self.bridge.request(
                "latent.open", self._request, kind="latent-open", label="Reopening the latent space"
            )

    _request: dict | None = None

    def recognise(
        self, encoder=None, decoder=None, bottleneck=None, files: tuple[str, str] | None = None
    ) -> None:
        """Find the encoder and decoder of the open model (as asked) in the compute process."""
        loaded = self.state.loaded
        if loaded is None and files is None:
            return
        self._reset()
        self._manual = bool(encoder or decoder or bottleneck or files)
        self._show_status("Looking for the encoder and decoder…")
        space = f"latent-{next(_space_ids)}"
        params = {"space": space, "model": loaded.id if files is None and loaded else None,
                  "encoder": encoder, "decoder": decoder, "bottleneck": bottleneck, "files": files}  # fmt: skip
        # sticky: a restarted compute process recognises the space again by itself
        self.bridge.request("latent.open", params, kind="latent-open", label="Recognising encoder and decoder",
                            sticky="latent", on_result=lambda opened: self._on_recognised(space, opened),
                            on_error=lambda err: self._show_status(NOT_AN_AE.format(reason=err.message)))  # fmt: skip

    def _on_recognised(self, space: str, opened) -> None:
        self.correction.set_candidates(opened.submodels, opened.bottlenecks)
        if opened.recognition is None:
            self.correction.set_message(NOT_AN_AE.format(reason=opened.message), open_choices=True)
            self.scatter.set_message("No latent space: see the message above")
            return
        if not self._manual:
            self.correction.correct.setChecked(False)
        rec = opened.recognition
        self.view = Exploration(space=space, recognition=rec, convention=opened.convention)
        self.controls.encode_button.setEnabled(True)
        self.correction.set_current(rec)
        self._show_status(rec.message + f" Inputs in {opened.convention}.")
        self.controls.set_projections(available_projections(rec.z_dim), rec.z_dim)
        self.encode()

    def _ask_files(self) -> None:
        enc, _ = QFileDialog.getOpenFileName(
            self, "Open the encoder model", "", "Keras models (*.keras *.h5)"
        )
        if not enc:
            return
        dec, _ = QFileDialog.getOpenFileName(
            self, "Open the decoder model", "", "Keras models (*.keras *.h5)"
        )
        if dec:
            self.recognise(files=(enc, dec))

    def _reset(self) -> None:
        for kind in JOB_KINDS:  # results for the previous encoder/decoder are never delivered
            self.bridge.cancel_kind(kind)
        self.bridge.unstick("latent")
        self.view = Exploration()
        self.controls.encode_button.setEnabled(False)
        self.scatter.set_points(None, None)
        self.scatter.set_pin(None)
        self.scatter.set_input_point(None)
        self.scatter.set_ab(None, None)
        self.decoded_tile.set_image(None, "hover over the scatter to decode")
        self.stats_text.setPlainText("")
        self._clear_traversal("Encode a dataset: each latent dimension is then moved around the centre.")
        # the results of the previous latent space would be read as this one's
        self.manifold.clear_grid()
        self.strip.set_image(None, "pick A and B (pinned points or samples), then interpolate")
        self.gen_view.clear_result()
        self.gen_summary.setText("")

    def _show_status(self, text: str) -> None:
        self.correction.set_message(text)

    # -- encoding and projecting ------------------------------------------------------------------------
    def encode(self, dataset: str | None = None) -> None:
        """Encode the chosen dataset (batched, with progress) and draw it."""
        if self.view.space is None:
            return
        name = dataset or self.datasets[self.controls.dataset_box.currentIndex()]
        self.progress.setVisible(True)
        self.progress.setValue(0)

        def on_error(err):
            self.progress.setVisible(False)
            self.stats_text.setPlainText(f"Encoding failed: {err.message}")

        self.bridge.request("latent.encode", {"space": self.view.space, "dataset": name}, kind="latent-encode",
                            label="Encoding the dataset", on_result=self._on_encoded, on_error=on_error,
                            on_progress=self._on_progress,
                            on_stopped=lambda _: self.progress.setVisible(False))  # fmt: skip

    def _on_progress(self, fraction, text="", payload=None) -> None:
        self.progress.setValue(int(fraction * 100))
        self.progress.setFormat(f"{text} (%p%)")

    def _on_encoded(self, encoded) -> None:
        self.progress.setVisible(False)
        self._set(encoded=encoded, projection=None, shown=None)
        self.project(fit_view=True)
        self.encode_input()
        self.traverse(auto=True)

    def project(self, fit_view: bool = False) -> None:
        """Fit the chosen projection (in the compute process: UMAP and t-SNE take a while) and redraw."""
        z = self.view.z
        if z is None:
            return
        method, axes = self.controls.projection_method(), self.controls.axes()
        if axes[0] == axes[1]:
            self.scatter.set_message("Pick two different axes")
            return
        self.bridge.request("latent.project", {"z": z, "method": method, "axes": axes}, kind="latent-project",
                            label=f"Projecting ({method})",
                            on_result=lambda r: self._on_projected(r, fit_view or method != "axes"))  # fmt: skip

    def _on_projected(self, result, fit_view: bool) -> None:
        projection, shown = result
        self._set(projection=projection, shown=shown)
        self._draw_points()
        if fit_view:
            self.scatter.fit(data_bounds(shown))
        self._update_stats()
        self._draw_markers()

    def _draw_points(self) -> None:
        v = self.view
        if v.shown is None:
            return
        self.scatter.set_points(v.shown, v.labels, v.encoded.class_names, v.projection.axis_names,
                                self.controls.max_shown())  # fmt: skip
        n, shown = len(v.shown), self.scatter.n_shown
        subset = f" (drawn: a random {shown:,})" if shown < n else ""
        self.scatter.setTitle(f"{n:,} points of {v.encoded.name}{subset}", size="9pt")

    def _update_stats(self) -> None:
        v = self.view
        if v.stats is None:
            return
        proj = v.projection
        head = []  # what the model was recognised as stands in the panel's header already
        if proj is not None and proj.method == "pca" and proj.explained is not None:
            ex = ", ".join(f"{x * 100:.0f}%" for x in proj.explained[: min(6, len(proj.explained))])
            head.append(f"PCA: variance explained per component {ex}")
        if proj is not None and proj.note:
            head.append(f"Decoded points are {proj.note}.")
        if v.encoded.prior is not None:  # the AE-versus-VAE comparison: centred on N(0, I)? on the data?
            head += prior_fit_lines(v.encoded.prior, v.recognition.kind if v.recognition else "ae") + [""]
        self.stats_text.setPlainText("\n".join(head + [v.stats.format_text(v.encoded.class_names)]))

    # -- the current input ------------------------------------------------------------------------------
    def encode_input(self) -> None:
        """Encode the app's current input (dataset browser, drawing) and mark it on the scatter."""
        image = self.state.input_image
        if self.view.space is None or image is None:
            return
        self.bridge.request("latent.encode_input", {"space": self.view.space, "image": image}, kind="latent-input",
                            label="Encoding the input", on_result=self._on_input_encoded,
                            on_error=lambda err: self.scatter.set_input_point(None))  # fmt: skip

    def _on_input_encoded(self, z) -> None:
        self._set(input_z=np.asarray(z, np.float32))
        if self.view.projection is not None:  # otherwise drawn once the projection arrives
            self._draw_markers()

    def input_point(self) -> tuple[float, float] | None:
        return self.view.to_shown(self.view.input_z)

    def _draw_markers(self) -> None:
        v = self.view
        self.scatter.set_input_point(self.input_point())
        self.scatter.set_ab(v.to_shown(v.end_a), v.to_shown(v.end_b))

    # -- decoding -----------------------------------------------------------------------------------------
    def _on_hover(self, x: float, y: float) -> None:
        if self.controls.hover_box.isChecked():
            self.decode_at(x, y)

    def _on_click(self, x: float, y: float) -> None:
        self._set(pinned=(x, y))
        self.scatter.set_pin((x, y))
        self.decode_at(x, y)
        if self.traversal_tab.centre_choice() == "pinned":
            self.traverse(auto=True)

    def decode_at(self, x: float, y: float) -> None:
        """Decode the latent point under (x, y) of the scatter; the image appears beside it."""
        space, proj = self.view.space, self.view.projection
        if space is None or proj is None:
            return
        z = proj.inverse(np.array([[x, y]], np.float32))
        started = time.perf_counter()

        def on_result(images):
            self._set(decoded=images[0])
            self.last_decode_ms = (time.perf_counter() - started) * 1000
            note = f"<br>{proj.short_note}" if proj.short_note else ""
            self.decoded_tile.set_image(images[0], f"decoded at ({x:.2f}, {y:.2f}){note}")
            self.decoded_tile.setToolTip(proj.note)

        self.bridge.request("latent.decode", {"space": space, "z": z}, kind="latent-decode", label="Decoding",
                            on_result=on_result)  # fmt: skip

    def decode_grid(self) -> None:
        """Decode an n x n grid over the scatter's visible region in one call; show it as one mosaic."""
        space, proj = self.view.space, self.view.projection
        if space is None or proj is None:
            return
        bounds, n = self.scatter.visible_bounds(), self.grid_n.value()

        def on_result(grid):
            self._set(grid=grid)
            self.manifold.set_grid(grid.mosaic, grid.bounds, grid.n, proj.axis_names, grid.note)

        params = {"space": space, "projection": proj, "bounds": tuple(bounds), "n": n}
        self.bridge.request("latent.grid", params, kind="latent-grid", label=f"Decoding a {n} x {n} grid",
                            on_result=on_result)  # fmt: skip

    # -- interpolation --------------------------------------------------------------------------------------
    def _pinned_z(self) -> np.ndarray | None:
        v = self.view
        if v.pinned is None or v.projection is None:
            return None
        return v.projection.inverse(np.array([v.pinned], np.float32))[0]

    def _sample_z(self, i: int) -> np.ndarray | None:
        z = self.view.z
        if z is None or not 0 <= i < len(z):
            return None
        return z[i]

    def set_endpoint(self, which: str, z: np.ndarray | None) -> None:
        """Set interpolation end ``which`` ("A" or "B") to latent point ``z``."""
        if z is None:
            self.strip.set_image(None, "pin a point on the scatter (click) or encode a dataset first")
            return
        self._set(**{"end_a" if which == "A" else "end_b": np.asarray(z, np.float32)})
        self._draw_markers()

    def interpolate(self) -> None:
        v = self.view
        if v.space is None or v.end_a is None or v.end_b is None:
            self.strip.set_image(None, "set both A and B first")
            return
        steps = self.steps.value()

        def on_result(res):
            self._set(interpolation=res)
            img = res.images[..., 0] if res.images.shape[-1] == 1 else res.images.mean(-1)
            self.strip.set_image(image_grid(img, ncols=steps, pad=2, fill=1.0), f"A → B in {steps} steps")

        params = {"space": v.space, "a": v.end_a, "b": v.end_b, "steps": steps}
        self.bridge.request("latent.interpolate", params, kind="latent-interp", label="Interpolating",
                            on_result=on_result)  # fmt: skip

    # -- generation ---------------------------------------------------------------------------------------
    def generate(self) -> None:
        """Sample with each method, decode, classify with the default CNN; show confidence histograms."""
        v = self.view
        if v.space is None or v.z is None:
            self.gen_summary.setText("Encode a dataset first.")
            return
        self.gen_summary.setText("generating…")

        def on_result(res):
            self._set(generation=res)
            self.gen_view.set_result(res, v.encoded.class_names)
            text, fit = res.summary(), v.encoded.prior
            if fit is not None:  # the same measure over more prior samples, as in the statistics
                text += (f" With {fit.n_prior:,} prior samples (see the statistics): "
                         f"{(1 - fit.on_data_share) * 100:.0f}% off the data.")  # fmt: skip
            self.gen_summary.setText(text)
            self.gen_summary.setToolTip(self.gen_view.toolTip())

        params = {"space": v.space, "z": v.z, "n": self.n_samples.value()}
        self.bridge.request("latent.generate", params, kind="latent-generate", label="Generating",
                            on_result=on_result,
                            on_error=lambda err: self.gen_summary.setText(f"Generation failed: {err.message}"))  # fmt: skip

    # -- traversal and sliders ------------------------------------------------------------------------------
    def _on_view_changed(self, index: int) -> None:
        self.controls.export_box.setCurrentIndex(index)
        # the traversal page shows its own large image; the hover tile and statistics belong to the scatter
        self.right.setVisible(self.views.widget(index) is not self.traversal_tab)

    def _clear_traversal(self, message: str) -> None:
        self.traversal_jobs.clear(message)

    def traverse(self, auto: bool = False) -> None:
        """Move every latent dimension around the chosen centre (see :class:`TraversalJobs`)."""
        self.traversal_jobs.traverse(auto)

    def slide(self) -> None:
        """Decode the point the sliders set (see :class:`TraversalJobs`)."""
        self.traversal_jobs.slide()

    last_slider_ms = property(lambda self: self.traversal_jobs.last_ms)

    # -- export -----------------------------------------------------------------------------------------
    def export_figure(self, part: str | None = None):
        """A figure of ``part`` (default: the one chosen in the Export box), or None if it is not made yet."""
        return latent_export.figure(self, part or self.controls.export_box.currentText())

    def export_arrays(self) -> dict | None:
        return latent_export.arrays(self)
