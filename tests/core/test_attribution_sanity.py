"""Sanity check by cascading randomisation, rank correlation, display helpers and the attribution figures."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from cnnviz_gui.core import attribution as attr
from cnnviz_gui.core.attribution import display
from cnnviz_gui.core.attribution.figures import comparison_figure, overlay_figure, sanity_figure
from cnnviz_gui.core.figures import save


def _digit(index=4000):
    from cnnviz_gui.core.datasets import load_bundled_mnist

    return load_bundled_mnist().x[index]


# -- Spearman ---------------------------------------------------------------------------------------------
def test_spearman_is_a_rank_correlation():
    a = np.random.default_rng(0).normal(size=(10, 10))
    assert attr.spearman(a, np.exp(3 * a)) == pytest.approx(1.0)  # any increasing transform
    assert attr.spearman(a, -a) == pytest.approx(-1.0)
    x = np.array([1.0, 2.0, 2.0, 3.0, 5.0])
    y = np.array([2.0, 1.0, 4.0, 3.0, 6.0])
    # by hand: ranks of x (1, 2.5, 2.5, 4, 5), of y (2, 1, 4, 3, 5)
    rx, ry = np.array([1, 2.5, 2.5, 4, 5]), np.array([2, 1, 4, 3, 5.0])
    expected = np.corrcoef(rx, ry)[0, 1]
    assert attr.spearman(x, y) == pytest.approx(expected)
    assert np.isnan(attr.spearman(a, np.zeros_like(a)))


# -- the check ---------------------------------------------------------------------------------------------
def test_sanity_check_leaves_the_loaded_model_unchanged(default_loaded):
    model = default_loaded.model
    before = [w.copy() for w in model.get_weights()]
    image = _digit()
    first = attr.attribute(default_loaded, image, attr.AttributionRequest("gradcam"))
    s = attr.sanity_check(default_loaded, image, request=attr.AttributionRequest("gradcam"))
    after = model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    again = attr.attribute(default_loaded, image, attr.AttributionRequest("gradcam"))
    np.testing.assert_array_equal(first.attribution, again.attribution)
    # five layers with weights, randomised one per step from the output down
    assert [names for names in s.steps] == [
        ["Dense_out"],
        ["Dense_1"],
        ["Conv2D_3"],
        ["Conv2D_2"],
        ["Conv2D_1"],
    ]
    assert s.maps.shape == (5, 28, 28) and s.similarity.shape == (5,)
    assert isinstance(s.randomized_similarity, float) and -1.0 <= s.randomized_similarity <= 1.0
    assert s.randomized_similarity == pytest.approx(float(s.similarity[-1]))
    np.testing.assert_allclose(s.original, first.attribution[0], rtol=1e-6)
    assert s.class_index == int(first.class_index[0]) and s.layer == "Conv2D_3"
    assert s.similarity[0] < 0.9  # randomising the output layer alone already changes Grad-CAM
    assert "explains the input, not the model" in s.explanation and s.verdict.startswith("Grad-CAM:")
    assert b"tensorflow" not in pickle.dumps(s) and b"keras" not in pickle.dumps(s)


def test_sanity_check_repeats_exactly_and_restores_the_copy(default_loaded):
    image = _digit(1200)
    request = attr.AttributionRequest("saliency")
    a = attr.sanity_check(default_loaded, image, request=request, max_steps=2)
    b = attr.sanity_check(default_loaded, image, request=request, max_steps=2)
    np.testing.assert_allclose(a.maps, b.maps, rtol=1e-5, atol=1e-7)
    assert a.steps == [["Dense_out", "Dense_1", "Conv2D_3"], ["Conv2D_2", "Conv2D_1"]]
    assert a.labels == ["+Dense_out…(3)", "+Conv2D_2…(2)"]
    copy = default_loaded.cache["attribution.sanity_copy"].model
    for w, c in zip(default_loaded.model.get_weights(), copy.get_weights(), strict=True):
        np.testing.assert_array_equal(w, c)


def test_sanity_check_of_a_frozen_nested_base():
    import keras

    from cnnviz_gui.core.models.loading import LoadedModel, describe

    bx = keras.Input((16, 16, 1))
    h = keras.layers.Conv2D(4, 3, activation="relu", name="c1")(bx)
    h = keras.layers.BatchNormalization(name="bn")(h)
    base = keras.Model(bx, keras.layers.Conv2D(4, 3, activation="relu", name="c2")(h), name="base")
    base.trainable = False
    model = keras.Sequential(
        [
            keras.Input((16, 16, 1)),
            base,
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax", name="out"),
        ]
    )
    loaded = LoadedModel(model, describe(model, "frozen.keras", None))
    image = np.random.default_rng(0).uniform(size=(16, 16, 1)).astype(np.float32)
    before = [w.copy() for w in model.get_weights()]
    s = attr.sanity_check(loaded, image, "0..1", attr.AttributionRequest("saliency"))
    assert [n[0] for n in s.steps] == ["out", "c2", "bn", "c1"]
    assert not np.allclose(s.maps[-1], s.original)  # frozen weights are randomised in the copy too
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


# -- display helpers ---------------------------------------------------------------------------------------
def test_normalise_and_overlay():
    a = np.zeros((2, 4, 4), np.float32)
    a[0, 1, 1], a[0, 2, 2] = 2.0, 1.0
    a[1, 0, 0] = -3.0
    n = display.normalise(a, contrast=100.0)
    assert n[0, 1, 1] == 1.0 and n[0, 2, 2] == 0.5 and n[1].max() == 0.0
    s = display.normalise(a, contrast=100.0, signed=True)
    assert s[1, 0, 0] == -1.0 and s[0, 1, 1] == 1.0
    rgb = np.zeros((4, 4, 3), np.float32)
    rgb[..., 0] = 1.0  # a red image stays red where nothing is overlaid
    over = display.overlay_rgb(rgb, a[1], alpha=0.8, contrast=100.0, signed=True)
    np.testing.assert_allclose(over[3, 3], [0.6, 0.0, 0.0])  # dimmed by alpha / 2, still red
    assert not np.allclose(over[0, 0], [1.0, 0.0, 0.0])
    plain = display.overlay_rgb(rgb, a[0], alpha=0.0)
    np.testing.assert_allclose(plain, rgb)
    with pytest.raises(ValueError, match="unknown colour map"):
        display.overlay_rgb(rgb, a[0], cmap="nocmap")


def test_baselines():
    x = np.random.default_rng(0).uniform(size=(2, 20, 20, 3)).astype(np.float32)
    assert display.baseline_images(x, "black").max() == 0.0
    mean = display.baseline_images(x, "mean")
    np.testing.assert_allclose(mean[0, 5, 5], x[0].mean(axis=(0, 1)), rtol=1e-5)
    blurred = display.baseline_images(x, "blurred")
    assert blurred.std() < 0.3 * x.std()  # the shapes are gone
    np.testing.assert_allclose(blurred.mean(axis=(1, 2)), x.mean(axis=(1, 2)), atol=0.02)  # colours kept


# -- figures -----------------------------------------------------------------------------------------------
def _texts_inside(fig) -> bool:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = fig.bbox
    for text in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_window_extent")):
        if not text.get_visible() or not text.get_text():
            continue
        ext = text.get_window_extent(renderer)
        if ext.x0 < box.x0 - 1 or ext.x1 > box.x1 + 1 or ext.y0 < box.y0 - 1 or ext.y1 > box.y1 + 1:
            return False
    return True


def test_figures_are_written_and_their_text_fits(default_loaded, tmp_path):
    from PIL import Image

    from cnnviz_gui.core.datasets import load_bundled_mnist

    ds = load_bundled_mnist()
    images = ds.x[[4000, 4500, 5000]]
    results = attr.compare_methods(
        default_loaded,
        images,
        methods=["gradcam", "saliency", "ig", "occlusion"],
        request=attr.AttributionRequest(steps=8),
    )
    fig = comparison_figure(images, results, labels=["#4000", "#4500", "#5000"])
    assert len(fig.axes) == 1  # one mosaic
    assert _texts_inside(fig)
    save(fig, tmp_path / "compare.png")
    png = np.asarray(Image.open(tmp_path / "compare.png"))
    assert png.shape[1] > png.shape[0] > 300 and png[..., :3].std() > 20

    s = attr.sanity_check(default_loaded, images[0], request=attr.AttributionRequest("gradcam"))
    fig = sanity_figure(images[0], s)
    assert len(fig.axes) == 1 and _texts_inside(fig)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels[:2] == ["input", "original"] and "ρ =" in labels[2]
    save(fig, tmp_path / "sanity.svg")
    assert (tmp_path / "sanity.svg").read_text().lstrip().startswith(("<?xml", "<svg"))

    fig = overlay_figure(images[0], results["ig"], sanity=s, title="a long title " * 12)
    assert _texts_inside(fig)
    save(fig, tmp_path / "overlay.pdf")
    assert (tmp_path / "overlay.pdf").read_bytes()[:4] == b"%PDF"


def test_rgb_inputs_are_shown_in_colour():
    rgb = np.zeros((32, 32, 3), np.float32)
    rgb[:, :16, 0] = 1.0
    rgb[:, 16:, 2] = 1.0
    result = attr.AttributionResult(
        "saliency", np.zeros((1, 32, 32), np.float32), np.array([0]), np.array([1.0], np.float32),
        np.array([[1.0]], np.float32), np.array([[1.0]], np.float32),
    )  # fmt: skip
    fig = overlay_figure(rgb, result, parts=("input",))
    shown = fig.axes[0].get_images()[0].get_array()
    np.testing.assert_allclose(np.asarray(shown)[0, 0], [1, 0, 0])
    np.testing.assert_allclose(np.asarray(shown)[0, 31], [0, 0, 1])
