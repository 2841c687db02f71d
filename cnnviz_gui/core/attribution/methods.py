"""Attribution methods, batched over inputs: Grad-CAM, Grad-CAM++, saliency, SmoothGrad, integrated gradients
and occlusion. Plain functions for the compute process: ``fn(loaded, ..., progress=None, cancelled=None)``.

Inputs are images (N, H, W, C) or one image (H, W, C) in 0..1 plus the model's input convention; they are
fitted to the model's input (:func:`~cnnviz_gui.core.preprocess.fit_input`) and converted
(:func:`~cnnviz_gui.core.preprocess.to_model_range`). Gradients are taken with respect to what the model
receives. Every TensorFlow call goes through the compiled, cached functions of :mod:`.graph`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from cnnviz_gui.core.attribution import graph
from cnnviz_gui.core.attribution.display import baseline_images, normalise
from cnnviz_gui.core.attribution.types import (
    CAM_METHODS,
    METHODS,
    AttributionError,
    AttributionRequest,
    AttributionResult,
    ClassScore,
    LiveAttribution,
    top_of,
)
from cnnviz_gui.core.preprocess import CONVENTIONS, fit_input, to_model_range

ProgressFn = Callable[..., None]
CancelledFn = Callable[[], bool]


def _check_cancel(cancelled: CancelledFn | None) -> None:
    if cancelled is not None and cancelled():
        from cnnviz_gui.core.runtime.jobs import JobCancelled

        raise JobCancelled()


def _report(progress: ProgressFn | None, fraction: float, text: str = "") -> None:
    if progress is not None:
        progress(float(min(max(fraction, 0.0), 1.0)), text)


def prepare(loaded, images01: np.ndarray, convention: str) -> tuple[np.ndarray, np.ndarray]:
    """``(images01, model_inputs)``: the batch fitted to the model's input (0..1) and in its convention."""
    if convention not in CONVENTIONS:
        raise AttributionError(
            f"unknown input convention '{convention}'; use one of {', '.join(CONVENTIONS)}"
        )
    shape = graph.input_shape(loaded.model)
    x = np.asarray(images01, dtype=np.float32)
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise AttributionError(f"expected images (N, H, W, C) or one image (H, W, C), got shape {x.shape}")
    try:
        fitted = fit_input(x, shape)
    except ValueError as err:
        raise AttributionError(f"the input does not fit the model: {err}") from err
    return fitted, to_model_range(fitted, convention)


def _class_vector(class_index, n: int, n_classes: int | None = None) -> np.ndarray:
    if class_index is None:
        return np.full(n, -1, np.int32)
    values = np.atleast_1d(np.asarray(class_index, dtype=np.int64))
    if values.size == 1:
        values = np.full(n, int(values[0]))
    if values.size != n:
        raise AttributionError(f"{values.size} classes given for {n} inputs")
    if n_classes is not None and ((values < 0) | (values >= n_classes)).any():
        raise AttributionError(
            f"class {int(values.max())} does not exist: the model has classes 0..{n_classes - 1}"
        )
    return values.astype(np.int32)


def probabilities_of(class_scores: np.ndarray, score_kind: str) -> np.ndarray:
    """Class probabilities (N, K): softmax of logits; an output that already is a distribution as it is."""
    s = np.asarray(class_scores, dtype=np.float64)
    is_distribution = s.min(axis=-1) >= -1e-6
    is_distribution &= np.abs(s.sum(axis=-1) - 1.0) < 1e-3
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    soft = e / e.sum(axis=-1, keepdims=True)
    if score_kind == "logit":
        return soft.astype(np.float32)
    return np.where(is_distribution[:, None], s, soft).astype(np.float32)


def _chunks(n: int, size: int) -> list[slice]:
    """Slices covering ``range(n)`` in about equal chunks of at most ``size``."""
    count = max(1, int(np.ceil(n / size)))
    edges = np.linspace(0, n, count + 1).round().astype(int)
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def _forward(loaded, x: np.ndarray, classes: np.ndarray, batch_size: int, cancelled=None):
    """``(class_index, score, class_scores)`` of model inputs ``x``, in chunks."""
    compiled = graph.get_function(loaded, "forward")
    parts = []
    for sl in _chunks(len(x), batch_size):
        _check_cancel(cancelled)
        parts.append([np.asarray(t) for t in compiled.fn(x[sl], classes[sl])])
    return tuple(np.concatenate(p) for p in zip(*parts, strict=True))


