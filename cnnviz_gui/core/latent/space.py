"""Latent space of an autoencoder: encode, project, decode, grid, interpolate, sample, measure.

All TensorFlow work here runs on the compute thread. Decoding and encoding go through cached
``tf.function``s with fixed input signatures, so a hover decode is one compiled call, never ``predict``.
Statistics are NumPy only; projections live in ``latent_projection``, sampling in ``latent_generation``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cnnviz_gui.core.latent.projection import (  # noqa: F401 - re-exported
    Projection,
    available_projections,
    fit_projection,
)
from cnnviz_gui.core.latent.recognition import (  # noqa: F401 - re-exported
    AutoencoderParts,
    LatentError,
    Recognition,
    bottleneck_candidates,
    recognise,
    split_at_bottleneck,
)
from cnnviz_gui.core.preprocess import to_model_range

ProgressFn = Callable[..., None]
CancelledFn = Callable[[], bool]


# -- statistics ------------------------------------------------------------------------------------------
@dataclass
class LatentStats:
    """Extent of encoded points: per-axis 1st/99th percentiles, radius around the origin holding 99%."""

    extent: np.ndarray  # (d, 2)
    r99: float
    centroids: np.ndarray  # (n_classes, d); NaN rows for absent classes
    counts: np.ndarray  # (n_classes,)
    mean: np.ndarray  # (d,)
    n: int

    def format_text(self, class_names: list[str] | None = None, axis_names: list[str] | None = None) -> str:
        d = self.extent.shape[0]
        axis_names = axis_names or [f"z{i}" for i in range(d)]
        lines = [f"{self.n:,} points, {d}-D latent space", "extent (1st..99th percentile):"]
        for i in range(d):
            lines.append(f"  {axis_names[i]}: [{self.extent[i, 0]:+.2f}, {self.extent[i, 1]:+.2f}]")
        lines.append(f"radius around the origin holding 99% of points: r99 = {self.r99:.2f}")
        if len(self.counts):
            lines.append("class centroids:")
            for c, (row, count) in enumerate(zip(self.centroids, self.counts, strict=True)):
                if count:
                    name = class_names[c] if class_names and c < len(class_names) else str(c)
                    coords = ", ".join(f"{v:+.2f}" for v in row[: min(d, 4)]) + (", …" if d > 4 else "")
                    lines.append(f"  {name}: ({coords})  n={int(count)}")
        return "\n".join(lines)


def latent_statistics(
    z: np.ndarray, labels: np.ndarray | None = None, n_classes: int | None = None
) -> LatentStats:
    """Measure encoded points ``z`` (N, d); centroids per integer label when ``labels`` are given."""
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or len(z) == 0:
        raise ValueError(f"expected encoded points of shape (N, d) with N > 0, got {z.shape}")
    extent = np.stack([np.percentile(z, 1, axis=0), np.percentile(z, 99, axis=0)], axis=1)
    r99 = float(np.percentile(np.linalg.norm(z, axis=1), 99))
    if labels is not None and len(labels) == len(z):
        labels = np.asarray(labels).astype(np.int64)
        k = int(n_classes or (labels.max() + 1 if len(labels) else 0))
        counts = np.bincount(labels, minlength=k)[:k]
        centroids = np.full((k, z.shape[1]), np.nan)
        for c in range(k):
            if counts[c]:
                centroids[c] = z[labels == c].mean(axis=0)
    else:
        counts, centroids = np.zeros(0, np.int64), np.zeros((0, z.shape[1]))
    return LatentStats(
        extent.astype(np.float32), r99, centroids.astype(np.float32), counts, z.mean(axis=0), len(z)
    )


# -- the engine ------------------------------------------------------------------------------------------
@dataclass
class Encoded:
    """Encoded points: ``z`` (N, d) (``z_mean`` for a VAE) and ``z_log_var`` (VAE only)."""

    z: np.ndarray
    z_log_var: np.ndarray | None = None


class LatentSpace:
    """An encoder/decoder pair with cached compiled calls. Use on the compute thread only."""

    def __init__(self, parts: AutoencoderParts, convention: str = "0..1"):
        self.parts = parts
        self.encoder, self.decoder = parts.encoder, parts.decoder
        self.recognition: Recognition = parts.recognition
        self.convention = convention
        self._encode_fn = None
        self._decode_fn = None

    @property
    def z_dim(self) -> int:
        return self.recognition.z_dim

    @property
    def kind(self) -> str:
        return self.recognition.kind

    # compiled calls -------------------------------------------------------------------------------------
    def _encoder_fn(self):
        if self._encode_fn is None:
            import tensorflow as tf

            rec, enc = self.recognition, self.encoder
            keep = [rec.mean_index] + ([rec.log_var_index] if rec.log_var_index is not None else [])
            spec = tf.TensorSpec((None, *rec.input_shape), tf.float32)

            @tf.function(input_signature=[spec], reduce_retracing=True)
            def encode(x):
                out = enc(x, training=False)
                outs = out if isinstance(out, list | tuple) else [out]
                return [outs[i] for i in keep]

            self._encode_fn = encode
        return self._encode_fn

    def _decoder_fn(self):
        if self._decode_fn is None:
            import tensorflow as tf

            dec = self.decoder
            spec = tf.TensorSpec((None, self.z_dim), tf.float32)

            @tf.function(input_signature=[spec], reduce_retracing=True)
            def decode(z):
                out = dec(z, training=False)
                return out[0] if isinstance(out, list | tuple) else out

            self._decode_fn = decode
        return self._decode_fn

    def warm_up(self) -> None:
        """Trace both compiled calls once so the first hover is fast."""
        self.decode(np.zeros((1, self.z_dim), np.float32))
        self.encode(np.zeros((1, *self.recognition.input_shape), np.float32))

    # public operations ----------------------------------------------------------------------------------
    def encode(
        self,
        images01: np.ndarray,
        batch_size: int = 500,
        progress: ProgressFn | None = None,
        cancelled: CancelledFn | None = None,
    ) -> Encoded:
        """Encode images in 0..1 (N, H, W, C) in batches; ``progress(fraction, text)`` after each batch."""
        x = np.asarray(images01, dtype=np.float32)
        want = tuple(self.recognition.input_shape)
        if x.shape[1:] != want:
            raise LatentError(
                f"The encoder expects images of shape {want}, but the data are {x.shape[1:]}; choose a dataset "
                "of the right size."
            )
        fn = self._encoder_fn()
        zs, lvs = [], []
        n = len(x)
        for start in range(0, n, batch_size):
            if cancelled is not None and cancelled():
                from cnnviz_gui.core.runtime.jobs import JobCancelled

                raise JobCancelled()
            batch = to_model_range(x[start : start + batch_size], self.convention)
            outs = fn(batch)
            zs.append(outs[0].numpy())
            if len(outs) > 1:
                lvs.append(outs[1].numpy())
            if progress is not None:
                done = min(start + batch_size, n)
                progress(done / n, f"encoded {done:,} of {n:,}")
        z = np.concatenate(zs) if zs else np.zeros((0, self.z_dim), np.float32)
        lv = np.concatenate(lvs) if lvs else None
        return Encoded(z.astype(np.float32), lv)

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Decode latent points (N, d) in one compiled call; returns images (N, H, W, C) float32."""
        z = np.atleast_2d(np.asarray(z, dtype=np.float32))
        if z.shape[1] != self.z_dim:
            raise LatentError(f"Latent points need {self.z_dim} coordinates, got {z.shape[1]}.")
        return np.asarray(self._decoder_fn()(z), dtype=np.float32)

    def decode_grid(
        self, projection: Projection, bounds: tuple[float, float, float, float], n: int
    ) -> GridResult:
        """Decode an n x n grid over ``bounds`` = (x0, x1, y0, y1) of the shown plane in one call."""
        if not 1 <= n <= 30:
            raise LatentError(f"The grid size must be between 1 and 30, got {n}.")
        points = grid_points(bounds, n)
        images = self.decode(projection.inverse(points))
        from cnnviz_gui.core.figures import image_grid

        mosaic = image_grid(images[..., 0] if images.shape[-1] == 1 else images.mean(-1), ncols=n, pad=0)
        return GridResult(n, tuple(float(b) for b in bounds), points, images, mosaic, projection.note)

    def interpolate(self, z_a: np.ndarray, z_b: np.ndarray, steps: int) -> Interpolation:
        """Decode ``steps`` points evenly spaced on the straight line from ``z_a`` to ``z_b`` (both included)."""
        if steps < 2:
            raise LatentError("An interpolation needs at least 2 steps.")
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
        z_a, z_b = np.asarray(z_a, np.float32).ravel(), np.asarray(z_b, np.float32).ravel()
        z = (1 - t) * z_a + t * z_b
        return Interpolation(z, self.decode(z))


