"""Every file of the hostile/broken corpus through the command line: exit 2, one paragraph, no code run.

The GUI path of the same corpus is in ``tests/ui/test_hostile_files_gui.py``; both use the expectations in
``tests/hostile_corpus.py`` (the files themselves are made by the ``bad_models`` fixture in conftest.py).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hostile_corpus import OPENS, REFUSED

from cnnviz_gui.cli import main
from cnnviz_gui.core.models.loading import ModelLoadError, open_model


@pytest.mark.parametrize("key", sorted(REFUSED))
def test_cli_info_refuses_with_one_paragraph(key, bad_models, capsys):
    kind, words = REFUSED[key]
    assert main(["info", str(bad_models[key])]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err
    assert err.startswith("cnnviz: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err and 'File "' not in err
    for w in words:
        assert w in err
    with pytest.raises(ModelLoadError) as exc:
        open_model(bad_models[key])
    assert exc.value.kind == kind
    assert not bad_models["marker"].exists(), "code from a model file ran without consent"


@pytest.mark.parametrize("key", sorted(OPENS))
def test_cli_info_opens_unusual_models_with_a_note(key, bad_models, capsys):
    name, note = OPENS[key]
    assert main(["info", str(bad_models[key]), "--json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert data["name"] == name
    assert (note in data["input_note"]) if note else data["input_note"] == ""
    if key == "no_conv":
        assert [layer["type"] for layer in data["layers"]] == ["Flatten", "Dense"]
        assert all(layer["maps"] == 0 for layer in data["layers"])


def test_cli_process_never_runs_file_code(bad_models):
    """The real ``python -m cnnviz_gui info`` on payload files: exit 2, one line on stderr, no marker.

    TensorFlow's own start-up lines (oneDNN, CUDA probing) are kept off the terminal too.
    """
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    for key in ("lambda_h5", "os_system_layer"):
        res = subprocess.run(
            [sys.executable, "-m", "cnnviz_gui", "info", str(bad_models[key])],
            capture_output=True,
            text=True,
            timeout=180,
            env=env,
        )
        assert res.returncode == 2, res.stderr
        assert res.stdout == ""
        assert "Traceback" not in res.stderr
        assert res.stderr.startswith("cnnviz: ") and res.stderr.count("\n") == 1, res.stderr
        assert not bad_models["marker"].exists()


def test_consent_is_for_one_file_only(bad_models):
    """Agreeing to run one file's code does not open another hostile file, nor the same file later."""
    marker = bad_models["marker"]
    try:
        open_model(bad_models["lambda_keras"], allow_unsafe=True)
        assert marker.exists()
    finally:
        marker.unlink(missing_ok=True)
    for key in ("lambda_h5", "nested_lambda", "lambda_keras"):
        with pytest.raises(ModelLoadError) as exc:
            open_model(bad_models[key])
        assert exc.value.needs_consent
    assert not marker.exists()
