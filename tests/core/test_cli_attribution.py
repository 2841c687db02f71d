"""`cnnviz attribution`: figure and npz with the issue's keys and shapes; bad flags exit 2 with one line."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnviz_gui import cli
from cnnviz_gui.core.resources import default_model_path

MODEL = str(default_model_path())


def _run(*args):
    return cli.main(["attribution", MODEL, *args])


def test_gradcam_of_a_sample_with_sanity_writes_figure_and_arrays(tmp_path, capsys):
    out, npz = tmp_path / "cam.png", tmp_path / "cam.npz"
    rc = _run("--method", "gradcam", "--sample", "4000", "--sanity", "--out", str(out), "--npz", str(npz))
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "Grad-CAM for class 3" in captured.out and "at Conv2D_3" in captured.out
    img = np.asarray(Image.open(out))
    assert img.shape[0] > 500 and img.shape[1] > 800 and img[..., :3].std() > 20
    with np.load(npz) as data:
        assert sorted(data.files) == [
            "attribution",
            "class_index",
            "layer_map",
            "randomized_similarity",
            "score",
        ]
        assert data["attribution"].shape == (28, 28) and data["layer_map"].shape == (3, 3)
        assert int(data["class_index"]) == 3 and float(data["score"]) > 5.0  # a logit, not a probability
        sim = data["randomized_similarity"]
        assert sim.shape == () and sim.dtype.kind == "f" and -1.0 <= float(sim) <= 1.0
        assert data["attribution"].min() >= 0 and data["layer_map"].max() > 0


def test_integrated_gradients_of_an_image_file_for_a_chosen_class(tmp_path, capsys):
    digit = np.full((64, 64), 255, np.uint8)
    digit[10:54, 28:36] = 0  # a dark "1" on white paper
    Image.fromarray(digit).save(tmp_path / "one.png")
    npz = tmp_path / "ig.npz"
    rc = _run(
        "--method", "ig", "--image", str(tmp_path / "one.png"), "--class", "7", "--steps", "32",
        "--baseline", "blurred", "--out", str(tmp_path / "ig.svg"), "--npz", str(npz),
    )  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    assert (tmp_path / "ig.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    with np.load(npz) as data:
        assert sorted(data.files) == ["attribution", "baseline_score", "class_index", "score"]
        assert int(data["class_index"]) == 7
        diff = float(data["score"] - data["baseline_score"])
        assert float(data["attribution"].sum()) == pytest.approx(diff, rel=0.05, abs=0.05)


@pytest.mark.parametrize("method", ["gradcampp", "saliency", "smoothgrad", "occlusion"])
def test_every_method_runs(tmp_path, method):
    npz = tmp_path / "a.npz"
    rc = _run(
        "--method",
        method,
        "--sample",
        "10",
        "--steps",
        "4",
        "--out",
        str(tmp_path / "a.png"),
        "--npz",
        str(npz),
    )
    assert rc == 0
    with np.load(npz) as data:
        assert data["attribution"].shape == (28, 28)
        assert ("layer_map" in data.files) == (method == "gradcampp")
        assert "baseline_score" not in data.files


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "lime", "--sample", "1"], "unknown --method 'lime'; use one of gradcam, gradcampp"),
        (["--method", "gradcam", "--sample", "10000"], "--sample must be between 0 and 9999"),
        (["--method", "gradcam", "--image", "missing.png"], "does not exist"),
        (["--method", "gradcam", "--sample", "1", "--layer", "Conv9"], "no layer 'Conv9'; layers with maps"),
        (["--method", "gradcam", "--sample", "1", "--layer", "Dense_1"], "'Dense_1' gives no maps"),
        (["--method", "saliency", "--sample", "1", "--class", "12"], "class 12 does not exist"),
        (["--method", "ig", "--sample", "1", "--steps", "1"], "--steps must be at least 2"),
        (["--method", "ig", "--sample", "1", "--baseline", "white"], "unknown baseline 'white'"),
        (["--method", "ig", "--sample", "1", "--convention", "0..2"], "unknown --convention '0..2'"),
        (["--method", "gradcam", "--sample", "1", "--cmap", "nocmap"], "unknown --cmap 'nocmap'"),
    ],
)
def test_bad_flags_exit_2_with_one_line(tmp_path, capsys, args, message):
    rc = _run(*args, "--out", str(tmp_path / "x.png"), "--npz", str(tmp_path / "x.npz"))
    err = capsys.readouterr().err
    assert rc == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("cnnviz: ") and message in lines[0], err
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "x.npz").exists()


def test_wrong_output_names_and_missing_model(tmp_path, capsys):
    assert _run("--method", "gradcam", "--sample", "1", "--out", str(tmp_path / "x.jpg")) == 2
    assert "--out must end in .png, .svg or .pdf" in capsys.readouterr().err
    rc = cli.main(
        [
            "attribution",
            str(tmp_path / "none.keras"),
            "--method",
            "gradcam",
            "--sample",
            "1",
            "--out",
            str(tmp_path / "x.png"),
        ]
    )
    assert rc == 2 and "does not exist" in capsys.readouterr().err


def test_help_lists_the_command():
    parser = cli.build_parser()
    assert "attribution" in cli.subcommand_names()
    with pytest.raises(SystemExit) as done:
        parser.parse_args(["attribution", "--help"])
    assert done.value.code == 0


def test_an_rgb_model_gets_a_grey_image_as_three_channels(tmp_path, capsys):
    import keras

    x = keras.Input((32, 32, 3))
    h = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(x)
    out = keras.layers.Dense(3, activation="softmax")(keras.layers.GlobalAveragePooling2D()(h))
    keras.Model(x, out, name="rgb").save(tmp_path / "rgb.keras")
    grey = (np.random.default_rng(0).uniform(size=(50, 40)) * 255).astype(np.uint8)
    Image.fromarray(grey).save(tmp_path / "grey.png")
    npz = tmp_path / "rgb.npz"
    rc = cli.main(
        [
            "attribution", str(tmp_path / "rgb.keras"), "--method", "gradcam", "--image", str(tmp_path / "grey.png"),
            "--convention", "0..1", "--out", str(tmp_path / "rgb.png"), "--npz", str(npz),
        ]
    )  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    with np.load(npz) as data:
        assert data["attribution"].shape == (32, 32) and data["layer_map"].shape == (30, 30)