def _n_classes(loaded) -> int | None:
    try:
        return int(loaded.model.outputs[0].shape[-1])
    except (AttributeError, IndexError, TypeError, ValueError):
        return None


# -- the one entry point -----------------------------------------------------------------------------------
def attribute(
    loaded,
    images01: np.ndarray,
    request: AttributionRequest | None = None,
    convention: str = "standardised",
    progress: ProgressFn | None = None,
    cancelled: CancelledFn | None = None,
) -> AttributionResult:
    """Attribution maps of a batch of images for one method (see :class:`AttributionRequest`).

    Returns an :class:`AttributionResult` of plain arrays. Raises :class:`AttributionError` with a message
    for a person when the model, layer, class or parameters do not allow it, and
    :class:`~cnnviz_gui.core.runtime.jobs.JobCancelled` when ``cancelled()`` turns true between two compiled
    calls.
    """
    request = request or AttributionRequest()
    request.check()
    t0 = time.perf_counter()
    images, x = prepare(loaded, images01, convention)
    classes = _class_vector(request.class_index, len(x), _n_classes(loaded))
    run = {
        "gradcam": _cam,
        "gradcampp": _cam,
        "saliency": _saliency,
        "smoothgrad": _smoothgrad,
        "ig": _integrated_gradients,
        "occlusion": _occlusion,
    }[request.method]
    result = run(loaded, images, x, classes, request, convention, progress, cancelled)
    result.params = {**request.parameters(), **result.params}
    if result.layer is not None:
        result.params["layer"] = result.layer
    result.convention = convention
    result.seconds = time.perf_counter() - t0
    _report(progress, 1.0, f"{METHODS[request.method]} done")
    return result


def _result(method, attribution, cls, score, class_scores, score_kind, **kwargs) -> AttributionResult:
    return AttributionResult(
        method=method,
        attribution=np.asarray(attribution, np.float32),
        class_index=np.asarray(cls, np.int64),
        score=np.asarray(score, np.float32),
        probabilities=probabilities_of(class_scores, score_kind),
        class_scores=np.asarray(class_scores, np.float32),
        score_kind=score_kind,
        **kwargs,
    )


def _cam(loaded, images, x, classes, request, convention, progress, cancelled) -> AttributionResult:
    compiled = graph.get_function(loaded, request.method, request.layer)
    parts = []
    chunks = _chunks(len(x), request.batch_size)
    for k, sl in enumerate(chunks):
        _check_cancel(cancelled)
        parts.append([np.asarray(t) for t in compiled.fn(x[sl], classes[sl])])
        _report(progress, (k + 1) / len(chunks), f"{METHODS[request.method]} {sl.stop}/{len(x)}")
    cls, score, class_scores, cam, up = (np.concatenate(p) for p in zip(*parts, strict=True))
    return _result(
        request.method,
        up,
        cls,
        score,
        class_scores,
        compiled.score_kind,
        layer_map=cam,
        layer=compiled.layer.key,
    )


def _saliency(loaded, images, x, classes, request, convention, progress, cancelled) -> AttributionResult:
    compiled = graph.get_function(loaded, "saliency")
    parts = []
    chunks = _chunks(len(x), request.batch_size)
    for k, sl in enumerate(chunks):
        _check_cancel(cancelled)
        parts.append([np.asarray(t) for t in compiled.fn(x[sl], classes[sl])])
        _report(progress, (k + 1) / len(chunks), f"saliency {sl.stop}/{len(x)}")
    cls, score, class_scores, sal = (np.concatenate(p) for p in zip(*parts, strict=True))
    return _result("saliency", sal, cls, score, class_scores, compiled.score_kind)


def _resolve(loaded, x, classes, request, cancelled):
    """The target class of every input fixed once (the predicted one where none was given)."""
    cls, score, class_scores = _forward(loaded, x, classes, request.batch_size, cancelled)
    return cls.astype(np.int32), score, class_scores


