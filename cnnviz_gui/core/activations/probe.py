"""Read out the layers of a model in one compiled call (the probe) and one input's activations.

The probe is built once per model and kept in ``LoadedModel.cache``. It works for functional models, built
Sequential models and nested models (a sub-model used as a layer): each (sub-)model is read out on its own
graph through the nodes that connect its layers, and sub-models are chained to the tensor that feeds them, so
the model's layers are never re-wired or called again. TensorFlow is imported lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from cnnviz_gui.core.preprocess import fit_input, to_model_range

PROBE_KEY = "activations.probe"


class ProbeError(Exception):
    """The model cannot be read out layer by layer; ``message`` says why for a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class _Plan:
    """How to read out one (sub-)model: a Keras read-out model plus nested sub-plans."""

    readout: object
    paths: list[tuple[str, ...]]
    subs: list[tuple[int, int, _Plan]] = field(default_factory=list)  # (input index, output index, plan)


def _is_model(layer) -> bool:
    import keras

    return isinstance(layer, keras.Model)


def _is_input(layer) -> bool:
    return type(layer).__name__ == "InputLayer"


def _node_of(model, layer):
    """The node that connects ``layer`` inside ``model``'s graph (None when it cannot be told)."""
    import keras

    nodes = list(getattr(layer, "_inbound_nodes", None) or [])
    if len(nodes) == 1:
        return nodes[0]
    for node in nodes:  # a layer shared between graphs: keep the node reachable from this model's inputs
        try:
            keras.Model(model.inputs, list(node.output_tensors))
            return node
        except Exception:
            continue
    return None


def _build_plan(model, path: tuple[str, ...], unavailable: dict[str, str]) -> _Plan:
    import keras

    outs, paths, sub_models = [], [], []
    for layer in model.layers:
        if _is_input(layer):
            continue
        lpath = (*path, layer.name)
        node = _node_of(model, layer)
        if node is None or not node.output_tensors:
            unavailable["/".join(lpath)] = "the layer is used more than once in the model"
            continue
        outs.append(node.output_tensors[0])
        paths.append(lpath)
        if _is_model(layer):
            if len(node.input_tensors) != 1 or len(layer.inputs) != 1:
                unavailable["/".join(lpath) + "/*"] = "the sub-model has several inputs"
            else:
                sub_models.append((layer, node.input_tensors[0], len(outs) - 1))
    extra = [t for _, t, _ in sub_models]
    readout = keras.Model(model.inputs, outs + extra, name=f"{model.name}_probe")
    plan = _Plan(readout, paths)
    for k, (sub, _, out_index) in enumerate(sub_models):
        plan.subs.append((len(outs) + k, out_index, _build_plan(sub, (*path, sub.name), unavailable)))
    return plan


def _run_plan(plan: _Plan, x, out: dict) -> None:
    values = plan.readout([x], training=False)
    if not isinstance(values, list | tuple):
        values = [values]
    for p, v in zip(plan.paths, values, strict=False):
        out[p] = v
    for in_index, _, sub in plan.subs:
        _run_plan(sub, values[in_index], out)


def _ordered(plan: _Plan) -> list[tuple[str, ...]]:
    """Paths in layer-tree order: a sub-model, then its own layers."""
    subs = {out_index: sub for _, out_index, sub in plan.subs}
    order = []
    for i, p in enumerate(plan.paths):
        order.append(p)
        if i in subs:
            order.extend(_ordered(subs[i]))
    return order


