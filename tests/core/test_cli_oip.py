"""`cnnviz oip`: figure, GIF and npz written; readable errors."""

from __future__ import annotations

import numpy as np
from PIL import Image

from cnnviz_gui import cli
from cnnviz_gui.core.oip import engine as oip
from cnnviz_gui.core.oip.figures import atlas_figure, run_figure
from cnnviz_gui.core.resources import default_model_path

MODEL = str(default_model_path())


def test_oip_cli_writes_atlas_and_arrays(tmp_path, capsys):
    out, npz = tmp_path / "atlas.png", tmp_path / "oip.npz"
    args = ["oip", MODEL, "--layer", "Conv2D_3", "--maps", "0-2,7", "--steps", "15"]
    rc = cli.main([*args, "--seed", "1", "--out", str(out), "--npz", str(npz)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "maps react" in captured.out and "oip Conv2D_3" in captured.err  # the progress bar
    img = np.asarray(Image.open(out))
    assert img.shape[0] > 200 and img[..., :3].std() > 20
    with np.load(npz) as data:
        assert data["images"].shape == (4, 28, 28, 1)
        assert data["losses"].shape == (4,) and data["losses"].dtype == np.float32
        assert data["reacts"].dtype == bool and data["reacts"].shape == (4,)
        assert data["converged"].dtype == bool and data["converged"].shape == (4,)
        assert list(data["maps"]) == [0, 1, 2, 7]
        np.testing.assert_array_equal(data["reacts"], data["losses"] > 0)


def test_oip_cli_single_map_figure_and_gif(tmp_path, capsys):
    png, gif = tmp_path / "run.png", tmp_path / "run.gif"
    base = ["oip", MODEL, "--layer", "Conv2D_3", "--maps", "2", "--steps", "12", "--preset", "precursor"]
    assert cli.main([*base, "--out", str(png)]) == 0, capsys.readouterr().err
    assert np.asarray(Image.open(png))[..., :3].std() > 20
    assert cli.main([*base, "--out", str(gif)]) == 0, capsys.readouterr().err
    with Image.open(gif) as im:
        assert im.n_frames == 1 + len(oip.log_spaced_steps(12, 8))


def test_oip_cli_errors_are_one_line(tmp_path, capsys):
    base = ["oip", MODEL, "--out", str(tmp_path / "x.png")]
    assert cli.main([*base, "--layer", "Nope"]) == 2
    assert "no layer 'Nope'" in capsys.readouterr().err
    assert cli.main([*base, "--layer", "Conv2D_3", "--maps", "200"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli.main([*base, "--layer", "Conv2D_3", "--preset", "fancy"]) == 2
    assert "unknown --preset" in capsys.readouterr().err
    assert cli.main(["oip", MODEL, "--layer", "Conv2D_3"]) == 2
    assert "--out" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_figures_of_a_result(default_loaded, tmp_path):
    from cnnviz_gui.core.figures import save

    res = oip.run_oip(
        default_loaded, oip.OipRequest("Conv2D_3", [0, 2, 3], oip.preset("Seed (articles)", steps=14))
    )
    fig = run_figure(res, 1)
    assert len(fig.axes) == 1 + len(res.snapshot_steps) + 1  # initial + snapshots + loss curve
    assert "map 2" in fig._suptitle.get_text()
    atlas = atlas_figure(res, by="loss")
    titles = [ax.get_title() for ax in atlas.axes if ax.get_title()]
    n_dead = int((~res.reacts).sum())
    assert 0 < n_dead < 3 and not res.reacts[0]  # map 0 does not react to this start
    assert all("no reaction" in t for t in titles[-n_dead:])  # non-reacting maps: last, marked
    assert titles[0].startswith(f"{int(res.maps[np.argmax(res.losses)])}: ")  # highest loss first
    save(atlas, tmp_path / "atlas.svg")
    assert (tmp_path / "atlas.svg").stat().st_size > 1000


def test_oip_cli_convention_flag_and_guess(tmp_path, capsys):
    import keras

    npz = tmp_path / "oip.npz"
    base = ["oip", MODEL, "--layer", "Conv2D_1", "--maps", "0-1", "--steps", "5", "--npz", str(npz)]
    assert cli.main([*base, "--convention", "0..1"]) == 0, capsys.readouterr().err
    assert "input 0..1" in capsys.readouterr().out
    with np.load(npz) as data:
        assert str(data["convention"]) == "0..1" and data["images"].shape == (2, 28, 28, 1)
    npz.unlink()
    assert cli.main([*base, "--convention", "bytes"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown --convention 'bytes'" in err and len(err.splitlines()) == 1 and not npz.exists()
    # a model that rescales its input itself: 0..255 is guessed, said and stored
    x = keras.Input((12, 12, 1))
    out = keras.layers.Conv2D(2, 3, activation="relu", name="c")(keras.layers.Rescaling(1 / 255)(x))
    path = tmp_path / "bytes.keras"
    keras.Model(x, out).save(path)
    assert cli.main(["oip", str(path), "--layer", "c", "--steps", "3", "--npz", str(npz)]) == 0
    assert "input 0..255 (guessed)" in capsys.readouterr().out
    with np.load(npz) as data:
        assert str(data["convention"]) == "0..255"
