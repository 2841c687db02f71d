"""Dataset exemplars: for each map of a layer, the dataset images that drive it hardest, where, and the patch
of the image that map position sees.

One batched pass over a dataset (:func:`layer_statistics`) reduces the layer's output inside one compiled
function to four numbers per image and map: the strongest response anywhere (``peak``), its position, the
mean over positions and the centre neuron's value. That pass is cached per (model, layer, dataset,
convention) in ``loaded.cache``; :func:`find_exemplars` ranks the images by ``peak`` (ties: the lower dataset
index first) and cuts the receptive-field patch around each position
(:func:`cnnviz_gui.core.models.receptive_field.receptive_field_geometry`). The OIP search uses the same pass
for its "relative to the best image" read-out and the data-active check. Exemplars live here, beside the
probe and the class statistics, because they are a read-out of activations over data that the Activations
views need as much as the OIP atlas. Call on the compute thread; results are plain NumPy.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnviz_gui.core.activations.probe import ProbeError, get_probe
from cnnviz_gui.core.preprocess import fit_input, to_model_range

CACHE_KEY = "activations.exemplars"
CACHE_SIZE = 8  # dataset passes kept per model
GEOMETRY_KEY = "models.receptive_field_geometry"


class ExemplarError(Exception):
    """The layer or dataset cannot give exemplars; ``message`` says why for a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class LayerStatistics:
    """Per image (N) and map (C) of one layer over a dataset: the strongest response anywhere (``peak``), its
    flat position ``row * map_width + col`` (``peak_at``), the mean over positions and the centre neuron.
    Dense layers: all three values are the unit's value and the position is 0."""

    layer: str
    dataset: str
    convention: str
    peak: np.ndarray
    peak_at: np.ndarray
    mean: np.ndarray
    centre: np.ndarray
    map_size: tuple[int, int] | None
    seconds: float


@dataclass
class ExemplarResult:
    """The ``top`` images per map, strongest first (M maps, K = ``top``)."""

    layer: str
    maps: np.ndarray  # (M,)
    dataset: str
    convention: str
    indices: np.ndarray  # (M, K) dataset indices
    values: np.ndarray  # (M, K) the map's strongest response in that image
    positions: np.ndarray  # (M, K, 2) where in the map: (row, col)
    boxes: np.ndarray  # (M, K, 4) the receptive field in input pixels: top, left, bottom, right (exclusive)
    patches: np.ndarray  # (M, K, h, w, c) display values 0..1 of that field; nan outside the image
    labels: np.ndarray  # (M, K) the images' class labels
    class_names: list[str] = field(default_factory=list)
    field_size: tuple[int, int] = (0, 0)  # (h, w) of the patches
    map_size: tuple[int, int] | None = None
    seconds: float = 0.0
    cached: bool = False  # the dataset pass came from the cache

    @property
    def top(self) -> int:
        return int(self.indices.shape[1])

    def position_of(self, m: int) -> int:
        """Row of map ``m`` in these arrays (KeyError when it was not asked for)."""
        hits = np.flatnonzero(self.maps == m)
        if not len(hits):
            raise KeyError(f"map {m} is not among the exemplars' maps")
        return int(hits[0])

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "indices": self.indices,
            "values": self.values,
            "positions": self.positions,
            "patches": self.patches,
            "boxes": self.boxes,
            "labels": self.labels,
            "maps": self.maps,
            "layer": np.array(self.layer),
            "dataset": np.array(self.dataset),
            "convention": np.array(self.convention),
            "class_names": np.array(self.class_names),
        }


