"""`cnnviz oip`: figure, GIF and npz written; readable errors."""

from __future__ import annotations

import numpy as np
import pytest
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
    assert len(atlas.axes) == 1 and len(atlas.axes[0].images) == 1  # one mosaic, not one Axes per map
    titles = [t.get_text() for t in atlas.axes[0].texts if t.get_text() != "✕"]
    n_dead = int((~res.reacts).sum())
    assert 0 < n_dead < 3 and not res.reacts[0]  # map 0 does not react to this start
    assert all("no reaction" in t for t in titles[-n_dead:])  # non-reacting maps: last, marked
    assert titles[0].startswith(f"{int(res.maps[np.argmax(res.losses)])}: ")  # highest loss first
    assert "↔" in titles[0]  # the share kept under a 4-px shift
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


def _fake_result(n_maps: int, shape=(32, 32, 3), diversity: int = 1):
    """An OipResult made by hand (no search): random colour images, some maps not reacting."""
    rng = np.random.default_rng(0)
    k = (diversity,) if diversity > 1 else ()
    images = rng.uniform(size=(n_maps, *k, *shape)).astype(np.float32)
    losses = rng.uniform(0.5, 5, n_maps).astype(np.float32)
    reacts = np.arange(n_maps) % 9 != 4
    losses[~reacts] = 0
    return oip.OipResult(
        layer="block", kind="map", maps=np.arange(n_maps), settings=oip.preset("Lucid"), images=images,
        initial=images[:, 0] if diversity > 1 else images, losses=losses, curves=np.zeros((n_maps, 3)),
        snapshot_steps=np.arange(3), snapshots=np.zeros((n_maps, 3, *shape), np.float32),
        rel_change=np.zeros(n_maps), converged=np.zeros(n_maps, bool), converged_step=np.full(n_maps, -1),
        reacts=reacts, steps_used=np.full(n_maps, 3), data_active=None, device="CPU", seconds=0.0,
        model_inputs=images, image_losses=np.repeat(losses[:, None], diversity, axis=1),
        shift_kept=rng.uniform(0.3, 1, n_maps).astype(np.float32),
        vs_best_exemplar=rng.uniform(0.5, 3, n_maps).astype(np.float32),
    )  # fmt: skip


def test_atlas_of_130_rgb_maps_with_exemplars_is_one_coloured_mosaic(tmp_path):
    from cnnviz_gui.core.activations.exemplars import ExemplarResult
    from cnnviz_gui.core.figures import save

    res = _fake_result(130, diversity=2)
    rng = np.random.default_rng(1)
    ex = ExemplarResult(
        layer="block", maps=np.arange(130), dataset="textures", convention="0..1",
        indices=np.zeros((130, 4), np.int64), values=np.ones((130, 4), np.float32),
        positions=np.zeros((130, 4, 2), np.int32), boxes=np.zeros((130, 4, 4), np.int32),
        patches=rng.uniform(size=(130, 4, 11, 11, 3)).astype(np.float32), labels=np.zeros((130, 4), np.int64),
    )  # fmt: skip
    fig = atlas_figure(res, by="shift", exemplars=ex, top=3)
    ax = fig.axes[0]
    assert len(fig.axes) == 1 and len(ax.images) == 1
    mosaic = ax.images[0].get_array()
    assert mosaic.ndim == 3 and mosaic.shape[-1] == 3  # RGB, not one channel through a colour map
    labels = [t.get_text() for t in ax.texts if t.get_text() != "✕"]
    assert len(labels) == 130 and sum("no reaction" in t for t in labels) == int((~res.reacts).sum())
    kept = [float(t.split("↔")[1].split("%")[0]) for t in labels if "↔" in t]
    assert kept == sorted(kept, reverse=True)  # sorted by the share kept under a shift
    # a tile: 2 OIP cells and 3 exemplar cells of 32 px
    assert mosaic.shape[1] >= 5 * 32
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    box = fig._suptitle.get_window_extent(fig.canvas.get_renderer())
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width + 1 and box.y1 <= fig.bbox.height + 1  # the title fits
    save(fig, tmp_path / "atlas.png")
    img = np.asarray(Image.open(tmp_path / "atlas.png"))[..., :3].astype(float)
    assert np.abs(img[..., 0] - img[..., 2]).mean() > 5  # colour
    with pytest.raises(ValueError, match="no patches for map"):
        atlas_figure(res, exemplars=_drop_first(ex))


