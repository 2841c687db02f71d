"""Opening models: the default CNN's description, and a clear refusal for every kind of bad file."""

from __future__ import annotations

import pytest

from cnnviz_gui.core.models.loading import ModelLoadError, open_model, precheck


def test_default_model_description(default_loaded):
    info = default_loaded.info
    assert info.input_shape == (28, 28, 1)
    assert info.output_shape == (10,)
    assert info.image_input and info.input_note == ""
    names = [layer.name for layer in info.layers]
    assert names[:5] == ["Conv2D_1", "MaxPool_1", "Conv2D_2", "MaxPool_2", "Conv2D_3"]
    conv2 = info.find_layer("Conv2D_2")
    assert conv2.params == 64 * 32 * 9 + 64 == 18_496  # the articles' count
    assert conv2.output_shape == (11, 11, 64) and conv2.n_maps == 64 and conv2.is_conv
    # receptive fields: 3, then pool 4, conv 8, pool 10, conv 18; dense layers see everything
    rfs = {layer.name: layer.receptive_field for layer in info.layers}
    assert rfs["Conv2D_1"] == (3, 3)
    assert rfs["MaxPool_1"] == (4, 4)
    assert rfs["Conv2D_2"] == (8, 8)
    assert rfs["MaxPool_2"] == (10, 10)
    assert rfs["Conv2D_3"] == (18, 18)
    assert rfs["Dense_1"] == "full"
    assert info.n_params == sum(layer.params for layer in info.layers)
    assert info.keras_version.startswith("3.")
    assert [layer.name for layer in info.conv_layers] == ["Conv2D_1", "Conv2D_2", "Conv2D_3"]


def test_info_text_and_dict(default_loaded):
    text = default_loaded.info.format_text()
    assert "Conv2D_3" in text and "18x18" in text and "73,856" in text
    d = default_loaded.info.to_dict()
    assert d["layers"][0]["maps"] == 32 and d["layers"][0]["receptive_field"] == "3x3"


@pytest.mark.parametrize(
    "key, kind, words",
    [
        ("missing", "missing", ["does not exist"]),
        ("empty", "empty", ["empty", "0 bytes"]),
        ("truncated_keras", "corrupt", ["damaged", "zip"]),
        ("text_h5", "corrupt", ["not an HDF5 file"]),
        ("truncated_h5", "corrupt", ["damaged HDF5", "truncated"]),
        ("weights_only", "weights_only", ["only weights", "load_weights"]),
        ("keras2", "keras2", ["Keras 2.15.0", "Keras 3 cannot open"]),
        ("custom", "custom", ["MyFancyDense", "Dense_1", "not part of Keras"]),
        ("savedmodel", "savedmodel", ["SavedModel", "layer by layer"]),
        ("lambda_keras", "unsafe", ["payload_lambda", "Python code", "Safe mode refused"]),
        ("lambda_h5", "unsafe", ["payload_lambda", "Python code"]),
        ("nested_lambda", "unsafe", ["inner/inner_lambda", "Python code"]),
        ("os_system", "custom", ["'system'", "not part of Keras"]),
    ],
)
def test_refusals_explain_themselves(bad_models, key, kind, words):
    with pytest.raises(ModelLoadError) as exc:
        open_model(bad_models[key])
    err = exc.value
    assert err.kind == kind, err.message
    for w in words:
        assert w in err.message
    assert "Traceback" not in err.message and "\n" not in err.message
    assert not bad_models["marker"].exists(), "code from a model file ran without consent"


def test_refused_keras_file_shows_its_contents(bad_models):
    with pytest.raises(ModelLoadError) as exc:
        open_model(bad_models["lambda_keras"])
    assert exc.value.needs_consent and exc.value.unsafe_layers == ["payload_lambda"]
    layers = dict(exc.value.summary.layers)
    assert layers["payload_lambda"] == "Lambda" and "Dense" in layers.values()
    with pytest.raises(ModelLoadError) as exc:
        open_model(bad_models["custom"])
    assert ("Conv2D_3", "Conv2D") in exc.value.summary.layers


def test_unsafe_file_opens_only_with_consent(bad_models):
    marker = bad_models["marker"]
    with pytest.raises(ModelLoadError):
        open_model(bad_models["lambda_keras"])
    assert not marker.exists()
    try:
        loaded = open_model(bad_models["lambda_keras"], allow_unsafe=True)
        assert marker.exists(), "with consent the file's code runs (that is what the person agreed to)"
        assert loaded.info.name == "lambda_model"
    finally:
        if marker.exists():
            marker.unlink()
    # consent was for that one load: the next open is refused again
    with pytest.raises(ModelLoadError):
        open_model(bad_models["lambda_keras"])
    assert not marker.exists()


def test_several_inputs_and_non_image_inputs_open_with_a_note(bad_models):
    two = open_model(bad_models["multi_input"]).info
    assert not two.image_input and "2 inputs" in two.input_note
    mlp = open_model(bad_models["mlp"]).info
    assert not mlp.image_input and "not an image" in mlp.input_note
    assert [layer.type for layer in mlp.layers] == ["Dense", "Dense"]
    assert mlp.conv_layers == []
    chfirst = open_model(bad_models["channels_first"]).info
    assert not chfirst.image_input and "channels-first" in chfirst.input_note


def test_sequential_never_called_and_nested(tmp_path):
    import keras

    seq = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(4, 3, name="c1"),
            keras.layers.Flatten(name="flat"),
            keras.layers.Dense(3, name="d"),
        ],
        name="seq",
    )
    seq.save(tmp_path / "seq.keras")
    info = open_model(tmp_path / "seq.keras").info
    assert [layer.name for layer in info.layers] == ["c1", "flat", "d"]
    assert info.find_layer("c1").receptive_field == (3, 3) and info.find_layer("c1").output_shape == (
        26,
        26,
        4,
    )

    # a Sequential without an Input layer, saved before it was ever called
    bare = keras.Sequential([keras.layers.Conv2D(2, 3, name="only_conv")], name="bare")
    bare.save(tmp_path / "bare.keras")
    with pytest.raises(ModelLoadError) as exc:
        open_model(tmp_path / "bare.keras")
    assert "never called" in exc.value.message or "does not say what input" in exc.value.message

    # nested: an autoencoder with encoder and decoder sub-models
    x = keras.Input((28, 28, 1))
    enc = keras.Model(
        x,
        keras.layers.Dense(2, name="z")(
            keras.layers.Flatten(name="flatten")(
                keras.layers.MaxPooling2D(name="pool")(keras.layers.Conv2D(8, 3, name="enc_conv")(x))
            )
        ),
        name="encoder",
    )
    z = keras.Input((2,))
    dec = keras.Model(z, keras.layers.Reshape((28, 28, 1))(keras.layers.Dense(784)(z)), name="decoder")
    outer_in = keras.Input((28, 28, 1))
    ae = keras.Model(outer_in, dec(enc(outer_in)), name="ae")
    ae.save(tmp_path / "ae.keras")
    info = open_model(tmp_path / "ae.keras").info
    assert [layer.name for layer in info.layers] == ["encoder", "decoder"]
    enc_info = info.layers[0]
    assert [c.name for c in enc_info.children] == ["enc_conv", "pool", "flatten", "z"]
    assert info.find_layer("enc_conv").receptive_field == (3, 3)
    assert info.find_layer("pool").receptive_field == (4, 4)


def test_precheck_rejects_other_suffixes(tmp_path):
    p = tmp_path / "model.onnx"
    p.write_bytes(b"abc")
    with pytest.raises(ModelLoadError) as exc:
        precheck(p)
    assert "not a Keras model file" in exc.value.message
