"""Latent space: statistics, projections, sampling, generation and figures; the bundled AE and VAE."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz_gui.core.latent import space as latent
from cnnviz_gui.core.latent.generation import (
    SAMPLING_METHODS,
    data_gaps,
    generate,
    nearest_distances,
    sample_latent,
)


@pytest.fixture(scope="module")
def vae_space():
    from cnnviz_gui.core.models.loading import open_model

    loaded = open_model(latent.bundled_autoencoder_path("vae"))
    return latent.LatentSpace(latent.recognise(loaded.model))


@pytest.fixture(scope="module")
def ae_space():
    from cnnviz_gui.core.models.loading import open_model

    loaded = open_model(latent.bundled_autoencoder_path("ae"))
    return latent.LatentSpace(latent.recognise(loaded.model))


def test_statistics_on_known_points():
    # 1,000 points on a line x = -4..4 (class 0) and 1,000 at (3, 3) (class 2); class 1 absent
    x = np.linspace(-4, 4, 1000)
    z = np.concatenate([np.stack([x, np.zeros_like(x)], 1), np.full((1000, 2), 3.0)])
    labels = np.repeat([0, 2], 1000)
    s = latent.latent_statistics(z, labels, n_classes=3)
    assert s.n == 2000 and s.extent.shape == (2, 2)
    assert s.extent[0, 0] == pytest.approx(np.percentile(z[:, 0], 1), abs=1e-4)
    assert s.extent[1].tolist() == pytest.approx([0.0, 3.0])
    assert s.r99 == pytest.approx(np.sqrt(18.0), abs=1e-3)  # the (3, 3) points are the farthest 50 %
    assert s.counts.tolist() == [1000, 0, 1000]
    np.testing.assert_allclose(s.centroids[0], [0, 0], atol=1e-6)
    np.testing.assert_allclose(s.centroids[2], [3, 3])
    assert np.isnan(s.centroids[1]).all()
    text = s.format_text(["a", "b", "c"])
    assert "r99 = 4.24" in text and "c: (+3.00, +3.00)" in text and "b:" not in text
    with pytest.raises(ValueError):
        latent.latent_statistics(np.zeros((0, 2)))


def test_pca_projection_round_trip():
    rng = np.random.default_rng(1)
    basis = np.linalg.qr(rng.standard_normal((5, 2)))[0].T  # two orthonormal directions in 5-D
    coeff = rng.standard_normal((400, 2)) * [3.0, 1.0]
    z = (coeff @ basis + [1, 2, 3, 4, 5]).astype(np.float32)
    proj = latent.fit_projection(z)
    assert proj.method == "pca" and not proj.exact and "approximate" in proj.note
    assert proj.explained[:2].sum() == pytest.approx(1.0, abs=1e-4)
    p = proj.transform(z)
    assert p.shape == (400, 2)
    np.testing.assert_allclose(proj.inverse(p), z, atol=1e-3)  # the data lie in the plane: exact there
    assert proj.axis_names[0].startswith("PC1 (")
    other = latent.fit_projection(z, "pca", axes=(1, 2))
    assert other.axis_names[1].startswith("PC3")
    axes = latent.fit_projection(z, "axes", axes=(3, 1))
    np.testing.assert_allclose(axes.transform(z), z[:, [3, 1]])
    back = axes.inverse(np.array([[9.0, 8.0]]))
    assert back[0, 3] == 9 and back[0, 1] == 8 and back[0, 0] == pytest.approx(z[:, 0].mean(), abs=1e-4)
    with pytest.raises(latent.LatentError, match="two different axes"):
        latent.fit_projection(z, "axes", axes=(2, 2))
    two = latent.fit_projection(z[:, :2])
    assert two.method == "axes" and two.exact and two.note == ""
    assert latent.available_projections(2) == ["axes"] and "pca" in latent.available_projections(5)


def test_sampling_methods_shapes_and_spread():
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((2000, 3)) * [5.0, 1.0, 0.2] + [10, 0, 0]).astype(np.float32)
    prior = sample_latent("prior", 500, z)
    fitted = sample_latent("fitted", 500, z)
    big = sample_latent("fitted", 5000, z)
    near = sample_latent("neighbourhood", 500, z)
    for s in (prior, fitted, near):
        assert s.shape == (500, 3) and s.dtype == np.float32
    assert abs(prior.mean(0)).max() < 0.2 and prior.std(0) == pytest.approx([1, 1, 1], abs=0.1)
    assert big.mean(0)[0] == pytest.approx(z[:, 0].mean(), abs=0.3) and big.std(0) == pytest.approx(
        z.std(0), rel=0.05
    )
    # neighbourhood samples stay close to data points
    d = np.sqrt(((near[:, None, :] - z[None]) ** 2).sum(-1)).min(1)
    assert np.median(d) < 0.5
    assert not np.array_equal(sample_latent("prior", 5, z, seed=1), sample_latent("prior", 5, z, seed=2))
    with pytest.raises(latent.LatentError):
        sample_latent("fitted", 5, None)
    with pytest.raises(latent.LatentError, match="Unknown sampling"):
        sample_latent("uniform", 5, z)


def test_distances_to_the_data():
    grid = np.stack(np.meshgrid(np.arange(20.0), np.arange(20.0)), -1).reshape(-1, 2)  # spacing 1
    q = np.array([[0.0, 0.0], [5.2, 5.0], [25.0, 10.0]])
    np.testing.assert_allclose(nearest_distances(q, grid), [0.0, 0.2, 6.0], atol=1e-5)
    np.testing.assert_allclose(nearest_distances(grid[:3], grid, exclude_self=True), [1, 1, 1], atol=1e-5)
    gaps = data_gaps(q, grid)  # in units of the typical spacing (1 here)
    np.testing.assert_allclose(gaps, [0.0, 0.2, 6.0], atol=1e-5)


def test_bundled_ae_and_vae_contrast(ae_space, vae_space):
    ds = latent.load_named_dataset("mnist-sample")
    x, y = ds.x[:2000], ds.y[:2000]
    assert (ae_space.kind, vae_space.kind, ae_space.z_dim, vae_space.z_dim) == ("ae", "vae", 2, 2)
    ae = latent.latent_statistics(ae_space.encode(x).z, y)
    enc = vae_space.encode(x)
    vae = latent.latent_statistics(enc.z, y)
    assert enc.z_log_var is not None and enc.z_log_var.shape == (2000, 2)
    assert vae.r99 < 4.5 and np.abs(vae.extent).max() < 4.0
    assert ae.r99 > 2 * vae.r99


def test_decode_grid_and_interpolation(vae_space):
    proj = latent.fit_projection(np.zeros((4, 2), np.float32) + [[0, 0], [1, 1], [2, 0], [0, 2]])
    grid = vae_space.decode_grid(proj, (-3, 3, -3, 3), 10)
    assert grid.images.shape == (100, 28, 28, 1) and grid.mosaic.shape == (280, 280)
    assert grid.points[0].tolist() == pytest.approx([-2.7, 2.7])  # top-left cell: smallest x, largest y
    np.testing.assert_allclose(grid.mosaic[:28, :28], grid.images[0, ..., 0])
    assert 0 <= grid.mosaic.min() and grid.mosaic.max() <= 1 and grid.mosaic.std() > 0.05
    with pytest.raises(latent.LatentError, match="between 1 and 30"):
        vae_space.decode_grid(proj, (-3, 3, -3, 3), 31)
    strip = vae_space.interpolate([-2, 0], [2, -2], 7)
    assert strip.z.shape == (7, 2) and strip.images.shape == (7, 28, 28, 1)
    np.testing.assert_allclose(strip.z[3], [0, -1])
    assert np.abs(strip.images[0] - strip.images[-1]).mean() > 0.01  # the ends decode differently


def test_generation_classifies_decoded_images(ae_space, vae_space):
    ds = latent.load_named_dataset("mnist-sample")
    x = ds.x[::7]  # every class (the bundled sample is sorted by class: its first 1,500 are 0s and 1s)
    z_ae = ae_space.encode(x).z
    z_vae = vae_space.encode(x).z
    ae = generate(ae_space, z_ae, n=64)
    vae = generate(vae_space, z_vae, n=64)
    assert [s.method for s in ae.sets] == list(SAMPLING_METHODS)
    for s in ae.sets + vae.sets:
        assert s.images.shape == (64, 28, 28, 1) and s.confidence.shape == (64,)
        assert ((0 <= s.confidence) & (s.confidence <= 1)).all() and s.predicted.max() < 10
        assert ae.histogram(s.method).sum() == 64
    assert "prior N(0, I)" in ae.summary() and "off the data" in ae.summary()
    for s in ae.sets:  # the summary states each method's off-data share and mean confidence
        assert f"{s.title} {s.fraction_off_data() * 100:.0f}%" in ae.summary()
        assert (
            f"{s.title} {s.confidence.mean():.2f} ({s.fraction_confident() * 100:.0f}% ≥ 0.9)" in ae.summary()
        )
    assert ae.summary().index("off the data") < ae.summary().index("confidence")
    for res in (ae, vae):  # samples near the data stay nearer to it than samples from the prior
        gaps = {s.method: s.gap for s in res.sets}
        assert gaps["prior"].shape == (64,)
        assert np.median(gaps["neighbourhood"]) < np.median(gaps["prior"])
    # the VAE's prior samples land on its encoded data far more often than the AE's (the default CNN's
    # confidence does not show this contrast: resources/models/README.md, "Generation")
    off = {
        r: next(s for s in res.sets if s.method == "prior").fraction_off_data()
        for r, res in (("ae", ae), ("vae", vae))
    }
    assert off["vae"] < off["ae"] / 2, off


def test_figures_are_saved(tmp_path, vae_space):
    from cnnviz_gui.core.figures import save
    from cnnviz_gui.core.latent import figures as lf

    ds = latent.load_named_dataset("mnist-sample")
    z = vae_space.encode(ds.x[:500]).z
    stats = latent.latent_statistics(z, ds.y[:500])
    proj = latent.fit_projection(z)
    grid = vae_space.decode_grid(proj, latent.data_bounds(z), 8)
    gen = generate(vae_space, z, n=16)
    figs = {
        "scatter.png": lf.scatter_figure(z, ds.y[:500], ds.class_names, centroids=stats.centroids,
                                         marker=(0.5, 0.5), stats_text=stats.format_text()),
        "manifold.svg": lf.manifold_figure(grid.mosaic, grid.bounds, grid.n),
        "strip.pdf": lf.interpolation_figure(vae_space.interpolate(z[0], z[1], 6).images),
        "generation.png": lf.generation_figure(gen, ds.class_names),
    }  # fmt: skip
    for name, fig in figs.items():
        path = save(fig, tmp_path / name)
        assert path.stat().st_size > 5000, name


def test_bundled_autoencoders_take_inputs_in_0_1(ae_space, vae_space):
    from cnnviz_gui.core.preprocess import guess_convention

    for space in (ae_space, vae_space):
        assert space.convention == "0..1"
    from cnnviz_gui.core.models.loading import open_model

    model = open_model(latent.bundled_autoencoder_path("ae")).model
    assert guess_convention(model).convention == "0..1"
