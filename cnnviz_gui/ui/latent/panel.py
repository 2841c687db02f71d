"""The Latent tab: explore an autoencoder's latent space (scatter, hover-decode, manifold, interpolation,
generation, statistics).

Every TensorFlow call runs on the compute thread through the bridge; jobs of one kind supersede each other
(``latent-decode`` while the mouse moves). The panel holds the core ``LatentSpace`` only to hand it to jobs.
"""

from __future__ import annotations

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
from cnnviz_gui.core.latent import space as latent
from cnnviz_gui.core.latent.generation import generate
from cnnviz_gui.ui.bridge import ComputeBridge
from cnnviz_gui.ui.latent import export as latent_export
from cnnviz_gui.ui.latent.controls import CorrectionBar, ExploreControls
from cnnviz_gui.ui.latent.tools import GenerationTab, InterpolationTab, ManifoldTab
from cnnviz_gui.ui.latent.widgets import ImageTile, LatentScatter
from cnnviz_gui.ui.state import AppState

NOT_AN_AE = (
    "{reason}\n\nTo explore a latent space, open an autoencoder (the buttons on the right open the bundled "
    "MNIST autoencoder or VAE), pick the bottleneck layer where this model should be split (below), or open "
    "an encoder file and a decoder file."
)
JOB_KINDS = ("latent-encode", "latent-project", "latent-input", "latent-decode", "latent-grid", "latent-interp",
             "latent-generate")  # fmt: skip
EXPORT_PARTS = ("scatter", "manifold grid", "interpolation strip", "generation")


