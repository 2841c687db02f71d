"""Guess the input convention (value range) a model expects, with the reason shown to the person.

Rules, first match wins (only layer types, names and configs are read; no TensorFlow call is made):

1. The model preprocesses raw pixels itself: its first layer (also inside a nested base model; data
   augmentation and ``Resizing`` layers skipped) is ``Rescaling`` or ``Normalization``, or its first
   operations are arithmetic on the input (``keras.applications.*.preprocess_input`` called inside the model
   leaves ``TrueDivide``/``Subtract``/``GetItem`` operations). ``Rescaling`` by a small factor (1/255,
   1/127.5) and ``Normalization`` with a mean above 2 mean 0..255; a ``Rescaling`` by about 1 or 2 or a
   ``Normalization`` with a small mean mean 0..1. EfficientNet, EfficientNetV2, ConvNeXt and MobileNetV3
   include such a layer and land here.
2. A ``keras.applications`` family, recognised by its characteristic layer names (all of a few names must be
   present, anywhere in the model): VGG16/19 and ResNet50/101/152 -> "caffe"; ResNetV2, MobileNet (v1, v2,
   v3 without its rescaling), Inception V3, InceptionResNetV2, Xception, NASNet -> "-1..1"; DenseNet ->
   "torch" (as each family's ``preprocess_input``).
3. The app's own models: the CNN (``mnist_cnn`` or the bundled default file) -> standardised; the
   autoencoders (``mnist_ae``, ``mnist_vae``) -> 0..1.
4. Otherwise: per-image standardised (the reference articles' convention); the person can change it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

APP_MODEL_NAMES = ("mnist_cnn",)
APP_AUTOENCODER_NAMES = ("mnist_ae", "mnist_vae")

#: layers that do not change the value range and may stand before the preprocessing of a transfer model
TRANSPARENT_TYPES = (
    "Resizing", "CenterCrop", "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation",
    "RandomContrast", "RandomBrightness", "RandomCrop", "RandomHeight", "RandomWidth", "Dropout",
    "GaussianNoise", "InputLayer", "ZeroPadding2D", "Cropping2D",
)  # fmt: skip
#: operations (not layers) that preprocess_input leaves in a functional model
PREPROCESS_OPS = ("TrueDivide", "Divide", "Subtract", "Add", "Multiply", "GetItem", "Stack", "Concatenate")

CAFFE = "caffe (RGB to BGR, ImageNet mean subtracted)"
TF = "pixels scaled to -1..1"
TORCH = "torch (0..1, then ImageNet mean and standard deviation)"


@dataclass(frozen=True)
class Family:
    """A ``keras.applications`` family: its name, the layer names that identify it, and its convention."""

    name: str
    names: tuple[str, ...]
    convention: str
    how: str


#: checked in this order (DenseNet and ResNetV2 share names with ResNet; Xception with VGG)
FAMILIES = (
    Family("DenseNet", ("conv2_block1_concat", "pool2_conv", "pool2_pool"), "torch", TORCH),
    Family("ResNetV2", ("conv1_conv", "conv2_block1_preact_bn", "post_bn"), "-1..1", TF),
    Family("ResNet", ("conv1_conv", "conv2_block1_1_conv", "conv2_block1_0_conv", "conv2_block1_add"), "caffe", CAFFE),
    Family("Xception", ("block1_conv1", "block2_sepconv1", "block14_sepconv2"), "-1..1", TF),
    Family("VGG", ("block1_conv1", "block1_conv2", "block2_conv1", "block5_conv3"), "caffe", CAFFE),
    Family("MobileNetV2", ("Conv1", "expanded_conv_project", "block_1_expand"), "-1..1", TF),
    Family("MobileNet", ("conv1", "conv_dw_1", "conv_pw_1"), "-1..1", TF),
    Family("MobileNetV3", ("conv", "expanded_conv_project", "expanded_conv_depthwise"), "-1..1", TF),
    Family("InceptionResNetV2", ("mixed_5b", "block35_1_mixed", "conv_7b"), "-1..1", TF),
    Family("InceptionV3", ("mixed0", "mixed1", "mixed2", "mixed10"), "-1..1", TF),
    Family("NASNet", ("stem_conv1", "stem_bn1"), "-1..1", TF),
    Family("EfficientNet", ("stem_conv", "block1a_project_conv", "top_conv"), "-1..1", TF),
)  # fmt: skip


@dataclass
class ConventionGuess:
    """The guessed input convention of a model and the reason, shown to the person."""

    convention: str
    reason: str

    def to_dict(self) -> dict:
        return {"convention": self.convention, "reason": self.reason}


def all_layer_names(model) -> set[str]:
    """Names of every layer of ``model``, nested models' layers included."""
    out, stack = set(), list(getattr(model, "layers", []) or [])
    while stack:
        layer = stack.pop()
        out.add(layer.name)
        stack.extend(getattr(layer, "layers", None) or [])
    return out


