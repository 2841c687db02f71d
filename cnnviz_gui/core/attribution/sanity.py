"""Sanity check of an attribution method by cascading weight randomisation (Adebayo et al. 2018).

The model is copied once (``keras.models.clone_model`` plus its weights) and the copy kept in
``loaded.cache``; the loaded model other features use is never changed. On the copy, the layers with weights
are randomised cumulatively from the output down, in at most ``max_steps`` steps, the attribution for the
same input and class is recomputed after each step, and its Spearman rank correlation with the original map
is reported. Each randomised weight is drawn from a normal distribution with the mean and standard deviation
of the trained values it replaces (the layer's scale is kept, what it learned is gone); batch-normalisation
statistics are kept. The copy's weights are restored afterwards, so its compiled functions are reused.
"""

from __future__ import annotations

import time

import numpy as np

from cnnviz_gui.core.attribution import graph
from cnnviz_gui.core.attribution.methods import attribute, prepare
from cnnviz_gui.core.attribution.types import METHODS, AttributionError, AttributionRequest, SanityResult

COPY_KEY = "attribution.sanity_copy"

EXPLANATION = (
    "Each map is recomputed after randomising the model's weights from the output layer down, more layers "
    "at each step; the number under it is its Spearman rank correlation with the original map. A map that "
    "explains the model changes as its learned weights are destroyed (values fall towards 0); a map that "
    "barely changes (values near 1) explains the input, not the model."
)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two arrays of the same size (average ranks for ties); NaN when one of
    them is constant."""
    ra, rb = _ranks(np.ravel(a)), _ranks(np.ravel(b))
    ra -= ra.mean()
    rb -= rb.mean()
    denom = float(np.sqrt((ra * ra).sum() * (rb * rb).sum()))
    return float((ra * rb).sum() / denom) if denom > 0 else float("nan")


def _ranks(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    order = np.argsort(v, kind="mergesort")
    ranks = np.empty(len(v), np.float64)
    ranks[order] = np.arange(len(v), dtype=np.float64)
    _, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


def model_copy(loaded):
    """A copy of the open model (own weights, same layer names) as a ``LoadedModel``, cached in
    ``loaded.cache`` with its trained weights."""
    cached = loaded.cache.get(COPY_KEY)
    if cached is None:
        import keras

        from cnnviz_gui.core.models.loading import LoadedModel

        try:
            copy = keras.models.clone_model(loaded.model)
            copy.set_weights(loaded.model.get_weights())
        except Exception as err:  # clone_model raises many kinds for unusual models
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise AttributionError(f"the model cannot be copied for the sanity check: {first[:300]}") from err
        cached = LoadedModel(copy, loaded.info, {})
        loaded.cache[COPY_KEY] = cached
    return cached


def weighted_layers(model) -> list[tuple[str, object]]:
    """``(key, layer)`` of every layer with weights (nested models' layers, not the models), output first."""
    refs = [r for r in graph.all_layers(model) if not graph.is_model(r.layer) and r.layer.weights]
    return [(r.key, r.layer) for r in reversed(refs)]


def _random_like(value: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    mean, std = float(value.mean()), float(value.std())
    if std == 0.0:
        std = max(abs(mean), 1e-2) * 0.5  # a constant (a fresh bias, a BN scale of ones): spread it
    return rng.normal(mean, std, size=value.shape).astype(value.dtype)


def _is_statistic(variable) -> bool:
    name = str(getattr(variable, "path", None) or getattr(variable, "name", ""))
    return name.endswith(("moving_mean", "moving_variance"))


def sanity_check(
    loaded,
    image01: np.ndarray,
    convention: str = "standardised",
    request: AttributionRequest | None = None,
    max_steps: int = 8,
    seed: int = 0,
    progress=None,
    cancelled=None,
) -> SanityResult:
    """The cascading randomisation check of ``request.method`` for one image (H, W, C) in 0..1.

    The target class is the one of the trained model (``request.class_index`` or its prediction) at every
    step. Returns a :class:`SanityResult`; raises ``JobCancelled`` between two compiled calls when ``cancelled()``.
    """
    request = request or AttributionRequest()
    if max_steps < 1:
        raise AttributionError(f"the sanity check needs at least one step, got {max_steps}")
    t0 = time.perf_counter()
    image, _ = prepare(loaded, image01, convention)
    image = image[:1]
    original = attribute(loaded, image, request, convention, cancelled=cancelled)
    cls = int(original.class_index[0])
    fixed = AttributionRequest.from_dict({**request.to_dict(), "class_index": cls})
    copy = model_copy(loaded)
    layers = weighted_layers(copy.model)
    if not layers:
        raise AttributionError("the model has no weights to randomise")
    groups = [list(g) for g in np.array_split(np.arange(len(layers)), min(max_steps, len(layers)))]
    rng = np.random.default_rng(seed)
    saved: list[tuple[object, np.ndarray]] = []
    maps, names = [], []
    try:
        for s, group in enumerate(groups):
            if cancelled is not None and cancelled():
                from cnnviz_gui.core.runtime.jobs import JobCancelled

                raise JobCancelled()
            for idx in group:
                for variable in layers[idx][1].weights:
                    if _is_statistic(variable):
                        continue
                    value = np.asarray(variable.numpy())
                    saved.append((variable, value))
                    variable.assign(_random_like(value, rng))
            step = attribute(copy, image, fixed, convention, cancelled=cancelled)  # stops within a step too
            maps.append(step.attribution[0])
            names.append([layers[idx][0] for idx in group])
            if progress is not None:
                progress((s + 1) / len(groups), f"sanity check: {s + 1}/{len(groups)} steps randomised")
    finally:
        for variable, value in reversed(saved):
            variable.assign(value)
    rhos = [spearman(original.attribution[0], m) for m in maps]
    constant = [bool(np.isnan(r)) for r in rhos]
    similarity = np.array([0.0 if np.isnan(r) else r for r in rhos], np.float32)
    final = float(similarity[-1])
    return SanityResult(
        method=request.method,
        original=original.attribution[0],
        maps=np.stack(maps).astype(np.float32),
        steps=names,
        similarity=similarity,
        randomized_similarity=final,
        class_index=cls,
        layer=original.layer,
        explanation=EXPLANATION,
        verdict=verdict(request.method, final, len(layers), constant[-1]),
        constant=constant,
        seconds=time.perf_counter() - t0,
    )


def verdict(method: str, rho: float, n_layers: int, constant: bool = False) -> str:
    """One sentence on what the fully randomised map says about ``method`` for this input."""
    name = METHODS.get(method, method)
    name = name[:1].upper() + name[1:]
    what = f"with all {n_layers} layers with weights randomised"
    if constant:
        return f"{name}: {what} the map is constant (it vanished): it depends on the learned weights."
    if rho < 0.3:
        return (
            f"{name}: {what} the map keeps little of its ranking (rank correlation {rho:.2f}): "
            "it depends on what the model learned."
        )
    if rho < 0.6:
        return (
            f"{name}: {what} the map keeps part of its ranking (rank correlation {rho:.2f}): "
            "part of it follows the input itself, not the model."
        )
    return (
        f"{name}: {what} the map hardly changes (rank correlation {rho:.2f}): "
        "it explains the input more than the model; do not read it as the model's reasons."
    )
