"""Showing a latent space in 2-D and going back: latent axes, PCA (NumPy), UMAP or t-SNE (optional).

``Projection.inverse`` maps a point of the shown plane back to a latent point to decode; it is exact only for
the two axes of a 2-D latent space, and the projection says how approximate it is otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz_gui.core.latent.recognition import LatentError
from cnnviz_gui.core.runtime.child_process import ChildJobFailed, run_in_child

METHOD_LABELS = {"axes": "latent axes", "pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}


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
        return f"{self.label} 1", f"{self.label} 2"

    @property
    def label(self) -> str:
        """The method's usual written name ("t-SNE", "UMAP", "PCA")."""
        return METHOD_LABELS.get(self.method, self.method)

    @property
    def note(self) -> str:
        if self.exact:
            return ""
        if self.method == "axes":
            return "approximate: the other latent coordinates are held at the data mean"
        if self.method == "pca":
            return "approximate: decoded from the inverse PCA projection (other components at the mean)"
        return f"approximate: decoded from the average latent point of the nearest {self.label} neighbours"

    @property
    def short_note(self) -> str:
        """A few words for a small title: how approximate a decoded point is ("" when exact)."""
        if self.exact:
            return ""
        if self.method == "axes":
            return "approximate: other axes at the data mean"
        if self.method == "pca":
            return "approximate: inverse PCA projection"
        return f"approximate: nearest {self.label} neighbours"

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
    z: np.ndarray, method: str | None = None, axes: tuple[int, int] = (0, 1), seed: int = 0, cancelled=None
) -> Projection:
    """Fit a projection to encoded points; default: latent axes for d = 2, PCA for d > 2.

    UMAP and t-SNE run in a child process (:func:`run_in_child`): ``cancelled()`` turning true ends them at
    once (``JobCancelled``); PCA and the axes take milliseconds.
    """
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
    if method not in ("umap", "tsne"):
        raise LatentError(f"Unknown projection '{method}'; use one of {available_projections(d)}.")
    try:
        emb = run_in_child(embed_2d, method, z, seed, cancelled=cancelled)
    except ChildJobFailed as exc:
        raise LatentError(f"The {METHOD_LABELS[method]} projection failed: {exc}") from exc
    return Projection(method, (0, 1), mean, embedded=np.asarray(emb, np.float32), z_ref=z)


def embed_2d(method: str, z: np.ndarray, seed: int) -> np.ndarray:
    """The UMAP or t-SNE embedding of ``z`` in 2-D (run in a child process by :func:`fit_projection`)."""
    if method == "umap":
        import umap

        return umap.UMAP(n_components=2, random_state=seed, n_jobs=1).fit_transform(z)
    from sklearn.manifold import TSNE

    return TSNE(n_components=2, random_state=seed, init="pca").fit_transform(z)
