"""The command line on small real architectures (the ``real_models`` fixture): info --json with the guessed
convention and graph facts, predict --json with ImageNet names, labels files, errors, and activations figures
of a nested layer and of 1024 maps with the photo in colour."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("keras")

from cnnviz_gui import cli  # noqa: E402


def test_cli_info_json_and_predict_json_with_imagenet_names(real_models, photo_path, capsys):
    assert cli.main(["info", str(real_models["resnet"]), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["input_convention"]["convention"] == "caffe"
    add = next(layer for layer in data["layers"] if layer["name"] == "conv2_block1_add")
    assert add["inbound"] == ["conv2_block1_0_bn", "conv2_block1_3_bn"] and add["block"] == "conv2_block1"
    assert cli.main(["predict", str(real_models["resnet"]), "--image", str(photo_path), "--json"]) == 0
    top = json.loads(capsys.readouterr().out)
    assert len(top) == 5 and set(top[0]) == {"class", "name", "probability"}
    probs = [t["probability"] for t in top]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0 + 1e-6
    from cnnviz_gui.core.activations.predictions import imagenet_class_names

    assert all(t["name"] == imagenet_class_names()[t["class"]] for t in top)
    # the same numbers as the model on the centre-cropped photo in caffe convention
    from cnnviz_gui.core.photos import photo_to_input
    from cnnviz_gui.core.preprocess import to_model_range

    x = to_model_range(photo_to_input(photo_path, (64, 64, 3))[None], "caffe")
    ref = real_models["resnet_model"](x, training=False).numpy()[0]
    assert [t["class"] for t in top] == list(np.argsort(-ref, kind="stable")[:5])
    assert probs[0] == pytest.approx(float(ref.max()), rel=1e-4)


def test_cli_predict_text_labels_and_errors(real_models, photo_path, tmp_path, capsys):
    labels = tmp_path / "flowers.txt"
    labels.write_text("daisy\ndandelion\nrose\ntulip\n")
    args = [
        "predict",
        str(real_models["transfer"]),
        "--image",
        str(photo_path),
        "--labels",
        str(labels),
        "--top",
        "2",
    ]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "convention -1..1 (guessed" in out and "top 2 of 4 classes (names: flowers.txt)" in out
    assert sum(name in out for name in ("daisy", "dandelion", "rose", "tulip")) == 2
    (tmp_path / "three.txt").write_text("a\nb\nc\n")
    bad = [
        (["--labels", str(tmp_path / "three.txt")], "holds 3 class names but the model has 4 outputs"),
        (["--labels", str(tmp_path / "none.json")], "does not exist"),
        (["--top", "0"], "--top must be at least 1"),
        (["--convention", "rgb"], "unknown --convention 'rgb'"),
    ]
    for extra, message in bad:
        assert cli.main(["predict", str(real_models["transfer"]), "--image", str(photo_path), *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_activations_of_a_nested_layer_and_1024_maps(real_models, photo_path, tmp_path, capsys):
    from PIL import Image

    out = tmp_path / "nested.png"
    rc = cli.main(["activations", str(real_models["transfer"]), "--layer", "block_16_project", "--image",
                   str(photo_path), "--fit", "pad", "--out", str(out), "--npz", str(tmp_path / "n.npz")])  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    with np.load(tmp_path / "n.npz") as data:
        assert data["activations"].shape == (3, 3, 112) and str(data["convention"]) == "-1..1"
        assert data["input"].shape == (96, 96, 3) and np.abs(data["input"][:10]).max() < 0.02  # padded
    path = tmp_path / "r.png"  # SVG and PDF of 1024 maps: test_mosaic.py
    rc = cli.main(["activations", str(real_models["resnet"]), "--layer", "conv4_block6_out", "--image",
                   str(photo_path), "--out", str(path)])  # fmt: skip
    assert rc == 0, capsys.readouterr().err
    assert 10_000 < path.stat().st_size < 10 * 1024 * 1024
    img = np.asarray(Image.open(tmp_path / "r.png").convert("RGB"), np.float32) / 255
    reds = (img[..., 0] > 0.6) & (img[..., 1] < 0.3) & (img[..., 2] < 0.3)
    assert reds.sum() > 1000  # the input thumbnail of the red house is in colour
