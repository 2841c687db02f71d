"""Dataset exemplars: equal to a brute-force NumPy read-out, positions, receptive-field patches, cache, cancel,
errors, the figure and ``cnnviz exemplars``."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnviz_gui import cli
from cnnviz_gui.core.activations.exemplar_figure import exemplar_figure
from cnnviz_gui.core.activations.exemplars import (
    ExemplarError,
    cut_patch,
    find_exemplars,
    layer_statistics,
)
from cnnviz_gui.core.activations.probe import get_probe
from cnnviz_gui.core.datasets import Dataset, load_bundled_mnist
from cnnviz_gui.core.preprocess import to_model_range
from cnnviz_gui.core.resources import default_model_path

MODEL = str(default_model_path())


def _brute_force(loaded, layer, ds, convention="standardised", batch=500):
    probe = get_probe(loaded)
    fn = probe.layer_function(layer)
    outs = [
        np.asarray(fn(to_model_range(ds.x[a : a + batch], convention))) for a in range(0, len(ds.x), batch)
    ]
    return np.concatenate(outs)


def test_top5_equal_a_brute_force_numpy_read_out(default_loaded):
    """Acceptance: the top-5 indices per map over the 10,000 bundled digits equal a brute-force read-out."""
    ds = load_bundled_mnist()
    out = _brute_force(default_loaded, "Conv2D_3", ds)  # (10000, 3, 3, 128)
    peak = out.reshape(len(out), -1, 128).max(axis=1)
    res = find_exemplars(default_loaded, "Conv2D_3", top=5)
    assert res.indices.shape == res.values.shape == (128, 5)
    assert res.positions.shape == (128, 5, 2) and res.patches.shape == (128, 5, 18, 18, 1)
    for m in range(128):
        want = np.argsort(-peak[:, m], kind="stable")[:5]
        np.testing.assert_array_equal(res.indices[m], want, err_msg=f"map {m}")
        np.testing.assert_allclose(res.values[m], peak[want, m], rtol=1e-6)
        for k in range(5):  # the position is where the map peaks in that image
            r, c = res.positions[m, k]
            assert out[res.indices[m, k], r, c, m] == pytest.approx(res.values[m, k], rel=1e-6)
    assert (np.diff(res.values, axis=1) <= 0).all()  # strongest first
    np.testing.assert_array_equal(res.labels, ds.y[res.indices])


def test_patches_are_the_receptive_field_around_the_peak(default_loaded):
    ds = load_bundled_mnist()
    res = find_exemplars(default_loaded, "Conv2D_2", maps=[3, 10], top=4)
    # Conv2D_2: 3x3 conv -> 2x2 pool -> 3x3 conv: receptive field 8, one map step = 2 input pixels
    assert res.field_size == (8, 8) and res.map_size == (11, 11)
    for i in range(2):
        for k in range(4):
            r, c = res.positions[i, k]
            top, left, bottom, right = res.boxes[i, k]
            assert (top, left) == (2 * r, 2 * c) and (bottom - top, right - left) == (8, 8)
            np.testing.assert_array_equal(res.patches[i, k], ds.x[res.indices[i, k], top:bottom, left:right])
    edge = cut_patch(np.ones((5, 5, 1), np.float32), (-2, 3, 2, 7))
    assert edge.shape == (4, 4, 1) and np.isnan(edge[:2]).all() and np.isnan(edge[:, 2:]).all()
    assert (edge[2:, :2] == 1).all()


def test_dense_units_rank_whole_images(default_loaded):
    res = find_exemplars(default_loaded, "Dense_out", maps=[7], top=3, convention="standardised")
    assert res.patches.shape == (1, 3, 28, 28, 1) and res.map_size is None
    assert (res.labels[0] == 7).all()  # the images that drive the "7" logit hardest are sevens


def test_the_pass_is_cached_per_layer_dataset_and_convention(default_loaded):
    ds = load_bundled_mnist()
    few = Dataset("first 300", ds.x[:300], ds.y[:300], ds.class_names)
    calls = []
    a = find_exemplars(
        default_loaded, "Conv2D_1", [0, 1], few, top=2, progress=lambda f, t="": calls.append(f)
    )
    assert not a.cached and calls[-1] == 1.0 and len(calls) >= 2
    b = find_exemplars(default_loaded, "Conv2D_1", [1, 5], few, top=3)
    assert b.cached and b.indices.shape == (2, 3)
    np.testing.assert_array_equal(a.indices[1], b.indices[0, :2])
    c = find_exemplars(default_loaded, "Conv2D_1", [0], few, top=2, convention="0..1")
    assert not c.cached
    other = Dataset("first 300", ds.x[300:600], ds.y[300:600], ds.class_names)  # same name, other images
    assert not find_exemplars(default_loaded, "Conv2D_1", [0], other, top=2).cached


def test_cancel_and_errors(default_loaded):
    ds = load_bundled_mnist()
    few = Dataset("a few", ds.x[:256], ds.y[:256], ds.class_names)
    assert (
        layer_statistics(default_loaded, "Conv2D_2", few, "0..255", batch_size=64, cancelled=lambda: True)
        is None
    )
    with pytest.raises(ExemplarError, match="no layer 'Nope'"):
        find_exemplars(default_loaded, "Nope")
    with pytest.raises(ExemplarError, match="map 40 does not exist"):
        find_exemplars(default_loaded, "Conv2D_1", [40], few)
    with pytest.raises(ExemplarError, match="neither a known dataset"):
        find_exemplars(default_loaded, "Conv2D_1", [0], "no/such/folder")
    import keras

    from cnnviz_gui.core.models.loading import LoadedModel, describe

    x = keras.Input((6, 6, 1))
    model = keras.Model(x, keras.layers.Reshape((4, 9), name="seq")(x))
    with pytest.raises(ExemplarError, match="output shape"):
        find_exemplars(LoadedModel(model, describe(model, "seq.keras", None)), "seq", [0], few)


def test_exemplar_figure_is_one_mosaic(default_loaded, tmp_path):
    from cnnviz_gui.core.figures import save

    res = find_exemplars(default_loaded, "Conv2D_3", top=4)
    fig = exemplar_figure(res)
    assert len(fig.axes) == 1 and len(fig.axes[0].images) == 1
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == 128 and texts[0].startswith("0: ")
    save(fig, tmp_path / "ex.png")
    assert np.asarray(Image.open(tmp_path / "ex.png"))[..., :3].std() > 20


def test_rgb_images_from_a_folder(tmp_path):
    import keras

    from cnnviz_gui.core.models.loading import LoadedModel, describe

    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for k in range(6):
            img = (rng.uniform(size=(20, 20, 3)) * 255).astype(np.uint8)
            Image.fromarray(img).save(tmp_path / cls / f"{k}.png")
    x = keras.Input((20, 20, 3))
    model = keras.Model(x, keras.layers.Conv2D(2, 5, strides=2, padding="same", name="c")(x))
    loaded = LoadedModel(model, describe(model, "rgb.keras", None))
    res = find_exemplars(loaded, "c", top=3, dataset=str(tmp_path), convention="0..1")
    assert res.patches.shape == (2, 3, 5, 5, 3) and res.map_size == (10, 10)
    assert set(res.labels.ravel()) <= {0, 1} and res.class_names == ["a", "b"]


def test_cli_exemplars_writes_figure_and_arrays(tmp_path, capsys):
    out, npz = tmp_path / "ex.png", tmp_path / "ex.npz"
    args = ["exemplars", MODEL, "--layer", "Conv2D_2", "--maps", "0-5,9", "--top", "4"]
    assert cli.main([*args, "--out", str(out), "--npz", str(npz)]) == 0, capsys.readouterr().err
    captured = capsys.readouterr()
    assert "top 4 of MNIST sample" in captured.out and "exemplars Conv2D_2" in captured.err
    assert np.asarray(Image.open(out))[..., :3].std() > 20
    with np.load(npz) as data:
        assert data["indices"].shape == data["values"].shape == (7, 4)
        assert data["positions"].shape == (7, 4, 2) and data["patches"].shape == (7, 4, 8, 8, 1)
        assert list(data["maps"]) == [0, 1, 2, 3, 4, 5, 9] and data["indices"].dtype == np.int64


def test_cli_exemplars_errors_are_one_line(tmp_path, capsys):
    base = ["exemplars", MODEL, "--out", str(tmp_path / "x.png")]
    cases = [
        ([*base, "--layer", "Nope"], "no layer 'Nope'"),
        ([*base, "--layer", "Conv2D_2", "--maps", "99"], "does not exist"),
        ([*base, "--layer", "Conv2D_2", "--top", "0"], "--top must be at least 1"),
        ([*base, "--layer", "Conv2D_2", "--dataset", "nothing_here"], "neither a known dataset"),
        ([*base, "--layer", "Conv2D_2", "--convention", "bytes"], "unknown --convention"),
        (["exemplars", MODEL, "--layer", "Conv2D_2"], "--out"),
    ]
    for argv, message in cases:
        assert cli.main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "x.png").exists()
