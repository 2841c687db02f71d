"""The OIP tab on an RGB model and with dataset exemplars, driven as a person would: Lucid chosen for an RGB
model, colour frames and K images side by side, colour atlas tiles followed by the dataset patches that
drive each map hardest (the same ones ``find_exemplars`` names), sorting by the quality read-outs, tooltips,
exports, and colour frames through the real compute process with Stop keeping the partial result."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_window
from PIL import Image
from PySide6.QtCore import QPointF

from cnnviz_gui.core.labelled_grid import contrast_stretch
from cnnviz_gui.core.oip.figures import atlas_order
from cnnviz_gui.core.oip.types import PRESET_DESCRIPTIONS, PRESETS
from cnnviz_gui.ui.oip import images as im
from cnnviz_gui.ui.oip.form import OipForm

CLASSES = ["red horizontal", "green vertical", "blue diagonal", "yellow blob"]


@pytest.fixture(scope="session")
def rgb_files(tmp_path_factory):
    """A small RGB CNN trained on coloured textures (seconds) saved as .keras, and 400 texture images as an
    .npz dataset with class names."""
    from rgb_textures import textures, trained_rgb_cnn

    folder = tmp_path_factory.mktemp("rgb")
    model, accuracy = trained_rgb_cnn()
    assert accuracy > 0.9
    model.save(folder / "textures_cnn.keras")
    x, y = textures(400, seed=1)
    np.savez(folder / "textures.npz", x=(x * 255).astype(np.uint8), y=y, class_names=np.array(CLASSES))
    return folder / "textures_cnn.keras", folder / "textures.npz"


def _open(qtbot, path, backend=None):
    w = make_window(qtbot, backend)
    w.open_model_file(str(path))
    qtbot.waitUntil(lambda: w.state.info is not None and w.state.input_image is not None, timeout=120_000)
    w.tabs.setCurrentWidget(w.oip_panel)
    return w, w.oip_panel


def _rgb_window(qtbot, rgb_files, backend=None):
    """The RGB model open in its input range (0..1) with the textures as the Input pane's dataset."""
    model, data = rgb_files
    w, panel = _open(qtbot, model, backend)
    w.state.set_convention("0..1")
    w.input_panel.browser.load_source(str(data))
    qtbot.waitUntil(lambda: w.state.dataset_key == str(data), timeout=60_000)
    return w, panel


def _coloured(rgb: np.ndarray) -> bool:
    """Not grey: in at least 2 % of the pixels of an RGB uint8 image the channels differ by more than 40."""
    a = np.asarray(rgb, np.float32)
    return a.ndim == 3 and a.shape[-1] == 3 and float((np.ptp(a, axis=-1) > 40).mean()) > 0.02


def test_lucid_is_the_default_for_an_rgb_model_and_the_form_says_so(qtbot, rgb_files, default_model_path):
    w, panel = _open(qtbot, rgb_files[0])
    form = panel.form
    assert form.preset_box.currentText() == "Lucid"
    assert form.default_note.isVisible() and "Lucid" in form.default_note.text()
    assert "RGB" in form.default_note.text()
    assert form.preset_note.text() == PRESET_DESCRIPTIONS["Lucid"]
    assert form.steps.value() == 512 and form.optimizer.currentText() == "adam"
    assert form.settings().param == "fourier" and form.settings().transforms
    for name in PRESETS:  # every preset is described under the box
        form.preset_box.setCurrentText(name)
        assert form.preset_note.text() == PRESET_DESCRIPTIONS[name] != ""
    # a grey model gets the articles' preset, and the form says why
    w.open_model_file(str(default_model_path))
    qtbot.waitUntil(lambda: w.state.info is not None and w.state.info.input_shape[-1] == 1, timeout=60_000)
    assert form.preset_box.currentText() == "Seed (articles)" and "grey" in form.default_note.text()
    # the Input pane's dataset is the reference by default, named in the box
    assert form.reference_key(w.state.dataset_key) == w.state.dataset_key != ""
    assert w.state.dataset.name in form.reference.currentText()


