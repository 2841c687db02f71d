"""The Attribution tab: the heat map over the input, the target class, live maps while drawing, methods side
by side with Compare's pinned inputs, the sanity row, exports, sessions, RGB models and models it cannot
explain. The window runs the operations in this process (synchronously); the last test draws on the real
compute process."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_window
from PySide6.QtCore import QPoint, Qt

from cnnviz_gui.core.attribution import AttributionRequest, attribute, sanity_check


@pytest.fixture
def window(qtbot, default_model_path):
    w = make_window(qtbot)
    w.resize(1400, 900)
    w.open_model_file(str(default_model_path))
    w._set_default_input()
    w.tabs.setCurrentWidget(w.attribution_view)
    return w


def loaded_model(w):
    """The model as the (in-process) compute side holds it, for expected values."""
    return w.bridge.backend.store.model(w.state.model_id)


def grey_u8(image01: np.ndarray) -> np.ndarray:
    return np.repeat(np.clip(image01 * 255 + 0.5, 0, 255).astype(np.uint8), 3, axis=-1)


def ops_asked(w) -> list[str]:
    """Record the operations the window asks for from now on."""
    asked: list[str] = []
    original = w.bridge.request

    def request(op, params=None, **kw):
        asked.append(op)
        return original(op, params, **kw)

    w.bridge.request = request
    return asked


def draw_stroke(qtbot, canvas, x: int, moves: int = 6, during=None) -> None:
    """A stroke down the canvas at ``x``; ``during(step)`` runs after each move, before the release."""
    size = canvas.width()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(x, size // 6))
    for step in range(moves):
        qtbot.mouseMove(canvas, QPoint(x + step % 2, size // 6 + (step + 1) * size // (moves + 2)))
        if during is not None:
            during(step)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(x, size * 5 // 6))


def test_overlay_of_the_default_input_shows_grad_cam_over_it(window):
    w, view = window, window.attribution_view
    image = w.state.input_image
    r = view.shown.result
    assert r is not None and r.method == "gradcam" and r.layer == "Conv2D_3"
    assert view.controls.layer_box.currentText() == "Conv2D_3" and view.controls.layer_box.isEnabled()
    expected = attribute(loaded_model(w), image, AttributionRequest("gradcam"), w.state.convention)
    np.testing.assert_allclose(r.attribution, expected.attribution, rtol=1e-4, atol=1e-6)
    shown = view.overlay.array
    assert shown.shape == (28, 28, 3) and shown.dtype == np.uint8
    plain = grey_u8(image)
    assert np.abs(shown.astype(int) - plain).mean() > 20  # the heat map is over the input
    view.controls.opacity.setValue(0)  # no heat map: the input itself
    assert np.abs(view.overlay.array.astype(int) - plain).max() <= 1
    # the raw map is Grad-CAM at the layer's resolution, with its colour bar's levels
    assert view.raw.array.shape == (3, 3)
    np.testing.assert_allclose(view.raw.array, expected.layer_map[0], rtol=1e-4, atol=1e-6)
    assert view.raw.levels[0] == 0.0 and view.raw.levels[1] >= expected.layer_map.max()
    predicted = int(np.argmax(expected.probabilities[0]))
    assert view.classes.classes[0] == predicted and len(view.classes.classes) == 5
    assert view.status.text().startswith(f"Grad-CAM for class {predicted}")
    assert w.messages == []


def test_choosing_another_class_changes_the_map(window, qtbot):
    w, view = window, window.attribution_view
    before = view.shown.result
    predicted = int(before.class_index[0])
    second = view.classes.classes[1]
    lst = view.classes.list
    qtbot.mouseClick(lst.viewport(), Qt.MouseButton.LeftButton, pos=lst.visualItemRect(lst.item(1)).center())
    after = view.shown.result
    assert int(after.class_index[0]) == second != predicted
    assert not np.allclose(after.attribution, before.attribution)
    expected = attribute(loaded_model(w), w.state.input_image, AttributionRequest("gradcam", second),
                         w.state.convention)  # fmt: skip
    np.testing.assert_allclose(after.attribution, expected.attribution, rtol=1e-4, atol=1e-6)
    assert view.classes.title.text() == f"Target class: {second}" and view.classes.follow_button.isEnabled()
    # the chosen class stays for the next input, until the prediction is followed again
    w.input_panel.browser.select(3)
    assert int(view.shown.result.class_index[0]) == second
    view.classes.follow_button.click()
    assert int(view.shown.result.class_index[0]) == int(np.argmax(view.shown.result.probabilities[0]))
    assert view.classes.title.text() == "Target class: the prediction"


def test_every_stroke_updates_the_overlay_and_slow_methods_wait_for_its_end(window, qtbot):
    w, view = window, window.attribution_view
    panel = w.input_panel
    panel.tabs.setCurrentWidget(panel.draw)
    canvas = panel.draw.canvas
    seen: list[np.ndarray] = []

    def check(step):
        # every segment's input is on screen at once, with a map computed for it
        assert view.shown.image is w.state.input_image and w.state.input_label == "a drawing"
        seen.append(view.overlay.array.copy())

    draw_stroke(qtbot, canvas, canvas.width() // 3, during=check)
    assert len(seen) == 6 and not np.array_equal(seen[0], seen[-1])
    first = view.shown.result
    assert first.method == "gradcam" and not view.preview
    draw_stroke(qtbot, canvas, canvas.width() * 2 // 3)
    assert not np.array_equal(view.overlay.array, seen[-1])

    # a slow method: a saliency preview while drawing, SmoothGrad once, when the stroke ends
    view.controls.set_method("smoothgrad")
    assert view.shown.result.method == "smoothgrad"
    asked = ops_asked(w)
    methods_during: list[str] = []
    draw_stroke(
        qtbot, canvas, canvas.width() // 2, during=lambda s: methods_during.append(view.shown.result.method)
    )
    assert methods_during == ["saliency"] * 6 and asked.count("attribution.compute") == 1
    assert asked.index("attribution.compute") > asked.index("attribution.live")
    r = view.shown.result
    assert r.method == "smoothgrad" and view.shown.image is w.state.input_image and not view.preview
    assert "SmoothGrad for class" in view.status.text() and not view.progress.isVisible()
    assert w.messages == []


def test_methods_side_by_side_with_the_pinned_inputs_as_rows(window):
    w, view = window, window.attribution_view
    ds = w.state.dataset
    fours = [int(i) for i in np.flatnonzero(ds.y == 4)[:2]]
    for i in fours:
        w.input_panel.browser.select(i)
        assert w.compare_view.pin_current()
    w.input_panel.browser.select(7)
    for key, box in view.methods_panel.boxes.items():
        box.setChecked(key in ("gradcam", "saliency", "ig"))
    view.methods_panel.compare_button.click()
    results = view.shown.comparison
    assert list(results) == ["gradcam", "saliency", "ig"]
    assert all(r.attribution.shape == (3, 28, 28) for r in results.values())
    assert view.shown.comparison_labels == ["current input", "pin 1", "pin 2"]
    # the same target class per row for every method: each row's predicted class
    np.testing.assert_array_equal(results["ig"].class_index, results["gradcam"].class_index)
    assert results["gradcam"].class_index[1] == 4 == results["gradcam"].class_index[2]
    images = np.stack([ds.image(i) for i in fours])
    expected = attribute(loaded_model(w), images, AttributionRequest("saliency"), w.state.convention)
    np.testing.assert_allclose(
        results["saliency"].attribution[1:], expected.attribution, rtol=1e-4, atol=1e-6
    )
    mosaic = view.methods_panel.mosaic
    h, w_ = mosaic.tile_shape
    pad = max(1, h // 14)
    assert mosaic.array.shape == (3 * h + 2 * pad, 4 * w_ + 3 * pad, 3)
    # row 2, column 0 is the second pinned input itself; its IG tile differs from it
    tile = mosaic.array[h + pad : 2 * h + pad, :w_]
    assert np.abs(tile.astype(int) - grey_u8(ds.image(fours[0]))).max() <= 1
    ig_tile = mosaic.array[h + pad : 2 * h + pad, 3 * (w_ + pad) : 3 * (w_ + pad) + w_]
    assert np.abs(ig_tile.astype(int) - tile).mean() > 5
    assert mosaic.rows[1].startswith("pin 1\nclass 4") and mosaic.columns == [
        "input",
        "Grad-CAM",
        "saliency",
        "IG",
    ]
    # without the pins: one row
    view.methods_panel.pins_box.setChecked(False)
    view.methods_panel.compare_button.click()
    assert len(view.shown.comparison_images) == 1 and mosaic.array.shape[0] == h
    assert w.messages == []


def test_sanity_row_shows_rank_correlations_and_what_they_mean(window):
    w, view = window, window.attribution_view
    view.sanity_panel.run_button.click()
    s = view.shown.sanity
    expected = sanity_check(
        loaded_model(w), w.state.input_image, w.state.convention, AttributionRequest("gradcam")
    )
    np.testing.assert_allclose(s.similarity, expected.similarity, atol=1e-5)
    mosaic = view.sanity_panel.mosaic
    assert len(mosaic.below) == len(s.maps) + 2 == len(mosaic.columns)
    for label, rho in zip(mosaic.below[2:], s.similarity, strict=True):
        assert f"ρ = {rho:.2f}" in label
    assert mosaic.below[2].startswith("+Dense_out")  # the output layer is randomised first
    sentence = view.sanity_panel.sentence.text()
    assert "explains the input, not the model" in sentence and s.verdict in sentence
    assert f"{s.randomized_similarity:.2f}" in view.status.text()
    assert view.lower.currentWidget() is view.sanity_panel and not view.progress.isVisible()


def test_exports_write_figures_and_the_command_lines_arrays(window, tmp_path):
    w, view = window, window.attribution_view
    view.export_box.setCurrentIndex(view.export_box.findData("methods"))
    assert w.export_active_view(str(tmp_path / "nothing.png")) is None
    assert w.messages[-1][0] == "Nothing to export"
    w.messages.clear()

    view.sanity_panel.run_button.click()
    arrays = np.load(w.export_active_view(str(tmp_path / "gradcam.npz")))
    assert {"attribution", "layer_map", "class_index", "score", "randomized_similarity"} <= set(arrays.files)
    assert arrays["attribution"].shape == (28, 28) and arrays["layer_map"].shape == (3, 3)
    np.testing.assert_allclose(arrays["attribution"], view.shown.result.attribution[0])
    assert float(arrays["randomized_similarity"]) == pytest.approx(view.shown.sanity.randomized_similarity)
    assert int(arrays["class_index"]) == int(view.shown.result.class_index[0])

    view.controls.set_method("ig")
    view.methods_panel.compare_button.click()
    arrays = np.load(w.export_active_view(str(tmp_path / "ig.npz")))
    assert "baseline_score" in arrays.files and "layer_map" not in arrays.files
    assert "randomized_similarity" not in arrays.files  # the sanity check was of Grad-CAM
    assert arrays["compare_ig"].shape == (1, 28, 28) and str(arrays["method"]) == "ig"

    for which in ("overlay", "methods", "sanity"):
        view.export_box.setCurrentIndex(view.export_box.findData(which))
        for suffix in ("png", "svg", "pdf"):
            path = w.export_active_view(str(tmp_path / f"{which}.{suffix}"))
            assert path is not None and path.stat().st_size > 2000, (which, suffix)
    assert (tmp_path / "overlay.png").read_bytes()[:4] == b"\x89PNG"
    assert "integrated gradients" in (tmp_path / "overlay.svg").read_text()
    assert w.messages == []


def test_session_keeps_method_colours_opacity_and_contrast(window, new_window, tmp_path):
    view = window.attribution_view
    view.controls.set_method("occlusion")
    view.controls.cmap_box.setCurrentText("magma")
    view.controls.opacity.setValue(30)
    view.controls.contrast.setValue(95.0)
    view.methods_panel.boxes["occlusion"].setChecked(False)
    view.controls.settings.patch.setValue(5)
    view.controls.settings.baseline.setCurrentText("blurred")
    view.export_box.setCurrentIndex(view.export_box.findData("sanity"))
    saved = view.session_state()
    path = window.sessions.save(tmp_path / "attribution")
    w2 = new_window()
    assert w2.sessions.open(path)
    again = w2.attribution_view
    assert again.session_state() == saved
    assert again.method == "occlusion" and again.controls.cmap == "magma" and again.controls.alpha == 0.3
    assert again.shown.result.params["patch"] == 5 and again.shown.result.method == "occlusion"
    again.restore_session({"method": "nonsense", "opacity": 7, "contrast": "high", "colormap": 3})
    assert again.session_state() == saved


def test_an_rgb_model_gets_a_colour_overlay(new_window, qtbot, tmp_path):
    import keras
    from PIL import Image

    inp = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(6, 3, activation="relu", name="conv_a")(inp)
    x = keras.layers.Conv2D(8, 3, activation="relu", name="conv_b")(x)
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.GlobalAveragePooling2D()(x))
    keras.Model(inp, out, name="tiny_rgb").save(tmp_path / "rgb.keras")
    rng = np.random.default_rng(1)
    picture = np.zeros((32, 32, 3), np.uint8)
    picture[:, :16, 0] = 220  # red left half, blue right half, a green square
    picture[:, 16:, 2] = 200
    picture[8:20, 8:20, 1] = 255
    picture += rng.integers(0, 30, picture.shape, dtype=np.uint8)
    Image.fromarray(picture).save(tmp_path / "colours.png")

    w = new_window()
    w.open_model_file(str(tmp_path / "rgb.keras"))
    w.tabs.setCurrentWidget(w.attribution_view)
    view = w.attribution_view
    w.state.set_input(np.zeros((28, 28, 1), np.float32), "a grey digit")  # fitted to 32x32x3 for the model
    assert view.shown.result.attribution.shape == (1, 32, 32)
    assert w.export_active_view(str(tmp_path / "grey.png")) is not None
    assert w.input_panel.show_image_file(str(tmp_path / "colours.png"))
    assert w.state.input_image.shape == (32, 32, 3)
    assert view.controls.layer_box.currentText() == "conv_b"
    r = view.shown.result
    assert r.attribution.shape == (1, 32, 32) and r.layer_map.shape == (1, 28, 28)
    view.controls.opacity.setValue(0)
    shown = view.overlay.array.astype(int)
    np.testing.assert_allclose(shown, np.clip(w.state.input_image * 255 + 0.5, 0, 255).astype(int), atol=1)
    assert np.abs(shown[..., 0] - shown[..., 2]).mean() > 100  # the input keeps its colours
    view.controls.opacity.setValue(60)
    assert np.abs(view.overlay.array.astype(int) - shown).mean() > 10
    view.controls.set_method("occlusion")
    assert view.shown.result.method == "occlusion" and view.shown.result.attribution.shape == (1, 32, 32)
    assert w.messages == []


def test_models_it_cannot_explain_get_a_message(new_window, bad_models):
    w = new_window()
    w.open_model_file(str(bad_models["mlp"]))
    w.tabs.setCurrentWidget(w.attribution_view)
    view = w.attribution_view
    w.state.set_input(np.zeros((28, 28, 1), np.float32), "blank")
    assert "has no image input" in view.status.text() and view.shown.result is None
    assert view.overlay.message.toPlainText() == view.status.text()

    from cnnviz_gui.core.latent.space import bundled_autoencoder_path

    asked = ops_asked(w)
    w.open_model_file(str(bundled_autoencoder_path("ae")))  # images out, not classes: nothing is asked
    w.state.set_input(np.zeros((28, 28, 1), np.float32), "blank")
    assert "not one vector of class scores" in view.status.text() and "Latent tab" in view.status.text()
    assert not [op for op in asked if op.startswith("attribution.")]

    w.open_model_file(str(bad_models["no_conv"]))  # an image model without maps: no Grad-CAM, saliency works
    assert view.method == "saliency" and not view.controls.layer_box.isEnabled()
    assert not view.controls.set_method("gradcam")
    assert view.shown.result is not None and view.shown.result.method == "saliency"
    assert w.messages == []


def test_a_hidden_tab_asks_for_nothing_and_catches_up_when_shown(window):
    w, view = window, window.attribution_view
    w.tabs.setCurrentWidget(w.activation_view)
    asked = ops_asked(w)
    w.input_panel.browser.select(11)
    w.input_panel.browser.select(12)
    assert "activations.forward" in asked and not [op for op in asked if op.startswith("attribution.")]
    assert view.shown.image is not w.state.input_image
    w.tabs.setCurrentWidget(view)
    assert asked.count("attribution.live") == 1 and view.shown.image is w.state.input_image


def test_drawing_updates_the_overlay_through_the_compute_process(live_window, qtbot, default_model_path):
    w = live_window
    view = w.attribution_view
    w.tabs.setCurrentWidget(view)
    w.open_model_file(str(default_model_path))
    qtbot.waitUntil(lambda: w.state.loaded is not None and view.shown.result is not None, timeout=120_000)
    panel = w.input_panel
    panel.tabs.setCurrentWidget(panel.draw)
    canvas = panel.draw.canvas
    before = view.overlay.array.copy()
    draw_stroke(qtbot, canvas, canvas.width() // 2, moves=8, during=lambda s: qtbot.wait(16))
    qtbot.waitUntil(lambda: view.shown.image is w.state.input_image, timeout=30_000)
    assert w.state.input_label == "a drawing" and view.shown.result.method == "gradcam"
    assert not np.array_equal(view.overlay.array, before)
    assert view.last_latency_ms is not None and w.messages == []

    # a slow method through the process: progress, then Stop (between two compiled calls: no restart)
    view.controls.set_method("ig")
    view.controls.settings.steps.setValue(2048)
    qtbot.waitUntil(lambda: view.shown.result.method == "ig" and not view.jobs, timeout=60_000)
    assert view.shown.result.params["steps"] == 2048
    view.sanity_panel.run_button.click()
    qtbot.waitUntil(lambda: view.progress.value() > 0, timeout=60_000)
    view.stop_button.click()
    qtbot.waitUntil(lambda: not view.jobs, timeout=10_000)
    assert view.status.text().startswith("Stopped") and view.shown.sanity is None
    assert not view.progress.isVisible() and w.messages == [] and w.bridge.restart_count == 0