def _smoothgrad(loaded, images, x, classes, request, convention, progress, cancelled) -> AttributionResult:
    """Mean gradient over ``samples`` noisy copies (noise sd: ``noise`` x the input's range), then the
    maximum over channels of its absolute value (Smilkov et al. 2017; as tf-keras-vis's SmoothGrad)."""
    compiled = graph.get_function(loaded, "gradient")
    cls, score, class_scores = _resolve(loaded, x, classes, request, cancelled)
    n, s = len(x), request.samples
    out = np.zeros(x.shape[:3], np.float32)
    for i in range(n):
        rng = np.random.default_rng((request.seed, i))
        spread = float(x[i].max() - x[i].min())
        sigma = request.noise * (spread if spread > 0 else 1.0)
        total = np.zeros(x.shape[1:], np.float64)
        for sl in _chunks(s, request.batch_size):
            _check_cancel(cancelled)
            noisy = x[i][None] + rng.normal(0.0, sigma, size=(sl.stop - sl.start, *x.shape[1:])).astype(
                np.float32
            )
            grads = np.asarray(compiled.fn(noisy, np.full(len(noisy), cls[i], np.int32))[3])
            total += grads.sum(axis=0)
            _report(progress, (i + sl.stop / s) / n, f"SmoothGrad input {i + 1}/{n}, {sl.stop}/{s} samples")
        out[i] = np.abs(total / s).max(axis=-1)
    return _result("smoothgrad", out, cls, score, class_scores, compiled.score_kind)


def _integrated_gradients(loaded, images, x, classes, request, convention, progress, cancelled):
    """Integrated gradients (Sundararajan et al. 2017) along the straight path from the baseline to the
    input in the model's input space, midpoint rule with ``steps`` points, all points of a chunk in one
    batch; summed over channels. ``extras['completeness_error']``: |sum(map) - (score - baseline score)|
    relative to |score - baseline score|."""
    compiled = graph.get_function(loaded, "gradient")
    base = to_model_range(baseline_images(images, request.baseline), convention)
    n, m = len(x), request.steps
    cls, score, class_scores = _resolve(loaded, x, classes, request, cancelled)
    _, baseline_score, _ = _forward(loaded, base, cls, request.batch_size, cancelled)
    alphas = ((np.arange(m, dtype=np.float32) + 0.5) / m)[:, None, None, None]
    out = np.zeros(x.shape[:3], np.float32)
    error = np.zeros(n, np.float32)
    for i in range(n):
        delta = x[i] - base[i]
        total = np.zeros(x.shape[1:], np.float64)
        for sl in _chunks(m, request.batch_size):
            _check_cancel(cancelled)
            path = base[i][None] + alphas[sl] * delta[None]
            grads = np.asarray(compiled.fn(path, np.full(len(path), cls[i], np.int32))[3])
            total += grads.sum(axis=0)
            _report(
                progress,
                (i + sl.stop / m) / n,
                f"integrated gradients input {i + 1}/{n}, {sl.stop}/{m} steps",
            )
        out[i] = (delta * (total / m)).sum(axis=-1)
        diff = float(score[i] - baseline_score[i])
        error[i] = abs(float(out[i].sum()) - diff) / max(abs(diff), 1e-12)
    return _result(
        "ig", out, cls, score, class_scores, compiled.score_kind, baseline_score=baseline_score,
        extras={"completeness_error": error},
    )  # fmt: skip


def occlusion_grid(size: int, patch: int, stride: int) -> list[int]:
    """Start positions of patches along one axis: every ``stride`` pixels, the last one flush with the edge."""
    patch = min(patch, size)
    starts = list(range(0, size - patch + 1, stride))
    if starts[-1] != size - patch:
        starts.append(size - patch)
    return starts