def recognise_family(names: set[str]) -> Family | None:
    """The ``keras.applications`` family whose characteristic layer names are all in ``names``."""
    return next((f for f in FAMILIES if all(n in names for n in f.names)), None)


def _leading(model):
    """The first layer or operation that acts on the input values (nested models entered), or None."""
    import keras

    ops = list(getattr(model, "operations", None) or getattr(model, "layers", []) or [])
    for op in ops:
        kind = type(op).__name__
        if kind in TRANSPARENT_TYPES or (kind.startswith("Random") and isinstance(op, keras.layers.Layer)):
            continue
        if isinstance(op, keras.Model):
            inner = _leading(op)
            if inner is not None:
                return inner
            continue
        return op
    return None


def _scaling_rule(first) -> ConventionGuess | None:
    import keras

    kind = type(first).__name__
    if kind == "Rescaling":
        scale = first.get_config().get("scale")
        try:
            s = float(np.max(np.abs(np.asarray(scale, dtype=np.float64))))
        except (TypeError, ValueError):
            s = None
        if s is not None and s >= 0.5:
            return ConventionGuess("0..1", f"the first layer '{first.name}' rescales by {scale}: input 0..1")
        return ConventionGuess(
            "0..255", f"the first layer '{first.name}' rescales its input (scale {scale}): raw pixels 0..255"
        )
    if kind == "Normalization":
        try:
            m = float(np.mean(np.asarray(first.mean)))
        except (AttributeError, TypeError, ValueError):
            m = None
        if m is not None:
            conv = "0..255" if m > 2.0 else "0..1"
            return ConventionGuess(
                conv, f"the first layer '{first.name}' normalises with mean {m:.3g}: {conv}"
            )
    if kind in PREPROCESS_OPS and not isinstance(first, keras.layers.Layer):
        return ConventionGuess(
            "0..255",
            f"the model computes on its input first ({kind}, as keras.applications' preprocess_input does "
            "inside a model): raw pixels 0..255",
        )
    return None


def guess_convention(model, path: str | None = None) -> ConventionGuess:
    """Guess which value range a Keras model expects (rules in the module's docstring)."""
    first = _leading(model)
    if first is not None:
        guess = _scaling_rule(first)
        if guess is not None:
            return guess
    family = recognise_family(all_layer_names(model))
    if family is not None:
        shown = ", ".join(family.names[:3])
        return ConventionGuess(
            family.convention,
            f"layer names of keras.applications {family.name} ({shown}): {family.how}, as its preprocess_input",
        )
    name = getattr(model, "name", "")
    is_default = False
    if path is not None:
        from cnnviz_gui.core.resources import default_model_path

        try:
            is_default = Path(path).resolve() == default_model_path().resolve()
        except (OSError, FileNotFoundError):
            is_default = False
    if name in APP_AUTOENCODER_NAMES:
        return ConventionGuess("0..1", "a cnnviz autoencoder, trained on images in 0..1")
    if name in APP_MODEL_NAMES or is_default:
        return ConventionGuess("standardised", "a cnnviz model, trained on per-image standardised images")
    return ConventionGuess(
        "standardised", "no scaling layer at the input: assumed per-image standardised (change it if needed)"
    )