def test_new_settings_reach_the_search_and_the_session(qtbot):
    form = OipForm()
    qtbot.addWidget(form)
    form.diversity.setValue(4)
    form.objective.setCurrentIndex(form.objective.findData("centre"))
    form.step_decay.setChecked(True)
    form.reference.setCurrentIndex(form.reference.findData(""))
    s = form.settings()
    assert (s.diversity, s.objective, s.step_decay) == (4, "centre", True)
    assert form.reference_key("fashion_mnist") is None and not form.data_check.isEnabled()
    saved = form.session_state()
    other = OipForm()
    qtbot.addWidget(other)
    other.restore_session(saved)
    assert other.session_state() == saved and other.settings() == s
    other.reference.setCurrentIndex(0)
    assert other.reference_key("") == "mnist-sample" and other.reference_key("cifar10") == "cifar10"
    form.diversity.setValue(17)  # the box keeps to 1..16
    assert form.diversity.value() == 16


def test_rgb_frames_atlas_and_exports_in_colour_with_three_images_side_by_side(qtbot, rgb_files, tmp_path):
    w, panel = _rgb_window(qtbot, rgb_files)
    assert panel.form.preset_box.currentText() == "Lucid"
    panel.form.select_layer("c4")
    panel.form.maps_edit.setText("0-5")
    panel.form.steps.setValue(12)
    panel.form.diversity.setValue(3)
    live = []
    draw = panel._on_progress

    def record(fraction, text, frame):  # what the live view shows right after each frame
        draw(fraction, text, frame)
        if frame is not None:
            live.append((np.array(panel.live.image.image), np.array(panel.live.strip.image)))

    panel._on_progress = record
    panel.start()
    r = panel.result
    assert r is not None and r.images.shape == (6, 3, 48, 48, 3) and r.convention == "0..1"
    # live: the three images of a map side by side in colour, the snapshot strip in colour
    assert len(live) >= 5
    frame, strip = live[-1]
    assert frame.dtype == np.uint8 and frame.shape == (48, 3 * 48 + 2 * 2, 3) and _coloured(frame)
    assert strip.ndim == 3 and strip.shape[-1] == 3 and _coloured(strip)
    # the finished run: the live view shows the focused map's three final images, exactly
    shown = panel.live.image.image
    expected = im.to_u8(contrast_stretch(r.image_sets()[panel.focus]))
    for j in range(3):
        np.testing.assert_array_equal(shown[:, j * 50 : j * 50 + 48], expected[j])
    assert not np.array_equal(expected[0], expected[1])  # three different images
    # the atlas: a tile holds the three colour images of its map
    k = int(np.flatnonzero(r.reacts[panel.atlas.order])[0])
    i = int(panel.atlas.order[k])
    tile = im.to_u8(contrast_stretch(r.image_sets()[i]))
    for j in range(3):
        np.testing.assert_array_equal(panel.atlas.cell_pixels(k, "oip", j), tile[j])
    assert _coloured(panel.atlas.cell_pixels(k, "oip", 0))
    assert "3 images per map" in panel.atlas_summary.text()
    # exports: the npz with the command line's keys, the atlas figure, a colour GIF
    with np.load(w.export_active_view(str(tmp_path / "oip.npz"))) as data:
        assert data["images"].shape == (6, 3, 48, 48, 3) and data["model_inputs"].shape == (6, 3, 48, 48, 3)
        assert data["shift_kept"].shape == (6,) and data["vs_best_exemplar"].shape == (6,)
        assert int(data["diversity"]) == 3 and str(data["convention"]) == "0..1"
    panel.pages.setCurrentIndex(1)
    atlas_png = w.export_active_view(str(tmp_path / "atlas.png"))
    assert atlas_png is not None and _coloured(np.asarray(Image.open(atlas_png).convert("RGB")))
    gif = panel.save_gif(str(tmp_path / "run.gif"))
    with Image.open(gif) as animation:
        assert animation.n_frames >= 5
        animation.seek(animation.n_frames - 1)
        assert _coloured(np.asarray(animation.convert("RGB")))
    panel.resize(1200, 800)
    w.grab().save(str(tmp_path / "rgb_atlas.png"))