def grid_points(bounds: tuple[float, float, float, float], n: int) -> np.ndarray:
    """Centres of an n x n grid over (x0, x1, y0, y1), row by row from the top (largest y) down."""
    x0, x1, y0, y1 = bounds
    xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    ys = y1 - (np.arange(n) + 0.5) * (y1 - y0) / n
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)


@dataclass
class GridResult:
    n: int
    bounds: tuple[float, float, float, float]
    points: np.ndarray  # (n*n, 2) in the shown plane
    images: np.ndarray  # (n*n, H, W, C)
    mosaic: np.ndarray  # (n*H, n*W)
    note: str = ""


@dataclass
class Interpolation:
    z: np.ndarray  # (steps, d)
    images: np.ndarray  # (steps, H, W, C)


# -- datasets --------------------------------------------------------------------------------------------
def dataset_names() -> list[str]:
    """Dataset names the latent explorer offers (the bundled sample first)."""
    from cnnviz_gui.core.datasets import dataset_sources

    return [key for key, _ in dataset_sources()]


def load_named_dataset(name: str = "mnist-sample"):
    """Load a dataset by name or path; a failure raises :class:`LatentError` with the reason."""
    from cnnviz_gui.core.datasets import DatasetError, load_dataset

    try:
        return load_dataset(name or "mnist-sample")
    except DatasetError as err:
        raise LatentError(err.message) from err


