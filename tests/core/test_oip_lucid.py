"""The Lucid preset on RGB models: Fourier parameterisation, colour, transformation robustness, diversity, all
input conventions (a small RGB CNN trained for a few seconds on coloured textures, ``tests/rgb_textures.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from rgb_textures import loaded_rgb_cnn

from cnnviz_gui.core.oip import engine as oip
from cnnviz_gui.core.oip import parameterisation as fourier
from cnnviz_gui.core.oip.transforms import TransformAmounts, random_transform, shifted
from cnnviz_gui.core.preprocess import CONVENTIONS, from_model_range, to_model_range, to_model_range_tf


@pytest.fixture(scope="module")
def rgb_loaded():
    return loaded_rgb_cnn()


def _tiny_rgb(size: int = 16):
    import keras

    from cnnviz_gui.core.models.loading import LoadedModel, describe

    keras.utils.set_random_seed(3)
    x = keras.Input((size, size, 3))
    h = keras.layers.Conv2D(6, 3, activation="relu", name="c1")(x)
    h = keras.layers.Conv2D(4, 3, activation="relu", name="c2")(h)
    model = keras.Model(x, keras.layers.Dense(3, name="head")(keras.layers.Flatten()(h)))
    return LoadedModel(model, describe(model, "tiny_rgb.keras", None))


# -- building blocks --------------------------------------------------------------------------------------
@pytest.mark.parametrize("channels", [1, 3])
def test_tensorflow_conventions_equal_the_numpy_ones(channels):
    x = np.random.default_rng(0).uniform(0, 1, size=(3, 9, 7, channels)).astype(np.float32)
    for convention in CONVENTIONS:
        got = to_model_range_tf(x, convention).numpy()
        np.testing.assert_allclose(
            got, to_model_range(x, convention), rtol=1e-5, atol=1e-4, err_msg=convention
        )
    with pytest.raises(ValueError, match="unknown input convention"):
        to_model_range_tf(x, "bytes")


def test_fourier_image_starts_grey_and_round_trips():
    shape = (20, 17, 3)
    scale = fourier.frequency_scale(20, 17)
    p = fourier.random_spectra(shape, [(0, 1), (0, 2)])
    assert p.shape == (2, *fourier.spectrum_shape(shape)) == (2, 2, 3, 20, 9)
    start = fourier.spectrum_to_display(p, shape, scale).numpy()
    assert start.shape == (2, 20, 17, 3) and abs(start.mean() - 0.5) < 0.02 and start.std() < 0.05
    np.testing.assert_array_equal(p[0], fourier.random_spectra(shape, [(0, 1)])[0])  # seeded per image
    image = np.random.default_rng(1).uniform(0.05, 0.95, size=(2, 20, 17, 3)).astype(np.float32)
    back = fourier.spectrum_to_display(fourier.display_to_spectrum(image, scale), shape, scale).numpy()
    np.testing.assert_allclose(back, image, atol=2e-3)
    # 1/f: low frequencies get more amplitude than high ones
    assert scale[1, 1] > 4 * scale[8, 8]


def test_random_transform_moves_and_is_differentiable():
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(0).uniform(size=(4, 24, 24, 3)).astype(np.float32))
    still = TransformAmounts(pad=0, jitter=0, jitter2=0, scale=(1.0, 1.0), rotate_deg=0.0)
    np.testing.assert_allclose(random_transform(x, still).numpy(), x.numpy(), atol=1e-5)
    moved = TransformAmounts(pad=4, jitter=3, jitter2=2)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = random_transform(x, moved)
        total = tf.reduce_sum(y * y)
    g = tape.gradient(total, x)
    assert y.shape == x.shape and g is not None and float(tf.reduce_sum(tf.abs(g))) > 0
    assert not np.allclose(y.numpy(), x.numpy(), atol=1e-2)
    img = np.zeros((1, 10, 10, 1), np.float32)
    img[0, 2, 3] = 1.0
    assert shifted(img, 4, 0)[0, 6, 3, 0] == 1.0 and shifted(img, 0, -2)[0, 2, 1, 0] == 1.0


# -- the preset ------------------------------------------------------------------------------------------------
def test_lucid_is_the_default_for_rgb_models_and_described():
    assert oip.default_preset(3) == "Lucid" and oip.default_preset(1) == "Seed (articles)"
    s = oip.PRESETS["Lucid"]
    assert (s.param, s.optimizer, s.transforms, s.steps, s.epsilon) == ("fourier", "adam", True, 512, 0.05)
    assert set(oip.PRESET_DESCRIPTIONS) == set(oip.PRESETS)
    assert "Default for RGB models" in oip.PRESET_DESCRIPTIONS["Lucid"]
    assert list(oip.PRESETS)[0] == "Seed (articles)"  # the articles' algorithm stays first


def test_lucid_ascends_in_colour_and_keeps_its_activation_under_shifts(rgb_loaded):
    """Acceptance: Lucid's OIPs keep >= 60 % of their activation under a 4-px shift, more than Seed's."""
    maps = list(range(8))
    lucid = oip.run_oip(
        rgb_loaded, oip.OipRequest("c4", maps, oip.preset("Lucid", steps=256), convention="0..1")
    )
    seed = oip.run_oip(
        rgb_loaded, oip.OipRequest("c4", maps, oip.preset("Seed (articles)"), convention="0..1")
    )
    assert lucid.images.shape == lucid.model_inputs.shape == (8, 48, 48, 3)
    assert 0.0 <= lucid.images.min() and lucid.images.max() <= 1.0
    np.testing.assert_array_equal(lucid.model_inputs, lucid.images)  # 0..1: the model sees the display values
    assert np.ptp(lucid.images - lucid.images.mean(axis=-1, keepdims=True)) > 0.3  # colour, not grey
    assert lucid.reacts.sum() >= 6
    both = lucid.reacts & seed.reacts
    assert both.sum() >= 3
    kept_lucid, kept_seed = lucid.shift_kept[both].mean(), seed.shift_kept[both].mean()
    assert kept_lucid >= 0.6 and kept_lucid > kept_seed + 0.02, (kept_lucid, kept_seed)
    assert (lucid.curves[lucid.reacts, -1] > lucid.curves[lucid.reacts, 0]).all()


def test_diversity_gives_different_images(rgb_loaded):
    """Acceptance: with diversity 3 the mean |cosine similarity| of a map's centred images is <= 0.5."""
    res = oip.run_oip(
        rgb_loaded,
        oip.OipRequest("c4", [0, 1, 5], oip.preset("Lucid", steps=192, diversity=3), convention="0..1"),
    )
    assert res.images.shape == res.model_inputs.shape == (3, 3, 48, 48, 3) and res.diversity == 3
    assert res.image_losses.shape == (3, 3) and res.initial.shape == (3, 48, 48, 3)
    np.testing.assert_allclose(res.losses, res.image_losses.mean(axis=1), rtol=1e-5)
    sims = []
    for i in np.flatnonzero(res.reacts):
        flat = res.images[i].reshape(3, -1)
        flat = flat - flat.mean(axis=1, keepdims=True)
        flat /= np.linalg.norm(flat, axis=1, keepdims=True)
        c = flat @ flat.T
        sims += [abs(c[0, 1]), abs(c[0, 2]), abs(c[1, 2])]
    assert len(sims) >= 6 and np.mean(sims) <= 0.5, np.mean(sims)
    arrays = res.to_arrays()
    assert arrays["images"].shape == (3, 3, 48, 48, 3) and int(arrays["diversity"]) == 3


