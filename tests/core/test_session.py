"""Session files: round trip, validation, corrupted files set aside, atomic and failing writes."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from cnnviz_gui.core.session import (
    SESSION_VERSION,
    Session,
    SessionError,
    last_session_path,
    load_session,
    save_session,
    session_path,
)
from cnnviz_gui.core.training.jobs import TrainingRequest, subset


def _session() -> Session:
    rng = np.random.default_rng(3)
    return Session(
        model_path="/models/a.keras",
        convention="0..1",
        layer="Conv2D_2",
        maps=[3, 17],
        input_image=rng.random((28, 28, 1), dtype=np.float32),
        input_label="drawn digit",
        current_view="OIP",
        views={"OIP": {"seed": 42, "steps": 600, "scales": [0.2, 0.2, 0.0, 0.0]}},
        app_version="0.1.0",
    )


def test_round_trip_keeps_everything(tmp_path):
    s = _session()
    path = save_session(s, tmp_path / "a.cnnviz.json")
    assert path.is_file() and not list(tmp_path.glob(".tmp-*"))
    data = json.loads(path.read_text())
    assert data["format"] == "cnnviz-session" and data["version"] == SESSION_VERSION
    back = load_session(path)
    assert back.model_path == "/models/a.keras" and back.convention == "0..1"
    assert back.layer == "Conv2D_2" and back.maps == [3, 17] and back.current_view == "OIP"
    assert back.views == {"OIP": {"seed": 42, "steps": 600, "scales": [0.2, 0.2, 0.0, 0.0]}}
    np.testing.assert_array_equal(back.input_image, s.input_image)  # bit for bit
    assert back.input_image.dtype == np.float32 and back.input_label == "drawn digit"


def test_session_without_input_or_model(tmp_path):
    back = load_session(save_session(Session(), tmp_path / "empty.cnnviz.json"))
    assert back.model_path is None and back.input_image is None and back.maps == []


def test_session_path_adds_the_suffix(tmp_path):
    assert session_path(tmp_path / "fig3").name == "fig3.cnnviz.json"
    assert session_path(tmp_path / "fig3.cnnviz.json").name == "fig3.cnnviz.json"


@pytest.mark.parametrize(
    "content, why",
    [
        (b"{ not json", "not valid JSON"),
        (b"\x00\xff\xfe binary", "not a text file"),
        (b"[1, 2, 3]", "JSON object"),
        (b'{"format": "something-else", "version": 1}', "format"),
        (b'{"format": "cnnviz-session", "version": 1, "selection": {"maps": ["a"]}}', "map indices"),
        (b'{"format": "cnnviz-session", "version": 1, "model": {"path": 5}}', "model.path"),
        (
            b'{"format": "cnnviz-session", "version": 1, "input": '
            b'{"shape": [28, 28, 1], "dtype": "float32", "data": "AAAA"}}',
            "does not match",
        ),
    ],
)
def test_corrupted_session_is_set_aside_with_a_message(tmp_path, content, why):
    path = tmp_path / "broken.cnnviz.json"
    path.write_bytes(content)
    with pytest.raises(SessionError) as info:
        load_session(path)
    err = info.value
    assert why in err.message and "Defaults are used" in err.message
    assert not path.exists()
    assert err.set_aside is not None and err.set_aside.name.startswith("broken.cnnviz.json.corrupt-")
    assert err.set_aside.read_bytes() == content  # kept for inspection, unchanged


def test_newer_session_format_is_refused_but_left_alone(tmp_path):
    path = tmp_path / "future.cnnviz.json"
    path.write_text(json.dumps({"format": "cnnviz-session", "version": SESSION_VERSION + 1}))
    with pytest.raises(SessionError) as info:
        load_session(path)
    assert "newer cnnviz" in info.value.message and info.value.set_aside is None and path.exists()


def test_missing_session_file(tmp_path):
    with pytest.raises(SessionError, match="does not exist"):
        load_session(tmp_path / "nope.cnnviz.json")


def test_save_failure_leaves_no_file(tmp_path, monkeypatch):
    target = tmp_path / "s.cnnviz.json"
    target.write_text("previous")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(SessionError, match="No space left"):
        save_session(_session(), target)
    monkeypatch.undo()
    assert target.read_text() == "previous" and sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_last_session_lives_in_the_user_data_folder(tmp_path):
    # conftest points XDG_DATA_HOME into a temporary folder
    assert str(last_session_path()).startswith(os.environ["XDG_DATA_HOME"])


def test_training_request_checks_and_subset():
    with pytest.raises(ValueError, match="at least one epoch"):
        TrainingRequest("cnn", "mnist-sample", "m.keras", epochs=0).check()
    with pytest.raises(ValueError, match="must end in .keras"):
        TrainingRequest("cnn", "mnist-sample", "m.h5").check()
    with pytest.raises(ValueError, match="Unknown model kind"):
        TrainingRequest("gan", "mnist-sample", "m.keras").check()
    from cnnviz_gui.core.datasets import load_bundled_mnist

    ds = load_bundled_mnist()
    small = subset(ds, 300, seed=1)
    assert len(small) == 300 and small.x.shape[1:] == (28, 28, 1)
    assert len(set(small.y.tolist())) == 10  # a random draw, not the first 300 of one class
    assert subset(ds, 0) is ds


def test_bundled_models_are_stored_relative_to_the_installation(default_model_path, tmp_path):
    from cnnviz_gui.core.session import portable_model_path, resolve_model_path

    stored = portable_model_path(str(default_model_path))
    assert stored == "resource:models/mnist_cnn.keras"
    assert resolve_model_path(stored) == str(default_model_path)
    own = tmp_path / "mine.keras"
    assert portable_model_path(str(own)) == str(own) and resolve_model_path(str(own)) == str(own)
    assert portable_model_path(None) is None
