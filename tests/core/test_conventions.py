"""Input conventions guessed from a model: scaling layers (also nested), preprocess_input inside a model,
and the keras.applications families recognised by their layer names (real architectures, weights=None)."""

from __future__ import annotations

import pytest

keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from cnnviz_gui.core.models.conventions import guess_convention, recognise_family  # noqa: E402
from cnnviz_gui.core.preprocess import CONVENTIONS  # noqa: E402

A = keras.applications


@pytest.mark.parametrize(
    "build, expected, family",
    [
        (lambda: A.VGG16(weights=None, input_shape=(32, 32, 3)), "caffe", "VGG"),
        (lambda: A.ResNet50V2(weights=None, input_shape=(32, 32, 3)), "-1..1", "ResNetV2"),
        (lambda: A.MobileNet(weights=None, input_shape=(32, 32, 3)), "-1..1", "MobileNet"),
        (lambda: A.InceptionV3(weights=None, input_shape=(75, 75, 3)), "-1..1", "InceptionV3"),
        (lambda: A.Xception(weights=None, input_shape=(71, 71, 3)), "-1..1", "Xception"),
        (lambda: A.DenseNet121(weights=None, input_shape=(32, 32, 3)), "torch", "DenseNet"),
        # these include their own rescaling: the first layer decides, whatever the names say
        (lambda: A.EfficientNetB0(weights=None, input_shape=(32, 32, 3)), "0..255", None),
        (lambda: A.ConvNeXtTiny(weights=None, input_shape=(32, 32, 3)), "0..255", None),
    ],
)
def test_keras_applications_families(build, expected, family):
    model = build()
    guess = guess_convention(model)
    assert guess.convention == expected, guess.reason
    assert guess.convention in CONVENTIONS
    if family is not None:
        assert f"keras.applications {family} " in guess.reason
    else:
        assert "first layer" in guess.reason and "0..255" in guess.reason


def _tiny_named(names: list[str]) -> keras.Model:
    """A small chain whose layers carry ``names`` (to test the name rules without a big model)."""
    x = keras.Input((16, 16, 3))
    h = x
    for n in names:
        h = layers.Conv2D(2, 1, name=n)(h)
    return keras.Model(x, h, name="named")


def test_a_family_needs_all_its_characteristic_names():
    # a person's own CNN with one VGG-like name is not taken for VGG
    own = _tiny_named(["block1_conv1", "dense_features"])
    assert recognise_family({layer.name for layer in own.layers}) is None
    assert guess_convention(own).convention == "standardised"
    vgg_like = _tiny_named(["block1_conv1", "block1_conv2", "block2_conv1", "block5_conv3"])
    assert guess_convention(vgg_like).convention == "caffe"


def test_scaling_layer_inside_a_nested_base_after_augmentation():
    base = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            layers.Rescaling(1 / 127.5, offset=-1, name="to_pm1"),
            layers.Conv2D(4, 3),
        ],
        name="base",
    )
    inp = keras.Input((32, 32, 3))
    h = layers.RandomFlip("horizontal", name="flip")(inp)
    h = base(h)
    model = keras.Model(inp, layers.GlobalAveragePooling2D()(h), name="transfer")
    guess = guess_convention(model)
    assert guess.convention == "0..255" and "to_pm1" in guess.reason
    # a rescaling by 2 (0..1 -> -1..1) means the model takes 0..1
    two = keras.Sequential([keras.Input((8, 8, 3)), layers.Rescaling(2.0, offset=-1), layers.Conv2D(2, 1)])
    assert guess_convention(two).convention == "0..1"


@pytest.mark.parametrize("module", ["mobilenet_v2", "resnet50", "densenet"])
def test_preprocess_input_inside_the_model_means_raw_pixels(module, tmp_path):
    inp = keras.Input((32, 32, 3))
    h = getattr(A, module).preprocess_input(inp)
    model = keras.Model(inp, layers.Conv2D(2, 3, name="conv")(h), name="pp")
    model.save(tmp_path / "pp.keras")
    loaded = keras.saving.load_model(tmp_path / "pp.keras", compile=False)
    guess = guess_convention(loaded)
    assert guess.convention == "0..255", guess.reason
    assert "preprocess_input" in guess.reason
