"""The OIP tab driven as a person would: choose maps, Start, watch, Stop, atlas, click a tile, export."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnviz_gui.core.oip.figures import contrast_stretch
from cnnviz_gui.core.runtime.compute_process import ComputeProcess
from cnnviz_gui.core.runtime.local import LocalCompute
from cnnviz_gui.ui.app import configure_pyqtgraph
from cnnviz_gui.ui.bridge import ComputeBridge
from cnnviz_gui.ui.main_window import MainWindow
from cnnviz_gui.ui.oip.images import colourise, to_u8
from cnnviz_gui.ui.oip.panel import OipPanel, format_maps
from cnnviz_gui.ui.state import AppState


def _window(qtbot, backend, default_model_path):
    configure_pyqtgraph()
    w = MainWindow(AppState(), ComputeBridge(backend))
    w.messages = []
    w.show_message_box = lambda parent, title, text, details="": w.messages.append((title, text))
    qtbot.addWidget(w)
    w.show()
    w.open_model_file(str(default_model_path))
    qtbot.waitUntil(lambda: w.state.info is not None and w.state.input_image is not None, timeout=120_000)
    qtbot.wait(10)  # the window shows the default input's activations first
    panel = next(w.tabs.widget(i) for i in range(w.tabs.count()) if isinstance(w.tabs.widget(i), OipPanel))
    w.tabs.setCurrentWidget(panel)
    return w, panel


@pytest.fixture
def sync_window(qtbot, default_model_path):
    return _window(qtbot, LocalCompute(synchronous=True), default_model_path)


def test_format_maps():
    assert format_maps([0, 1, 2, 5, 7, 8]) == "0-2,5,7-8"
    assert format_maps([3]) == "3"


def test_run_shows_live_views_atlas_and_exports(sync_window, tmp_path):
    w, panel = sync_window
    assert panel.form.layer == "Conv2D_3"  # the deepest conv layer by default
    panel.form.maps_edit.setText("0-5")
    panel.form.steps.setValue(30)
    panel.form.data_check.setChecked(False)
    panel.start()
    r = panel.result
    assert r is not None and list(r.maps) == [0, 1, 2, 3, 4, 5] and not panel.running
    assert panel.frames_drawn > 0
    # the live view shows a run: an image, a curve with one point per step, the snapshot strip
    shown = panel.live.image.image
    assert shown is not None and shown.shape == (28, 28)
    x, y = panel.live.curve.getData()
    assert len(x) == r.steps_used[panel.focus] and np.isfinite(y).all()
    assert panel.live.strip.image.shape[1] >= (1 + len(r.snapshot_steps)) * 28  # initial + snapshots
    # coloured into 32-bit pixels: an 8-bit indexed image is drawn scaled up about 7x slower every frame
    panel.live.image.render()  # what its next paint draws
    assert panel.live.image.qimage.format() != panel.live.image.qimage.Format.Format_Indexed8
    # atlas: one mosaic, crosses on the maps that do not react, labels are map numbers
    assert panel.atlas.image.image is not None
    assert len(panel.atlas.crosses.data) == int((~r.reacts).sum()) > 0
    assert "maps react" in panel.atlas_summary.text()
    # click a tile: the live view shows that map's run
    k = int(np.flatnonzero(r.reacts)[-1])
    tile = int(np.flatnonzero(panel.atlas.order == k)[0])
    panel.atlas.map_clicked.emit(tile)
    assert panel.focus == k and f"Map {int(r.maps[k])}:" in panel.live.status.text()
    np.testing.assert_allclose(panel.live.image.image, contrast_stretch(r.images[k, None, :, :, 0])[0])
    # exports: run figure, atlas figure, arrays, GIF
    run_png = w.export_active_view(str(tmp_path / "run.png"))
    assert run_png is not None and np.asarray(Image.open(run_png))[..., :3].std() > 20
    panel.pages.setCurrentIndex(1)
    atlas_png = w.export_active_view(str(tmp_path / "atlas.png"))
    assert Image.open(atlas_png).size[0] > Image.open(run_png).size[0] * 0.3
    npz = w.export_active_view(str(tmp_path / "oip.npz"))
    with np.load(npz) as data:
        assert data["images"].shape == (6, 28, 28, 1) and data["reacts"].dtype == bool
    gif = panel.save_gif(str(tmp_path / "run.gif"))
    with Image.open(gif) as im:
        assert im.n_frames >= 5  # an evolution, not a still
    w.grab().save(str(tmp_path / "panel.png"))


def test_contrast_toggle_and_sorting_change_the_atlas(sync_window):
    w, panel = sync_window
    panel.form.maps_edit.setText("2-9")
    panel.form.steps.setValue(15)
    panel.form.data_check.setChecked(False)
    panel.start()
    before = panel.atlas.image.image.copy()
    panel.contrast.setChecked(False)
    assert not np.allclose(np.nan_to_num(before), np.nan_to_num(panel.atlas.image.image))
    final = panel.atlas.image.image.copy()
    panel.show_initial.setChecked(True)  # the start images in the same places
    first = int(panel.atlas.order[0])
    initial = panel.result.initial
    # without contrast enhancement the grey start images share one range, coloured with the colour map
    expected = to_u8(colourise(initial[first][None], "viridis", float(initial.min()), float(initial.max())))
    np.testing.assert_array_equal(panel.atlas.cell_pixels(0), expected[0])
    assert not np.allclose(np.nan_to_num(final), np.nan_to_num(panel.atlas.image.image))
    panel.show_initial.setChecked(False)
    by_loss = panel.atlas.order.copy()
    panel.sort_box.setCurrentIndex(1)
    assert list(panel.atlas.order) == list(range(8)) and list(by_loss) != list(range(8))


def test_tree_selection_fills_layer_and_maps(sync_window):
    w, panel = sync_window
    w.state.select_maps("Conv2D_2", [3, 4, 5, 9])
    assert panel.form.layer == "Conv2D_2" and panel.form.maps_edit.text() == "3-5,9"


def test_presets_fill_the_form_and_bad_input_is_explained(sync_window):
    w, panel = sync_window
    panel.form.preset_box.setCurrentText("Strategy 1")
    assert panel.form.stages.text() == "20,40,80,400" and not panel.form.steps.isEnabled()
    assert panel.settings().total_steps == 540
    panel.form.preset_box.setCurrentText("Precursor")
    assert panel.form.precursor.value() == 32 and panel.form.redirect.value() == 100
    panel.form.maps_edit.setText("500")
    panel.start()
    assert "does not exist" in panel.info_label.text() and panel.result is None
    panel.form.maps_edit.setText("1")
    panel.form.factors.setText("a, b")
    panel.start()
    assert "must be numbers" in panel.info_label.text() and panel.result is None


def test_stop_takes_effect_through_the_compute_process(qtbot, default_model_path):
    w, panel = _window(qtbot, ComputeProcess(), default_model_path)
    try:
        panel.form.maps_edit.setText("all")
        panel.form.steps.setValue(100000)
        panel.start()
        assert panel.running
        qtbot.waitUntil(lambda: panel.frames_drawn >= 3, timeout=30000)  # frames arrive while it runs
        panel.stop()
        qtbot.waitUntil(lambda: not panel.running, timeout=5000)
        r = panel.result
        assert r is not None and r.stopped and r.steps_used.max() < 100000
        assert "stopped at step" in panel.atlas_summary.text()
        # the status bar's Stop keeps the partial result too
        panel.start()
        qtbot.waitUntil(lambda: panel.frames_drawn >= 3, timeout=30000)
        previous = panel.result
        w.stop_jobs()
        qtbot.waitUntil(lambda: not panel.running, timeout=5000)
        assert panel.result is not previous and panel.result.stopped
        assert w.bridge.restart_count == 0
    finally:
        w.close()


def test_a_class_output_can_be_the_target(sync_window):
    w, panel = sync_window
    w.state.select_layer("Dense_out")
    assert panel.form.layer == "Dense_out" and panel.form.n_units == 10
    panel.form.maps_edit.setText("3")
    panel.form.steps.setValue(10)
    panel.form.data_check.setChecked(False)
    panel.start()
    assert panel.result.kind == "logit" and panel.result.curves[0, -1] > panel.result.curves[0, 0]


def test_the_run_uses_and_shows_the_input_convention(sync_window, tmp_path):
    w, panel = sync_window
    panel.form.select_layer("Conv2D_1")
    panel.form.maps_edit.setText("0-2")
    panel.form.steps.setValue(5)
    panel.form.data_check.setChecked(False)
    panel.start()
    plain = panel.result
    assert plain.convention == "standardised" and "input standardised" in panel.atlas_summary.text()
    w.state.set_convention("0..1")  # as the Input pane's convention box does
    panel.start()
    r = panel.result
    assert panel.request.convention == "0..1" and r.convention == "0..1"
    assert not np.allclose(r.curves[:, 0], plain.curves[:, 0])  # the model saw other values
    assert "input 0..1" in panel.atlas_summary.text()
    assert "Input 0..1." in panel.live.status.text()
    with np.load(w.export_active_view(str(tmp_path / "oip.npz"))) as data:
        assert str(data["convention"]) == "0..1"