def test_frames_carry_colour_and_the_k_images(rgb_loaded):
    frames = []
    req = oip.OipRequest(
        "c4", [0, 1], oip.preset("Lucid", steps=6, diversity=2), progress_hz=1e6, convention="0..1", focus=1
    )
    oip.run_oip(rgb_loaded, req, progress=lambda f, text, frame: frames.append(frame))
    last = [fr for fr in frames if fr is not None][-1]
    assert last.map_index == 1 and last.image.shape == (48, 48, 3) and last.images.shape == (2, 48, 48, 3)
    assert last.initial.shape == (48, 48, 3) and last.snapshots.shape[1:] == (48, 48, 3)
    assert 0 <= last.images.min() and last.images.max() <= 1


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_every_preset_works_in_every_convention(convention):
    loaded = _tiny_rgb()
    for name in ("Lucid", "Seed (articles)"):
        res = oip.run_oip(
            loaded, oip.OipRequest("c2", [0, 1, 2], oip.preset(name, steps=25), convention=convention)
        )
        assert res.convention == convention and res.images.shape == (3, 16, 16, 3)
        assert 0 <= res.images.min() and res.images.max() <= 1
        if convention != "standardised":  # a standardised input has no display values: shown stretched
            np.testing.assert_allclose(res.images, from_model_range(res.model_inputs, convention), atol=1e-4)
        if name == "Lucid":
            np.testing.assert_allclose(res.model_inputs, to_model_range(res.images, convention), atol=1e-3)
        rising = res.curves[:, -1] > res.curves[:, 0]
        assert rising[res.reacts].all() and res.reacts.any(), (name, res.curves[:, [0, -1]])


def test_centre_objective_reads_the_centre_neuron():
    loaded = _tiny_rgb(13)
    target = oip.OipTarget(loaded, "c2", "0..1", space="display")
    x = np.random.default_rng(0).uniform(size=(2, 13, 13, 3)).astype(np.float32)
    out = np.asarray(target.layer_output(x))
    assert out.shape == (2, 9, 9, 4)
    np.testing.assert_allclose(np.asarray(target.values(x, objective="centre")), out[:, 4, 4, :], rtol=1e-5)
    np.testing.assert_allclose(np.asarray(target.values(x)), out.mean(axis=(1, 2)), rtol=1e-5)
    res = oip.run_oip(loaded, oip.OipRequest("c2", [0], oip.preset("Lucid", steps=20, objective="centre")))
    assert res.curves[0, -1] > res.curves[0, 0] and str(res.to_arrays()["objective"]) == "centre"


def test_bad_settings_are_explained():
    with pytest.raises(ValueError, match="diversity"):
        oip.preset("Lucid", diversity=0).validate()
    with pytest.raises(ValueError, match="objective"):
        oip.preset("Lucid", objective="max").validate()
    with pytest.raises(ValueError, match="parameterisation"):
        oip.preset("Lucid", param="wavelet").validate()


def test_lucid_runs_are_reproducible_with_their_seed():
    loaded = _tiny_rgb()
    runs = [
        oip.run_oip(
            loaded, oip.OipRequest("c2", [0, 3], oip.preset("Lucid", steps=15, seed=s), convention="0..1")
        )
        for s in (4, 4, 5)
    ]
    np.testing.assert_array_equal(runs[0].images, runs[1].images)
    np.testing.assert_array_equal(runs[0].curves, runs[1].curves)
    assert not np.allclose(runs[0].images, runs[2].images)