def test_exemplars_beside_the_tiles_are_find_exemplars_and_sorting_follows_atlas_order(
    qtbot, default_model_path, default_loaded, tmp_path
):
    from cnnviz_gui.core.activations.exemplars import find_exemplars

    w, panel = _open(qtbot, default_model_path)
    panel.form.maps_edit.setText("0-15")
    panel.form.steps.setValue(20)
    panel.exemplar_check.setChecked(True)  # before the run: they are found when it ends
    panel.start()
    r = panel.result
    ex = panel.exemplars
    assert ex is not None and ex.top == 3 and list(ex.maps) == list(r.maps)
    expected = find_exemplars(default_loaded, "Conv2D_3", maps=list(r.maps), top=3)
    np.testing.assert_array_equal(ex.indices, expected.indices)
    assert r.reference_dataset == ex.dataset == expected.dataset
    # each tile: the OIP, then its three patches as the exported atlas draws them (grey, strongest first)
    atlas = panel.atlas
    assert atlas.layout_.n_oip == 1 and atlas.layout_.n_patches == 3
    for k in (0, len(r.maps) - 1):
        m = int(r.maps[atlas.order[k]])
        row = ex.position_of(m)
        patches = im.patches_rgb(ex.patches[row], ex.values[row] <= 0)
        for j in range(3):
            cell = atlas.cell_pixels(k, "patch", j)
            np.testing.assert_array_equal(cell, im.to_u8(im.fit(patches[j], atlas.layout_.cell)))
    assert "patches of" in panel.atlas_summary.text()
    # hover: the tooltip says how robust the OIP is, how it compares with the data, which image a patch is
    vb = atlas.plot.getViewBox()
    x, y = atlas.tile_origin(0)
    left = atlas.layout_.cell_left("patch", 1) + atlas.layout_.cell / 2
    atlas._on_mouse_moved(vb.mapViewToScene(QPointF(x + left, y + atlas.layout_.band + 5)))
    tip = atlas.glw.toolTip()
    m0 = int(r.maps[atlas.order[0]])
    assert f"image #{int(ex.indices[ex.position_of(m0), 1])}" in tip
    assert "under a 4-px shift" in tip and "the best image of" in tip
    # a click shows the map's run with its exemplars and the dataset images they come from
    atlas.map_clicked.emit(0)
    assert panel.focus == int(atlas.order[0]) and panel.live.exemplar_box.isVisibleTo(panel.live)
    first = f"#{int(ex.indices[ex.position_of(m0), 0])}"
    assert panel.live.exemplar_labels._items[0][2] == first and first in panel.live.exemplar_title.text()
    assert panel.live.exemplar_image.image.shape[1] > 3 * 2 * atlas.layout_.cell  # patch + whole image each
    # sorting by the quality read-outs follows core's atlas order
    by_loss = list(atlas.order)
    for key in ("shift", "vs_exemplar", "index"):
        panel.sort_box.setCurrentIndex(panel.sort_box.findData(key))
        assert list(atlas.order) == list(atlas_order(r, key))
    panel.sort_box.setCurrentIndex(panel.sort_box.findData("shift"))
    assert list(atlas.order) != by_loss
    # more per map: asked again (the dataset pass is cached); unticked: the tiles hold the OIP only
    panel.exemplar_top.setValue(5)
    assert panel.exemplars.top == 5 and atlas.layout_.n_patches == 5
    panel.exemplar_check.setChecked(False)
    assert atlas.layout_.n_patches == 0 and not panel.live.exemplar_box.isVisibleTo(panel.live)
    # exports carry the exemplars under the command line's keys
    panel.exemplar_check.setChecked(True)
    panel.pages.setCurrentIndex(1)
    with np.load(w.export_active_view(str(tmp_path / "oip.npz"))) as data:
        np.testing.assert_array_equal(data["exemplar_indices"], panel.exemplars.indices)
        assert data["exemplar_patches"].shape[:2] == (16, 5) and data["exemplar_positions"].shape == (
            16,
            5,
            2,
        )
        assert {"images", "model_inputs", "shift_kept", "vs_best_exemplar", "exemplar_values"} <= set(data)
    assert w.export_active_view(str(tmp_path / "atlas.png")) is not None
    assert "5 MNIST sample" in panel.export_figure()._suptitle.get_text()  # the figure holds the patches
    panel.exemplar_check.setChecked(False)
    assert "patches" not in panel.export_figure()._suptitle.get_text()