def _occlusion(loaded, images, x, classes, request, convention, progress, cancelled) -> AttributionResult:
    """Occlusion (Zeiler and Fergus 2014): slide a patch filled with the baseline over the input; each
    pixel gets the mean score drop of the patches covering it (positive: hiding it lowers the score)."""
    compiled = graph.get_function(loaded, "forward")
    cls, score, class_scores = _resolve(loaded, x, classes, request, cancelled)
    n, h, w = images.shape[:3]
    patch = request.patch or max(1, int(round(min(h, w) / 7)))
    stride = request.stride or max(1, patch // 2)
    tops, lefts = occlusion_grid(h, patch, stride), occlusion_grid(w, patch, stride)
    positions = [(t, l) for t in tops for l in lefts]
    fills = baseline_images(images, request.baseline)
    out = np.zeros((n, h, w), np.float32)
    grid = np.zeros((n, len(tops), len(lefts)), np.float32)
    ph, pw = min(patch, h), min(patch, w)
    for i in range(n):
        drop_sum = np.zeros((h, w), np.float64)
        count = np.zeros((h, w), np.float64)
        scores = []
        for sl in _chunks(len(positions), request.batch_size):
            _check_cancel(cancelled)
            batch = np.repeat(images[i][None], sl.stop - sl.start, axis=0)
            for k, (t, l) in enumerate(positions[sl]):
                batch[k, t : t + ph, l : l + pw] = fills[i, t : t + ph, l : l + pw]
            model_in = to_model_range(batch, convention)
            _, s, _ = compiled.fn(model_in, np.full(len(batch), cls[i], np.int32))
            scores.append(np.asarray(s))
            _report(progress, (i + sl.stop / len(positions)) / n, f"occlusion input {i + 1}/{n}")
        scores = np.concatenate(scores)
        for (t, l), s in zip(positions, scores, strict=True):
            drop_sum[t : t + ph, l : l + pw] += score[i] - s
            count[t : t + ph, l : l + pw] += 1
        out[i] = drop_sum / np.maximum(count, 1)
        grid[i] = scores.reshape(len(tops), len(lefts))
    result = _result("occlusion", out, cls, score, class_scores, compiled.score_kind)
    result.extras = {"patch_scores": grid}
    result.params = {"patch": patch, "stride": stride}  # the sizes used
    return result


# -- what the views need -----------------------------------------------------------------------------------
def top_classes(
    loaded, image01: np.ndarray, convention: str = "standardised", k: int = 5
) -> list[ClassScore]:
    """The ``k`` most probable classes of one image (index, probability, score), most probable first."""
    _, x = prepare(loaded, image01, convention)
    compiled = graph.get_function(loaded, "forward")
    _, _, class_scores = (np.asarray(t) for t in compiled.fn(x[:1], np.full(1, -1, np.int32)))
    probs = probabilities_of(class_scores, compiled.score_kind)
    return top_of(probs[0], class_scores[0], k)


def live_attribution(
    loaded,
    image01: np.ndarray,
    convention: str = "standardised",
    method: str = "gradcam",
    class_index: int | None = None,
    layer: str | None = None,
    contrast: float = 99.0,
    top_k: int = 5,
) -> LiveAttribution:
    """One image's map ready to overlay, for each stroke on the canvas: one compiled call for Grad-CAM,
    Grad-CAM++ and saliency (a few ms for the MNIST CNN). ``display`` is normalised with ``contrast``."""
    request = AttributionRequest(method=method, class_index=class_index, layer=layer)
    result = attribute(loaded, image01, request, convention)
    display = normalise(result.attribution[0], contrast, result.signed)
    return LiveAttribution(display, result, result.top_classes(0, top_k))


def compare_methods(
    loaded,
    images01: np.ndarray,
    convention: str = "standardised",
    methods: tuple[str, ...] | list[str] = tuple(METHODS),
    request: AttributionRequest | None = None,
    progress: ProgressFn | None = None,
    cancelled: CancelledFn | None = None,
) -> dict[str, AttributionResult]:
    """Several methods for the same inputs (one image or the pinned rows (N, H, W, C)) and the same target
    class (``request.class_index``, else each input's predicted class, fixed once for every method)."""
    request = request or AttributionRequest()
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise AttributionError(f"unknown method '{unknown[0]}'; use one of {', '.join(METHODS)}")
    _, x = prepare(loaded, images01, convention)
    classes = _class_vector(request.class_index, len(x), _n_classes(loaded))
    cls, _, _ = _resolve(loaded, x, classes, request, cancelled)
    out: dict[str, AttributionResult] = {}
    for k, method in enumerate(methods):
        _check_cancel(cancelled)
        sub = AttributionRequest.from_dict(
            {**request.to_dict(), "method": method, "class_index": cls.tolist()}
        )

        def part(fraction, text="", *_, _k=k):
            _report(progress, (_k + fraction) / len(methods), text)

        out[method] = attribute(loaded, images01, sub, convention, part, cancelled)
    return out


def cam_layer_choices(loaded) -> tuple[list[str], str | None]:
    """The layers the CAM methods can use (keys as in the layer tree) and the default one (None if none)."""
    refs = graph.map_layers(loaded.model)
    if not refs:
        return [], None
    return [r.key for r in refs], graph.default_layer(loaded.model).key


__all__ = [
    "CAM_METHODS",
    "attribute",
    "cam_layer_choices",
    "compare_methods",
    "live_attribution",
    "prepare",
    "probabilities_of",
    "top_classes",
]
