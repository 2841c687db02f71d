"""Class statistics of a layer's maps over a dataset (FCP): per-class means, silent maps, class differences."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cnnviz_gui.core.activations.probe import get_probe
from cnnviz_gui.core.preprocess import fit_input, to_model_range


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
