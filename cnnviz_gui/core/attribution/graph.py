"""The differentiable path from the input to a layer and to the class score, and its compiled functions.

The model is run layer by layer on the compute thread's tensors (never re-wired, never called on new
symbolic inputs, never changed): a Sequential model in order, a functional model through its own graph, a
nested model (a base model inside a transfer model) the same way, recursively. On the way the chosen layer's
output is recorded and watched by the gradient tape, and the operation that produces the model's output is
replaced by its pre-softmax value when it applies a softmax (a ``Dense`` layer with a softmax activation, a
``Softmax`` or ``Activation("softmax")`` layer): the score of a class is its logit, as tf-keras-vis's
``ReplaceToLinear`` gives, without touching the model other features share.

Every compiled function takes ``(x, class_index)``: a float32 batch (N, H, W, C) in the model's input
convention and an int32 vector (N,) of classes (-1: the predicted class). Their input signature is fixed, so
neither a new class nor a new batch size retraces them. They are cached per model in ``loaded.cache``,
keyed by what they depend on (function kind and layer). TensorFlow is imported lazily.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from cnnviz_gui.core.attribution.types import AttributionError

CACHE_KEY = "attribution.functions"


@dataclass
class LayerRef:
    """A layer of the model (nested ones included): its object, its path of names and the key shown."""

    layer: object
    path: tuple[str, ...]
    key: str
    output_shape: tuple | None


def is_model(layer) -> bool:
    import keras

    return isinstance(layer, keras.Model)


def _output_shape(layer) -> tuple | None:
    try:
        return tuple(None if s is None else int(s) for s in layer.output.shape[1:])
    except (AttributeError, ValueError, TypeError):
        return None


def all_layers(model) -> list[LayerRef]:
    """Every layer in layer-tree order (a nested model, then its own layers); keys as in the probe: the
    name, or the path joined by ``/`` where two layers of nested models share a name."""
    found: list[tuple[object, tuple[str, ...]]] = []

    def walk(m, path):
        for layer in m.layers:
            if type(layer).__name__ == "InputLayer":
                continue
            p = (*path, layer.name)
            found.append((layer, p))
            if is_model(layer):
                walk(layer, p)

    walk(model, ())
    counts: dict[str, int] = {}
    for _, p in found:
        counts[p[-1]] = counts.get(p[-1], 0) + 1
    return [
        LayerRef(layer, p, p[-1] if counts[p[-1]] == 1 else "/".join(p), _output_shape(layer))
        for layer, p in found
    ]


def map_layers(model) -> list[LayerRef]:
    """Layers whose output has maps (H, W, C) with more than one position: the choices for the CAM methods."""
    out = []
    for ref in all_layers(model):
        s = ref.output_shape
        if s is not None and len(s) == 3 and not (s[0] == 1 and s[1] == 1):
            out.append(ref)
    return out


def default_layer(model) -> LayerRef:
    """The last layer with maps before the classifier (inside a nested base model when there is one)."""
    layers = map_layers(model)
    if not layers:
        raise AttributionError(
            f"the model '{model.name}' has no layer with maps (height, width, channels), so Grad-CAM has no "
            "layer to work at; use saliency, SmoothGrad, integrated gradients or occlusion"
        )
    # a nested model and its own last layer give the same tensor: prefer the real layer (it comes later)
    return layers[-1]


def find_layer(model, name: str | None) -> LayerRef:
    """The layer called ``name`` (a name, or a path ``outer/inner``); None: :func:`default_layer`."""
    if name is None:
        return default_layer(model)
    refs = all_layers(model)
    for ref in refs:
        if name in (ref.key, "/".join(ref.path)):
            return ref
    matches = [ref for ref in refs if ref.path[-1] == name]
    if len(matches) == 1:
        return matches[0]
    choices = ", ".join(ref.key for ref in map_layers(model)) or "none"
    raise AttributionError(f"the model has no layer '{name}'; layers with maps: {choices}")


# -- running the model -----------------------------------------------------------------------------------
def _activation_name(layer) -> str:
    act = getattr(layer, "activation", None)
    return getattr(act, "__name__", "") if act is not None else ""


def softmax_head(model):
    """``(layer, kind)`` of the operation producing the model's output when it applies a softmax that can be
    taken off (``dense``: a Dense layer with softmax activation; ``softmax``: a softmax layer), else None."""
    import keras

    layer = _final_operation(model)
    while layer is not None and is_model(layer):
        layer = _final_operation(layer)
    if layer is None:
        return None
    if isinstance(layer, keras.layers.Dense) and _activation_name(layer) == "softmax":
        return layer, "dense"
    if isinstance(layer, keras.layers.Softmax) or (
        isinstance(layer, keras.layers.Activation) and _activation_name(layer) == "softmax"
    ):
        return layer, "softmax"
    return None


def _final_operation(model):
    import keras

    if isinstance(model, keras.Sequential):
        layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
        return layers[-1] if layers else None
    try:
        return model.outputs[0]._keras_history[0]
    except (AttributeError, IndexError, TypeError):
        return None


_TRAINING_ARG: dict[int, bool] = {}


def _takes_training(layer) -> bool:
    key = id(type(layer))
    if key not in _TRAINING_ARG:
        try:
            _TRAINING_ARG[key] = "training" in inspect.signature(layer.call).parameters
        except (TypeError, ValueError):
            _TRAINING_ARG[key] = False
    return _TRAINING_ARG[key]


class ModelRunner:
    """Runs ``model`` on tensors, recording (and watching) ``target``'s output; the output is the
    pre-softmax value when the model's last operation is a softmax that can be taken off."""

    def __init__(self, model, target=None):
        self.model = model
        self.target = target
        head = softmax_head(model)
        self.head, self.head_kind = head if head is not None else (None, None)
        self.score_kind = "logit" if head is not None else "output"

    def __call__(self, x, tape=None) -> tuple:
        """``(output, target_output)``; the target's output is watched by ``tape`` when given."""
        record: dict = {}
        out = self._run(self.model, x, record, tape)
        return out, record.get("target")

    def _run(self, model, x, record, tape):
        import keras

        if isinstance(model, keras.Sequential):
            h = x
            for layer in model.layers:
                if type(layer).__name__ == "InputLayer":
                    continue
                h = self._call(layer, (h,), {}, record, tape)
            return h
        if len(model.inputs) != 1:
            raise AttributionError(
                f"the model '{model.name}' has {len(model.inputs)} inputs; attribution needs one"
            )

        def operation_fn(op):
            return lambda *args, **kwargs: self._call(op, args, kwargs, record, tape)

        out = model._run_through_graph([x], operation_fn=operation_fn)
        return out[0] if isinstance(out, list | tuple) else out

    def _call(self, layer, args, kwargs, record, tape):
        import keras

        if is_model(layer):
            out = self._run(layer, args[0], record, tape)
        elif layer is self.head and self.head_kind == "dense":
            out = keras.ops.matmul(args[0], layer.kernel)
            if layer.use_bias:
                out = out + layer.bias
        elif layer is self.head and self.head_kind == "softmax":
            out = args[0]
        else:
            if _takes_training(layer):
                kwargs = {**kwargs, "training": False}
            out = layer(*args, **kwargs)
        if self.target is not None and layer is self.target and "target" not in record:
            if tape is not None:
                tape.watch(out)
            record["target"] = out
        return out


