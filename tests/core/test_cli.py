"""The command line: info (text and JSON), refusals with exit 2 and no traceback, a progress bar."""

from __future__ import annotations

import io
import json
import os

from cnnviz_gui.cli import main
from cnnviz_gui.commands.common import TextProgress


def test_info_prints_the_layer_tree(capsys, default_model_path):
    assert main(["info", str(default_model_path)]) == 0
    out = capsys.readouterr().out
    assert "Conv2D_3" in out and "(3, 3, 128)" in out and "18x18" in out and "174,092" in out


def test_info_json(capsys, default_model_path):
    assert main(["info", str(default_model_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["input_shape"] == [28, 28, 1]
    conv3 = next(layer for layer in data["layers"] if layer["name"] == "Conv2D_3")
    assert conv3 == {
        "name": "Conv2D_3",
        "type": "Conv2D",
        "output_shape": [3, 3, 128],
        "params": 73856,
        "receptive_field": "18x18",
        "maps": 128,
        "inbound": ["MaxPool_2"],
        "outbound": ["Flatten"],
        "block": None,
        "children": [],
    }
    assert data["input_convention"]["convention"] == "standardised"
    assert "cnnviz model" in data["input_convention"]["reason"]


def test_info_refusal_exit_2_without_traceback(capsys, bad_models):
    for key in ("truncated_keras", "lambda_keras", "weights_only", "missing"):
        assert main(["info", str(bad_models[key])]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("cnnviz: ") and "Traceback" not in captured.err
        assert captured.err.count("\n") == 1
    assert not bad_models["marker"].exists()


def test_text_progress_bar():
    buf = io.StringIO()
    bar = TextProgress("train", width=10, stream=buf)
    bar(0.5, "epoch 1/2")
    bar(1.0, "done")
    bar.done()
    text = buf.getvalue()
    assert "[#####.....]  50.0% epoch 1/2" in text and "[##########] 100.0% done" in text


def test_info_stderr_carries_only_cnnviz_messages(bad_models, default_model_path):
    """TensorFlow's native start-up notices (written to fd 2) do not reach a command's stderr."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "CNNVIZ_NATIVE_LOGS"}
    ok = subprocess.run(
        [sys.executable, "-m", "cnnviz_gui", "info", str(default_model_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert ok.returncode == 0 and "Conv2D_3" in ok.stdout
    assert ok.stderr == ""
    bad = subprocess.run(
        [sys.executable, "-m", "cnnviz_gui", "info", str(bad_models["truncated_keras"])],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("cnnviz: ") and bad.stderr.count("\n") == 1


def test_unknown_subcommand_or_flag_exits_2_with_usage_and_no_window(monkeypatch, capsys):
    """Only ``cnnviz`` and ``cnnviz MODEL_FILE`` open the window; a mistyped command or flag says so."""
    import pytest

    import cnnviz_gui.ui.app as app

    monkeypatch.setattr(app, "run_app", lambda *a: pytest.fail("the window was opened"))
    for argv in (
        ["frobnicate", "model.keras", "--method", "gradcam"],
        ["frobnicate"],
        ["--no-such-flag"],
        ["model.keras", "--no-such-flag"],
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("usage: cnnviz"), (argv, err)
    with pytest.raises(SystemExit):
        main(["frobnicate"])
    err = capsys.readouterr().err
    assert "'frobnicate' is neither a sub-command" in err and "info, train, activations" in err
