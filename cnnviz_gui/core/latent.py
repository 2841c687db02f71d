"""Latent space of an autoencoder: encode, project, decode, grid, interpolate, sample, measure.

All TensorFlow work here runs on the compute thread. Decoding and encoding go through cached
``tf.function``s with fixed input signatures, so a hover decode is one compiled call, never ``predict``.
Statistics, projections and sampling are NumPy only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cnnviz_gui.core.latent_models import (  # noqa: F401 - re-exported
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


# -- projections -----------------------------------------------------------------------------------------
@dataclass
class Projection:
    """Maps latent points to the two shown axes and back.

    ``method`` is "axes" (two latent coordinates; the others held at the data mean), "pca" (two principal
    components, NumPy SVD), "umap" or "tsne" (optional; their inverse is a nearest-neighbour average).
    ``exact`` says whether ``inverse`` gives the true latent point (only "axes" with a 2-D latent space).
    """

    method: str
    axes: tuple[int, int]
    mean: np.ndarray
    components: np.ndarray | None = None  # (d, d) rows = principal directions
    explained: np.ndarray | None = None  # fraction of variance per component
    embedded: np.ndarray | None = None  # (N, 2) for umap/tsne
    z_ref: np.ndarray | None = None  # (N, d) for umap/tsne inverse

    @property
    def exact(self) -> bool:
        return self.method == "axes" and self.mean.shape[0] == 2

    @property
    def axis_names(self) -> tuple[str, str]:
        a, b = self.axes
        if self.method == "axes":
            return f"z{a}", f"z{b}"
        if self.method == "pca":
            ex = self.explained if self.explained is not None else np.zeros(max(a, b) + 1)
            return f"PC{a + 1} ({ex[a] * 100:.0f}%)", f"PC{b + 1} ({ex[b] * 100:.0f}%)"
        return f"{self.method.upper()} 1", f"{self.method.upper()} 2"

    @property
    def note(self) -> str:
        if self.exact:
            return ""
        if self.method == "axes":
            return "approximate: the other latent coordinates are held at the data mean"
        if self.method == "pca":
            return "approximate: decoded from the inverse PCA projection (other components at the mean)"
        return f"approximate: decoded from the average latent point of the nearest {self.method.upper()} neighbours"

    def transform(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float32)
        a, b = self.axes
        if self.method == "axes":
            return np.ascontiguousarray(z[:, [a, b]])
        if self.method == "pca":
            return ((z - self.mean) @ self.components[[a, b]].T).astype(np.float32)
        return self._knn_forward(z)

    def inverse(self, p: np.ndarray) -> np.ndarray:
        """Latent points (N, d) for shown points ``p`` (N, 2)."""
        p = np.atleast_2d(np.asarray(p, dtype=np.float32))
        a, b = self.axes
        if self.method == "axes":
            z = np.repeat(self.mean[None, :].astype(np.float32), len(p), axis=0)
            z[:, a], z[:, b] = p[:, 0], p[:, 1]
            return z
        if self.method == "pca":
            return (self.mean + p @ self.components[[a, b]]).astype(np.float32)
        return _knn_average(self.embedded, self.z_ref, p)

    def _knn_forward(self, z: np.ndarray) -> np.ndarray:
        return _knn_average(self.z_ref, self.embedded, z)


def _knn_average(src: np.ndarray, dst: np.ndarray, q: np.ndarray, k: int = 8) -> np.ndarray:
    """Inverse-distance-weighted average of ``dst`` at the ``k`` nearest ``src`` points of each query."""
    out = np.empty((len(q), dst.shape[1]), np.float32)
    for start in range(0, len(q), 256):
        qq = q[start : start + 256]
        d2 = ((qq[:, None, :] - src[None, :, :]) ** 2).sum(-1)
        idx = np.argpartition(d2, min(k, len(src) - 1), axis=1)[:, :k]
        w = 1.0 / (np.sqrt(np.take_along_axis(d2, idx, 1)) + 1e-6)
        out[start : start + 256] = (dst[idx] * w[..., None]).sum(1) / w.sum(1, keepdims=True)
    return out


def available_projections(z_dim: int) -> list[str]:
    """Projection methods usable here: "axes" and "pca" always (pca for d > 2), umap/tsne if installed."""
    import importlib.util

    methods = ["axes"] + (["pca"] if z_dim > 2 else [])
    if z_dim > 2 and importlib.util.find_spec("umap") is not None:
        methods.append("umap")
    if z_dim > 2 and importlib.util.find_spec("sklearn") is not None:
        methods.append("tsne")
    return methods


def fit_projection(
    z: np.ndarray, method: str | None = None, axes: tuple[int, int] = (0, 1), seed: int = 0
) -> Projection:
    """Fit a projection to encoded points; default: latent axes for d = 2, PCA for d > 2."""
    z = np.asarray(z, dtype=np.float32)
    d = z.shape[1]
    method = method or ("axes" if d <= 2 else "pca")
    mean = z.mean(axis=0)
    if d == 1:
        raise LatentError("A 1-D latent space has no second axis to plot.")
    a, b = (int(axes[0]), int(axes[1]))
    if method in ("umap", "tsne"):
        a, b = 0, 1
    if not (0 <= a < d and 0 <= b < d) or a == b:
        raise LatentError(f"Pick two different axes between 0 and {d - 1} (got {a} and {b}).")
    if method == "axes":
        return Projection("axes", (a, b), mean)
    if method == "pca":
        _, s, vt = np.linalg.svd(z - mean, full_matrices=False)
        var = s**2
        return Projection("pca", (a, b), mean, vt.astype(np.float32), (var / var.sum()).astype(np.float32))
    if method == "umap":
        import umap

        emb = umap.UMAP(n_components=2, random_state=seed).fit_transform(z)
    elif method == "tsne":
        from sklearn.manifold import TSNE

        emb = TSNE(n_components=2, random_state=seed, init="pca").fit_transform(z)
    else:
        raise LatentError(f"Unknown projection '{method}'; use one of {available_projections(d)}.")
    return Projection(method, (0, 1), mean, embedded=np.asarray(emb, np.float32), z_ref=z)


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
                from cnnviz_gui.core.compute import JobCancelled

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
    from cnnviz_gui.core.latent_models import _submodels

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
