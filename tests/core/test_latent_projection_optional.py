"""UMAP and t-SNE projections (optional ``umap`` extra): skipped where umap-learn / scikit-learn are missing.

UMAP's first fit compiles numba code: the UMAP test takes ~16 s, t-SNE ~7 s (500 points, 2-core CPU).
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz_gui.core.latent import space as latent
from cnnviz_gui.core.latent.generation import nearest_distances


def _clusters(n_per: int = 125, d: int = 5, seed: int = 0):
    """Four well-separated Gaussian clusters in ``d`` dimensions, like the classes of an encoded dataset."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((4, d)) * 6
    labels = np.repeat(np.arange(4), n_per)
    z = (centres[labels] + rng.standard_normal((len(labels), d))).astype(np.float32)
    return z, labels, centres


def _check_projection(method: str, label: str) -> None:
    z, labels, centres = _clusters()
    assert method in latent.available_projections(5) and method not in latent.available_projections(2)
    proj = latent.fit_projection(z, method, axes=(3, 4))  # axes are ignored: two embedding axes
    assert proj.method == method and proj.axes == (0, 1) and not proj.exact
    assert proj.axis_names == (f"{label} 1", f"{label} 2")
    assert "approximate" in proj.note and label in proj.note and "approximate" in proj.short_note

    shown = proj.transform(z)
    assert shown.shape == (500, 2) and shown.dtype == np.float32 and np.isfinite(shown).all()
    assert np.ptp(shown, axis=0).min() > 0  # a real 2-D spread, not a collapsed line
    spacing = float(np.median(nearest_distances(shown, shown, exclude_self=True)))
    np.testing.assert_allclose(shown, proj.embedded, atol=0.05 * spacing)  # the data map to their embedding

    # clusters stay apart in the plane: each point's nearest shown neighbour is of its own cluster
    d2 = ((shown[:, None] - shown[None]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    assert (labels[d2.argmin(1)] == labels).mean() > 0.95

    # inverse: a point a little off a shown point decodes near that point's latent vector, in its cluster
    rng = np.random.default_rng(1)
    pick = rng.choice(500, 60, replace=False)
    offset = rng.standard_normal((60, 2)).astype(np.float32) * 0.3 * spacing
    back = proj.inverse(shown[pick] + offset)
    assert back.shape == (60, 5) and np.isfinite(back).all()
    err = np.linalg.norm(back - z[pick], axis=1)
    between = np.linalg.norm(centres[:, None] - centres[None], axis=-1)[np.triu_indices(4, 1)].min()
    assert np.median(err) < 0.25 * between
    nearest_centre = np.linalg.norm(back[:, None] - centres[None], axis=-1).argmin(1)
    assert (nearest_centre == labels[pick]).mean() > 0.95
    # exactly on a shown point: that point's latent vector
    np.testing.assert_allclose(proj.inverse(shown[pick]), z[pick], atol=1e-2)


def test_tsne_projection_and_its_approximate_inverse():
    pytest.importorskip("sklearn")
    _check_projection("tsne", "t-SNE")


def test_umap_projection_and_its_approximate_inverse():
    pytest.importorskip("umap")
    _check_projection("umap", "UMAP")
