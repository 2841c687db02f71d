"""Read out every layer of a model in one compiled call, and class statistics of maps (FCP).

The probe is built once per model and kept in ``LoadedModel.cache``. It works for functional models, built
Sequential models and nested models (a sub-model used as a layer): each (sub-)model is read out on its own
graph through the nodes that connect its layers, and sub-models are chained to the tensor that feeds them, so
the model's layers are never re-wired or called again. TensorFlow is imported lazily (the UI imports this
module for its plain-numpy helpers).
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


def maps_of(output: np.ndarray) -> np.ndarray | None:
    """An image-like layer output (H, W, C) as maps (C, H, W); None for vectors and other shapes."""
    a = np.asarray(output)
    if a.ndim != 3:
        return None
    return np.ascontiguousarray(np.moveaxis(a, -1, 0))


def mosaic(maps: np.ndarray, ncols: int | None = None, pad: int = 1, fill: float = np.nan) -> np.ndarray:
    """Tile maps (N, H, W) into one (rows, cols) float32 array with ``pad`` pixels of ``fill`` between
    tiles, without a Python loop over maps (fast enough for every stroke)."""
    maps = np.asarray(maps, dtype=np.float32)
    n, h, w = maps.shape
    ncols = max(1, min(ncols or int(np.ceil(np.sqrt(n))), max(n, 1)))
    nrows = max(1, int(np.ceil(n / ncols)))
    tiles = np.full((nrows * ncols, h + pad, w + pad), fill, np.float32)
    tiles[:n, :h, :w] = maps
    grid = tiles.reshape(nrows, ncols, h + pad, w + pad).transpose(0, 2, 1, 3)
    grid = grid.reshape(nrows * (h + pad), ncols * (w + pad))
    return np.ascontiguousarray(grid[: nrows * (h + pad) - pad, : ncols * (w + pad) - pad])


def normalise_per_map(maps: np.ndarray) -> np.ndarray:
    """Scale each map (N, H, W) to 0..1 by its own minimum and maximum (a flat map becomes 0)."""
    maps = np.asarray(maps, dtype=np.float32)
    lo = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - lo
    return np.where(span > 0, (maps - lo) / np.where(span > 0, span, 1.0), 0.0).astype(np.float32)


# -- class statistics (FCP) -----------------------------------------------------------------------------
@dataclass
class ClassStats:
    """Per-class statistics of one layer's maps (or units) over a dataset.

    ``means[c, m]``: mean over class ``c``'s samples of map ``m``'s mean activation over its positions;
    ``stds``: the standard deviation of that per-sample value; ``active_fraction[c, m]``: the fraction of
    class ``c``'s samples for which map ``m`` is positive somewhere; ``silent[c, m]``: map ``m`` stays silent
    for class ``c`` (active for fewer than ``silent_below`` of its samples).
    """

    layer: str
    class_names: list[str]
    means: np.ndarray
    stds: np.ndarray
    active_fraction: np.ndarray
    counts: np.ndarray
    silent_below: float = 0.05

    @property
    def silent(self) -> np.ndarray:
        return (self.active_fraction < self.silent_below) & (self.counts[:, None] > 0)

    @property
    def n_maps(self) -> int:
        return int(self.means.shape[1])

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "means": self.means,
            "stds": self.stds,
            "active_fraction": self.active_fraction,
            "silent": self.silent,
            "counts": self.counts,
            "class_names": np.array(self.class_names),
        }


def class_statistics(
    loaded,
    dataset,
    layer: str,
    convention: str,
    batch_size: int = 256,
    max_per_class: int | None = None,
    progress: Callable | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ClassStats | None:
    """Mean activation of every map of ``layer`` per class over ``dataset`` (batched, on the compute thread).

    Returns None when ``cancelled()`` turned true. ``max_per_class`` limits the samples used per class.
    """
    probe = get_probe(loaded)
    fn = probe.layer_function(layer, reduce=True)
    y = np.asarray(dataset.y, dtype=np.int64)
    n_classes = max(len(dataset.class_names), int(y.max()) + 1 if len(y) else 0)
    index = np.arange(len(y))
    if max_per_class is not None:
        index = np.concatenate([np.flatnonzero(y == c)[:max_per_class] for c in range(n_classes)])
        index.sort()
    sums = sumsq = active = None
    counts = np.bincount(y[index], minlength=n_classes).astype(np.int64)
    for start in range(0, len(index), batch_size):
        if cancelled is not None and cancelled():
            return None
        part = index[start : start + batch_size]
        x = to_model_range(fit_input(dataset.x[part], probe.input_shape), convention)
        mean, peak = (np.asarray(t, dtype=np.float64) for t in fn(x))
        if sums is None:
            m = mean.shape[1]
            sums, sumsq, active = (np.zeros((n_classes, m)) for _ in range(3))
        np.add.at(sums, y[part], mean)
        np.add.at(sumsq, y[part], mean**2)
        np.add.at(active, y[part], (peak > 0).astype(np.float64))
        if progress is not None:
            progress(min(1.0, (start + len(part)) / len(index)), f"{start + len(part)}/{len(index)} samples")
    if sums is None:
        raise ValueError("the dataset is empty")
    c = np.maximum(counts, 1)[:, None]
    means = sums / c
    stds = np.sqrt(np.maximum(sumsq / c - means**2, 0.0))
    names = list(dataset.class_names) + [str(i) for i in range(len(dataset.class_names), n_classes)]
    return ClassStats(
        probe.key(layer),
        names,
        means.astype(np.float32),
        stds.astype(np.float32),
        (active / c).astype(np.float32),
        counts,
    )


@dataclass
class ClassDifference:
    """How the maps of a layer separate two classes ``a`` and ``b``.

    ``diff = means[a] - means[b]``; ``separation`` is that difference in units of the pooled standard
    deviation (a d'-like score); ``order`` lists maps from the most to the least separating.
    """

    a: int
    b: int
    diff: np.ndarray
    separation: np.ndarray
    order: np.ndarray


def class_difference(stats: ClassStats, a: int, b: int) -> ClassDifference:
    """Which maps separate class ``a`` from class ``b`` (e.g. "4" vs "9")."""
    n = len(stats.class_names)
    if not (0 <= a < n and 0 <= b < n):
        raise ValueError(f"classes must be between 0 and {n - 1}")
    diff = stats.means[a] - stats.means[b]
    pooled = np.sqrt((stats.stds[a] ** 2 + stats.stds[b] ** 2) / 2.0)
    floor = 1e-6 * max(float(np.abs(stats.means).max()), 1e-12)
    separation = np.where(pooled > floor, diff / np.maximum(pooled, floor), 0.0)
    order = np.argsort(-np.abs(separation), kind="stable")
    return ClassDifference(a, b, diff.astype(np.float32), separation.astype(np.float32), order)