def data_bounds(points: np.ndarray, margin: float = 0.08) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1) around shown points (N, 2): the 0.5th..99.5th percentiles plus a margin."""
    p = np.asarray(points, np.float64)
    if len(p) == 0:
        return (-1.0, 1.0, -1.0, 1.0)
    lo, hi = np.percentile(p, 0.5, axis=0), np.percentile(p, 99.5, axis=0)
    span = np.maximum(hi - lo, 1e-3)
    lo, hi = lo - margin * span, hi + margin * span
    return (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))


def bundled_autoencoder_path(kind: str = "vae"):
    """The bundled 2-D MNIST autoencoder (``"ae"``) or VAE (``"vae"``)."""
    from cnnviz_gui.core.resources import resource_path

    if kind not in ("ae", "vae"):
        raise ValueError(f"kind must be 'ae' or 'vae', got {kind!r}")
    return resource_path("models", f"mnist_{kind}.keras")


def model_candidates(model) -> tuple[list[str], list[str]]:
    """(nested sub-model names, top-level layers with vector outputs): what a person can pick from."""
    from cnnviz_gui.core.latent.recognition import _submodels

    try:
        subs = [m.name for m in _submodels(model)]
        return subs, bottleneck_candidates(model)
    except Exception:  # an odd graph: offer nothing rather than fail
        return [], []


def input_convention(model) -> str:
    """The value range an autoencoder's encoder expects: 0..255 behind a rescaling layer, else 0..1."""
    from cnnviz_gui.core.preprocess import guess_convention

    return "0..255" if guess_convention(model).convention == "0..255" else "0..1"


def open_space(
    model, encoder=None, decoder=None, bottleneck=None, decoder_model=None, warm_up: bool = True
) -> LatentSpace:
    """Recognise ``model`` as asked (see :func:`recognise`) and return a warmed-up :class:`LatentSpace`."""
    space = LatentSpace(
        recognise(model, encoder, decoder, bottleneck, decoder_model), input_convention(model)
    )
    if warm_up:
        space.warm_up()
    return space


def explore(model=None, encoder=None, decoder=None, bottleneck=None, files: tuple[str, str] | None = None):
    """What the Latent tab asks on the compute thread: ``(space or None, (sub-models, bottleneck layers),
    message)``. ``files`` = (encoder file, decoder file) replaces ``model``; a failure comes back as the
    message (a refused file, or why no encoder/decoder was found), never as an exception."""
    from pathlib import Path

    from cnnviz_gui.core.models.loading import ModelLoadError, open_model

    if files is not None:
        try:
            model, decoder_model = open_model(files[0]).model, open_model(files[1]).model
        except ModelLoadError as err:
            return None, ([], []), err.message
        cands, kwargs = ([], []), {"decoder_model": decoder_model}
    else:
        cands = model_candidates(model)
        kwargs = {"encoder": encoder, "decoder": decoder, "bottleneck": bottleneck}
    try:
        space = open_space(model, **kwargs)
    except LatentError as err:
        return None, cands, err.message
    if files is not None:  # name the files, not the models inside them
        rec = space.recognition
        rec.encoder_name, rec.decoder_name = Path(files[0]).name, Path(files[1]).name
    return space, cands, ""
