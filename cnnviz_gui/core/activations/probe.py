"""Read out the layers of a model with compiled calls (the probe) and one input's activations.

The probe is made once per model and kept in ``LoadedModel.cache``. Making it only walks the layer list: no
read-out model is built and nothing is traced. A read-out of some layers (``Probe.read(x, names)``, or
:func:`forward` with ``layers=``) builds a Keras read-out model of just those layers and compiles one
``tf.function`` for that set, cached; a big model's first view therefore traces only the path to the layers
on screen and the output. :meth:`Probe.warm` compiles the read-out of every layer (e.g. in the background
after the first view): later read-outs of any set use it and trace nothing more.

Functional models, built Sequential models and nested models (a sub-model used as a layer, such as a
``keras.applications`` base in a transfer-learned model) work: each (sub-)model is read out on its own graph
through the nodes that connect its layers, and a sub-model's read-out is chained to the tensor that feeds it,
so the model's layers are never re-wired or called again. TensorFlow is imported lazily.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from cnnviz_gui.core.models.graph import node_of as _node_of
from cnnviz_gui.core.preprocess import fit_input, to_model_range

PROBE_KEY = "activations.probe"
#: compiled read-outs of layer subsets kept per model (least recently used dropped beyond this)
MAX_COMPILED_SETS = 16


class ProbeError(Exception):
    """The model cannot be read out layer by layer; ``message`` says why for a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class _Plan:
    """How to read out one (sub-)model: a Keras read-out model plus nested sub-plans."""

    readout: object | None
    paths: list[tuple[str, ...]]
    subs: list[tuple[int, _Plan]] = field(default_factory=list)  # (index of the sub-model's input, plan)


def _is_model(layer) -> bool:
    import keras

    return isinstance(layer, keras.Model)


def _is_input(layer) -> bool:
    return type(layer).__name__ == "InputLayer"


@dataclass
class _Entry:
    """One readable layer found by the walk: its path, its node, and (for a sub-model) its children."""

    path: tuple[str, ...]
    layer: object
    node: object
    children: list[_Entry] = field(default_factory=list)
    nested_ok: bool = False  # a sub-model with one input whose layers can be read out


def _walk(model, path: tuple[str, ...], unavailable: dict[str, str]) -> list[_Entry]:
    """Every readable layer of ``model`` (sub-models' layers as children), without building anything."""
    entries = []
    for layer in model.layers:
        if _is_input(layer):
            continue
        lpath = (*path, layer.name)
        node = _node_of(model, layer)
        if node is None or not node.output_tensors:
            unavailable["/".join(lpath)] = "the layer is used more than once in the model"
            continue
        entry = _Entry(lpath, layer, node)
        if _is_model(layer):
            if len(node.input_tensors) != 1 or len(layer.inputs) != 1:
                unavailable["/".join(lpath) + "/*"] = "the sub-model has several inputs"
            else:
                entry.nested_ok = True
                entry.children = _walk(layer, lpath, unavailable)
        entries.append(entry)
    return entries


def _tree_order(entries: list[_Entry]) -> list[tuple[str, ...]]:
    out = []
    for e in entries:
        out.append(e.path)
        out.extend(_tree_order(e.children))
    return out


def _build_plan(model, entries: list[_Entry], wanted: set[tuple[str, ...]] | None) -> _Plan:
    """A read-out of the ``wanted`` paths (None: every layer) of ``model``; sub-models only where needed."""
    import keras

    outs, paths, feeds = [], [], []
    for e in entries:
        if wanted is None or e.path in wanted:
            outs.append(e.node.output_tensors[0])
            paths.append(e.path)
        if e.nested_ok and (
            wanted is None or any(w[: len(e.path)] == e.path and len(w) > len(e.path) for w in wanted)
        ):
            feeds.append(e)
    tensors = outs + [e.node.input_tensors[0] for e in feeds]
    readout = keras.Model(model.inputs, tensors, name=f"{model.name}_readout") if tensors else None
    plan = _Plan(readout, paths)
    for k, e in enumerate(feeds):
        plan.subs.append((len(outs) + k, _build_plan(e.layer, e.children, wanted)))
    return plan


