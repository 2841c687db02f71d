"""Photos of any size in the Input pane (centre crop or pad, previewed as the model gets them, dropped on
the window, grey or colour as the model needs), image folders as datasets, and a transfer-learned model (a
MobileNetV2 nested in a Sequential) whose nested layers are read out, shown large and exported."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_window
from PIL import Image

from cnnviz_gui.core.photos import photo_to_input
from cnnviz_gui.core.preprocess import to_model_range

keras = pytest.importorskip("keras")


@pytest.fixture
def transfer_window(qtbot, real_models):
    w = make_window(qtbot)
    w.resize(1400, 900)
    w.open_model_file(str(real_models["transfer"]))
    w.tabs.setCurrentWidget(w.activation_view)
    assert w.messages == []
    return w


def test_a_photo_is_cropped_or_padded_and_previewed_exactly_as_the_model_gets_it(transfer_window, photo_path):
    w = transfer_window
    panel, page = w.input_panel, w.input_panel.image_panel
    assert not page.mnist_box.isVisibleTo(page) and not page.invert_box.isVisibleTo(page)  # an RGB model
    assert page.fit == "crop"
    w.open_path(str(photo_path))  # what dropping the file on the window does
    assert panel.tabs.currentWidget() is page and w.state.input_label == "image house.jpg"
    x = w.state.input_image
    np.testing.assert_allclose(x, photo_to_input(photo_path, (96, 96, 3), "crop"), atol=1e-6)
    np.testing.assert_array_equal(page.preview.array, x)  # the preview is what goes in
    assert "96x96 RGB" in page.caption.text() and "centre of the 1200x800 picture" in page.caption.text()
    assert x[48, 48, 0] > 0.6 and x[48, 48, 1] < 0.3  # the red house, in colour
    crop_maps = w.activation_view.grid.maps.copy()
    page.set_fit("pad")  # the page's choice applies at once
    x = w.state.input_image
    np.testing.assert_allclose(x, photo_to_input(photo_path, (96, 96, 3), "pad"), atol=1e-6)
    assert x[:12].max() < 0.02 and x[-12:].max() < 0.02 and x[48].max() > 0.5  # black bars above and below
    np.testing.assert_array_equal(page.preview.array, x)
    assert "all of it, with black bars" in page.caption.text()
    assert not np.allclose(w.activation_view.grid.maps, crop_maps)  # the model saw the new input
    # the Model pane's thumbnail is in colour
    thumb = w.model_panel.input_image.pixmap().toImage()
    centre = thumb.pixelColor(thumb.width() // 2, thumb.height() // 2)
    assert centre.red() > 150 and centre.green() < 90


def test_grey_models_get_photos_in_grey_and_rgb_models_get_digits_as_three_channels(
    transfer_window, photo_path, default_model_path, qtbot
):
    w = transfer_window
    w.input_panel.select_sample(3)  # a grey MNIST digit into the RGB transfer model
    digit = w.state.input_image
    assert digit.shape == (28, 28, 1)
    acts = w.activation_view.acts
    assert acts is not None and acts.probabilities.shape == (4,) and w.messages == []
    assert w.activation_view.grid.maps is not None
    # the grey digit model: a photo arrives in grey (luma), fitted, and a light photo is not a digit on paper
    w.open_model_file(str(default_model_path))
    page = w.input_panel.image_panel
    page.mnist_box.setChecked(False)
    page.invert_box.setCurrentIndex(1)  # never invert
    assert w.input_panel.show_image_file(str(photo_path))
    x = w.state.input_image
    assert x.shape == (28, 28, 1) and "28x28 grey" in page.caption.text()
    luma = photo_to_input(photo_path, (28, 28, 3)) @ np.array([0.299, 0.587, 0.114], np.float32)
    np.testing.assert_allclose(x[..., 0], luma, atol=0.03)


def test_image_folders_with_and_without_class_subfolders_load_as_datasets(transfer_window, tmp_path):
    from drawn_photo import draw_photo

    big = draw_photo(3000, 2000)  # a 6-megapixel photo
    classed = tmp_path / "flowers"
    for name, shade in (("roses", 0), ("tulips", 80)):
        (classed / name).mkdir(parents=True)
        for k in range(2):
            img = big if k == 0 else Image.eval(big, lambda v, s=shade: min(255, v + s))
            img.save(classed / name / f"{k}.jpg", quality=85)
    flat = tmp_path / "holiday"
    flat.mkdir()
    for k in range(3):
        big.rotate(90 * k, expand=True).save(flat / f"img{k}.jpg", quality=85)
    browser = transfer_window.input_panel.browser
    browser.load_source(str(classed))
    ds = browser.dataset
    assert ds.name == "flowers" and len(ds) == 4 and list(ds.class_names) == ["roses", "tulips"]
    assert ds.x.shape[1:] == (171, 256, 3)  # scaled down: 256 pixels on the longer side, in colour
    assert browser.class_box.count() == 3 and browser.strip.count() == 4
    assert transfer_window.state.input_label == "flowers sample #0 (label roses)"
    browser.select(2)
    assert transfer_window.state.input_label == "flowers sample #2 (label tulips)"
    assert transfer_window.activation_view.acts.probabilities.shape == (4,)
    thumb = browser.strip.item(0).icon().pixmap(40, 40).toImage()
    wall = thumb.pixelColor(thumb.width() // 2 - 4, thumb.height() // 2 + 1)  # the red house, in colour
    assert wall.red() > 150 and wall.blue() < 90, wall.getRgb()
    browser.load_source(str(flat))
    ds = browser.dataset
    assert ds.name == "holiday" and len(ds) == 3 and list(ds.class_names) == ["holiday"]
    assert max(ds.x.shape[1:3]) == 256 and transfer_window.messages == []
    empty = tmp_path / "empty"
    empty.mkdir()
    browser.load_source(str(empty))
    assert browser.message.isVisibleTo(browser) and "has no images" in browser.message.text()
    assert browser.dataset.name == "holiday"


def test_a_nested_layer_is_selected_read_out_shown_large_and_exported(transfer_window, real_models, tmp_path):
    w = transfer_window
    tree = w.layer_tree
    base_item = tree.layer_item("mobilenetv2_0.35_96")
    assert base_item is not None and base_item.isExpanded() and base_item.childCount() > 10
    row = tree.layer_item("block_3_expand")
    assert row is not None and row.parent() is not None  # inside the base (and its block)
    w.input_panel.select_sample(0)
    image = np.random.default_rng(0).random((96, 96, 3)).astype(np.float32)
    w.state.set_input(image, "noise")
    tree.setCurrentItem(row)  # as a click does
    assert w.state.layer == "block_3_expand"
    view = w.activation_view
    base = real_models["base"]
    bare = keras.Model(base.inputs, base.get_layer("block_3_expand").output)
    x = to_model_range(image[None], w.state.convention)
    assert w.state.convention == "-1..1"
    want = np.moveaxis(bare(x, training=False).numpy()[0], -1, 0)
    np.testing.assert_allclose(view.grid.maps, want, atol=1e-4)
    assert view.layer_label.text() == f"block_3_expand — {len(want)} maps of 24x24"
    w.state.select_maps("block_3_expand", [5])
    np.testing.assert_allclose(view.large.map, want[5], atol=1e-4)
    assert tree.selectedItems()[0].text(0) == "map 5"
    assert "(Conv2D)" in w.layers_pane.details.text() and "block_3_expand_BN" in w.layers_pane.details.text()
    png = w.export_active_view(str(tmp_path / "nested.png"))
    assert png is not None and png.stat().st_size > 10_000 and w.messages == []
    arrays = np.load(w.export_active_view(str(tmp_path / "nested.npz")))
    np.testing.assert_allclose(np.moveaxis(arrays["activations"], -1, 0), want, atol=1e-4)
    assert str(arrays["layer"]) == "block_3_expand"
    # four classes: every bar is shown, no top-k
    assert w.activation_view.probs.shown == [0, 1, 2, 3]
    assert not w.activation_view.predictions.top_spin.isEnabled()