# -- compiled functions -------------------------------------------------------------------------------------
def input_shape(model) -> tuple:
    try:
        shape = tuple(None if s is None else int(s) for s in model.inputs[0].shape[1:])
    except (AttributeError, IndexError, ValueError) as err:
        raise AttributionError(f"the model '{model.name}' has no defined input") from err
    if len(model.inputs) != 1:
        raise AttributionError(
            f"the model '{model.name}' has {len(model.inputs)} inputs; attribution needs one"
        )
    if len(shape) != 3 or shape[-1] not in (1, 3, 4):
        raise AttributionError(
            f"attribution needs an image input (height, width, 1 or 3 channels); this model takes {shape}"
        )
    return shape


def check_model(model) -> None:
    """Raise :class:`AttributionError` unless the model takes one image and gives a vector of class scores."""
    input_shape(model)
    try:
        out = tuple(model.outputs[0].shape[1:])
    except (AttributeError, IndexError, TypeError):
        return  # told when the function runs
    if len(model.outputs) != 1 or len(out) != 1:
        raise AttributionError(
            f"attribution needs a model whose output is one vector of class scores; this one gives {out}"
        )


def _score(tf, logits, class_index):
    """The chosen class's score per example; -1 picks the predicted (largest) class."""
    n_classes = tf.shape(logits)[-1]
    predicted = tf.cast(tf.argmax(logits, axis=-1), tf.int32)
    cls = tf.where(class_index < 0, predicted, class_index)
    score = tf.reduce_sum(logits * tf.one_hot(cls, n_classes, dtype=logits.dtype), axis=-1)
    return cls, score


def _check_output(logits) -> None:
    if len(logits.shape) != 2:
        raise AttributionError(
            f"attribution needs a model whose output is a vector of class scores; this one gives "
            f"{tuple(logits.shape[1:])}"
        )