class LatentPanel(QWidget):
    """Central tab "Latent"."""

    title = "Latent"
    #: the person asked to open a model file (the main window opens it)
    open_model_requested = Signal(str)

    def __init__(self, state: AppState, bridge: ComputeBridge, parent=None):
        super().__init__(parent)
        self.state, self.bridge = state, bridge
        self.space = None  # core LatentSpace: only handed to jobs
        self.recognition: latent.Recognition | None = None
        self.dataset = None
        self.z: np.ndarray | None = None
        self.labels: np.ndarray | None = None
        self.stats: latent.LatentStats | None = None
        self.projection: latent.Projection | None = None
        self.shown: np.ndarray | None = None
        self.pinned: tuple[float, float] | None = None
        self.input_z: np.ndarray | None = None
        self.ab: dict[str, np.ndarray] = {}
        self.grid = self.interpolation = self.generation = None
        self.decoded: np.ndarray | None = None
        self.last_decode_ms: float | None = None
        self._loaded = None
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
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.decoded_tile)
        right.addWidget(self.stats_text)
        right.setSizes([260, 300])
        self.manifold_tab, self.interpolation_tab = ManifoldTab(), InterpolationTab()
        self.generation_tab = GenerationTab()
        self.grid_n, self.manifold = self.manifold_tab.n, self.manifold_tab.plot
        self.steps, self.strip = self.interpolation_tab.steps, self.interpolation_tab.strip
        self.n_samples, self.gen_view = self.generation_tab.n_samples, self.generation_tab.view
        self.gen_summary = self.generation_tab.summary
        self.views = QTabWidget()
        self.views.addTab(self.scatter, "Scatter")
        self.views.addTab(self.manifold_tab, "Manifold grid")
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
            lambda kind: self.open_model_requested.emit(str(latent.bundled_autoencoder_path(kind)))
        )
        c.submodels_chosen.connect(lambda enc, dec: self.recognise(encoder=enc, decoder=dec))
        c.bottleneck_chosen.connect(lambda name: self.recognise(bottleneck=name))
        c.files_requested.connect(self._ask_files)
        k.encode_button.clicked.connect(lambda: self.encode())
        k.projection_box.currentTextChanged.connect(lambda *_: self.project())
        k.x_box.currentIndexChanged.connect(lambda *_: self.project())
        k.y_box.currentIndexChanged.connect(lambda *_: self.project())
        k.points_box.currentIndexChanged.connect(lambda *_: self._draw_points())
        self.views.currentChanged.connect(k.export_box.setCurrentIndex)
        self.bottom.currentChanged.connect(lambda i: k.export_box.setCurrentIndex(i + 2))
        self.manifold_tab.requested.connect(lambda: self.decode_grid())
        self.interpolation_tab.from_pin.connect(lambda end: self.set_endpoint(end, self._pinned_z()))
        self.interpolation_tab.from_sample.connect(lambda end, i: self.set_endpoint(end, self._sample_z(i)))
        self.interpolation_tab.requested.connect(lambda: self.interpolate())
        self.generation_tab.requested.connect(lambda: self.generate())
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
        return {**self.controls.session_state(), **{k: box.value() for k, box in spins.items()}}

    def restore_session(self, state: dict) -> None:
        self.controls.restore_session(state)
        for key, box in {"grid_n": self.grid_n, "steps": self.steps, "samples": self.n_samples}.items():
            if isinstance(state.get(key), int) and not isinstance(state[key], bool):
                box.setValue(state[key])

    # -- recognising -----------------------------------------------------------------------------------
    def _on_model_changed(self, loaded) -> None:
        self._loaded = loaded
        self.recognise()

    def recognise(
        self, encoder=None, decoder=None, bottleneck=None, files: tuple[str, str] | None = None
    ) -> None:
        """Find the encoder and decoder of the open model (as asked) on the compute thread."""
        loaded = self._loaded
        if loaded is None and files is None:
            return
        self._reset()
        self._manual = bool(encoder or decoder or bottleneck or files)
        self._show_status("Looking for the encoder and decoder…")

        def job(progress, cancelled):
            model = loaded.model if files is None else None
            return latent.explore(model, encoder, decoder, bottleneck, files)

        self.bridge.submit(job, kind="latent-open", label="Recognising encoder and decoder", on_result=self._on_recognised,
                           on_error=lambda err: self._show_status(NOT_AN_AE.format(reason=err.message)))  # fmt: skip

    def _on_recognised(self, result) -> None:
        space, (subs, bottlenecks), error = result
        self.correction.set_candidates(subs, bottlenecks)
        if space is None:
            self.correction.set_message(NOT_AN_AE.format(reason=error), open_choices=True)
            self.scatter.set_message("No latent space: see the message above")
            return
        if not self._manual:
            self.correction.correct.setChecked(False)
        self.space, self.recognition = space, space.recognition
        self.controls.encode_button.setEnabled(True)
        rec = self.recognition
        self.correction.set_current(rec)
        self._show_status(rec.message + f" Inputs in {space.convention}.")
        self.controls.set_projections(latent.available_projections(rec.z_dim), rec.z_dim)
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
            self.bridge.compute.cancel_kind(kind)
        self.space = self.recognition = None
        self.controls.encode_button.setEnabled(False)
        self.z = self.labels = self.stats = self.projection = self.shown = self.input_z = None
        self.pinned, self.ab = None, {}
        self.grid = self.interpolation = self.generation = None
        self.scatter.set_points(None, None)
        self.scatter.set_pin(None)
        self.scatter.set_input_point(None)
        self.scatter.set_ab(None, None)
        self.decoded_tile.set_image(None, "hover over the scatter to decode")
        self.stats_text.setPlainText("")

    def _show_status(self, text: str) -> None:
        self.correction.set_message(text)

    # -- encoding and projecting ------------------------------------------------------------------------
    def encode(self, dataset: str | None = None) -> None:
        """Encode the chosen dataset (batched, with progress) and draw it."""
        space = self.space
        if space is None:
            return
        name = dataset or self.datasets[self.controls.dataset_box.currentIndex()]
        self.progress.setVisible(True)
        self.progress.setValue(0)

        def job(progress, cancelled):
            ds = latent.load_named_dataset(name)
            encoded = space.encode(ds.x, progress=progress, cancelled=cancelled)
            stats = latent.latent_statistics(encoded.z, ds.y, len(ds.class_names))
            return ds, encoded, stats

        def on_error(err):
            self.progress.setVisible(False)
            self.stats_text.setPlainText(f"Encoding failed: {err.message}")

        def on_result(result):
            if space is self.space:
                self._on_encoded(result)

        self.bridge.submit(job, kind="latent-encode", label="Encoding the dataset", on_result=on_result,
                           on_error=on_error, on_progress=self._on_progress)  # fmt: skip

    def _on_progress(self, fraction, text="", payload=None) -> None:
        self.progress.setValue(int(fraction * 100))
        self.progress.setFormat(f"{text} (%p%)")

    def _on_encoded(self, result) -> None:
        self.progress.setVisible(False)
        self.dataset, encoded, self.stats = result
        self.z, self.labels = encoded.z, self.dataset.y
        self.project(fit_view=True)
        self.encode_input()

    def project(self, fit_view: bool = False) -> None:
        """Fit the chosen projection (on the compute thread: UMAP and t-SNE take a while) and redraw."""
        if self.z is None:
            return
        z, method, axes = self.z, self.controls.projection_method(), self.controls.axes()
        if axes[0] == axes[1]:
            self.scatter.set_message("Pick two different axes")
            return

        def job(progress, cancelled):
            proj = latent.fit_projection(z, method, axes, cancelled=cancelled)
            return proj, proj.transform(z)

        self.bridge.submit(job, kind="latent-project", label=f"Projecting ({method})",
                           on_result=lambda r: self._on_projected(r, fit_view or method != "axes"))  # fmt: skip

    def _on_projected(self, result, fit_view: bool) -> None:
        self.projection, self.shown = result
        self._draw_points()
        if fit_view:
            self.scatter.fit(latent.data_bounds(self.shown))
        self._update_stats()
        self._draw_markers()

    def _draw_points(self) -> None:
        if self.shown is None:
            return
        names = self.dataset.class_names if self.dataset is not None else None
        self.scatter.set_points(
            self.shown, self.labels, names, self.projection.axis_names, self.controls.max_shown()
        )
        n, shown = len(self.shown), self.scatter.n_shown
        subset = f" (drawn: a random {shown:,})" if shown < n else ""
        self.scatter.setTitle(f"{n:,} points of {self.dataset.name}{subset}", size="9pt")

    def _update_stats(self) -> None:
        if self.stats is None:
            return
        proj = self.projection
        head = []  # what the model was recognised as stands in the panel's header already
        if proj is not None and proj.method == "pca" and proj.explained is not None:
            ex = ", ".join(f"{v * 100:.0f}%" for v in proj.explained[: min(6, len(proj.explained))])
            head.append(f"PCA: variance explained per component {ex}")
        if proj is not None and proj.note:
            head.append(f"Decoded points are {proj.note}.")
        names = self.dataset.class_names if self.dataset is not None else None
        self.stats_text.setPlainText("\n".join(head + [self.stats.format_text(names)]))

    # -- the current input ------------------------------------------------------------------------------
    def encode_input(self) -> None:
        """Encode the app's current input (dataset browser, drawing) and mark it on the scatter."""
        space, image = self.space, self.state.input_image
        if space is None or image is None:
            return
        shape = space.recognition.input_shape

        def job(progress, cancelled):
            from cnnviz_gui.core.preprocess import fit_input

            x = fit_input(image, shape)[None]
            return space.encode(x).z[0]

        self.bridge.submit(job, kind="latent-input", label="Encoding the input", on_result=self._on_input_encoded,
                           on_error=lambda err: self.scatter.set_input_point(None))  # fmt: skip

    def _on_input_encoded(self, z) -> None:
        self.input_z = np.asarray(z, np.float32)
        if self.projection is not None:  # otherwise drawn once the projection arrives
            self._draw_markers()

    def input_point(self) -> tuple[float, float] | None:
        if self.input_z is None or self.projection is None:
            return None
        p = self.projection.transform(self.input_z[None])[0]
        return float(p[0]), float(p[1])

    def _draw_markers(self) -> None:
        self.scatter.set_input_point(self.input_point())
        ab = [self.projection.transform(self.ab[k][None])[0] if k in self.ab and self.projection else None
              for k in ("A", "B")]  # fmt: skip
        self.scatter.set_ab(*[None if p is None else (float(p[0]), float(p[1])) for p in ab])

    # -- decoding -----------------------------------------------------------------------------------------
    def _on_hover(self, x: float, y: float) -> None:
        if self.controls.hover_box.isChecked():
            self.decode_at(x, y)

    def _on_click(self, x: float, y: float) -> None:
        self.pinned = (x, y)
        self.scatter.set_pin(self.pinned)
        self.decode_at(x, y)

    def decode_at(self, x: float, y: float) -> None:
        """Decode the latent point under (x, y) of the scatter; the image appears beside it."""
        space, proj = self.space, self.projection
        if space is None or proj is None:
            return
        z = proj.inverse(np.array([[x, y]], np.float32))
        started = time.perf_counter()

        def job(progress, cancelled):
            return space.decode(z)[0]

        def on_result(image):
            self.decoded = image
            self.last_decode_ms = (time.perf_counter() - started) * 1000
            note = f"<br>{proj.short_note}" if proj.short_note else ""
            self.decoded_tile.set_image(image, f"decoded at ({x:.2f}, {y:.2f}){note}")
            self.decoded_tile.setToolTip(proj.note)

        self.bridge.submit(job, kind="latent-decode", label="Decoding", on_result=on_result)

    def decode_grid(self) -> None:
        """Decode an n x n grid over the scatter's visible region in one call; show it as one mosaic."""
        space, proj = self.space, self.projection
        if space is None or proj is None:
            return
        bounds, n = self.scatter.visible_bounds(), self.grid_n.value()

        def job(progress, cancelled):
            return space.decode_grid(proj, bounds, n)

        def on_result(grid):
            self.grid = grid
            self.manifold.set_grid(grid.mosaic, grid.bounds, grid.n, proj.axis_names, grid.note)

        self.bridge.submit(job, kind="latent-grid", label=f"Decoding a {n} x {n} grid", on_result=on_result)

    # -- interpolation --------------------------------------------------------------------------------------
    def _pinned_z(self) -> np.ndarray | None:
        if self.pinned is None or self.projection is None:
            return None
        return self.projection.inverse(np.array([self.pinned], np.float32))[0]

    def _sample_z(self, i: int) -> np.ndarray | None:
        if self.z is None or not 0 <= i < len(self.z):
            return None
        return self.z[i]

    def set_endpoint(self, which: str, z: np.ndarray | None) -> None:
        """Set interpolation end ``which`` ("A" or "B") to latent point ``z``."""
        if z is None:
            self.strip.set_image(None, "pin a point on the scatter (click) or encode a dataset first")
            return
        self.ab[which] = np.asarray(z, np.float32)
        self._draw_markers()

    def interpolate(self) -> None:
        space = self.space
        if space is None or "A" not in self.ab or "B" not in self.ab:
            self.strip.set_image(None, "set both A and B first")
            return
        a, b, steps = self.ab["A"], self.ab["B"], self.steps.value()

        def job(progress, cancelled):
            return space.interpolate(a, b, steps)

        def on_result(res):
            from cnnviz_gui.core.figures import image_grid

            self.interpolation = res
            img = res.images[..., 0] if res.images.shape[-1] == 1 else res.images.mean(-1)
            self.strip.set_image(image_grid(img, ncols=steps, pad=2, fill=1.0), f"A → B in {steps} steps")

        self.bridge.submit(job, kind="latent-interp", label="Interpolating", on_result=on_result)

    # -- generation ---------------------------------------------------------------------------------------
    def generate(self) -> None:
        """Sample with each method, decode, classify with the default CNN; show confidence histograms."""
        space, z = self.space, self.z
        if space is None or z is None:
            self.gen_summary.setText("Encode a dataset first.")
            return
        n = self.n_samples.value()
        self.gen_summary.setText("generating…")

        def job(progress, cancelled):
            return generate(space, z, n=n, progress=progress)

        def on_result(res):
            self.generation = res
            names = self.dataset.class_names if self.dataset is not None else None
            self.gen_view.set_result(res, names)
            self.gen_summary.setText(res.summary())
            self.gen_summary.setToolTip(self.gen_view.toolTip())

        self.bridge.submit(job, kind="latent-generate", label="Generating", on_result=on_result,
                           on_error=lambda err: self.gen_summary.setText(f"Generation failed: {err.message}"))  # fmt: skip

    # -- export -----------------------------------------------------------------------------------------
    def export_figure(self, part: str | None = None):
        """A figure of ``part`` (default: the one chosen in the Export box), or None if it is not made yet."""
        return latent_export.figure(self, part or self.controls.export_box.currentText())

    def export_arrays(self) -> dict | None:
        return latent_export.arrays(self)
