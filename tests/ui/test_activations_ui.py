"""The Activations tab and the Input pane driven as a person would: draw, pick samples, choose layers,
click and hover maps, export; a CIFAR-style RGB model and an MLP."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_window
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt

from cnnviz_gui.core.preprocess import digit_from_ink
from cnnviz_gui.ui.input.dataset_browser import STRIP_PAGE


@pytest.fixture
def window(qtbot):
    w = make_window(qtbot)
    w.resize(1400, 900)
    return w


@pytest.fixture
def cnn_window(window, default_model_path, qtbot):
    window.open_model_file(str(default_model_path))
    window._set_default_input()
    qtbot.wait(1)
    return window


def draw(qtbot, canvas, points) -> None:
    """One stroke through ``points`` (canvas pixels) with the left button."""
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(*points[0]))
    for p in points[1:]:
        qtbot.mouseMove(canvas, QPoint(*p))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(*points[-1]))


def line(a, b, n=10):
    return [(int(a[0] + (b[0] - a[0]) * t), int(a[1] + (b[1] - a[1]) * t)) for t in np.linspace(0, 1, n)]


def tile_scene_pos(grid, i, row=0, col=0) -> QPointF:
    x, y = grid.tile_origin(i)
    vb = grid.plot.getViewBox()
    return vb.mapViewToScene(QPointF(x + col + 0.5, y + row + 0.5))


def view_pos(grid, scene_pos) -> QPoint:
    return grid.glw.mapFromScene(scene_pos)


def test_drawing_updates_the_model_view_and_the_prediction(cnn_window, qtbot):
    w = cnn_window
    panel = w.input_panel
    panel.tabs.setCurrentWidget(panel.draw)
    w.tabs.setCurrentWidget(w.activation_view)
    canvas, preview = panel.draw.canvas, panel.draw.preview
    sample_probs = w.activation_view.probs.probabilities.copy()
    size = canvas.width()
    draw(qtbot, canvas, line((size // 2, size // 8), (size // 2, size * 7 // 8)))  # a "1"
    assert w.state.input_label == "a drawing"
    one = preview.array.copy()
    assert one.shape == (28, 28) and one.max() > 0.9
    np.testing.assert_allclose(one, digit_from_ink(canvas.ink()))
    # MNIST-style: the ink fits a 20x20 box and its centre of mass is near the centre
    rows = np.flatnonzero(one.max(axis=1) > 0.05)
    assert rows[-1] - rows[0] + 1 <= 21
    yy, xx = np.indices(one.shape)
    assert abs((yy * one).sum() / one.sum() - 13.5) < 1.0 and abs((xx * one).sum() / one.sum() - 13.5) < 1.0
    probs_one = w.activation_view.probs.probabilities.copy()
    assert not np.allclose(probs_one, sample_probs)
    assert int(np.argmax(probs_one)) == 1
    np.testing.assert_allclose(w.state.input_image[..., 0], one)
    # a second stroke makes a "7": the preview and the prediction change
    draw(qtbot, canvas, line((size // 5, size // 8), (size // 2, size // 8)))
    seven = preview.array.copy()
    assert not np.allclose(seven, one)
    assert not np.allclose(w.activation_view.probs.probabilities, probs_one)
    assert canvas.strokes == 2
    # undo takes back the last stroke, clear empties
    panel.draw.undo_button.click()
    np.testing.assert_allclose(preview.array, one, atol=1e-6)
    panel.draw.clear_button.click()
    assert canvas.is_empty() and preview.array.max() == 0
    panel.draw.undo_button.click()
    np.testing.assert_allclose(preview.array, one, atol=1e-6)
    # the visible page's input is the current input: back to the dataset, then to the drawing again
    panel.tabs.setCurrentWidget(panel.browser)
    assert "sample #0" in w.state.input_label
    panel.tabs.setCurrentWidget(panel.draw)
    assert w.state.input_label == "a drawing"
    np.testing.assert_allclose(w.state.input_image[..., 0], one, atol=1e-6)


def test_eraser_and_brush_size(cnn_window, qtbot):
    panel = cnn_window.input_panel
    canvas = panel.draw.canvas
    panel.draw.brush_spin.setValue(30)
    draw(qtbot, canvas, line((40, 100), (180, 100)))
    thick = int((canvas.ink()[:, 110] > 0.5).sum())
    assert 26 <= thick <= 34
    panel.draw.eraser_button.click()
    assert canvas.eraser
    draw(qtbot, canvas, line((40, 100), (180, 100)))
    assert canvas.ink()[:, 60:160].max() == 0
    panel.draw.pen_button.click()
    assert not canvas.eraser


def test_dataset_browser_class_filter_step_random_and_strip(cnn_window, qtbot):
    w = cnn_window
    browser = w.input_panel.browser
    ds = browser.dataset
    assert "sample #0" in w.state.input_label and browser.index == 0
    assert w.state.dataset is ds and len(ds) == 10000
    browser.set_class_filter(4)
    fours = np.flatnonzero(ds.y == 4)
    assert browser.index == fours[0] and "(label 4)" in w.state.input_label
    browser.next_button.click()
    assert browser.index == fours[1]
    browser.prev_button.click()
    browser.prev_button.click()
    assert browser.index == fours[-1]  # wraps around within the class
    for _ in range(5):
        browser.random_button.click()
        assert ds.y[browser.index] == 4
    browser.select(int(fours[0]))
    assert browser.strip.count() == STRIP_PAGE  # a page of the class thumbnails
    item = browser.strip.item(3)
    assert int(item.data(Qt.ItemDataRole.UserRole)) == fours[3]
    browser.strip.itemClicked.emit(item)
    assert browser.index == fours[3]
    np.testing.assert_array_equal(w.state.input_image, ds.image(fours[3]))
    np.testing.assert_array_equal(browser.preview.array, ds.image(fours[3]))
    assert w.activation_view.acts.top_class == 4


def test_offline_keras_dataset_keeps_the_bundled_sample(cnn_window, monkeypatch):
    keras = pytest.importorskip("keras")

    def offline():
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    browser = cnn_window.input_panel.browser
    before = browser.dataset
    i = browser.source_box.findData("cifar10")
    browser.source_box.setCurrentIndex(i)
    browser.source_box.activated.emit(i)
    assert browser.message.isVisibleTo(browser) and "offline" in browser.message.text()
    assert browser.dataset is before and browser.source_box.currentData() == "mnist-sample"


def test_npz_dataset_source(cnn_window, tmp_path):
    x = (np.random.default_rng(0).random((12, 28, 28)) * 255).astype(np.uint8)
    np.savez(tmp_path / "mine.npz", x=x, y=np.arange(12) % 3)
    browser = cnn_window.input_panel.browser
    browser.load_source(str(tmp_path / "mine.npz"))
    assert browser.dataset.name == "mine.npz" and browser.class_box.count() == 4
    np.testing.assert_allclose(cnn_window.state.input_image[..., 0], x[0] / 255.0, atol=1e-6)


def test_image_file_input_and_refusal(cnn_window, tmp_path):
    w = cnn_window
    img = Image.new("L", (60, 80), 255)
    img.paste(0, (25, 10, 35, 70))  # a dark "1" on white paper
    img.save(tmp_path / "one.png")
    panel = w.input_panel
    assert panel.load_image(str(tmp_path / "one.png"))
    x = w.state.input_image
    assert x.shape == (28, 28, 1) and x[14, 14, 0] > 0.8 and x[1, 1, 0] < 0.1  # inverted to MNIST style
    assert w.state.input_label == "image one.png"
    (tmp_path / "bad.png").write_text("not an image")
    assert not panel.load_image(str(tmp_path / "bad.png"))
    assert "not an image file" in panel.image_panel.path_label.text()
    assert w.state.input_label == "image one.png"


def test_convention_is_guessed_shown_and_used(cnn_window):
    w = cnn_window
    panel = w.input_panel
    assert panel.convention_box.currentData() == "standardised"
    assert "cnnviz model" in panel.convention_note.text()
    before = w.activation_view.probs.probabilities.copy()
    panel.convention_box.setCurrentIndex(panel.convention_box.findData("0..255"))
    assert w.state.convention == "0..255"
    assert not np.allclose(w.activation_view.probs.probabilities, before)


def test_layer_selection_changes_the_grid(cnn_window, qtbot):
    w = cnn_window
    view, tree = w.activation_view, w.layer_tree
    tree.setCurrentItem(tree.layer_item("Conv2D_1"))
    assert view.grid.maps.shape == (32, 26, 26)
    np.testing.assert_allclose(view.grid.maps[3], view.acts.layers["Conv2D_1"][..., 3])
    first = view.grid.grab().toImage()
    tree.setCurrentItem(tree.layer_item("Conv2D_2"))
    assert view.grid.maps.shape == (64, 11, 11)
    assert "64 maps of 11x11" in view.layer_label.text()
    assert view.grid.grab().toImage() != first
    tree.setCurrentItem(tree.layer_item("Dense_1"))
    assert view.stack.currentWidget() is view.units
    np.testing.assert_allclose(view.units.values, view.acts.layers["Dense_1"])
    assert "dense layer" in view.status.text()


def test_click_a_map_shows_it_large_and_the_tree_follows(cnn_window, qtbot):
    w = cnn_window
    view = w.activation_view
    w.tabs.setCurrentWidget(view)
    w.layer_tree.setCurrentItem(w.layer_tree.layer_item("Conv2D_2"))
    qtbot.wait(10)
    grid = view.grid
    pos = view_pos(grid, tile_scene_pos(grid, 7, 4, 5))
    qtbot.mouseMove(grid.glw.viewport(), pos)
    m = grid.maps[7, 4, 5]
    assert grid.readout.text() == f"map 7  row 4, col 5  value {m:.4g}"
    qtbot.mouseClick(grid.glw.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert w.state.maps == [7] and view.large.index == 7
    np.testing.assert_allclose(view.large.image.image, grid.maps[7])
    selected = w.layer_tree.selectedItems()
    assert [it.text(0) for it in selected] == ["map 7"] and selected[0].parent().text(0) == "Conv2D_2"
    assert grid.highlight.isVisible()
    # hovering the large map reads out its values too
    qtbot.wait(10)
    large = view.large
    scene = large.plot.getViewBox().mapViewToScene(QPointF(2.5, 6.5))
    qtbot.mouseMove(large.viewport(), large.mapFromScene(scene))
    assert grid.readout.text() == f"map 7  row 6, col 2  value {grid.maps[7, 6, 2]:.4g}"


def test_colour_map_and_levels(cnn_window):
    view = cnn_window.activation_view
    cnn_window.state.select_layer("Conv2D_1")
    maps = view.grid.maps
    lo, hi = view.grid.levels  # shared by the layer, rounded outwards so the scale stays put while drawing
    assert lo <= maps.min() and maps.max() <= hi <= 1.25 * maps.max()
    view.levels_box.setCurrentIndex(1)
    assert view.grid.levels == (0.0, 1.0)
    shown = view.grid.image.image
    assert np.nanmax(shown) == pytest.approx(1.0)
    from cnnviz_gui.ui.widgets.map_grid import lookup_table

    view.colours.box.setCurrentText("jet")
    np.testing.assert_array_equal(view.grid.image.lut, lookup_table("jet"))
    view.colours.box.setCurrentText("gray")
    np.testing.assert_array_equal(view.grid.image.lut, lookup_table("gray"))


def test_export_figures_and_arrays(cnn_window, tmp_path):
    w = cnn_window
    w.tabs.setCurrentWidget(w.activation_view)
    w.state.select_layer("Conv2D_1")
    heads = {".png": b"\x89PNG", ".svg": b"<?xml", ".pdf": b"%PDF"}
    for ext, head in heads.items():
        path = w.export_active_view(str(tmp_path / f"maps{ext}"))
        assert path is not None and path.read_bytes()[:5].startswith(head)
    from cnnviz_gui.core.mosaic import mosaic_labels

    fig = w.activation_view.export_figure()
    assert {str(i) for i in range(32)} <= set(mosaic_labels(fig))  # every map with its index, one mosaic
    assert "Conv2D_1" in fig.get_suptitle() and any(ax.get_label() == "<colorbar>" for ax in fig.axes)
    path = w.export_active_view(str(tmp_path / "maps.npz"))
    with np.load(path) as data:
        np.testing.assert_allclose(data["activations"], w.activation_view.acts.layers["Conv2D_1"])
        assert data["probabilities"].shape == (10,) and str(data["layer"]) == "Conv2D_1"


@pytest.fixture(scope="module")
def cifar_path(tmp_path_factory):
    import keras
    from keras import layers

    keras.utils.set_random_seed(3)
    inp = keras.Input((32, 32, 3))
    h = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv_a")(inp)
    h = layers.BatchNormalization(name="bn")(h)
    h = layers.MaxPooling2D(2, name="pool")(h)
    h = layers.Dropout(0.3, name="drop")(h)
    h = layers.Conv2D(24, 3, padding="same", activation="relu", name="conv_b")(h)
    h = layers.GlobalAveragePooling2D(name="gap")(h)
    out = layers.Dense(10, activation="softmax", name="probs")(h)
    path = tmp_path_factory.mktemp("cifar") / "cifar_small.keras"
    keras.Model(inp, out, name="cifar_small").save(path)
    return path


def test_cifar_style_rgb_model_shows_maps_and_predictions(window, cifar_path, tmp_path, qtbot):
    window.open_model_file(str(cifar_path))
    window._set_default_input()
    view = window.activation_view
    assert window.state.layer == "conv_a"
    assert view.grid.maps.shape == (16, 32, 32)  # padding='same' keeps 32x32
    assert view.acts.probabilities.shape == (10,)
    window.state.select_layer("bn")
    assert view.grid.maps.shape == (16, 32, 32)
    window.state.select_layer("conv_b")
    assert view.grid.maps.shape == (24, 16, 16)
    rgb = np.zeros((40, 40, 3), np.uint8)
    rgb[:, :20, 0] = 255
    rgb[:, 20:, 2] = 255
    Image.fromarray(rgb).save(tmp_path / "rb.png")
    assert window.input_panel.load_image(str(tmp_path / "rb.png"))
    x = window.state.input_image
    assert x.shape == (32, 32, 3) and x[16, 2, 0] > 0.9 and x[16, 30, 2] > 0.9
    assert view.grid.maps.shape == (24, 16, 16)
    assert view.probs.text.startswith("predicted")


def test_mlp_shows_dense_activations_and_says_why_the_grid_is_empty(window, bad_models, qtbot):
    window.open_model_file(str(bad_models["mlp"]))
    window._set_default_input()
    view = window.activation_view
    assert view.stack.currentWidget() is view.units
    assert view.units.values.shape == (32,)
    message = view.grid.message.toPlainText()
    assert "no maps" in message or "no convolutional layers" in message
    assert "no convolutional layers" in view.status.text()
    assert view.acts.probabilities.shape == (10,)  # logits turned into probabilities
    assert "from logits" in view.probs.text


def test_a_new_model_gets_one_forward_pass_for_its_first_layer(cnn_window, default_model_path, qtbot):
    """Opening a model with an input shown asks once, for its first layer (its convention arrives before the
    layer is chosen: a pass for no layer was sent first and dropped, which cost a second trace on ResNet50)."""
    w = cnn_window
    asked = []
    original = w.bridge.request

    def spy(op, params=None, **kw):
        if op == "activations.forward":
            asked.append(list(params["layers"]))
        return original(op, params, **kw)

    w.bridge.request = spy
    w.open_model_file(str(default_model_path))
    qtbot.waitUntil(lambda: w.activation_view.current_output() is not None, timeout=10000)
    assert asked == [[w.state.info.conv_layers[0].name]]
