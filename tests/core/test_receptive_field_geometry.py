"""Where a map position looks in the input: receptive-field boxes equal the support of the gradient of that
position's value with respect to the input (on a linear network, where the gradient reaches every pixel)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz_gui.core.models.receptive_field import receptive_field_geometry, receptive_fields


def _config(model) -> dict:
    return {"class_name": type(model).__name__, "config": model.get_config()}


@pytest.fixture(scope="module")
def padded_model():
    import keras

    x = keras.Input((33, 31, 1))
    h = keras.layers.ZeroPadding2D(((1, 2), (0, 1)), name="pad")(x)
    h = keras.layers.Conv2D(2, 3, strides=2, padding="same", name="a")(h)
    h = keras.layers.Conv2D(2, 3, padding="valid", name="b")(h)
    h = keras.layers.AveragePooling2D(2, name="p")(h)  # linear: max pooling passes gradient to one pixel
    h = keras.layers.Conv2D(2, 5, strides=2, padding="same", name="c")(h)
    return keras.Model(x, h)


@pytest.mark.parametrize("layer", ["a", "b", "c"])
def test_boxes_equal_the_gradient_support(padded_model, layer):
    import keras
    import tensorflow as tf

    geo = receptive_field_geometry(_config(padded_model))[layer]
    sub = keras.Model(padded_model.inputs, padded_model.get_layer(layer).output)
    h, w = sub.output.shape[1:3]
    assert geo.map_size == (h, w)
    x = tf.constant(np.random.default_rng(0).uniform(size=(1, 33, 31, 1)).astype(np.float32))
    checked = 0
    for r, c in [(0, 0), (h - 1, w - 1), (1, min(2, w - 1)), (h // 2, w // 2)]:
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = tf.reduce_sum(sub(x)[0, r, c, :])
        support = np.abs(tape.gradient(value, x).numpy()[0, :, :, 0]) > 0
        rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
        top, left, bottom, right = geo.box(r, c)
        if not len(rows):  # the field lies wholly in the padding
            assert bottom <= 0 or top >= 33 or right <= 0 or left >= 31
            continue
        # the box clipped to the image is exactly where the gradient reaches
        assert (rows.min(), rows.max() + 1) == (max(top, 0), min(bottom, 33)), (r, c)
        assert (cols.min(), cols.max() + 1) == (max(left, 0), min(right, 31)), (r, c)
        checked += 1
    assert checked >= 3
    assert receptive_fields(_config(padded_model))[layer] == geo.size


def test_dilation_widens_the_field():
    import keras

    x = keras.Input((20, 20, 1))
    h = keras.layers.Conv2D(1, 3, dilation_rate=2, padding="same", name="d")(x)
    geo = receptive_field_geometry(_config(keras.Model(x, h)))["d"]
    assert geo.size == (5, 5) and geo.start == (0.0, 0.0) and geo.map_size == (20, 20)
    assert geo.box(0, 0) == (-2, -2, 3, 3)


def test_vgg16_fields():
    import keras

    vgg = keras.applications.VGG16(weights=None, include_top=False, input_shape=(128, 128, 3))
    geo = receptive_field_geometry(_config(vgg))
    g = geo["block3_conv3"]
    assert g.size == (40, 40) and g.jump == (4, 4) and g.map_size == (32, 32)
    assert geo["block5_pool"].size == (212, 212) and geo["block5_pool"].map_size == (4, 4)
