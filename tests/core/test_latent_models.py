"""Autoencoders: a short training run that saves and reopens in safe mode; recognising encoder and decoder."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz_gui.core.datasets import Dataset, load_bundled_mnist


@pytest.fixture(scope="module")
def small_mnist() -> Dataset:
    ds = load_bundled_mnist()
    return Dataset("small", ds.x[:320], ds.y[:320], ds.class_names)


@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_train_one_epoch_save_and_reopen_in_safe_mode(tmp_path, small_mnist, kind):
    from cnnviz_gui.core.latent.space import LatentSpace, recognise
    from cnnviz_gui.core.models.loading import open_model
    from cnnviz_gui.core.training.autoencoders import train_autoencoder

    seen = []
    res = train_autoencoder(
        tmp_path / f"{kind}.keras", kind=kind, epochs=1, dataset=small_mnist, n_train=256,
        progress=lambda f, text: seen.append((f, text)),
    )  # fmt: skip
    assert res.path is not None and res.path.exists()
    metrics = set(res.history)
    assert {"loss", "reconstruction_loss"} <= metrics
    assert ("kl_loss" in metrics) == (kind == "vae")
    if kind == "vae":  # the KL term is tracked and positive; loss = reconstruction + beta * KL after warm-up
        assert res.history["kl_loss"][0] > 0 and res.test_losses["kl_loss"] > 0
        assert res.test_losses["loss"] == pytest.approx(
            res.test_losses["reconstruction_loss"] + res.test_losses["kl_loss"], rel=1e-4
        )
    assert seen and seen[-1][0] == pytest.approx(1.0) and "epoch 1/1" in seen[-1][1]
    assert res.extent.shape == (2, 2) and res.r99 > 0

    loaded = open_model(res.path)  # safe mode on: the Sampling layer is registered, no Lambda
    parts = recognise(loaded.model)
    rec = parts.recognition
    assert (rec.kind, rec.how, rec.z_dim) == (kind, "nested", 2)
    assert (rec.encoder_name, rec.decoder_name) == ("encoder", "decoder")
    if kind == "vae":
        assert rec.encoder_outputs[rec.mean_index] == "z_mean"
        assert rec.encoder_outputs[rec.log_var_index] == "z_log_var"
        assert "VAE" in rec.message and "z_mean" in rec.message
    space = LatentSpace(parts)
    x = small_mnist.x[:8]
    z = space.encode(x).z
    direct = res.model.get_layer("encoder")(x)
    np.testing.assert_allclose(z, np.asarray(direct[0] if kind == "vae" else direct), atol=1e-4)
    out = space.decode(z)
    np.testing.assert_allclose(out, np.asarray(loaded.model(x)), atol=1e-4)


def _flat_autoencoder(name="flat_ae"):
    """A plain functional AE without sub-models: the bottleneck is a layer in the middle."""
    import keras
    from keras import layers

    x = keras.Input((28, 28, 1))
    h = layers.Flatten()(x)
    h = layers.Dense(16, activation="relu", name="enc_hidden")(h)
    z = layers.Dense(3, name="code")(h)
    h = layers.Dense(16, activation="relu", name="dec_hidden")(z)
    h = layers.Dense(784, activation="sigmoid")(h)
    return keras.Model(x, layers.Reshape((28, 28, 1), name="image_out")(h), name=name)


def test_nested_submodels_under_other_names_are_found():
    import keras

    from cnnviz_gui.core.latent.space import recognise
    from cnnviz_gui.core.training.autoencoders import build_decoder, build_encoder

    enc, dec = build_encoder(latent_dim=4), build_decoder(latent_dim=4)
    enc.name, dec.name = "compress", "expand"  # noqa: B010 - Keras allows renaming before use
    x = keras.Input((28, 28, 1))
    model = keras.Model(x, dec(enc(x)), name="renamed")
    rec = recognise(model).recognition
    assert (rec.how, rec.encoder_name, rec.decoder_name, rec.z_dim, rec.kind) == (
        "nested", "compress", "expand", 4, "ae"
    )  # fmt: skip
    assert sorted(rec.candidates) == ["compress", "expand"]
    # naming them explicitly gives the same; wrong names say what exists
    assert recognise(model, "compress", "expand").recognition.how == "named"
    from cnnviz_gui.core.latent.space import LatentError

    with pytest.raises(LatentError, match="sub-models: compress, expand"):
        recognise(model, "encoder", "expand")
    with pytest.raises(LatentError, match="Name both"):
        recognise(model, "compress", None)


def test_bottleneck_split_guess_and_explicit():
    from cnnviz_gui.core.latent.space import LatentError, LatentSpace, recognise

    model = _flat_autoencoder()
    guessed = recognise(model)
    rec = guessed.recognition
    assert (rec.how, rec.bottleneck, rec.z_dim) == ("guessed bottleneck", "code", 3)
    assert "guessed" in rec.message and "'code'" in rec.message
    assert {"enc_hidden", "code", "dec_hidden"} <= set(rec.bottleneck_candidates)
    x = load_bundled_mnist().x[:5]
    space = LatentSpace(guessed)
    # encoder then decoder reproduce the whole model
    np.testing.assert_allclose(space.decode(space.encode(x).z), np.asarray(model(x)), atol=1e-5)
    wide = recognise(model, bottleneck="enc_hidden").recognition
    assert (wide.how, wide.z_dim, wide.encoder_name) == ("bottleneck", 16, "input..enc_hidden")
    with pytest.raises(LatentError, match="not a vector"):
        recognise(model, bottleneck="image_out")
    with pytest.raises(LatentError, match="no layer named 'nope'"):
        recognise(model, bottleneck="nope")


def test_skip_connection_cannot_be_split():
    import keras
    from keras import layers

    from cnnviz_gui.core.latent.space import LatentError, recognise

    x = keras.Input((8,))
    z = layers.Dense(2, name="code")(x)
    out = layers.Add()([layers.Dense(8)(z), x])  # the output also uses the input
    model = keras.Model(x, out, name="skip")
    with pytest.raises(LatentError, match="skip connection|needs the input"):
        recognise(model, bottleneck="code")


def test_encoder_and_decoder_files(tmp_path):
    from cnnviz_gui.core.latent.space import LatentError, recognise
    from cnnviz_gui.core.models.loading import open_model
    from cnnviz_gui.core.training.autoencoders import build_decoder, build_encoder

    build_encoder(latent_dim=2, variational=True).save(tmp_path / "enc.keras")
    build_decoder(latent_dim=2).save(tmp_path / "dec.keras")
    build_decoder(latent_dim=5).save(tmp_path / "dec5.keras")
    enc = open_model(tmp_path / "enc.keras").model
    parts = recognise(enc, decoder_model=open_model(tmp_path / "dec.keras").model)
    rec = parts.recognition
    assert (rec.how, rec.kind, rec.z_dim) == ("files", "vae", 2)
    assert rec.encoder_outputs[rec.mean_index] == "z_mean"
    with pytest.raises(LatentError, match="do not fit: the decoder takes 5 numbers"):
        recognise(enc, decoder_model=open_model(tmp_path / "dec5.keras").model)


def test_classifier_is_not_an_autoencoder(default_loaded):
    from cnnviz_gui.core.latent.space import LatentError, recognise

    with pytest.raises(LatentError) as info:
        recognise(default_loaded.model)
    msg = info.value.message
    assert "maps an image to 10 numbers" in msg and "decoder" in msg
    # splitting it at a bottleneck gives a "decoder" that makes class scores, not images
    with pytest.raises(LatentError, match=r"does not make images: it gives \(10,\)"):
        recognise(default_loaded.model, bottleneck="Flatten")


def test_explore_reports_refused_files_and_failures_as_messages(bad_models, default_loaded):
    from cnnviz_gui.core.latent.space import explore

    space, cands, message = explore(files=(str(bad_models["lambda_keras"]), str(bad_models["lambda_keras"])))
    assert space is None and cands == ([], []) and "contains Python code" in message
    assert not bad_models["marker"].exists()
    space, (subs, bottlenecks), message = explore(default_loaded.model)
    assert (
        space is None and subs == [] and "Dense_1" in bottlenecks and "maps an image to 10 numbers" in message
    )
