"""The differentiable path from an input image to the OIP target: a conv map, a dense unit or a class logit.

When the layers up to the target form a simple chain (the reference CNN, any Sequential model), the path is
re-traced from the layers' own weights: convolutions and dense layers are applied without their activation so
that (a) a ReLU can be swapped for a *redirected* ReLU (as in Lucid: where a ReLU passes no gradient for a
whole example, the gradient components that would raise its pre-activation pass), and (b) a softmax output
layer is optimised on its pre-softmax logits. The re-trace is checked against the model's own output on a
random batch; when it differs or the graph is not a chain, the cached read-out probe is used (no redirection).
The optimised image is either per-image standardised (mean 0, std 1; ``space="standardised"``, the pixel
presets), then :func:`display_affine` makes display values of it, or already display values in 0..1
(``space="display"``, the Lucid preset). :func:`cnnviz_gui.core.preprocess.to_model_range_tf` converts the
display values to the model's input convention inside :meth:`OipTarget.values`, so the gradient flows through
that conversion. Call on the compute thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Per-image mean and standard deviation of the bundled MNIST digits in 0..1, averaged over its 10,000
#: images (0.1311 and 0.3018; :func:`cnnviz_gui.core.datasets.load_bundled_mnist`).
DIGIT_MEAN_01 = 0.1311
DIGIT_STD_01 = 0.3018


def display_affine(channels: int) -> tuple[np.ndarray, np.ndarray]:
    """``(std, mean)`` per channel that turn a standardised OIP image ``x`` into display values
    ``std * x + mean`` (0..1 where it is not clipped).

    Grey images get an average bundled MNIST digit's spread and mean (0.3018, 0.1311: background near 0);
    RGB images get ImageNet's per-channel standard deviations and means (so the "torch" convention sees ``x``
    itself). For the "standardised" convention the model sees ``x`` whatever these are.
    """
    from cnnviz_gui.core.preprocess import IMAGENET_MEAN_RGB, IMAGENET_STD_RGB

    if channels == 3:
        return IMAGENET_STD_RGB.copy(), IMAGENET_MEAN_RGB.copy()
    return np.full(channels, DIGIT_STD_01, np.float32), np.full(channels, DIGIT_MEAN_01, np.float32)


def input_affine(convention: str) -> tuple[float, float]:
    """``(scale, offset)`` that turn a standardised grey OIP image ``x`` into the model input
    ``scale * x + offset`` (one channel; every convention is affine for grey images).

    "standardised": the identity (1, 0). "0..1": the image gets the mean and standard deviation a bundled
    MNIST digit in 0..1 has on average (scale 0.3018, offset 0.1311: an average digit, standardised, maps
    back to its 0..1 pixels, background 0). "0..255": 255 times that (scale 76.96, offset 33.43). "-1..1",
    "caffe" and "torch" apply their own affine map to those 0..1 values (grey means for caffe and torch).
    """
    from cnnviz_gui.core.preprocess import CONVENTIONS, to_model_range

    if convention == "standardised":
        return 1.0, 0.0
    if convention not in CONVENTIONS:
        raise ValueError(
            f"unknown input convention {convention!r}: the OIP search knows {', '.join(CONVENTIONS)}"
        )
    lo, hi = to_model_range(
        np.array([[DIGIT_MEAN_01, DIGIT_MEAN_01 + DIGIT_STD_01]], np.float32), convention
    )[0]
    return float(hi - lo), float(lo)


class OipTargetError(Exception):
    """The layer cannot be an OIP target; ``message`` says why for a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def redirected_relu(x):
    """ReLU whose gradient is redirected where the ordinary gradient is zero for a whole example."""
    import tensorflow as tf

    @tf.custom_gradient
    def relu(z):
        def grad(dy):
            relu_grad = dy * tf.cast(z > 0, dy.dtype)
            # ascent moves z along +dy: drop components that would push an already negative z lower
            redirected = tf.where(tf.logical_and(z < 0, dy < 0), tf.zeros_like(dy), dy)
            axes = list(range(1, len(z.shape)))
            passes = tf.reduce_sum(tf.abs(relu_grad), axis=axes, keepdims=True) > 0
            return tf.where(passes, relu_grad, redirected)

        return tf.nn.relu(z), grad

    return relu(x)