def _build(kind: str, model, layer_ref: LayerRef | None):
    import tensorflow as tf

    shape = input_shape(model)
    runner = ModelRunner(model, None if layer_ref is None else layer_ref.layer)
    x_spec = tf.TensorSpec((None, *shape), tf.float32)
    c_spec = tf.TensorSpec((None,), tf.int32)

    if kind == "forward":

        def fn(x, class_index):
            logits, _ = runner(x)
            _check_output(logits)
            cls, score = _score(tf, logits, class_index)
            return cls, score, logits

    elif kind in ("gradcam", "gradcampp"):

        def fn(x, class_index):
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                logits, acts = runner(x, tape)
                _check_output(logits)
                cls, score = _score(tf, logits, class_index)
            if acts is None or len(acts.shape) != 4:
                raise AttributionError(f"the layer '{layer_ref.key}' gives no maps (height, width, channels)")
            grads = tape.gradient(score, acts)
            if grads is None:
                grads = tf.zeros_like(acts)
            if kind == "gradcam":
                weights = tf.reduce_mean(grads, axis=[1, 2])
            else:
                weights = _gradcampp_weights(tf, grads, acts)
            cam = tf.nn.relu(tf.einsum("nhwc,nc->nhw", acts, weights))
            size = tf.shape(x)[1:3]
            up = tf.image.resize(cam[..., None], size, method="bilinear")[..., 0]
            return cls, score, logits, cam, up

    elif kind in ("saliency", "gradient"):

        def fn(x, class_index):
            with tf.GradientTape(watch_accessed_variables=False) as tape:
                tape.watch(x)
                logits, _ = runner(x, tape)
                _check_output(logits)
                cls, score = _score(tf, logits, class_index)
            grads = tape.gradient(score, x)
            if grads is None:
                grads = tf.zeros_like(x)
            if kind == "saliency":
                grads = tf.reduce_max(tf.abs(grads), axis=-1)
            return cls, score, logits, grads

    else:
        raise ValueError(f"unknown function kind {kind!r}")

    # autograph off: the functions are plain Python over tensors, and errors reach the caller as raised
    compiled = tf.function(fn, input_signature=[x_spec, c_spec], autograph=False)
    return compiled, runner.score_kind


def _gradcampp_weights(tf, grads, acts):
    """Grad-CAM++ channel weights (Chattopadhay et al. 2018, the closed form for an exponential score, as
    in the authors' code: alphas normalised per channel). The score's exponential only scales the map and is
    left out (it overflows for large logits)."""
    g2 = tf.square(grads)
    g3 = g2 * grads
    total = tf.reduce_sum(acts, axis=[1, 2], keepdims=True)
    denom = 2.0 * g2 + total * g3
    denom = denom + tf.cast(g2 == 0.0, denom.dtype)
    alphas = g2 / denom
    norm = tf.reduce_sum(alphas, axis=[1, 2], keepdims=True)
    alphas = alphas / (norm + tf.cast(norm == 0.0, norm.dtype))
    return tf.reduce_sum(alphas * tf.nn.relu(grads), axis=[1, 2])


@dataclass
class Compiled:
    """A cached compiled function and what it knows about the model."""

    fn: object
    score_kind: str
    input_shape: tuple
    layer: LayerRef | None


def get_function(loaded, kind: str, layer: str | None = None) -> Compiled:
    """The compiled function ``kind`` (forward, gradcam, gradcampp, saliency, gradient) of an open model,
    built on first use and cached in ``loaded.cache`` (CAM kinds per layer)."""
    cache = loaded.cache.setdefault(CACHE_KEY, {})
    cam = kind in ("gradcam", "gradcampp")
    asked = (kind, layer if cam else None)
    if asked in cache:  # the per-stroke path: no walk over the layers
        return cache[asked]
    ref = find_layer(loaded.model, layer) if cam else None
    key = (kind, None if ref is None else ref.path)
    if key not in cache:
        check_model(loaded.model)
        if ref is not None and (ref.output_shape is None or len(ref.output_shape) != 3):
            shape = "?" if ref.output_shape is None else tuple(ref.output_shape)
            raise AttributionError(
                f"the layer '{ref.key}' gives no maps (height, width, channels) but {shape}; choose one of "
                f"{', '.join(r.key for r in map_layers(loaded.model)) or 'none'}"
            )
        fn, score_kind = _build(kind, loaded.model, ref)
        cache[key] = Compiled(fn, score_kind, input_shape(loaded.model), ref)
    cache[asked] = cache[key]
    return cache[key]
