"""Latent traversal: a tiny 8-D VAE trained for one epoch; rows, order, points, live decode and the CLI."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def tiny_vae(tiny_vae8):
    """The 8-D VAE of ``conftest.tiny_vae8``: (file, encoded z_mean of its 3,000 digits, KL per dimension)."""
    return tiny_vae8


@pytest.fixture(scope="module")
def loaded(tiny_vae):
    from cnnviz_gui.core.models.loading import open_model

    return open_model(tiny_vae[0])


def test_traversal_shape_order_and_points(loaded, tiny_vae):
    from cnnviz_gui.core.latent.traversal import latent_space, latent_traversal

    _, z, _ = tiny_vae
    seen = []
    tr = latent_traversal(loaded, z, steps=7, range_sd=2.5, progress=lambda f, text="": seen.append(f))
    assert tr.traversal.shape == (8, 7, 28, 28) and tr.traversal.dtype == np.float32
    assert sorted(tr.dims.tolist()) == list(range(8))
    assert np.all(np.diff(tr.change) <= 0)  # largest change first
    np.testing.assert_allclose(tr.offsets, np.linspace(-2.5, 2.5, 7), atol=1e-6)
    np.testing.assert_allclose(tr.centre, z.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(tr.sd, z.std(axis=0), rtol=1e-4)
    assert tr.scale == "data" and seen and seen[-1] == pytest.approx(1.0)
    # each row is the centre moved along its own dimension, decoded by the model's decoder
    decoder = loaded.model.get_layer("decoder")
    for row in (0, 7):
        k = int(tr.dims[row])
        points = np.repeat(tr.centre[None], 7, axis=0)
        points[:, k] += tr.offsets * tr.sd[k]
        np.testing.assert_allclose(tr.points()[row], points, atol=1e-5)
        np.testing.assert_allclose(tr.traversal[row], np.asarray(decoder(points))[..., 0], atol=1e-5)
    # the middle column is the centre itself in every row
    middle = np.asarray(decoder(tr.centre[None]))[0, ..., 0]
    for row in range(8):
        np.testing.assert_allclose(tr.traversal[row, 3], middle, atol=1e-5)
    # the change is the mean over pixels of each pixel's SD along the row
    assert tr.change[0] == pytest.approx(float(tr.traversal[0].std(axis=0).mean()), rel=1e-5)
    assert latent_space(loaded) is latent_space(loaded)  # recognised once, kept in loaded.cache


def test_traversal_changes_along_informative_dimensions_only(loaded, tiny_vae):
    from cnnviz_gui.core.latent.traversal import latent_traversal

    _, z, kl = tiny_vae
    informative, collapsed = np.flatnonzero(kl > 0.3), np.flatnonzero(kl < 0.08)
    assert len(informative) >= 2 and len(collapsed) >= 1, kl  # the fixture has both kinds
    tr = latent_traversal(loaded, z, steps=9, range_sd=3.0)
    change = dict(zip(tr.dims.tolist(), tr.change.tolist(), strict=True))
    assert min(change[k] for k in informative) > 5 * max(change[k] for k in collapsed), (kl, change)
    assert set(tr.dims[: len(informative)].tolist()) == set(informative.tolist())
    assert set(tr.dims[-len(collapsed) :].tolist()) <= set(np.flatnonzero(kl < 0.3).tolist())


def test_given_centre_prior_scale_live_decode_and_refusals(loaded, tiny_vae):
    from cnnviz_gui.core.latent.space import LatentError
    from cnnviz_gui.core.latent.traversal import decode_point, latent_traversal

    _, z, _ = tiny_vae
    point = z[5]
    tr = latent_traversal(loaded, z, centre=point, steps=3, range_sd=1.0)
    np.testing.assert_allclose(tr.centre, point)
    decoder = loaded.model.get_layer("decoder")
    np.testing.assert_allclose(
        tr.traversal[:, 1], np.repeat(np.asarray(decoder(point[None]))[..., 0], 8, 0), atol=1e-5
    )
    prior = latent_traversal(loaded, None, steps=5, range_sd=2.0)
    assert prior.scale == "prior"
    np.testing.assert_allclose(prior.sd, np.ones(8))
    np.testing.assert_allclose(prior.centre, np.zeros(8))
    image = decode_point(loaded, point)
    assert image.shape == (28, 28)
    np.testing.assert_allclose(image, np.asarray(decoder(point[None]))[0, ..., 0], atol=1e-5)
    with pytest.raises(LatentError, match="between 2 and 31 steps"):
        latent_traversal(loaded, z, steps=1)
    with pytest.raises(LatentError, match="range must be above 0"):
        latent_traversal(loaded, z, range_sd=0)
    with pytest.raises(LatentError, match="needs 8 finite coordinates"):
        latent_traversal(loaded, z, centre=np.zeros(3))
    with pytest.raises(LatentError, match="at least two points of 8 coordinates"):
        latent_traversal(loaded, z[:, :2])


def test_cancel_between_decoder_calls(loaded, tiny_vae, monkeypatch):
    from cnnviz_gui.core.latent import traversal
    from cnnviz_gui.core.runtime.jobs import JobCancelled

    monkeypatch.setattr(traversal, "DECODE_BUDGET", 9 * 28 * 28 * 2)  # two dimensions per decoder call
    calls = []
    tr = traversal.latent_traversal(loaded, tiny_vae[1], progress=lambda f, text="": calls.append(text))
    assert len(calls) == 4 and calls[-1] == "decoded 8 of 8 dimensions" and tr.traversal.shape[0] == 8
    with pytest.raises(JobCancelled):
        traversal.latent_traversal(loaded, tiny_vae[1], cancelled=lambda: True)


def test_cli_traverse_writes_figure_and_npz(tmp_path, capsys, tiny_vae):
    from cnnviz_gui.cli import main

    fig, npz = tmp_path / "trav.png", tmp_path / "trav.npz"
    code = main(["latent", str(tiny_vae[0]), "--traverse", "--steps", "5", "--range", "2", "--out", str(fig),
                 "--npz", str(npz)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "traversal of 8 latent dimensions, 5 steps from -2 to +2 SD" in out
    assert fig.stat().st_size > 10000
    with np.load(npz) as data:
        assert {"traversal", "dims", "offsets", "change", "centre", "sd"} <= set(data.files)
        assert data["traversal"].shape == (8, 5, 28, 28)
        assert sorted(data["dims"].tolist()) == list(range(8))
        np.testing.assert_allclose(data["offsets"], [-2, -1, 0, 1, 2])
    svg = tmp_path / "trav.svg"
    assert (
        main(["latent", str(tiny_vae[0]), "--traverse", "--centre", ",".join(["0"] * 8), "--out", str(svg)])
        == 0
    )
    assert svg.read_text().startswith("<?xml") and "z0" in svg.read_text()


def test_cli_traverse_refusals(tmp_path, capsys, tiny_vae):
    from cnnviz_gui.cli import main

    model, fig = str(tiny_vae[0]), str(tmp_path / "t.png")
    cases = [
        (["--traverse", "--steps", "1"], "--steps must be between 2 and 31"),
        (["--traverse", "--range", "0"], "--range must be above 0"),
        (["--traverse", "--centre", "1,2"], "--centre needs 8 numbers"),
        (["--traverse", "--centre", "a,b"], "--centre takes numbers"),
        (["--centre", "0,0"], "use it with --traverse"),
    ]
    for extra, expected in cases:
        assert main(["latent", model, *extra, "--out", fig]) == 2, extra
        err = capsys.readouterr().err
        assert err.startswith("cnnviz: ") and expected in err and "Traceback" not in err, (extra, err)
    assert not (tmp_path / "t.png").exists()