def _run_plan(plan: _Plan, x, out: dict) -> None:
    if plan.readout is None:
        return
    values = plan.readout([x], training=False)
    if not isinstance(values, list | tuple):
        values = [values]
    for p, v in zip(plan.paths, values, strict=False):
        out[p] = v
    for in_index, sub in plan.subs:
        _run_plan(sub, values[in_index], out)


class Probe:
    """Compiled read-outs of a model's layers for batches of inputs.

    ``names`` are the layer keys in layer-tree order: the layer's name, or its path joined by ``/`` when two
    layers of nested models share a name. ``unavailable`` maps layers that cannot be read out to the reason.
    ``output_name`` is the key of the model's (last top-level) output layer. Inputs are float32 batches
    (N, H, W, C) already in the model's input convention.
    """

    def __init__(self, model):
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
            self._entries = _walk(model, (), self.unavailable)
        except Exception as err:
            raise ProbeError(f"The layers of '{model.name}' cannot be read out: {err}") from err
        self._model = model
        self.input_shape = tuple(None if s is None else int(s) for s in inputs[0].shape[1:])
        paths = _tree_order(self._entries)
        counts: dict[str, int] = {}
        for p in paths:
            counts[p[-1]] = counts.get(p[-1], 0) + 1
        self.paths = paths
        self.names = [p[-1] if counts[p[-1]] == 1 else "/".join(p) for p in paths]
        self._path_of = dict(zip(self.names, paths, strict=True))
        self._index = {n: i for i, n in enumerate(self.names)}
        for p, n in zip(paths, self.names, strict=True):
            self._index.setdefault("/".join(p), self._index[n])
            self._index.setdefault(p[-1], self._index[n])
        top = [e.path for e in self._entries]
        self.output_name = self.names[paths.index(top[-1])] if top else None
        self._full = None  # the compiled read-out of every layer, made by warm() or a read-out of all
        self._sets: OrderedDict[tuple[str, ...], Callable] = OrderedDict()
        self._layer_fns: dict = {}

    # -- names -----------------------------------------------------------------------------------------
    def __contains__(self, name: str) -> bool:
        return name in self._index

    def key(self, name: str) -> str:
        """The probe's key for a layer name or path ``a/b`` (raises KeyError with the known names)."""
        if name not in self._index:
            raise KeyError(f"no layer '{name}' in the probe (layers: {', '.join(self.names)})")
        return self.names[self._index[name]]

    def keys(self, names: Iterable[str]) -> tuple[str, ...]:
        """The probe keys of ``names`` in the given order, each once."""
        return tuple(dict.fromkeys(self.key(n) for n in names))

    # -- compiled read-outs ------------------------------------------------------------------------------
    def _compile(self, keys: tuple[str, ...] | None, transform=None) -> Callable:
        """A ``tf.function`` returning the outputs of ``keys`` (None: every layer) as a tuple in that order."""
        import tensorflow as tf

        wanted = None if keys is None else {self._path_of[k] for k in keys}
        try:
            plan = _build_plan(self._model, self._entries, wanted)
        except Exception as err:
            raise ProbeError(f"The layers of '{self._model.name}' cannot be read out: {err}") from err
        order = self.paths if keys is None else [self._path_of[k] for k in keys]

        def run(x):
            out: dict = {}
            _run_plan(plan, x, out)
            values = tuple(out[p] for p in order)
            return values if transform is None else transform(values)

        spec = tf.TensorSpec((None, *self.input_shape), tf.float32)
        return tf.function(run, input_signature=[spec], reduce_retracing=True)

    @property
    def _fn(self) -> Callable:
        """The compiled read-out of every layer (compiled on first use)."""
        if self._full is None:
            self._full = self._compile(None)
        return self._full

    @property
    def warmed(self) -> bool:
        """True once the read-out of every layer is compiled and has run: any read-out is then instant."""
        return self._full is not None and self._full.experimental_get_tracing_count() > 0

    @property
    def compiled_sets(self) -> list[tuple[str, ...]]:
        """The layer sets whose own read-out is compiled (most recently used last)."""
        return list(self._sets)

    def warm(self, cancelled: Callable[[], bool] | None = None) -> bool:
        """Compile (trace) the read-out of every layer and run it once on zeros; False when cancelled first.

        A job for the background after the first view: afterwards read-outs of any layers trace nothing.
        """
        if cancelled is not None and cancelled():
            return False
        shape = tuple(1 if s is None else s for s in self.input_shape)
        self._fn(np.zeros((1, *shape), np.float32))
        return True

    def set_function(self, names: Iterable[str]) -> Callable:
        """The cached ``tf.function`` returning the outputs of ``names`` (a tuple in the order of the keys)."""
        keys = self.keys(names)
        fn = self._sets.get(keys)
        if fn is None:
            fn = self._sets[keys] = self._compile(keys)
            while len(self._sets) > MAX_COMPILED_SETS:
                self._sets.popitem(last=False)
        else:
            self._sets.move_to_end(keys)
        return fn

    def read(self, x: np.ndarray, names: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        """Outputs of the layers ``names`` (None: every layer) for a batch ``x``, keyed by probe key.

        Uses the read-out of every layer once it is compiled (:meth:`warm`), else a compiled read-out that
        holds these layers, else one compiled for just this set (cached): only the layers these outputs
        depend on are traced.
        """
        x = np.ascontiguousarray(x, dtype=np.float32)
        if names is None:
            values = self._fn(x)
            return {n: v.numpy() for n, v in zip(self.names, values, strict=True)}
        keys = self.keys(names)
        if self.warmed:
            values = self._full(x)
            return {k: values[self._index[k]].numpy() for k in keys}
        cover = self._covering_set(keys)
        if cover is not None:  # a compiled read-out that holds these layers: no new trace
            values = self.set_function(cover)(x)
            return {k: v.numpy() for k, v in zip(cover, values, strict=True) if k in keys}
        values = self.set_function(keys)(x)
        return {k: v.numpy() for k, v in zip(keys, values, strict=True)}

    def _covering_set(self, keys: tuple[str, ...]) -> tuple[str, ...] | None:
        """The smallest compiled layer set holding every key (e.g. the first view's set for the output)."""
        wanted = set(keys)
        sets = [s for s in self._sets if wanted <= set(s)]
        return min(sets, key=len) if sets else None

    def __call__(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Every layer's output for a batch ``x``."""
        return self.read(x)

    def layer_function(self, name: str, reduce: bool = False) -> Callable:
        """A cached ``tf.function`` returning only ``name``'s output (or, with ``reduce``, per-map means and
        maxima over positions) for a batch; only the layers it depends on are in its graph."""
        import tensorflow as tf

        key = self.key(name)
        cache_key = (key, reduce)
        if cache_key not in self._layer_fns:

            def one(values):
                t = values[0]
                if not reduce:
                    return t
                axes = list(range(1, len(t.shape) - 1))
                if not axes:
                    return t, t
                return tf.reduce_mean(t, axis=axes), tf.reduce_max(t, axis=axes)

            self._layer_fns[cache_key] = self._compile((key,), transform=one)
        return self._layer_fns[cache_key]


def get_probe(loaded) -> Probe:
    """The probe of an open model, made on first use (nothing traced) and cached in ``loaded.cache``."""
    probe = loaded.cache.get(PROBE_KEY)
    if probe is None:
        probe = Probe(loaded.model)
        loaded.cache[PROBE_KEY] = probe
    return probe


def warm_probe(loaded, progress=None, cancelled=None) -> bool:
    """Compile the read-out of every layer of an open model (a background job after the first view).

    Returns False when ``cancelled()`` was true before the compile started; the compile itself is one call.
    """
    probe = get_probe(loaded)
    if progress is not None:
        progress(0.0, f"compiling the read-out of {len(probe.names)} layers")
    done = probe.warm(cancelled)
    if progress is not None and done:
        progress(1.0, "every layer ready")
    return done


# -- one input ------------------------------------------------------------------------------------------
@dataclass
class Activations:
    """Layer outputs for one input (batch axis removed) and the model's class probabilities.

    ``layers`` holds every layer (``forward`` without ``layers=``) or the requested ones plus the output.
    """

    layers: dict[str, np.ndarray]
    output_name: str | None
    probabilities: np.ndarray | None = None
    from_logits: bool = False

    @property
    def top_class(self) -> int | None:
        return None if self.probabilities is None else int(np.argmax(self.probabilities))


def output_activation(model) -> str | None:
    """The activation applied last by the model's output layer ("softmax", "sigmoid", "linear", ...), or
    None when it cannot be told (e.g. a nested model as output)."""
    try:
        outputs = list(model.outputs)
        layer = outputs[0]._keras_history.operation if outputs else None
    except (AttributeError, IndexError, ValueError):
        layer = None
    if layer is None:
        layers = [entry for entry in getattr(model, "layers", []) if not _is_input(entry)]
        layer = layers[-1] if layers else None
    if layer is None:
        return None
    kind = type(layer).__name__
    if kind == "Softmax":
        return "softmax"
    if _is_model(layer):
        return output_activation(layer)
    act = getattr(layer, "activation", None)
    if act is None:
        return "linear" if kind in ("Dense", "Conv2D", "Conv1D", "Conv3D", "Add", "Concatenate") else None
    return getattr(act, "__name__", None)


def class_probabilities(output: np.ndarray, activation: str | None = None) -> tuple[np.ndarray | None, bool]:
    """Interpret a model output vector as class probabilities; returns (probabilities, from_logits).

    With the output layer's ``activation`` known: "softmax" (and "sigmoid", independent probabilities) are
    returned as they are; "linear" outputs are logits and get a softmax. Unknown: returned as is when the
    vector already is a distribution, softmaxed otherwise. None for anything but a vector of 2+ values.
    """
    out = np.asarray(output, dtype=np.float64)
    if out.ndim != 1 or out.size < 2:
        return None, False
    if activation in ("softmax", "sigmoid"):
        return out.astype(np.float32), False
    if activation is None and out.min() >= -1e-6 and abs(out.sum() - 1.0) < 1e-3:
        return out.astype(np.float32), False
    e = np.exp(out - out.max())
    return (e / e.sum()).astype(np.float32), True


def model_input(loaded, image01: np.ndarray, convention: str) -> np.ndarray:
    """One image (H, W, C) in 0..1 as the model's input batch (1, ...): fitted to its input shape (resized,
    channels converted, flattened) and converted to ``convention``."""
    probe = get_probe(loaded)
    return to_model_range(fit_input(image01, probe.input_shape)[None], convention)


def forward(loaded, image01: np.ndarray, convention: str, layers: Iterable[str] | None = None) -> Activations:
    """Run one image (H, W, C) in 0..1 through the model; call on the compute thread.

    ``layers=None`` reads out every layer (one compiled call for all of them). With ``layers`` (names or
    paths; may be empty) only those layers and the model's output are read out, by a read-out compiled for
    that set and cached per model: the first view of a big model traces only what it shows. The image is
    fitted to the model's input and converted to ``convention`` first.
    """
    probe = get_probe(loaded)
    x = model_input(loaded, image01, convention)
    names = None
    if layers is not None:
        names = [*layers, *([probe.output_name] if probe.output_name is not None else [])]
    outs = {k: v[0] for k, v in probe.read(x, names).items()}
    probs, logits = (None, False)
    if probe.output_name is not None:
        activation = loaded.cache.get("activations.output_activation", "?")
        if activation == "?":
            activation = loaded.cache["activations.output_activation"] = output_activation(loaded.model)
        probs, logits = class_probabilities(outs[probe.output_name], activation)
    return Activations(outs, probe.output_name, probs, logits)
