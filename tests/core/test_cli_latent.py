"""``cnnviz latent``: figure and npz written for the bundled VAE; refusals with exit 2 and one line."""

from __future__ import annotations

import numpy as np

from cnnviz_gui.cli import main
from cnnviz_gui.core.latent.space import bundled_autoencoder_path


def test_latent_writes_figure_and_npz(tmp_path, capsys):
    fig, npz = tmp_path / "vae.png", tmp_path / "vae.npz"
    assert main(["latent", str(bundled_autoencoder_path("vae")), "--out", str(fig), "--npz", str(npz),
                 "--grid", "6"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "variational autoencoder (VAE) with a 2-D latent space" in out and "r99 = " in out
    assert fig.stat().st_size > 20000
    with np.load(npz) as data:
        assert sorted(data.files) == ["extent", "labels", "z"]
        z, labels, extent = data["z"], data["labels"], data["extent"]
    assert z.shape == (10000, 2) and labels.shape == (10000,) and extent.shape == (2, 2)
    assert set(np.unique(labels)) == set(range(10))
    np.testing.assert_allclose(extent[:, 0], np.percentile(z, 1, axis=0), rtol=1e-4)


def test_latent_bottleneck_option_on_the_ae(tmp_path, capsys):
    fig = tmp_path / "ae.svg"
    code = main(["latent", str(bundled_autoencoder_path("ae")), "--encoder", "encoder", "--decoder", "decoder",
                 "--out", str(fig), "--grid", "4"])  # fmt: skip
    assert code == 0 and fig.read_text().startswith("<?xml")
    assert "encoder = sub-model 'encoder'" in capsys.readouterr().out


def test_latent_refusals(tmp_path, capsys, default_model_path):
    vae = str(bundled_autoencoder_path("vae"))
    cases = [
        (["latent", str(default_model_path), "--out", str(tmp_path / "a.png")], "maps an image to 10 numbers"),
        (["latent", vae, "--out", str(tmp_path / "a.txt")], "--out must end in"),
        (["latent", vae, "--out", str(tmp_path / "a.png"), "--grid", "40"], "--grid must be between 1 and 30"),
        (["latent", vae, "--encoder", "encoder", "--out", str(tmp_path / "a.png")], "give both --encoder"),
        (["latent", vae, "--bottleneck", "nope", "--out", str(tmp_path / "a.png")], "no layer named 'nope'"),
        (["latent", vae, "--dataset", str(tmp_path / "none.npz"), "--out", str(tmp_path / "a.png")],
         "nor an existing file"),
    ]  # fmt: skip
    for argv, expected in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("cnnviz: ") and expected in err and "Traceback" not in err, (argv, err)
    assert not (tmp_path / "a.png").exists()


def test_train_refuses_bad_autoencoder_options(capsys):
    assert main(["train", "vae", "--latent-dim", "0"]) == 2
    assert "--latent-dim must be at least 1" in capsys.readouterr().err
    assert main(["train", "ae", "--beta", "-1"]) == 2
    assert "--beta must not be negative" in capsys.readouterr().err