def _drop_first(ex):
    from dataclasses import replace

    return replace(ex, maps=ex.maps[1:], patches=ex.patches[1:], values=ex.values[1:])


def test_colour_gif_and_run_figure_of_diverse_rgb_result(tmp_path):
    from cnnviz_gui.core.figures import save
    from cnnviz_gui.core.oip.figures import result_gif

    res = _fake_result(3, diversity=3)
    fig = run_figure(res, 0)
    assert len(fig.axes) == 1 + 3 + 1 + 3  # initial + snapshots + curve + the 3 diverse images
    save(fig, tmp_path / "run.png")
    result_gif(res, 0, tmp_path / "run.gif")
    with Image.open(tmp_path / "run.gif") as im:
        assert im.n_frames == 4
        frame = np.asarray(im.convert("RGB")).astype(float)
    assert np.abs(frame[..., 0] - frame[..., 1]).mean() > 5


def test_oip_cli_lucid_with_diversity_and_exemplars(tmp_path, capsys):
    out, npz = tmp_path / "atlas.png", tmp_path / "oip.npz"
    args = ["oip", MODEL, "--layer", "Conv2D_3", "--maps", "2-4", "--steps", "12", "--preset", "lucid"]
    args += ["--diversity", "2", "--exemplars", "--top", "2", "--sort", "vs_exemplar"]
    assert cli.main([*args, "--out", str(out), "--npz", str(npz)]) == 0, capsys.readouterr().err
    text = capsys.readouterr().out
    assert "maps react" in text and "reacting maps: the OIP's activation >= that of the best image" in text
    with np.load(npz) as data:
        assert data["images"].shape == data["model_inputs"].shape == (3, 2, 28, 28, 1)
        assert data["shift_kept"].shape == data["vs_best_exemplar"].shape == (3,)
        assert data["exemplar_indices"].shape == (3, 2) and data["exemplar_patches"].shape == (
            3,
            2,
            18,
            18,
            1,
        )
        assert int(data["diversity"]) == 2 and data["images"].min() >= 0 and data["images"].max() <= 1
    assert np.asarray(Image.open(out))[..., :3].std() > 20


def test_oip_cli_rgb_model_defaults_to_lucid_and_saves_colour(tmp_path, capsys):
    import keras

    keras.utils.set_random_seed(0)
    x = keras.Input((16, 16, 3))
    h = keras.layers.Conv2D(4, 3, activation="relu", name="c")(keras.layers.Rescaling(1 / 255)(x))
    path = tmp_path / "rgb.keras"
    keras.Model(x, h).save(path)
    npz = tmp_path / "oip.npz"
    assert cli.main(["oip", str(path), "--layer", "c", "--steps", "10", "--npz", str(npz)]) == 0
    assert "preset Lucid (the default for RGB models)" in capsys.readouterr().out
    with np.load(npz) as data:
        assert data["images"].shape == (4, 16, 16, 3) and str(data["convention"]) == "0..255"
        np.testing.assert_allclose(data["model_inputs"], data["images"] * 255, rtol=1e-5, atol=1e-3)
    for bad, message in ((["--diversity", "0"], "--diversity"), (["--dataset", "nope"], "neither a known")):
        assert cli.main(["oip", str(path), "--layer", "c", "--npz", str(npz), *bad]) == 2
        assert message in capsys.readouterr().err
