"""Fixtures of the core tests: small real architectures (keras.applications, weights=None), saved once."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def real_models(tmp_path_factory):
    """Saved models and the Keras objects they were saved from: ``transfer`` (a MobileNetV2, alpha 0.35,
    96x96, nested in a Sequential with a 4-class softmax head), ``resnet`` (ResNet50 at 64x64, 1000 classes)
    and ``functional`` (the same MobileNetV2 behind a Rescaling layer, 3 logits)."""
    keras = pytest.importorskip("keras")
    from keras import layers

    d = tmp_path_factory.mktemp("real")
    keras.utils.set_random_seed(0)
    base = keras.applications.MobileNetV2(
        alpha=0.35, input_shape=(96, 96, 3), weights=None, include_top=False
    )
    transfer = keras.Sequential(
        [keras.Input((96, 96, 3)), base, layers.GlobalAveragePooling2D(name="gap"),
         layers.Dense(4, activation="softmax", name="head")],
        name="flowers",
    )  # fmt: skip
    transfer.save(d / "transfer.keras")
    resnet = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3))
    resnet.save(d / "resnet.keras")
    inp = keras.Input((96, 96, 3))
    h = layers.Rescaling(1 / 127.5, offset=-1, name="scale")(inp)
    h = base(h)
    functional = keras.Model(
        inp, layers.Dense(3, name="logits")(layers.GlobalAveragePooling2D()(h)), name="ft"
    )
    functional.save(d / "functional.keras")
    return {"dir": d, "transfer": d / "transfer.keras", "resnet": d / "resnet.keras",
            "functional": d / "functional.keras", "base": base, "resnet_model": resnet}  # fmt: skip