def _activation_name(layer) -> str:
    act = getattr(layer, "activation", None)
    return getattr(act, "__name__", "") if act is not None else ""


@dataclass
class TargetInfo:
    layer: str
    kind: str  # "map" (conv output, mean over positions), "unit" (dense), "logit" (pre-softmax)
    n_units: int
    redirect_available: bool
    input_shape: tuple[int, int, int]


class OipTarget:
    """``values(x, redirect)`` -> (B, n_units): the mean of each map over its positions (conv layers; or
    its centre neuron with ``objective="centre"``) or each unit's value (dense layers; pre-softmax logits for
    a softmax layer).

    ``x`` is a standardised image (``space="standardised"``) or display values in 0..1 (``space="display"``);
    the model receives it in ``convention`` (``ValueError`` for an unknown convention).
    """

    def __init__(
        self, loaded, layer_name: str, convention: str = "standardised", space: str = "standardised"
    ):
        from cnnviz_gui.core.activations.probe import ProbeError, get_probe

        input_affine(convention)  # validates the convention
        if space not in ("standardised", "display"):
            raise ValueError(f"unknown image space '{space}' (standardised or display)")
        self.convention, self.space = convention, space

        try:
            probe = get_probe(loaded)
        except ProbeError as err:
            raise OipTargetError(err.message) from err
        if layer_name not in probe:
            raise OipTargetError(
                f"The model has no layer '{layer_name}'. Its layers are: {', '.join(probe.names)}."
            )
        shape = probe.input_shape
        if len(shape) != 3 or None in shape:
            raise OipTargetError(
                f"OIP search needs an image input of fixed size (H, W, C); this model takes {shape}."
            )
        self.probe = probe
        self.key = probe.key(layer_name)
        self._probe_fn = probe.layer_function(self.key)
        self._chain = self._retrace_chain(loaded.model, self.key)
        out = self._probe_fn(np.zeros((1, *shape), np.float32))
        if len(out.shape) == 4:
            kind, n = "map", int(out.shape[-1])
        elif len(out.shape) == 2:
            kind, n = "unit", int(out.shape[-1])
            if self._chain is not None and _activation_name(self._chain[-1]) == "softmax":
                kind = "logit"
        else:
            raise OipTargetError(
                f"Layer '{self.key}' has output shape {tuple(out.shape[1:])}; OIP search needs a layer with "
                "maps (H, W, C) or units (N)."
            )
        self.info = TargetInfo(self.key, kind, n, self._chain is not None, tuple(int(s) for s in shape))
        self.std, self.mean = display_affine(self.info.input_shape[-1])

    # -- re-tracing ----------------------------------------------------------------------------------------
    def _retrace_chain(self, model, key: str):
        """The top-level layers from the input to ``key`` when they form a verified chain, else None."""
        import keras

        layers = [l for l in model.layers if type(l).__name__ != "InputLayer"]
        names = [l.name for l in layers]
        if key not in names:
            return None
        chain = layers[: names.index(key) + 1]
        if any(isinstance(layer, keras.Model) for layer in chain):
            return None
        # no check of the layers' graph nodes (a layer reused elsewhere has several): a branching graph
        # fails here or differs from the model's own output
        try:
            x = np.random.default_rng(0).normal(size=(2, *self.probe.input_shape)).astype(np.float32)
            mine = self._apply_chain(chain, x, redirect=False, logits=False).numpy()
            ref = np.asarray(self._probe_fn(x))
        except Exception:
            return None
        if mine.shape != ref.shape or not np.allclose(mine, ref, rtol=1e-4, atol=1e-4):
            return None
        return chain

    @staticmethod
    def _apply_chain(chain, x, redirect: bool, logits: bool):
        import keras
        import tensorflow as tf

        h = tf.convert_to_tensor(x)
        for i, layer in enumerate(chain):
            linear = isinstance(layer, keras.layers.Conv2D | keras.layers.Dense) and not isinstance(
                layer, keras.layers.Conv2DTranspose
            )
            if not linear:
                h = layer(h, training=False)
                continue
            act = _activation_name(layer)
            if isinstance(layer, keras.layers.Conv2D):
                z = layer.convolution_op(h, layer.kernel)
            else:
                z = tf.tensordot(h, layer.kernel, axes=[[len(h.shape) - 1], [0]])
            if layer.use_bias:
                z = z + layer.bias
            last = i == len(chain) - 1
            if act == "relu":
                h = redirected_relu(z) if redirect else tf.nn.relu(z)
            elif act == "linear" or (last and logits and act == "softmax"):
                h = z
            else:
                h = layer.activation(z)
        return h

    # -- the target values ---------------------------------------------------------------------------------
    def model_input(self, x):
        """What the model receives for the images ``x`` (TensorFlow; inside a ``tf.function``)."""
        from cnnviz_gui.core.preprocess import to_model_range_tf

        if self.space == "display":
            return to_model_range_tf(x, self.convention)
        if self.convention == "standardised":  # standardising a standardised image changes nothing
            return x
        return to_model_range_tf(x * self.std + self.mean, self.convention)

    def model_inputs_np(self, x: np.ndarray) -> np.ndarray:
        """NumPy version of :meth:`model_input` for a batch (N, H, W, C)."""
        from cnnviz_gui.core.preprocess import to_model_range

        x = np.asarray(x, np.float32)
        if self.space == "display":
            return to_model_range(x, self.convention)
        if self.convention == "standardised":
            return x.copy()
        return to_model_range(x * self.std + self.mean, self.convention)

    def display_np(self, x: np.ndarray) -> np.ndarray:
        """Display values 0..1 of a batch of optimised images (a standardised image seen by a
        "standardised" model is stretched between its own minimum and maximum)."""
        from cnnviz_gui.core.preprocess import from_model_range

        x = np.asarray(x, np.float32)
        if self.space == "display":
            return np.clip(x, 0.0, 1.0)
        return from_model_range(self.model_inputs_np(x), self.convention)

    def layer_output(self, x, redirect: bool = False):
        """The target layer's whole output (B, h, w, C) or (B, n) for a batch ``x`` (inside a ``tf.function``)."""
        x = self.model_input(x)
        if self._chain is not None:
            return self._apply_chain(self._chain, x, redirect, logits=self.info.kind == "logit")
        return self._probe_fn(x)

    @staticmethod
    def reduce(out, objective: str = "mean"):
        """Per-example values (B, n_units) of a layer output: the mean over positions (or the centre
        neuron) for maps, the values themselves for units."""
        import tensorflow as tf

        if len(out.shape) != 4:
            return out
        if objective == "centre":
            return out[:, int(out.shape[1]) // 2, int(out.shape[2]) // 2, :]
        return tf.reduce_mean(out, axis=[1, 2])

    def values(self, x, redirect: bool = False, objective: str = "mean"):
        """Per-example target values (B, n_units) for a batch ``x`` (inside a ``tf.function``); the model
        sees ``x`` in its convention."""
        return self.reduce(self.layer_output(x, redirect), objective)


def data_active(
    loaded,
    layer: str,
    maps,
    dataset=None,
    batch_size: int = 500,
    cancelled=None,
    convention: str = "standardised",
):
    """Per map: does any image of ``dataset`` (default: the bundled MNIST sample) activate it (> 0)?

    The images are fed in the model's input ``convention`` (as the OIP search feeds its images). Returns a
    bool array, or None when ``cancelled()`` turned true.
    """
    input_affine(convention)  # validates the convention
    from cnnviz_gui.core.activations.probe import get_probe
    from cnnviz_gui.core.datasets import load_bundled_mnist
    from cnnviz_gui.core.preprocess import fit_input, to_model_range

    ds = dataset if dataset is not None else load_bundled_mnist()
    probe = get_probe(loaded)
    fn = probe.layer_function(layer, reduce=True)
    maps = np.asarray(maps, dtype=np.int64)
    active = np.zeros(len(maps), bool)
    for start in range(0, len(ds.x), batch_size):
        if cancelled is not None and cancelled():
            return None
        x = to_model_range(fit_input(ds.x[start : start + batch_size], probe.input_shape), convention)
        _, peak = fn(x)
        active |= (np.asarray(peak)[:, maps] > 0).any(axis=0)
        if active.all():
            break
    return active
