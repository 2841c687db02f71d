"""Shared fixtures: isolated settings, a synchronous compute thread, the default model, bad model files."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory, monkeypatch):
    """QSettings and the user's folders point into a fresh temporary folder."""
    tmp_path = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    try:
        from PySide6.QtCore import QSettings
    except ImportError:  # core tests may run without Qt
        return
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "config"))
    # QSettings(org, app) uses the native format (a .conf under ~/.config on Linux, whose location Qt fixes
    # on first use): without this every test would share, and write into, the person's real settings
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "config"))


@pytest.fixture(scope="session")
def default_model_path() -> Path:
    from cnnviz_gui.core.resources import default_model_path

    return default_model_path()


@pytest.fixture(scope="session")
def default_loaded(default_model_path):
    from cnnviz_gui.core.models import open_model

    return open_model(default_model_path)


@pytest.fixture(scope="session")
def bad_models(tmp_path_factory, default_model_path) -> dict[str, Path]:
    """A corpus of model files the app must refuse or handle, made here (nothing downloaded).

    The Lambda payloads create the file ``marker`` when their code runs; it is deleted after saving, so a
    marker that reappears proves code from a file ran.
    """
    import keras

    d = tmp_path_factory.mktemp("bad_models")
    marker = d / "marker"
    files: dict[str, Path] = {"marker": marker}

    files["missing"] = d / "no_such_model.keras"
    (d / "empty.keras").write_bytes(b"")
    files["empty"] = d / "empty.keras"
    data = default_model_path.read_bytes()
    (d / "truncated.keras").write_bytes(data[: len(data) // 2])
    files["truncated_keras"] = d / "truncated.keras"
    (d / "text.h5").write_text("this is not a model\n" * 10)
    files["text_h5"] = d / "text.h5"

    # a Python lambda is stored as bytecode; running it creates the marker file
    payload = eval(f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]")  # noqa: S307

    inp = keras.Input((28, 28, 1))
    out = keras.layers.Lambda(payload, name="payload_lambda")(inp)
    out = keras.layers.Flatten()(out)
    out = keras.layers.Dense(10)(out)
    lam = keras.Model(inp, out, name="lambda_model")
    lam.save(d / "lambda.keras")
    lam.save(d / "lambda.h5")
    files["lambda_keras"] = d / "lambda.keras"
    files["lambda_h5"] = d / "lambda.h5"

    h5 = d / "lambda.h5"
    full = h5.read_bytes()
    (d / "truncated.h5").write_bytes(full[: len(full) // 3])
    files["truncated_h5"] = d / "truncated.h5"

    lam.save_weights(d / "weights_only.weights.h5")
    (d / "weights_only.h5").write_bytes((d / "weights_only.weights.h5").read_bytes())
    files["weights_only"] = d / "weights_only.h5"

    # a .keras that claims to come from Keras 2
    src = zipfile.ZipFile(default_model_path)
    with zipfile.ZipFile(d / "keras2.keras", "w") as dst:
        for item in src.infolist():
            content = src.read(item)
            if item.filename == "metadata.json":
                meta = json.loads(content)
                meta["keras_version"] = "2.15.0"
                content = json.dumps(meta).encode()
            dst.writestr(item.filename, content)
    files["keras2"] = d / "keras2.keras"

    # a custom layer class the app does not know
    config = json.loads(src.read("config.json"))
    for layer in config["config"]["layers"]:
        if layer["name"] == "Dense_1":
            layer["class_name"] = "MyFancyDense"
            layer["module"] = "my_research_code.layers"
            layer["registered_name"] = "research>MyFancyDense"
    with zipfile.ZipFile(d / "custom.keras", "w") as dst:
        for item in src.infolist():
            content = json.dumps(config).encode() if item.filename == "config.json" else src.read(item)
            dst.writestr(item.filename, content)
    files["custom"] = d / "custom.keras"

    # a config naming a non-Keras function (os.system) as an activation
    config = json.loads(src.read("config.json"))
    for layer in config["config"]["layers"]:
        if layer["name"] == "Dense_1":
            layer["config"]["activation"] = {
                "module": "os",
                "class_name": "function",
                "config": "system",
                "registered_name": "function",
            }
    with zipfile.ZipFile(d / "os_system.keras", "w") as dst:
        for item in src.infolist():
            content = json.dumps(config).encode() if item.filename == "config.json" else src.read(item)
            dst.writestr(item.filename, content)
    files["os_system"] = d / "os_system.keras"

    # a Lambda nested inside a sub-model
    x = keras.Input((28, 28, 1))
    inner = keras.Model(x, keras.layers.Lambda(payload, name="inner_lambda")(x), name="inner")
    y = keras.Input((28, 28, 1))
    keras.Model(y, keras.layers.Flatten()(inner(y)), name="outer").save(d / "nested_lambda.keras")
    files["nested_lambda"] = d / "nested_lambda.keras"

    # channels-first input
    x = keras.Input((1, 28, 28))
    keras.Model(x, keras.layers.Dense(3)(keras.layers.Flatten()(x)), name="chfirst").save(d / "chfirst.keras")
    files["channels_first"] = d / "chfirst.keras"

    # a SavedModel folder
    sm = d / "saved_model_dir"
    sm.mkdir()
    (sm / "saved_model.pb").write_bytes(b"\x08\x01")
    (sm / "variables").mkdir()
    files["savedmodel"] = sm

    # several inputs (opens; image features off)
    a, b = keras.Input((28, 28, 1), name="image"), keras.Input((4,), name="extra")
    h = keras.layers.Concatenate()([keras.layers.Flatten()(a), b])
    two = keras.Model([a, b], keras.layers.Dense(3)(h), name="two_inputs")
    two.save(d / "two_inputs.keras")
    files["multi_input"] = d / "two_inputs.keras"

    # an MLP on 784 inputs (non-image input)
    x = keras.Input((784,))
    mlp = keras.Model(x, keras.layers.Dense(10)(keras.layers.Dense(32, activation="relu")(x)), name="mlp")
    mlp.save(d / "mlp.keras")
    files["mlp"] = d / "mlp.keras"

    if marker.exists():
        marker.unlink()
    return files


@pytest.fixture(autouse=True)
def _no_dangling_threads():
    """Fail a test that leaves a compute (or any cnnviz) thread running, as napari does for QThreads."""
    import threading

    before = set(threading.enumerate())
    yield
    import time

    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        left = [
            t
            for t in threading.enumerate()
            if t not in before and t.name.startswith("cnnviz") and t.is_alive()
        ]
        if not left:
            return
        time.sleep(0.02)
    pytest.fail(f"test left threads running: {[t.name for t in left]}")
