"""What training an AE/VAE reports: centre, r99, prior samples on the data; the exact re-centring of a VAE."""

from __future__ import annotations

import numpy as np
import pytest


def test_recentre_vae_moves_the_latent_space_and_keeps_reconstructions():
    from cnnviz_gui.core.datasets import load_bundled_mnist
    from cnnviz_gui.core.training.autoencoders import build_autoencoder, recentre_vae

    model = build_autoencoder("vae", latent_dim=3)
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    x = load_bundled_mnist().x[:16]
    z_mean, z_log_var, _ = (np.asarray(t) for t in encoder(x))
    before = np.asarray(decoder(z_mean))
    shift = np.array([0.5, -1.0, 2.0], np.float32)
    assert recentre_vae(encoder, decoder, shift)
    moved_mean, moved_log_var, _ = (np.asarray(t) for t in encoder(x))
    np.testing.assert_allclose(moved_mean, z_mean - shift, atol=1e-5)
    np.testing.assert_allclose(moved_log_var, z_log_var, atol=1e-6)
    np.testing.assert_allclose(np.asarray(decoder(moved_mean)), before, atol=1e-5)
    np.testing.assert_allclose(np.asarray(model(x)), before, atol=1e-5)  # the saved form too
    assert not recentre_vae(encoder, decoder, np.array([np.nan, 0, 0]))  # nothing moved
    np.testing.assert_allclose(np.asarray(encoder(x)[0]), moved_mean, atol=1e-6)
    ae = build_autoencoder("ae", latent_dim=2)
    assert not recentre_vae(ae.get_layer("encoder"), ae.get_layer("decoder"), np.zeros(2))


def test_prior_fit_of_a_centred_and_a_shifted_cloud():
    from cnnviz_gui.core.latent.generation import data_gaps
    from cnnviz_gui.core.latent.prior_fit import prior_fit

    rng = np.random.default_rng(1)
    z = rng.standard_normal((5000, 2)).astype(np.float32)
    fit = prior_fit(z, np.full((5000, 2), np.log(0.01)), n_prior=2000, seed=0)
    assert fit.centred and fit.covers_prior and fit.on_data_share > 0.9
    assert fit.r99 == pytest.approx(np.sqrt(-2 * np.log(0.01)), abs=0.15)  # 99% radius of a 2-D N(0, I)
    np.testing.assert_allclose(fit.posterior_variance, [0.01, 0.01], rtol=1e-5)
    assert "converged" in fit.verdict()
    # what the old bundled VAE looked like: squeezed along z1 and moved to z1 = -1.05
    shifted = (z - z.mean(axis=0)) * np.array([1.1, 0.5], np.float32) + np.array([0.0, -1.05], np.float32)
    off = prior_fit(shifted, n_prior=2000, seed=0)
    np.testing.assert_allclose(off.centre, [0.0, -1.05], atol=1e-5)
    assert not off.centred and not off.covers_prior
    prior = np.random.default_rng(0).standard_normal((2000, 2)).astype(np.float32)
    assert off.on_data_share == pytest.approx(float((data_gaps(prior, shifted, 0) <= 3).mean()))
    assert off.posterior_variance is None
    verdict = off.verdict()
    assert "not centred" in verdict and "prior samples on the data" in verdict and "train longer" in verdict
    lines = off.format_lines("z_mean")
    assert lines[0].startswith("latent centre (mean of z_mean per axis): (+0.00, -1.05)")
    assert any(
        line.startswith("radius around the origin holding 99% of the points: r99 = ") for line in lines
    )
    assert set(off.to_dict()) >= {"centre", "spread", "r99", "on_data_share", "posterior_variance"}
    with pytest.raises(ValueError, match="at least two encoded points"):
        prior_fit(np.zeros((1, 2)))


