"""The OIP tab: settings with presets, Start/Stop, the live run, the layer atlas with dataset exemplars, and
exports.

The search runs in the compute process (operation ``oip.run``); frames arrive through the bridge at most ~30
times a second and are drawn at once (small copies only): the K diverse images side by side, in colour for
RGB models. Stop — this tab's, the status bar's or Esc — is the bridge's: the engine checks before every step
and the partial result is shown. Dataset exemplars (operation ``exemplars.find``) are asked for when the
person ticks "Show dataset exemplars" (:mod:`cnnviz_gui.ui.oip.exemplar_finder`).
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cnnviz_gui.core.datasets import BUNDLED
from cnnviz_gui.core.figures import ExportError
from cnnviz_gui.core.oip import engine as oip
from cnnviz_gui.ui.oip import images as im
from cnnviz_gui.ui.oip.atlas import AtlasView
from cnnviz_gui.ui.oip.exemplar_finder import ExemplarFinder, ExemplarTarget
from cnnviz_gui.ui.oip.form import OipForm, format_maps
from cnnviz_gui.ui.oip.widgets import LiveView, result_summary
from cnnviz_gui.ui.widgets.colour_choice import ColourChoice

MAX_GIF_FRAMES = 240
SLOW_INTERVAL = 0.2  # seconds between redraws of the live loss curve and status text (costly repaints)
#: the atlas orders (``core.oip.figures.ATLAS_ORDERS``) as the sort box names them
SORTS = (
    ("final loss", "loss"),
    ("map index", "index"),
    ("shift robustness", "shift"),
    ("ratio to the best image", "vs_exemplar"),
)


def _last_finite(curve: np.ndarray) -> float:
    done = np.asarray(curve)[np.isfinite(curve)]
    return float(done[-1]) if len(done) else float("nan")


class OipPanel(QWidget):
    """Central tab "OIP"."""

    title = "OIP"
    #: a run finished (the OipResult)
    finished = Signal(object)

    def __init__(self, state, bridge, parent=None):
        super().__init__(parent)
        self.state, self.bridge = state, bridge
        self.result: oip.OipResult | None = None
        self.request: oip.OipRequest | None = None
        self.job = None
        self._run_model: str | None = None  # the id of the model the last search ran on
        self.focus = 0  # position in result.maps shown in the live view
        self.frames_drawn = 0
        self.last_error = ""
        self._gif_frames: list[tuple[int, int, np.ndarray]] = []
        self._gif_stride = 1
        self._drawn_key: tuple = (None, -1)
        self._curve_drawn = 0.0
        self._started = 0.0
        self._build()
        state.model_changed.connect(self._on_model_changed)
        state.maps_selected.connect(self._on_maps_selected)
        state.layer_selected.connect(self._on_layer_selected)
        state.dataset_changed.connect(self._on_dataset_changed)
        if state.info is not None:
            self._on_model_changed(state.loaded)
        if state.dataset is not None:
            self._on_dataset_changed(state.dataset)

    # -- construction ---------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.form = OipForm()
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.gif_button = QPushButton("Save GIF…")
        self.gif_button.setEnabled(False)
        self.gif_button.setToolTip("An animated GIF of the shown map's evolution (in colour for RGB models)")
        buttons = QHBoxLayout()
        for b in (self.start_button, self.stop_button, self.gif_button):
            buttons.addWidget(b)
        self.info_label = QLabel("")
        self.info_label.setWordWrap(True)
        side = QWidget()
        side_lay = QVBoxLayout(side)
        side_lay.addWidget(self.form)
        side_lay.addLayout(buttons)
        side_lay.addWidget(self.info_label)
        side_lay.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        scroll.setMinimumWidth(300)
        form_width = side.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4

        self.live = LiveView()
        self.watch_box = QComboBox()
        self.watch_box.setToolTip("Which map the live view follows while the search runs")
        self.watch_box.addItem("the highest loss so far", -1)
        self.live.header.insertWidget(0, QLabel("Watch"))
        self.live.header.insertWidget(1, self.watch_box)
        self.atlas = AtlasView()
        self.sort_box = QComboBox()
        for text, key in SORTS:
            self.sort_box.addItem(text, key)
        self.sort_box.setToolTip(
            "Order of the tiles: final loss, map index, the share of the activation kept when the OIP moves by "
            "4 pixels, or the OIP's activation relative to the best image of the reference dataset"
        )
        self.contrast = QCheckBox("contrast enhancement")
        self.contrast.setChecked(True)
        self.live.contrast = True
        self.show_initial = QCheckBox("show the initial images")
        self.show_initial.setToolTip("The start images in the same places, to compare with the OIPs")
        self.finder = ExemplarFinder(self.bridge, self)
        self.exemplar_check, self.exemplar_top = self.finder.check, self.finder.per_map
        self.exemplar_status = QLabel("")
        self.exemplar_status.setWordWrap(True)
        self.atlas_summary = QLabel("The atlas appears when a run has finished.")
        self.atlas_summary.setWordWrap(True)
        bar = QHBoxLayout()
        for w in (QLabel("Sort by"), self.sort_box, self.contrast, self.show_initial):
            bar.addWidget(w)
        bar.addStretch(1)
        bar2 = QHBoxLayout()  # a second row: one row of all options would widen the whole window
        bar2.addWidget(self.exemplar_check)
        bar2.addWidget(self.exemplar_top)
        bar2.addWidget(self.exemplar_status, 1)
        atlas_page = QWidget()
        al = QVBoxLayout(atlas_page)
        al.setContentsMargins(0, 0, 0, 0)
        al.addLayout(bar)
        al.addLayout(bar2)
        al.addWidget(self.atlas_summary)
        al.addWidget(self.atlas, 1)
        self.pages = QTabWidget()
        self.pages.addTab(self.live, "Live run")
        self.pages.addTab(atlas_page, "Atlas")
        self.colours = ColourChoice("Colour map of grey OIP images, snapshots and atlas tiles")
        self.pages.setCornerWidget(self.colours)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(scroll)
        split.addWidget(self.pages)
        split.setStretchFactor(1, 1)
        split.setSizes([form_width, 900])  # the whole form when the window allows
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(split)

        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.gif_button.clicked.connect(self._gif_dialog)
        self.sort_box.currentIndexChanged.connect(lambda _: self._show_atlas())
        self.contrast.toggled.connect(self._on_contrast)
        self.show_initial.toggled.connect(lambda _: self._show_atlas())
        self.finder.changed.connect(self._on_exemplars_changed)
        self.finder.message.connect(self.exemplar_status.setText)
        self.finder.busy.connect(lambda _: self.stop_button.setEnabled(self.running or self.finder.running))
        self.atlas.tile_clicked.connect(self.show_run)
        self.watch_box.currentIndexChanged.connect(self._on_watch)
        self.colours.changed.connect(self._on_colours)

    def settings(self) -> oip.OipSettings:
        """The form's settings (raises ValueError with a readable message)."""
        return self.form.settings()

    def session_state(self) -> dict:
        atlas = {"atlas_sort": self.sort_key, **self.finder.session_state()}
        return {**self.form.session_state(), **self.colours.session_state(), **atlas}

    def restore_session(self, state: dict) -> None:
        self.colours.restore_session(state)
        if not self.running:
            self.form.restore_session(state)
        if isinstance(state.get("atlas_sort"), str) and self.sort_box.findData(state["atlas_sort"]) >= 0:
            self.sort_box.setCurrentIndex(self.sort_box.findData(state["atlas_sort"]))
        self.finder.restore_session(state)

    def apply_preferences(self, prefs) -> None:
        """The default colour map, unless the person chose one in this panel."""
        self.colours.apply_preference(prefs.colormap)

    def _on_colours(self, name: str) -> None:
        self.live.set_colormap(name)
        self.atlas.set_colormap(name)

    # -- model and selection -----------------------------------------------------------------------------------
    def _on_model_changed(self, loaded) -> None:
        self.stop()
        self.finder.set_target(None)  # the shown result's model is no longer open
        self.form.layer_box.clear()
        info = loaded.info if loaded is not None else None
        if info is None or not info.image_input:
            self.live.clear("This model has no image input: OIP search needs one.")
            return
        self.form.set_layers(info)
        shape = info.input_shape or (None,)
        self.form.set_default_preset(shape[-1])

    def _on_layer_selected(self, name: str) -> None:
        if not self.running and self.form.select_layer(name):
            self.form.maps_edit.setText("all")

    def _on_maps_selected(self, layer: str, maps: list) -> None:
        if not self.running and self.form.select_layer(layer):
            self.form.maps_edit.setText(format_maps(maps) if maps else "all")

    def _on_dataset_changed(self, dataset) -> None:
        self.form.set_input_dataset(getattr(dataset, "name", ""))

    # -- running -------------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None and not self.job.ended

    @property
    def reference_key(self) -> str | None:
        """The source key of the reference dataset chosen in the form (None: no comparison with data)."""
        return self.form.reference_key(self.state.dataset_key)

    def start(self) -> None:
        loaded = self.state.loaded
        layer = self.form.layer
        if loaded is None or layer is None:
            self._say("Open a model with an image input first.")
            return
        try:
            settings = self.settings()
            maps = oip.parse_maps(self.form.maps_edit.text(), self.form.n_units)
        except ValueError as err:
            self._say(str(err))
            return
        self.finder.set_target(None)  # exemplars of the previous result: dropped silently
        self.stop()
        conv, reference = self.state.convention, self.reference_key
        data = self.form.data_check.isChecked() and reference is not None
        self.request = oip.OipRequest(
            layer, maps, settings, data, focus=-1, convention=conv, dataset=reference
        )
        self._run_model = loaded.id
        self.focus = 0
        self.watch_box.blockSignals(True)
        self.watch_box.clear()
        self.watch_box.addItem("the highest loss so far", -1)
        for k, m in enumerate(maps):
            self.watch_box.addItem(f"map {m}", k)
        self.watch_box.blockSignals(False)
        self.frames_drawn = 0
        self._gif_frames = []
        self._gif_stride = 1
        self._drawn_key = (None, -1)
        self._curve_drawn = 0.0
        self._started = time.monotonic()
        per_map = f" × {settings.diversity} images" if settings.diversity > 1 else ""
        self.live.clear(
            f"Starting: {len(maps)} maps of {layer}{per_map} × {settings.restarts} restarts, input {conv}…"
        )
        self.live.make_room(settings.diversity)
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.pages.setCurrentWidget(self.live)
        self.job = self.bridge.request(
            "oip.run",
            {"model": loaded.id, "request": self.request},
            kind="oip",
            label=f"OIP search on {layer}",
            on_result=self._on_result,
            on_error=self._on_error,
            on_progress=self._on_progress,
            on_stopped=self._on_stopped,
        )

    def _on_watch(self, index: int) -> None:
        k = self.watch_box.itemData(index)
        if k is None:
            return
        if self.running:
            self.bridge.control(self.job, focus=int(k))  # the engine follows it from its next frame
        elif self.result is not None and k >= 0:
            self.show_run(int(k), switch=False)

    def stop(self) -> None:
        """Ask the running search (or exemplar pass) to stop after its current step; a search's partial
        result is shown."""
        if self.running:
            self.bridge.stop(self.job)
            self.stop_button.setEnabled(False)
            self.live.status.setText("Stopping…")
        self.finder.stop()

    def _finish(self) -> None:
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(self.finder.running)

    def _on_progress(self, fraction: float, text: str, frame) -> None:
        """Draw a live frame: only what changed (the strip and title when a snapshot or the map changes)."""
        if self.request is None:
            return
        if frame is None:
            self.live.status.setText(text)
            return
        self.frames_drawn += 1
        key = (frame.map_index, len(frame.snapshot_steps))
        images = frame.images if frame.images is not None else np.asarray(frame.image)[None]
        self.live.show_images(images, f"map {frame.map_index}" if key[0] != self._drawn_key[0] else "")
        now = time.monotonic()
        if key != self._drawn_key or now - self._curve_drawn >= SLOW_INTERVAL:  # curve and text change slowly
            marks = list(frame.snapshot_steps) if key != self._drawn_key else None
            self.live.show_curve(frame.curve, marks, total=frame.steps)
            self._curve_drawn = now
            speed = (frame.step + 1) / max(now - self._started, 1e-6)
            self.live.status.setText(
                f"{text} · map {frame.map_index} · loss {_last_finite(frame.curve):.4g} · relative change "
                f"{frame.rel_change:.2e} · {speed:.0f} steps/s · "
                f"{int((frame.losses > 0).sum())}/{len(frame.losses)} maps react so far · "
                f"input {self.request.convention}"
            )
        if key != self._drawn_key:
            self.live.show_strip(frame.initial, frame.snapshots, frame.snapshot_steps)
            self._drawn_key = key
        if self.frames_drawn % self._gif_stride == 0:  # keep at most MAX_GIF_FRAMES, evenly spread
            self._gif_frames.append((frame.map_index, frame.step, im.to_u8(frame.image)))
            if len(self._gif_frames) > MAX_GIF_FRAMES:
                self._gif_frames = self._gif_frames[::2]
                self._gif_stride *= 2

    def _on_result(self, result) -> None:
        self._finish()
        self.result = result
        self.gif_button.setEnabled(True)
        self._enable_sorts()
        self._show_atlas()
        self.show_run(int(np.argmax(np.where(result.reacts, result.losses, -np.inf))), switch=False)
        loaded = self.state.loaded
        if loaded is not None and loaded.id == self._run_model:  # not after the model changed
            maps = tuple(int(m) for m in result.maps)
            self.finder.set_target(
                ExemplarTarget(loaded.id, result.layer, maps, self.exemplar_dataset, result.convention)
            )
        self.finished.emit(result)

    def _on_stopped(self, partial) -> None:
        """Stopped (here, in the status bar or with Esc): the partial result when the engine returned one."""
        if partial is not None:
            self._on_result(partial)
        else:
            self._finish()
            self.live.status.setText("Stopped.")

    def _on_error(self, err) -> None:
        self._finish()
        self.last_error = err.message
        self._say(f"The OIP search failed: {err.message}")

    def _say(self, text: str) -> None:
        self.info_label.setText(text)
        self.live.status.setText(text)

    # -- dataset exemplars ------------------------------------------------------------------------------------
    @property
    def exemplar_dataset(self) -> str:
        """The dataset exemplars come from: the run's reference dataset, else the Input pane's."""
        if self.request is not None and isinstance(self.request.dataset, str) and self.request.dataset:
            return self.request.dataset
        return self.state.dataset_key or BUNDLED

    @property
    def exemplars(self):
        """The exemplars found for the shown result (None: not asked for or not there yet)."""
        return self.finder.result

    def _on_exemplars_changed(self) -> None:
        self._show_atlas()
        if self.result is not None and not self.running:
            self.show_run(self.focus, switch=False)

    @property
    def shown_exemplars(self):
        """The exemplars the atlas shows (None when not asked for or not there yet)."""
        return self.finder.shown

    # -- results ------------------------------------------------------------------------------------------------
    def summary(self) -> str:
        return result_summary(self.result) if self.result is not None else ""

    @property
    def sort_key(self) -> str:
        return self.sort_box.currentData() or "loss"

    def _enable_sorts(self) -> None:
        """Sorting by a read-out the run did not compute is not offered (back to final loss)."""
        r = self.result
        available = {"shift": r.shift_kept is not None, "vs_exemplar": r.vs_best_exemplar is not None}
        model = self.sort_box.model()
        for k in range(self.sort_box.count()):
            model.item(k).setEnabled(available.get(self.sort_box.itemData(k), True))
        if not available.get(self.sort_key, True):
            self.sort_box.setCurrentIndex(0)

    def _show_atlas(self) -> None:
        r = self.result
        if r is None:
            return
        ex = self.shown_exemplars
        top = self.exemplar_top.value()
        self.atlas.set_result(
            r, self.sort_key, self.contrast.isChecked(), self.show_initial.isChecked(), ex, top
        )
        text = self.summary() + ". Red ✕: the map does not react."
        if ex is not None:
            text += (
                f" Right of each OIP: the {min(top, ex.top)} patches of {ex.dataset} that drive the map hardest "
                "(white: outside the image)."
            )
        self.atlas_summary.setText(text)

    def _on_contrast(self, on: bool) -> None:
        self.live.contrast = on
        self._show_atlas()
        if self.result is not None:
            self.show_run(self.focus, switch=False)

    def show_run(self, i: int, switch: bool = True) -> None:
        """Show map position ``i`` of the result in the live view: its final image(s), curve, snapshots and,
        when found, its dataset exemplars with the images they come from."""
        r = self.result
        if r is None or not 0 <= i < len(r.maps):
            return
        self.focus = i
        m = int(r.maps[i])
        steps = [int(s) for s in r.snapshot_steps]
        title = f"map {m}: the {r.diversity} final images" if r.diversity > 1 else f"map {m}: final image"
        self.live.make_room(r.diversity)
        self.live.show_images(r.image_sets()[i], title, exact=True)
        self.live.show_curve(r.curves[i], steps)
        used = int(r.steps_used[i])
        labels = [f"step {st}" if st < used else f"stopped at {used}" for st in steps]
        self.live.show_strip(r.initial[i], r.snapshots[i], labels)
        self._show_exemplars_of(m)
        if r.reacts[i]:
            conv = f"converged at step {int(r.converged_step[i])}" if r.converged[i] else "not converged"
            state = f"reacts, {conv} (last relative change {r.rel_change[i]:.1e})"
        else:
            state = (
                f"does NOT react (gave up after {used} steps)" if used < r.curves.shape[1] else "no reaction"
            )
        data = r.reference_dataset or "the dataset"
        quality = ""
        if r.data_active is not None:
            quality += ", data-active" if r.data_active[i] else f", no image of {data} activates it"
        if r.shift_kept is not None and np.isfinite(r.shift_kept[i]):
            quality += f", keeps {r.shift_kept[i] * 100:.0f}% under a 4-px shift"
        if r.vs_best_exemplar is not None and np.isfinite(r.vs_best_exemplar[i]):
            quality += f", {r.vs_best_exemplar[i]:.3g}× the best image of {data}"
        self.live.status.setText(
            f"Map {m}: final loss {r.losses[i]:.4g}, {state}{quality}."
            + (f" Stopped by you at step {used}." if r.stopped else "")
            + f" Input {r.convention}."
        )
        if switch:
            self.pages.setCurrentWidget(self.live)

    def _show_exemplars_of(self, m: int) -> None:
        """The exemplar strip of map ``m``: patches, and the whole images when they are the Input pane's."""
        ex = self.shown_exemplars
        if ex is None or m not in set(ex.maps.tolist()):
            self.live.show_exemplars(None)
            return
        whole = None
        ds, info = self.state.dataset, self.state.info
        if ds is not None and self.state.dataset_key == self.exemplar_dataset and info is not None:
            from cnnviz_gui.core.preprocess import fit_input

            row = ex.position_of(m)
            try:
                whole = fit_input(np.asarray(ds.x)[ex.indices[row]], info.input_shape)
            except (ValueError, IndexError):
                whole = None
        beside = ", beside it the whole image (red: the field)" if whole is not None else ""
        labels = im.exemplar_labels(ex, m)
        title = (
            f"Map {m}'s top {ex.top} images of {ex.dataset}, strongest first (the receptive field around the "
            f"strongest response{beside}): " + " · ".join(text for _, text in labels)
        )
        tiles, band = im.exemplar_tiles(ex, m, whole)
        self.live.show_exemplars(tiles, [short for short, _ in labels], title, band)

    # -- export ---------------------------------------------------------------------------------------------------
    def export_figure(self):
        from cnnviz_gui.core.oip.figures import atlas_figure, run_figure

        r = self.result
        if r is None:
            return None
        contrast = self.contrast.isChecked()
        if self.pages.currentIndex() == 1 and len(r.maps) > 1:
            ex = self.shown_exemplars
            return atlas_figure(
                r, by=self.sort_key, contrast=contrast, cmap=self.colours.name, exemplars=ex,
                top=self.exemplar_top.value(),
            )  # fmt: skip
        return run_figure(r, self.focus, contrast=contrast, cmap=self.colours.name)

    def export_arrays(self) -> dict | None:
        """The result's arrays (the command line's keys) and, when found, the exemplars as ``exemplar_*``."""
        if self.result is None:
            return None
        arrays = self.result.to_arrays()
        arrays["settings"] = np.array(repr(self.result.settings))
        if self.exemplars is not None:
            ex = self.exemplars.to_arrays()
            arrays.update({f"exemplar_{k}": v for k, v in ex.items() if k != "maps"})
        return arrays

    def save_gif(self, path: str):
        """Write the shown map's evolution (its first image; colour for RGB models): the live frames when
        they were recorded, else its snapshots."""
        from cnnviz_gui.core.oip.figures import result_gif, save_gif

        r = self.result
        if r is None:
            raise ExportError("There is no OIP run to animate yet.")
        m = int(r.maps[self.focus])
        live = [(step, img) for mi, step, img in self._gif_frames if mi == m]
        if len(live) >= 10:
            final = im.squeeze_grey(r.image_sets()[self.focus, 0])
            frames = np.stack([img.astype(np.float32) / 255.0 for _, img in live] + [final])
            labels = [f"step {step}" for step, _ in live] + ["final"]
            return save_gif(frames, path, labels, cmap=self.colours.name)
        return result_gif(r, self.focus, path, cmap=self.colours.name)

    def _gif_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save OIP animation", "oip.gif", "GIF animation (*.gif)")
        if not path:
            return
        try:
            written = self.save_gif(path)
            self._say(f"Saved {written}")
        except ExportError as err:
            self._say(err.message)
