"""`cnnviz activations`: figure and arrays for a sample or an image file; readable errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnviz_gui import cli
from cnnviz_gui.core.resources import default_model_path

MODEL = str(default_model_path())


def test_activations_for_a_sample_writes_figure_and_arrays(tmp_path, capsys):
    out, npz = tmp_path / "maps.png", tmp_path / "maps.npz"
    rc = cli.main(
        [
            "activations",
            MODEL,
            "--layer",
            "Conv2D_1",
            "--sample",
            "4000",
            "--out",
            str(out),
            "--npz",
            str(npz),
        ]
    )
    assert rc == 0, capsys.readouterr().err
    img = np.asarray(Image.open(out))
    assert img.shape[0] > 400 and img.shape[1] > 600
    assert img[..., :3].std() > 20  # not a blank page
    with np.load(npz) as data:
        assert data["activations"].shape == (26, 26, 32)
        assert data["input"].shape == (28, 28, 1)
        assert str(data["layer"]) == "Conv2D_1"
        assert data["probabilities"].shape == (10,)
        assert int(np.argmax(data["probabilities"])) == 3  # sample 4000 of the sorted sample is a "3"


def test_activations_for_an_image_file_and_a_dense_layer(tmp_path):
    digit = np.full((64, 64), 255, np.uint8)
    digit[10:54, 28:36] = 0  # a dark "1" on white paper
    Image.fromarray(digit).save(tmp_path / "one.png")
    out = tmp_path / "dense.svg"
    rc = cli.main(
        [
            "activations",
            MODEL,
            "--layer",
            "Dense_1",
            "--image",
            str(tmp_path / "one.png"),
            "--cmap",
            "jet",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    assert out.read_text().lstrip().startswith(("<?xml", "<svg"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layer", "Conv9", "--sample", "1"], "no layer 'Conv9'; its layers are: Conv2D_1"),
        (["--layer", "Conv2D_1", "--sample", "10000"], "--sample must be between 0 and 9999"),
        (["--layer", "Conv2D_1", "--image", "missing.png"], "does not exist"),
        (["--layer", "Conv2D_1", "--sample", "1", "--cmap", "nocmap"], "nocmap"),
    ],
)
def test_activations_errors_are_readable(tmp_path, capsys, args, message):
    rc = cli.main(["activations", MODEL, *args, "--out", str(tmp_path / "x.png")])
    assert rc == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_activations_image_of_one_digit_is_centred_like_mnist_unless_whole_image(tmp_path):
    paper = np.full((200, 300), 240, np.uint8)
    paper[30:110, 230:242] = 20  # a small dark "1" in a corner of the picture
    Image.fromarray(paper).save(tmp_path / "photo.png")
    args = ["activations", MODEL, "--layer", "Conv2D_1", "--image", str(tmp_path / "photo.png")]
    assert cli.main([*args, "--out", str(tmp_path / "a.png"), "--npz", str(tmp_path / "a.npz")]) == 0
    with np.load(tmp_path / "a.npz") as data:
        x = data["input"][..., 0]
        yy, xx = np.indices(x.shape)
        assert abs((yy * x).sum() / x.sum() - 13.5) < 1 and abs((xx * x).sum() / x.sum() - 13.5) < 1
        assert int(np.argmax(data["probabilities"])) == 1
    whole = [*args, "--whole-image", "--out", str(tmp_path / "b.png"), "--npz", str(tmp_path / "b.npz")]
    assert cli.main(whole) == 0
    with np.load(tmp_path / "b.npz") as data:
        x = data["input"][..., 0]
        assert np.flatnonzero(x.max(axis=0) > 0.5).min() > 17  # the ink stays where it was: right of centre