def test_prior_fit_of_a_vae_with_unused_dimensions():
    """8-D: three dimensions carry the data (spread, small posterior variance), five are unused (means 0,
    variance 1: the posterior is the prior there). The means miss the prior's samples, posterior samples
    do not: centred and converged, and the verdict says why the two shares differ."""
    from cnnviz_gui.core.latent.prior_fit import PriorFit, prior_fit

    rng = np.random.default_rng(2)
    n = 5000
    z = np.zeros((n, 8), np.float32)
    z[:, :3] = rng.standard_normal((n, 3)) * 0.95
    log_var = np.zeros((n, 8), np.float32)
    log_var[:, :3] = np.log(0.1)
    fit = prior_fit(z, log_var)
    assert fit.centred and fit.on_data_share < 0.05 and not fit.covers_prior
    assert fit.sampled_on_data_share > 0.75 and fit.covers_prior_sampled and fit.converged
    verdict = fit.verdict()
    assert "on posterior samples" in verdict and "unused" in verdict and verdict.endswith("converged")
    assert any(line.startswith("prior samples on posterior samples") for line in fit.format_lines("z_mean"))
    assert PriorFit.from_dict(fit.to_dict()) == fit
    # the same means without the unused dimensions' variance: a VAE that does not cover its prior
    narrow = prior_fit(z, np.full((n, 8), np.log(1e-4), np.float32))
    assert not narrow.covers_prior_sampled and not narrow.converged
    assert "not converged" in narrow.verdict() and "on posterior samples" in narrow.verdict()
    assert prior_fit(z).sampled_on_data_share is None and not prior_fit(z).converged  # an AE: means only


def test_training_job_reports_the_fit_to_the_prior(tmp_path):
    from cnnviz_gui.core.datasets import load_dataset, split_shuffled
    from cnnviz_gui.core.latent.prior_fit import prior_fit
    from cnnviz_gui.core.models.loading import open_model
    from cnnviz_gui.core.training.autoencoders import _encode
    from cnnviz_gui.core.training.jobs import TrainingRequest, run_training, subset

    request = TrainingRequest("vae", "mnist-sample", str(tmp_path / "vae.keras"), epochs=1, max_samples=400)
    outcome = run_training(request)
    report = outcome.latent
    assert report["kind"] == "vae" and report["n_points"] == 400
    assert len(report["centre"]) == 2 and len(report["posterior_variance"]) == 2
    assert report["r99"] > 0 and 0 <= report["on_data_share"] <= 1 and report["seconds"] > 0
    text = outcome.latent_summary()
    assert text.startswith("latent centre (") and "r99" in text and "of prior samples on the data" in text
    # the figures are those of the saved model over the same digits
    ds = subset(load_dataset("mnist-sample"), 400, 0)
    encoder = open_model(outcome.path).model.get_layer("encoder")
    z, log_var = _encode(encoder, ds.x, True)
    again = prior_fit(z, log_var)
    np.testing.assert_allclose(report["centre"], again.centre, atol=1e-4)
    assert report["on_data_share"] == pytest.approx(again.on_data_share, abs=0.002)
    # ... and it sits on the origin over its own training images, whatever the epoch left
    train, _ = split_shuffled(ds, 360, seed=0)
    np.testing.assert_allclose(_encode(encoder, train.x, True)[0].mean(axis=0), [0, 0], atol=1e-3)
    shifts = report["recentre_shifts"]
    assert len(shifts) == 1 and len(shifts[0]) == 2 and np.max(np.abs(shifts[0])) > 1e-3

    ae = run_training(
        TrainingRequest("ae", "mnist-sample", str(tmp_path / "ae.keras"), epochs=1, max_samples=200)
    )
    assert ae.latent["posterior_variance"] is None and "recentre_shifts" not in ae.latent
    assert len(ae.latent["centre"]) == 2 and ae.latent_summary()


def test_cli_train_vae_prints_centre_r99_and_on_data_share(tmp_path, capsys):
    from cnnviz_gui.cli import main

    out = tmp_path / "v.keras"
    assert main(["train", "vae", "--epochs", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert out.exists()
    assert "over the 10,000 digits of the dataset:" in text
    assert "latent centre (mean of z_mean per axis): (" in text
    assert "r99 = " in text and "prior samples on the data: " in text and "posterior variances" in text
    assert "moved onto the origin exactly after every epoch" in text and "after the first epoch" in text
    assert "converged" in text  # the verdict line: converged, or not converged with what to try
    assert main(["train", "vae", "--epochs", "0"]) == 2
    assert "--epochs must be at least 1" in capsys.readouterr().err
