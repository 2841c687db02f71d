"""OIP search in the model's input convention: the standardised image is mapped to 0..1 or 0..255 on its way
into the model; data activation is checked in the same convention; results carry the convention."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz_gui.core.oip import engine as oip


def _loaded(model):
    from cnnviz_gui.core.models.loading import LoadedModel, describe

    return LoadedModel(model, describe(model, "tiny.keras", None))


def _conv_model(first=None, seed: int = 3):
    """A tiny CNN on 14x14 grey images, optionally with ``first`` (a rescaling layer) before its convs."""
    import keras

    x = keras.Input((14, 14, 1))
    h = first(x) if first is not None else x
    h = keras.layers.Conv2D(4, 3, activation="relu", name="c1")(h)
    out = keras.layers.Conv2D(3, 3, activation="relu", name="c2")(h)
    model = keras.Model(x, out)
    rng = np.random.default_rng(seed)
    model.get_layer("c1").set_weights(
        [rng.normal(size=(3, 3, 1, 4)).astype(np.float32), np.array([0.2, -0.1, 0.0, 0.1], np.float32)]
    )
    model.get_layer("c2").set_weights(
        [rng.normal(size=(3, 3, 4, 3)).astype(np.float32) * 0.5, np.full(3, 0.05, np.float32)]
    )
    return _loaded(model)


def test_the_0_1_mapping_matches_the_bundled_digits():
    from cnnviz_gui.core.datasets import load_bundled_mnist

    x = load_bundled_mnist().x
    scale, offset = oip.input_affine("0..1")
    assert scale == pytest.approx(x.std(axis=(1, 2, 3)).mean(), abs=1e-3)
    assert offset == pytest.approx(x.mean(axis=(1, 2, 3)).mean(), abs=1e-3)
    assert oip.input_affine("0..255") == pytest.approx((255 * scale, 255 * offset))
    assert oip.input_affine("standardised") == (1.0, 0.0)
    with pytest.raises(ValueError, match="unknown input convention 'bytes'"):
        oip.input_affine("bytes")


def test_a_0_255_model_sees_the_image_mapped_to_its_range():
    """A model that rescales 0..255 by 1/255 and is searched in "0..255" behaves, step by step, as the same
    convs behind a hand-made affine layer (x * std + mean of a 0..1 digit) searched on the standardised image."""
    import keras

    scale, offset = 0.3018, 0.1311  # a 0..1 digit's average per-image std and mean
    bytes_model = _conv_model(keras.layers.Rescaling(1 / 255))
    by_hand = _conv_model(keras.layers.Rescaling(scale, offset=offset))
    settings = oip.preset("Seed (articles)", steps=20, seed=2)
    got = oip.run_oip(bytes_model, oip.OipRequest("c2", [0, 1, 2], settings, convention="0..255"))
    want = oip.run_oip(by_hand, oip.OipRequest("c2", [0, 1, 2], settings))
    assert got.convention == "0..255" and want.convention == "standardised"
    assert np.isfinite(got.curves).all() and (want.curves[:, -1] > 0).any()
    np.testing.assert_allclose(got.curves, want.curves, rtol=1e-4, atol=1e-5)
    # the model received 255 * (0.3018 x + 0.1311) of the same standardised image x
    np.testing.assert_allclose((got.model_inputs / 255 - offset) / scale, want.model_inputs, atol=2e-3)
    np.testing.assert_allclose(want.model_inputs.std(axis=(1, 2, 3)), 1.0, atol=1e-3)
    # shown: the 0..1 image the 0..255 model saw, clipped to 0..1
    np.testing.assert_allclose(got.images, np.clip(got.model_inputs / 255, 0, 1), atol=1e-6)
    # fed unmapped (a wrong convention), the same model gives other losses: the mapping is not a no-op
    plain = oip.run_oip(bytes_model, oip.OipRequest("c2", [0, 1, 2], settings, convention="standardised"))
    assert not np.allclose(plain.curves[:, 0], got.curves[:, 0], rtol=1e-2)


def test_target_values_receive_scale_times_x_plus_offset():
    import keras

    x_in = keras.Input((6, 6, 1))
    ident = keras.layers.Conv2D(1, 1, use_bias=False, name="ident")
    model = keras.Model(x_in, ident(x_in))
    ident.set_weights([np.ones((1, 1, 1, 1), np.float32)])
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 1)).astype(np.float32)
    for convention in ("standardised", "0..1", "0..255"):
        target = oip.OipTarget(_loaded(model), "ident", convention)
        scale, offset = oip.input_affine(convention)
        got = np.asarray(target.values(x))
        np.testing.assert_allclose(got[:, 0], scale * x.mean(axis=(1, 2, 3)) + offset, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="unknown input convention"):
        oip.OipTarget(_loaded(model), "ident", "0..65535")


def _threshold_model():
    """Rescaling(1/255), then one 1x1 map relu(pixel - 0.5): only bright pixels in 0..255 activate it."""
    import keras

    x = keras.Input((28, 28, 1))
    h = keras.layers.Rescaling(1 / 255)(x)
    conv = keras.layers.Conv2D(1, 1, activation="relu", name="bright")
    model = keras.Model(x, conv(h))
    conv.set_weights([np.ones((1, 1, 1, 1), np.float32), np.array([-0.5], np.float32)])
    return _loaded(model)


def test_data_active_feeds_the_data_in_the_convention():
    from cnnviz_gui.core.datasets import Dataset, load_bundled_mnist
    from cnnviz_gui.core.oip.target import data_active

    full = load_bundled_mnist()
    ds = Dataset("few", full.x[:40], full.y[:40], full.class_names)
    loaded = _threshold_model()
    assert list(data_active(loaded, "bright", [0], dataset=ds, convention="0..255")) == [True]
    # standardised digits divided by 255 stay far below 0.5: the map never fires
    assert list(data_active(loaded, "bright", [0], dataset=ds)) == [False]
    assert list(data_active(loaded, "bright", [0], dataset=ds, convention="0..1")) == [False]
    with pytest.raises(ValueError, match="unknown input convention"):
        data_active(loaded, "bright", [0], dataset=ds, convention="raw")
    # the search passes its convention on to the data check
    res = oip.run_oip(
        loaded,
        oip.OipRequest("bright", [0], oip.preset("Seed (articles)", steps=2), True, convention="0..255"),
    )
    assert list(res.data_active) == [True] and res.convention == "0..255"
    arrays = res.to_arrays()
    assert str(arrays["convention"]) == "0..255"
    assert {"images", "losses", "reacts", "converged"} <= set(arrays)
