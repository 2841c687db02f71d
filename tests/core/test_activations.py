"""The activation probe and class statistics, on small models built here and on the bundled CNN."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from cnnviz_gui.core.activations.maps import maps_of, mosaic, normalise_per_map  # noqa: E402
from cnnviz_gui.core.activations.probe import PROBE_KEY, Probe, class_probabilities, forward, get_probe  # noqa: E402
from cnnviz_gui.core.activations.statistics import class_difference, class_statistics  # noqa: E402
from cnnviz_gui.core.datasets import Dataset, load_bundled_mnist  # noqa: E402
from cnnviz_gui.core.models.loading import LoadedModel, describe, open_model  # noqa: E402
from cnnviz_gui.core.preprocess import standardise  # noqa: E402
from cnnviz_gui.core.resources import default_model_path  # noqa: E402


def _loaded(model) -> LoadedModel:
    return LoadedModel(model, describe(model, "test.keras", None))


@pytest.fixture(scope="module")
def cnn():
    return open_model(default_model_path())


@pytest.fixture(scope="module")
def mnist():
    return load_bundled_mnist()


@pytest.fixture(scope="module")
def cifar_model():
    keras.utils.set_random_seed(1)
    inp = keras.Input((32, 32, 3))
    h = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_a")(inp)
    h = layers.BatchNormalization(name="bn")(h)
    h = layers.MaxPooling2D(2, name="pool")(h)
    h = layers.Dropout(0.5, name="drop")(h)
    h = layers.Conv2D(16, 3, padding="same", activation="relu", name="conv_b")(h)
    h = layers.GlobalAveragePooling2D(name="gap")(h)
    out = layers.Dense(10, name="logits")(h)
    return keras.Model(inp, out, name="cifar_small")


@pytest.fixture(scope="module")
def mlp():
    keras.utils.set_random_seed(2)
    inp = keras.Input((784,))
    h = layers.Dense(32, activation="relu", name="hidden")(inp)
    out = layers.Dense(10, activation="softmax", name="probs")(h)
    return keras.Model(inp, out, name="mlp")


def test_reference_cnn_probe_returns_every_layer_and_matches_the_model(cnn, mnist):
    acts = forward(cnn, mnist.x[0], "standardised")
    names = [layer.name for layer in cnn.info.layers]
    assert list(acts.layers) == names
    assert acts.layers["Conv2D_1"].shape == (26, 26, 32)
    assert acts.layers["Conv2D_3"].shape == (3, 3, 128)
    assert acts.layers["Dense_1"].shape == (70,)
    expected = cnn.model(standardise(mnist.x[:1]), training=False).numpy()[0]
    np.testing.assert_allclose(acts.layers["Dense_out"], expected, atol=1e-5)
    assert acts.probabilities is not None and not acts.from_logits
    assert acts.top_class == int(np.argmax(expected))
    # cached once per model
    assert cnn.cache[PROBE_KEY] is get_probe(cnn)


def test_reference_cnn_classifies_sample_digits(cnn, mnist):
    picks = np.arange(0, len(mnist), 500)
    right = sum(forward(cnn, mnist.x[i], "standardised").top_class == mnist.y[i] for i in picks)
    assert right >= 0.9 * len(picks)


def test_probe_does_not_retrace_for_new_batch_sizes(cnn, mnist):
    probe = get_probe(cnn)
    x = standardise(mnist.x[:5])
    probe(x[:1])
    n = probe._fn.experimental_get_tracing_count()
    out = probe(x)
    probe(x[:3])
    assert probe._fn.experimental_get_tracing_count() == n
    assert out["Conv2D_2"].shape == (5, 11, 11, 64)


def test_cifar_style_model_with_same_padding_batchnorm_and_dropout(cifar_model):
    loaded = _loaded(cifar_model)
    rng = np.random.default_rng(0)
    img = rng.random((32, 32, 3), dtype=np.float32)
    acts = forward(loaded, img, "0..1")
    assert acts.layers["conv_a"].shape == (32, 32, 8)  # 'same' keeps the size
    assert acts.layers["conv_b"].shape == (16, 16, 16)
    # inference mode: dropout is off, so two passes agree and match model(training=False)
    again = forward(loaded, img, "0..1")
    np.testing.assert_array_equal(acts.layers["drop"], again.layers["drop"])
    np.testing.assert_allclose(acts.layers["drop"], acts.layers["pool"], atol=1e-6)
    logits = cifar_model(img[None], training=False).numpy()[0]
    np.testing.assert_allclose(acts.layers["logits"], logits, atol=1e-5)
    # the output is logits: probabilities come from a softmax
    assert acts.from_logits
    assert acts.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert acts.top_class == int(np.argmax(logits))
    # a grey 28x28 digit is fitted to 32x32x3
    grey = np.zeros((28, 28, 1), np.float32)
    grey[8:20, 12:16] = 1.0
    assert forward(loaded, grey, "0..1").layers["conv_a"].shape == (32, 32, 8)


def test_mlp_on_784_inputs_gives_dense_activations_and_no_maps(mlp, mnist):
    loaded = _loaded(mlp)
    acts = forward(loaded, mnist.x[3], "0..1")
    assert acts.layers["hidden"].shape == (32,)
    assert maps_of(acts.layers["hidden"]) is None
    expected = mlp(mnist.x[3].reshape(1, 784), training=False).numpy()[0]
    np.testing.assert_allclose(acts.layers["probs"], expected, atol=1e-6)
    assert not loaded.info.conv_layers


def test_sequential_built_without_input_layer():
    keras.utils.set_random_seed(3)
    seq = keras.Sequential(
        [
            layers.Conv2D(4, 3, activation="relu", name="c"),
            layers.Flatten(name="f"),
            layers.Dense(3, name="d"),
        ]
    )
    seq.build((None, 12, 12, 1))
    probe = Probe(seq)
    assert probe.names == ["c", "f", "d"]
    x = np.random.default_rng(1).random((2, 12, 12, 1)).astype(np.float32)
    out = probe(x)
    np.testing.assert_allclose(out["d"], seq(x).numpy(), atol=1e-5)
    assert out["c"].shape == (2, 10, 10, 4)


def test_nested_models_are_read_out_layer_by_layer():
    keras.utils.set_random_seed(4)
    i = keras.Input((28, 28, 1))
    h = layers.Conv2D(4, 3, activation="relu", name="conv")(i)
    z = layers.Dense(2, name="z")(layers.Flatten(name="flat")(h))
    encoder = keras.Model(i, z, name="encoder")
    zi = keras.Input((2,))
    d = layers.Reshape((28, 28, 1), name="img")(layers.Dense(784, activation="sigmoid", name="up")(zi))
    decoder = keras.Model(zi, d, name="decoder")
    x = keras.Input((28, 28, 1))
    ae = keras.Model(x, decoder(encoder(x)), name="ae")
    probe = Probe(ae)
    assert probe.names == ["encoder", "conv", "flat", "z", "decoder", "up", "img"]
    assert probe.output_name == "decoder"
    imgs = np.random.default_rng(2).random((3, 28, 28, 1)).astype(np.float32)
    out = probe(imgs)
    np.testing.assert_allclose(out["z"], encoder(imgs).numpy(), atol=1e-5)
    np.testing.assert_allclose(out["encoder"], out["z"], atol=1e-6)
    np.testing.assert_allclose(out["img"], ae(imgs).numpy(), atol=1e-5)
    assert out["conv"].shape == (3, 26, 26, 4)
    # a nested Sequential block inside a Sequential model
    seq = keras.Sequential(
        [
            keras.Input((10, 10, 1)),
            keras.Sequential([layers.Conv2D(2, 3, name="k"), layers.ReLU(name="r")], name="block"),
            layers.Flatten(name="fl"),
        ]
    )
    p2 = Probe(seq)
    assert p2.names == ["block", "k", "r", "fl"]
    out2 = p2(imgs[:, :10, :10])
    np.testing.assert_allclose(out2["r"], np.maximum(out2["k"], 0), atol=1e-6)


def test_class_probabilities_passes_distributions_and_softmaxes_logits():
    p, logits = class_probabilities(np.array([0.1, 0.7, 0.2]))
    assert not logits and p[1] == pytest.approx(0.7)
    p, logits = class_probabilities(np.array([2.0, -1.0, 0.0]))
    assert logits and p.argmax() == 0 and p.sum() == pytest.approx(1.0)
    assert class_probabilities(np.zeros((3, 3)))[0] is None


def test_mosaic_places_maps_in_rows_with_padding():
    maps = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)
    grid = mosaic(maps, ncols=3, pad=1)
    assert grid.shape == (2 * 2 + 1, 3 * 3 + 2)
    np.testing.assert_array_equal(grid[0:2, 4:7], maps[1])
    np.testing.assert_array_equal(grid[3:5, 4:7], maps[4])
    assert np.isnan(grid[2]).all() and np.isnan(grid[3:5, 8:]).all()
    norm = normalise_per_map(np.stack([np.full((2, 2), 3.0), np.array([[0, 1], [2, 4.0]])]))
    assert norm[0].max() == 0 and norm[1].max() == 1 and norm[1, 0, 0] == 0


def test_class_statistics_and_difference_on_the_bundled_sample(cnn, mnist):
    stats = class_statistics(cnn, mnist, "Conv2D_3", "standardised", batch_size=100, max_per_class=30)
    assert stats.means.shape == (10, 128)
    assert stats.counts.tolist() == [30] * 10
    # recompute class 4 by hand from the probe
    idx = np.flatnonzero(mnist.y == 4)[:30]
    out = get_probe(cnn)(standardise(mnist.x[idx]))["Conv2D_3"]
    np.testing.assert_allclose(stats.means[4], out.mean(axis=(1, 2)).mean(axis=0), rtol=1e-4, atol=1e-5)
    active = (out.max(axis=(1, 2)) > 0).mean(axis=0)
    np.testing.assert_allclose(stats.active_fraction[4], active, atol=1e-6)
    assert np.array_equal(stats.silent[4], active < 0.05)
    diff = class_difference(stats, 4, 9)
    assert diff.diff.shape == (128,)
    np.testing.assert_allclose(diff.diff, stats.means[4] - stats.means[9], atol=1e-6)
    top = diff.order[0]
    assert abs(diff.separation[top]) == pytest.approx(np.abs(diff.separation).max())
    assert set(stats.to_arrays()) >= {"means", "silent", "counts", "class_names"}


def test_class_statistics_progress_cancel_and_dense_layers(cnn, mnist):
    seen = []
    ds = Dataset("tiny", mnist.x[::100], mnist.y[::100], mnist.class_names)
    stats = class_statistics(
        cnn, ds, "Dense_1", "standardised", batch_size=40, progress=lambda f, t: seen.append(f)
    )
    assert stats.means.shape == (10, 70)
    assert seen[-1] == pytest.approx(1.0) and len(seen) == 3
    assert class_statistics(cnn, ds, "Dense_1", "standardised", cancelled=lambda: True) is None
    with pytest.raises(KeyError, match="no layer 'nope'"):
        class_statistics(cnn, ds, "nope", "standardised")