def test_without_reference_data_the_ratio_sort_is_not_offered(qtbot, default_model_path):
    w, panel = _open(qtbot, default_model_path)
    panel.form.select_layer("Conv2D_1")
    panel.form.maps_edit.setText("0-3")
    panel.form.steps.setValue(5)
    panel.sort_box.setCurrentIndex(panel.sort_box.findData("vs_exemplar"))
    panel.form.reference.setCurrentIndex(panel.form.reference.findData(""))
    panel.start()
    r = panel.result
    assert r.vs_best_exemplar is None and r.data_active is None
    item = panel.sort_box.model().item(panel.sort_box.findData("vs_exemplar"))
    assert not item.isEnabled() and panel.sort_key == "loss"


def test_colour_frames_through_the_compute_process_and_stop_keeps_the_partial_result(qtbot, rgb_files):
    from rgb_textures import textures

    from cnnviz_gui.core.runtime.compute_process import ComputeProcess

    w, panel = _rgb_window(qtbot, rgb_files, ComputeProcess())
    try:
        panel.form.select_layer("c3")
        panel.form.maps_edit.setText("0-7")
        panel.form.diversity.setValue(2)
        panel.form.steps.setValue(100_000)
        panel.start()
        qtbot.waitUntil(lambda: panel.frames_drawn >= 3, timeout=60_000)
        frame = np.array(panel.live.image.image)
        assert frame.dtype == np.uint8 and frame.shape == (48, 2 * 48 + 2, 3) and _coloured(frame)
        panel.stop()
        qtbot.waitUntil(lambda: not panel.running, timeout=10_000)
        r = panel.result
        assert r is not None and r.stopped and 0 < r.steps_used.max() < 100_000
        assert r.images.shape == (8, 2, 48, 48, 3) and "stopped at step" in panel.atlas_summary.text()
        # exemplars of the partial result; then Stop during a pass over a larger dataset
        panel.exemplar_check.setChecked(True)
        qtbot.waitUntil(lambda: panel.exemplars is not None, timeout=60_000)
        assert panel.atlas.layout_.n_patches == 3 and list(panel.exemplars.maps) == list(range(8))
        big = rgb_files[1].with_name("more_textures.npz")
        x, y = textures(2500, seed=2)
        np.savez(big, x=(x * 255).astype(np.uint8), y=y, class_names=np.array(CLASSES))
        w.input_panel.browser.load_source(str(big))
        qtbot.waitUntil(lambda: w.state.dataset_key == str(big), timeout=60_000)
        panel.form.reference.setCurrentIndex(panel.form.reference.findData(""))  # the run makes no pass
        panel.form.steps.setValue(3)
        panel.start()
        qtbot.waitUntil(lambda: not panel.running and panel.finder.running, timeout=60_000)
        panel.stop()
        qtbot.waitUntil(lambda: not panel.finder.running, timeout=10_000)
        assert panel.exemplars is None and not panel.exemplar_check.isChecked()
        assert "stopped" in panel.exemplar_status.text() and panel.atlas.layout_.n_patches == 0
        assert w.bridge.restart_count == 0  # the pass stopped between batches
    finally:
        w.close()


def test_an_unreadable_reference_dataset_is_explained(qtbot, default_model_path, tmp_path):
    w, panel = _open(qtbot, default_model_path)
    panel.form.select_layer("Conv2D_1")
    panel.form.maps_edit.setText("0-3")
    panel.form.steps.setValue(3)
    w.state.dataset_key = str(tmp_path / "gone.npz")  # as if the Input pane's file had been deleted
    panel.start()
    assert "reference dataset could not be loaded" in panel.info_label.text() and panel.result is None
    assert not panel.running and panel.start_button.isEnabled()
    panel.form.reference.setCurrentIndex(panel.form.reference.findData(""))
    panel.start()
    assert panel.result is not None and panel.result.vs_best_exemplar is None