class Probe:
    """One compiled ``tf.function`` returning every layer's output for a batch of inputs.

    ``names`` are the layer keys in layer-tree order: the layer's name, or its path joined by ``/`` when two
    layers of nested models share a name. ``unavailable`` maps layers that cannot be read out to the reason.
    Call with a float32 batch (N, H, W, C) already in the model's input convention.
    """

    def __init__(self, model):
        import tensorflow as tf

        try:
            inputs = list(model.inputs)
        except (AttributeError, ValueError) as err:
            raise ProbeError(
                f"The model '{model.name}' has no defined inputs, so it cannot be read out."
            ) from err
        if len(inputs) != 1:
            raise ProbeError(f"The model '{model.name}' has {len(inputs)} inputs; the probe needs one.")
        self.unavailable: dict[str, str] = {}
        try:
            plan = _build_plan(model, (), self.unavailable)
        except Exception as err:
            raise ProbeError(f"The layers of '{model.name}' cannot be read out: {err}") from err
        self.input_shape = tuple(None if s is None else int(s) for s in inputs[0].shape[1:])
        paths = _ordered(plan)
        counts: dict[str, int] = {}
        for p in paths:
            counts[p[-1]] = counts.get(p[-1], 0) + 1
        self.paths = paths
        self.names = [p[-1] if counts[p[-1]] == 1 else "/".join(p) for p in paths]
        self._index = {n: i for i, n in enumerate(self.names)}
        for p, n in zip(paths, self.names, strict=True):
            self._index.setdefault("/".join(p), self._index[n])
            self._index.setdefault(p[-1], self._index[n])
        self.output_name = self.names[_last_top_level(plan)] if plan.paths else None

        def run(x):
            out: dict = {}
            _run_plan(plan, x, out)
            return tuple(out[p] for p in paths)

        self._run = run
        spec = tf.TensorSpec((None, *self.input_shape), tf.float32)
        self._fn = tf.function(run, input_signature=[spec], reduce_retracing=True)
        self._layer_fns: dict = {}
        self._plan = plan

    def __contains__(self, name: str) -> bool:
        return name in self._index

    def key(self, name: str) -> str:
        """The probe's key for a layer name or path ``a/b`` (raises KeyError with the known names)."""
        if name not in self._index:
            raise KeyError(f"no layer '{name}' in the probe (layers: {', '.join(self.names)})")
        return self.names[self._index[name]]

    def __call__(self, x: np.ndarray) -> dict[str, np.ndarray]:
        x = np.ascontiguousarray(x, dtype=np.float32)
        values = self._fn(x)
        return {n: v.numpy() for n, v in zip(self.names, values, strict=True)}

    def layer_function(self, name: str, reduce: bool = False) -> Callable:
        """A cached ``tf.function`` returning only ``name``'s output (or, with ``reduce``, per-map means and
        maxima over positions) for a batch; unused layers after it are pruned from the graph."""
        import tensorflow as tf

        index = self._index[self.key(name)]
        cache_key = (index, reduce)
        if cache_key not in self._layer_fns:
            run = self._run

            def one(x):
                t = run(x)[index]
                if not reduce:
                    return t
                axes = list(range(1, len(t.shape) - 1))
                if not axes:
                    return t, t
                return tf.reduce_mean(t, axis=axes), tf.reduce_max(t, axis=axes)

            spec = tf.TensorSpec((None, *self.input_shape), tf.float32)
            self._layer_fns[cache_key] = tf.function(one, input_signature=[spec], reduce_retracing=True)
        return self._layer_fns[cache_key]


def _last_top_level(plan: _Plan) -> int:
    """Index (in tree order) of the model's last top-level layer: its output."""
    order = _ordered(plan)
    return order.index(plan.paths[-1])


def get_probe(loaded) -> Probe:
    """The probe of an open model, built on first use and cached in ``loaded.cache``."""
    probe = loaded.cache.get(PROBE_KEY)
    if probe is None:
        probe = Probe(loaded.model)
        loaded.cache[PROBE_KEY] = probe
    return probe


# -- one input ------------------------------------------------------------------------------------------
@dataclass
class Activations:
    """Every layer's output for one input (batch axis removed) and the model's class probabilities."""

    layers: dict[str, np.ndarray]
    output_name: str | None
    probabilities: np.ndarray | None = None
    from_logits: bool = False

    @property
    def top_class(self) -> int | None:
        return None if self.probabilities is None else int(np.argmax(self.probabilities))


def class_probabilities(output: np.ndarray) -> tuple[np.ndarray | None, bool]:
    """Interpret a model output vector as class probabilities: returned as is when it already is a
    distribution, softmaxed when it looks like logits (``from_logits`` True), None when not a vector."""
    out = np.asarray(output, dtype=np.float64)
    if out.ndim != 1 or out.size < 2:
        return None, False
    if out.min() >= -1e-6 and abs(out.sum() - 1.0) < 1e-3:
        return out.astype(np.float32), False
    e = np.exp(out - out.max())
    return (e / e.sum()).astype(np.float32), True


def forward(loaded, image01: np.ndarray, convention: str) -> Activations:
    """Run one image (H, W, C) in 0..1 through the cached probe; call on the compute thread.

    The image is fitted to the model's input (flattened, channels converted or resized as needed) and
    converted to ``convention`` first.
    """
    probe = get_probe(loaded)
    x = to_model_range(fit_input(image01, probe.input_shape)[None], convention)
    outs = {k: v[0] for k, v in probe(x).items()}
    probs, logits = (None, False)
    if probe.output_name is not None:
        probs, logits = class_probabilities(outs[probe.output_name])
    return Activations(outs, probe.output_name, probs, logits)
