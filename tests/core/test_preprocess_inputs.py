"""Drawings to MNIST-style digits, image files to model inputs, and the input-convention guess."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnviz_gui.core.preprocess import (
    ImageInputError,
    digit_from_image,
    digit_from_ink,
    fit_input,
    guess_convention,
    image_to_input,
    render_strokes,
    standardise,
    to_model_range,
)


def _bbox(img, t=0.02):
    rows = np.flatnonzero(img.max(axis=1) > t)
    cols = np.flatnonzero(img.max(axis=0) > t)
    return rows[0], rows[-1], cols[0], cols[-1]


def _com(img):
    yy, xx = np.indices(img.shape)
    return (yy * img).sum() / img.sum(), (xx * img).sum() / img.sum()


def test_digit_is_cropped_scaled_into_20x20_and_centred_by_mass():
    ink = render_strokes([[(40, 30), (45, 200)]], size=(280, 280), brush=20)  # a tall "1" at the left
    digit = digit_from_ink(ink)
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    r0, r1, c0, c1 = _bbox(digit)
    assert 19 <= r1 - r0 + 1 <= 21  # the long side fills the 20-pixel box
    assert c1 - c0 + 1 < 10  # aspect ratio kept: a thin stroke stays thin
    cy, cx = _com(digit)
    assert abs(cy - 13.5) <= 0.6 and abs(cx - 13.5) <= 0.6
    # anti-aliased: intermediate grey values at the edges
    assert ((digit > 0.05) & (digit < 0.95)).sum() > 5
    assert 0.0 <= digit.min() and digit.max() <= 1.0


def test_digit_does_not_depend_on_where_or_how_large_it_was_drawn():
    a = digit_from_ink(render_strokes([[(30, 30), (80, 30), (30, 100), (80, 100)]], brush=10))
    b = digit_from_ink(render_strokes([[(140, 100), (240, 100), (140, 240), (240, 240)]], brush=20))
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.9


def test_empty_drawing_and_eraser():
    assert not digit_from_ink(np.zeros((280, 280))).any()
    erased = render_strokes([[(50, 50), (200, 200)], [(50, 50), (200, 200)]], brush=12, erase=[False, True])
    assert not erased.any()
    partly = render_strokes(
        [[(50, 140), (230, 140)], [(140, 100), (140, 180)]], brush=12, erase=[False, True]
    )
    assert partly[140, 60] == 1.0 and partly[140, 140] == 0.0


def test_image_file_grey_digit_on_paper_is_inverted_and_resized(tmp_path):
    img = np.full((100, 60), 255, np.uint8)  # white paper, narrow
    img[20:80, 25:35] = 0  # black bar
    path = tmp_path / "digit.png"
    Image.fromarray(img).save(path)
    x = image_to_input(path, (28, 28, 1))
    assert x.shape == (28, 28, 1) and x.dtype == np.float32
    assert x[0, 0, 0] == pytest.approx(0.0, abs=0.02)  # paper -> black background
    assert x[14, 14, 0] > 0.9  # ink -> light
    # padded, not stretched: the bar stays narrow
    assert (x[14, :, 0] > 0.5).sum() <= 4


def test_photo_of_a_digit_is_centred_like_mnist(tmp_path):
    rng = np.random.default_rng(0)
    paper = np.clip(rng.normal(225, 6, (300, 400)), 0, 255).astype(np.uint8)  # grey, noisy paper
    paper[40:110, 300:318] = 30  # a small dark "1" far off-centre
    path = tmp_path / "photo.jpg"
    Image.fromarray(paper).save(path, quality=85)
    x = digit_from_image(path)
    assert x.shape == (28, 28, 1)
    d = x[..., 0]
    top, bottom, left, right = _bbox(d, 0.1)
    assert bottom - top + 1 in (20, 21)  # the longer side fills the 20x20 box
    cy, cx = _com(d)
    assert abs(cy - 13.5) < 1.0 and abs(cx - 13.5) < 1.0
    assert d[0].max() < 0.1 and d[:, 0].max() < 0.1  # paper noise removed
    with pytest.raises(ImageInputError, match="does not exist"):
        digit_from_image(tmp_path / "missing.png")


def test_image_file_rgb_and_errors(tmp_path):
    rgb = np.zeros((40, 40, 3), np.uint8)
    rgb[..., 0] = 255
    path = tmp_path / "red.jpg"
    Image.fromarray(rgb).save(path)
    x = image_to_input(path, (32, 32, 3))
    assert x.shape == (32, 32, 3)
    assert x[..., 0].mean() > 0.9 and x[..., 1].mean() < 0.1
    bad = tmp_path / "not_an_image.png"
    bad.write_text("hello")
    with pytest.raises(ImageInputError, match="not an image file"):
        image_to_input(bad, (28, 28, 1))
    with pytest.raises(ImageInputError, match="does not exist"):
        image_to_input(tmp_path / "missing.png", (28, 28, 1))


def test_fit_input_flattens_converts_channels_and_resizes():
    img = np.random.default_rng(0).random((28, 28, 1)).astype(np.float32)
    assert fit_input(img, (784,)).shape == (784,)
    np.testing.assert_array_equal(fit_input(img, (784,)), img.ravel())
    rgb = fit_input(img, (32, 32, 3))
    assert rgb.shape == (32, 32, 3)
    np.testing.assert_allclose(rgb[..., 0], rgb[..., 2])
    assert fit_input(np.ones((4, 32, 32, 3), np.float32), (28, 28, 1)).shape == (4, 28, 28, 1)
    with pytest.raises(ValueError, match="does not fit"):
        fit_input(img, (100,))


def test_to_model_range_standardises_each_item_of_flat_batches():
    x = np.random.default_rng(1).random((3, 784)).astype(np.float32) * np.array([[1], [2], [3]], np.float32)
    s = to_model_range(x, "standardised")
    np.testing.assert_allclose(s.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(s.std(axis=1), 1, atol=1e-4)
    imgs = x.reshape(3, 28, 28, 1)
    np.testing.assert_allclose(to_model_range(imgs, "standardised"), standardise(imgs), atol=1e-6)


def test_guess_convention_from_first_layers():
    keras = pytest.importorskip("keras")
    from keras import layers

    def model(first, name="m"):
        i = keras.Input((28, 28, 1))
        h = first(i) if first else i
        return keras.Model(i, layers.Dense(2)(layers.Flatten()(h)), name=name)

    g = guess_convention(model(layers.Rescaling(1 / 255.0)))
    assert g.convention == "0..255" and "rescal" in g.reason
    norm = layers.Normalization(mean=120.0, variance=900.0)
    assert guess_convention(model(norm)).convention == "0..255"
    norm01 = layers.Normalization(mean=0.4, variance=0.1)
    assert guess_convention(model(norm01)).convention == "0..1"
    assert guess_convention(model(None, name="mnist_cnn")).convention == "standardised"
    plain = guess_convention(model(None))
    assert plain.convention == "standardised" and "assumed" in plain.reason
    # a Rescaling layer inside a nested first block is found too
    block = keras.Sequential([layers.Rescaling(1 / 127.5, offset=-1)], name="prep")
    assert guess_convention(model(block)).convention == "0..255"


def test_imagenet_conventions_match_keras_applications_preprocessing():
    """caffe, -1..1 and torch equal keras.applications' own preprocess_input on the same 0..255 pixels."""
    import keras

    from cnnviz_gui.core.preprocess import from_model_range, to_model_range

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(2, 5, 7, 3)).astype(np.float32)
    x01 = pixels / 255.0
    apps = keras.applications
    expected = {
        "caffe": apps.resnet50.preprocess_input(pixels.copy()),
        "-1..1": apps.mobilenet_v2.preprocess_input(pixels.copy()),
        "torch": apps.densenet.preprocess_input(pixels.copy()),
    }
    for convention, want in expected.items():
        got = to_model_range(x01, convention)
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-4, err_msg=convention)
        np.testing.assert_allclose(from_model_range(got, convention), x01, atol=1e-5, err_msg=convention)
    grey = to_model_range(x01[..., :1], "caffe")  # a grey image gets the mean of the three channel means
    np.testing.assert_allclose(grey, x01[..., :1] * 255 - np.mean([103.939, 116.779, 123.68]), rtol=1e-5)