# -- the dataset -----------------------------------------------------------------------------------------------
def resolve_dataset(dataset):
    """``(Dataset, cache key)`` for None (the bundled sample), a name or path, or a :class:`Dataset`."""
    from cnnviz_gui.core.datasets import BUNDLED, Dataset, load_bundled_mnist, load_dataset

    if isinstance(dataset, Dataset):
        x = np.asarray(dataset.x)
        probe = x.reshape(len(x), -1)[:: max(1, len(x) // 64)]
        digest = zlib.crc32(np.ascontiguousarray(probe, np.float32).tobytes())
        return dataset, ("data", dataset.name, x.shape, digest)
    if dataset in (None, "", BUNDLED, "bundled"):
        return load_bundled_mnist(), ("name", BUNDLED)
    ds = load_dataset(dataset)
    key = str(Path(dataset).resolve()) if Path(str(dataset)).exists() else str(dataset)
    return ds, ("name", key)


# -- the pass ------------------------------------------------------------------------------------------------
def _reducer(loaded, key: str):
    """A cached ``tf.function``: a batch -> (peak, peak position, mean, centre), each (B, C)."""
    import tensorflow as tf

    cache = loaded.cache.setdefault(CACHE_KEY + ".functions", {})
    if key not in cache:
        probe = get_probe(loaded)
        layer_fn = probe.layer_function(key)

        def reduce(x):
            out = layer_fn(x)
            if len(out.shape) == 2:
                return out, tf.zeros_like(out, tf.int32), out, out
            h, w, c = (int(s) for s in out.shape[1:])
            flat = tf.reshape(out, [-1, h * w, c])
            return (
                tf.reduce_max(flat, axis=1),
                tf.cast(tf.argmax(flat, axis=1), tf.int32),
                tf.reduce_mean(flat, axis=1),
                out[:, h // 2, w // 2, :],
            )

        spec = tf.TensorSpec((None, *probe.input_shape), tf.float32)
        cache[key] = tf.function(reduce, input_signature=[spec], reduce_retracing=True, autograph=False)
    return cache[key]


def layer_key(loaded, layer: str) -> tuple[str, tuple]:
    """The probe's key of ``layer`` and the layer's output shape; :class:`ExemplarError` when unusable."""
    try:
        probe = get_probe(loaded)
    except ProbeError as err:
        raise ExemplarError(err.message) from err
    if layer not in probe:
        raise ExemplarError(f"The model has no layer '{layer}'. Its layers are: {', '.join(probe.names)}.")
    if len(probe.input_shape) != 3 or None in probe.input_shape:
        raise ExemplarError(
            f"Exemplars need an image input of fixed size; this model takes {probe.input_shape}."
        )
    key = probe.key(layer)
    out = probe.layer_function(key)(np.zeros((1, *probe.input_shape), np.float32))
    if len(out.shape) not in (2, 4):
        raise ExemplarError(
            f"Layer '{key}' has output shape {tuple(out.shape[1:])}; exemplars need maps (H, W, C) or units (N)."
        )
    return key, tuple(int(s) for s in out.shape[1:])


def layer_statistics(
    loaded,
    layer: str,
    dataset=None,
    convention: str = "standardised",
    batch_size: int = 128,
    progress: Callable | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> LayerStatistics | None:
    """One batched pass of ``dataset`` through the model up to ``layer`` (cached); None when cancelled.

    ``dataset``: None (the bundled MNIST sample), a name or path for ``core.datasets.load_dataset``, or a
    ``Dataset``. ``progress(fraction, text)`` is called after every batch.
    """
    key, shape = layer_key(loaded, layer)
    ds, ds_key = resolve_dataset(dataset)
    if len(ds.x) == 0:
        raise ExemplarError(f"The dataset {ds.name} holds no images.")
    cache = loaded.cache.setdefault(CACHE_KEY, {})
    cache_key = (key, ds_key, convention)
    if cache_key in cache:
        return cache[cache_key]
    probe = get_probe(loaded)
    fn = _reducer(loaded, key)
    t0 = time.monotonic()
    parts: list[list[np.ndarray]] = [[], [], [], []]
    n = len(ds.x)
    for start in range(0, n, batch_size):
        if cancelled is not None and cancelled():
            return None
        try:
            x = to_model_range(fit_input(ds.x[start : start + batch_size], probe.input_shape), convention)
        except ValueError as err:
            raise ExemplarError(f"The images of {ds.name} do not fit the model: {err}.") from err
        for part, value in zip(parts, fn(x), strict=True):
            part.append(value.numpy())
        if progress is not None:
            done = min(start + batch_size, n)
            progress(done / n, f"{done:,}/{n:,} images of {ds.name}")
    peak, peak_at, mean, centre = (np.concatenate(p) for p in parts)
    stats = LayerStatistics(
        key, ds.name, convention, peak, peak_at, mean, centre,
        tuple(shape[:2]) if len(shape) == 3 else None, time.monotonic() - t0,
    )  # fmt: skip
    cache[cache_key] = stats
    while len(cache) > CACHE_SIZE:  # the oldest passes go first (each holds 4 numbers per image and map)
        cache.pop(next(iter(cache)))
    return stats


# -- exemplars -----------------------------------------------------------------------------------------------
def _geometry(loaded, key: str):
    from cnnviz_gui.core.models.receptive_field import receptive_field_geometry

    if GEOMETRY_KEY not in loaded.cache:
        model = loaded.model
        try:
            config = {"class_name": type(model).__name__, "config": model.get_config()}
            loaded.cache[GEOMETRY_KEY] = receptive_field_geometry(config)
        except Exception:  # a model whose config cannot be read: whole images as patches
            loaded.cache[GEOMETRY_KEY] = {}
    geo = loaded.cache[GEOMETRY_KEY]
    probe = get_probe(loaded)
    path = "/".join(probe.paths[probe.names.index(key)])
    return geo.get(path, geo.get(key, "full"))


def cut_patch(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The part ``box`` = (top, left, bottom, right) of ``image`` (H, W, C); nan where it leaves the image."""
    top, left, bottom, right = box
    h, w, c = image.shape
    out = np.full((bottom - top, right - left, c), np.nan, np.float32)
    t, lft, b, r = max(top, 0), max(left, 0), min(bottom, h), min(right, w)
    if b > t and r > lft:
        out[t - top : b - top, lft - left : r - left] = image[t:b, lft:r]
    return out


def find_exemplars(
    loaded,
    layer: str,
    maps=None,
    dataset=None,
    top: int = 5,
    convention: str = "standardised",
    batch_size: int = 128,
    progress: Callable | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ExemplarResult | None:
    """The ``top`` images of ``dataset`` per map of ``layer`` by the map's strongest response anywhere, with
    its position and receptive-field patch. ``maps``: indices (None: all). None when cancelled.

    Raises :class:`ExemplarError` (a message for a person) for a layer, map or dataset that cannot be used.
    """
    from cnnviz_gui.core.datasets import DatasetError

    t0 = time.monotonic()
    try:
        ds, ds_key = resolve_dataset(dataset)
    except DatasetError as err:
        raise ExemplarError(err.message) from err
    key, shape = layer_key(loaded, layer)
    n_units = shape[-1]
    maps = np.arange(n_units) if maps is None else np.asarray(list(maps), np.int64)
    bad = [int(m) for m in maps if not 0 <= m < n_units]
    if bad:
        raise ExemplarError(f"map {bad[0]} does not exist: layer '{key}' has maps 0 to {n_units - 1}")
    if top < 1:
        raise ExemplarError(f"--top must be at least 1, got {top}")
    cached = (key, ds_key, convention) in loaded.cache.get(CACHE_KEY, {})
    stats = layer_statistics(loaded, key, ds, convention, batch_size, progress, cancelled)
    if stats is None:
        return None
    k = min(int(top), len(stats.peak))
    values = stats.peak[:, maps]  # (N, M)
    order = np.argsort(-values, axis=0, kind="stable")[:k].T  # (M, K): ties keep the lower index first
    vals = np.take_along_axis(values.T, order, axis=1)
    probe = get_probe(loaded)
    images = fit_input(ds.x[np.unique(order)], probe.input_shape)
    where = {int(i): j for j, i in enumerate(np.unique(order))}
    w_map = stats.map_size[1] if stats.map_size else 1
    at = stats.peak_at[order, maps[:, None]]  # (M, K)
    positions = np.stack([at // w_map, at % w_map], axis=-1).astype(np.int32)
    geo = _geometry(loaded, key)
    H, W = probe.input_shape[:2]
    boxes = np.zeros((*order.shape, 4), np.int32)
    for i in range(order.shape[0]):
        for j in range(order.shape[1]):
            boxes[i, j] = (
                (0, 0, H, W) if geo == "full" or stats.map_size is None else geo.box(*positions[i, j])
            )
    size = (int(boxes[0, 0, 2] - boxes[0, 0, 0]), int(boxes[0, 0, 3] - boxes[0, 0, 1]))
    patches = np.full((*order.shape, *size, probe.input_shape[-1]), np.nan, np.float32)
    for i in range(order.shape[0]):
        for j in range(order.shape[1]):
            patches[i, j] = cut_patch(images[where[int(order[i, j])]], tuple(boxes[i, j]))
    return ExemplarResult(
        layer=key,
        maps=maps.astype(np.int32),
        dataset=ds.name,
        convention=convention,
        indices=order.astype(np.int64),
        values=vals.astype(np.float32),
        positions=positions,
        boxes=boxes,
        patches=patches,
        labels=np.asarray(ds.y)[order].astype(np.int64),
        class_names=list(ds.class_names),
        field_size=size,
        map_size=stats.map_size,
        seconds=time.monotonic() - t0,
        cached=cached,
    )
