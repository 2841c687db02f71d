"""Shared fixtures: isolated settings, windows on an in-process or a real compute process, the default model, bad model files."""

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
    settings = QSettings("cnnviz", "cnnviz")  # and start each test from empty settings
    settings.clear()
    settings.sync()


@pytest.fixture(scope="session")
def default_model_path() -> Path:
    from cnnviz_gui.core.resources import default_model_path

    return default_model_path()


@pytest.fixture(scope="session")
def default_loaded(default_model_path):
    from cnnviz_gui.core.models.loading import open_model

    return open_model(default_model_path)


@pytest.fixture(scope="session")
def tiny_vae8(tmp_path_factory):
    """An 8-D VAE, one epoch on the first 3,000 bundled digits (the sample is sorted by class: 0s, 1s, 2s;
    ~10-20 s): a few dimensions carry information, the others stay collapsed on the prior. Returns (file,
    encoded z_mean, KL per dimension in nats). Trained once per session (core and window tests share it)."""
    import numpy as np

    from cnnviz_gui.core.datasets import Dataset, load_bundled_mnist
    from cnnviz_gui.core.training.autoencoders import _encode, train_autoencoder

    n = 3000
    ds = load_bundled_mnist()
    small = Dataset("small", ds.x[:n], ds.y[:n], ds.class_names)
    path = tmp_path_factory.mktemp("vae8") / "vae8.keras"
    res = train_autoencoder(
        path, kind="vae", epochs=1, latent_dim=8, dataset=small, n_train=n, batch_size=32, learning_rate=3e-3,
    )  # fmt: skip
    z, log_var = _encode(res.model.get_layer("encoder"), small.x, True)
    kl = (0.5 * (z.astype(np.float64) ** 2 + np.exp(log_var) - 1.0 - log_var)).mean(axis=0)
    return path, z, kl


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

    def rewritten(name: str, mutate=None, raw: bytes | None = None) -> Path:
        """A copy of the default model whose config.json is mutated (or replaced by ``raw`` bytes)."""
        config = json.loads(src.read("config.json"))
        if mutate is not None:
            mutate(config)
        with zipfile.ZipFile(d / name, "w") as dst:
            for item in src.infolist():
                content = src.read(item)
                if item.filename == "config.json":
                    content = raw if raw is not None else json.dumps(config).encode()
                dst.writestr(item.filename, content)
        return d / name

    def dense_1(config) -> dict:
        return next(layer for layer in config["config"]["layers"] if layer["name"] == "Dense_1")

    files["invalid_config"] = rewritten("invalid_config.keras", raw=b'{"class_name": "Functional", "con')
    files["config_not_model"] = rewritten("config_not_model.keras", raw=b'{"hello": [1, 2, 3]}')
    # builtins.eval named as a registered function, and os.system named as a layer whose config is a
    # shell command that would create the marker if Keras ever called it
    files["builtins_eval"] = rewritten(
        "builtins_eval.keras",
        lambda c: dense_1(c)["config"].update(
            activation={
                "module": "builtins",
                "class_name": "function",
                "config": "eval",
                "registered_name": "builtins.eval",
            }
        ),
    )
    files["os_system_layer"] = rewritten(
        "os_system_layer.keras",
        lambda c: dense_1(c).update(
            module="os", class_name="system", registered_name="os.system", config=f"touch {marker}"
        ),
    )

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

    # an image model without any conv layer (opens; nothing to show as maps)
    x = keras.Input((28, 28, 1))
    dense = keras.layers.Dense(10, name="dense_only")(keras.layers.Flatten(name="flat")(x))
    keras.Model(x, dense, name="no_conv").save(d / "no_conv.keras")
    files["no_conv"] = d / "no_conv.keras"

    if marker.exists():
        marker.unlink()
    return files


class ThreadWatch:
    """Remembers the threads alive now and every QThread started from now on; lists those left running.

    Python threads count when named ``cnnviz-*`` (the compute thread, the watchdog); every ``QThread``
    started meanwhile (``QThread.start`` is wrapped) must have finished; the global ``QThreadPool`` must be
    idle. Used by the autouse fixture below and tested in ``tests/ui/test_thread_watch.py``.
    """

    def __init__(self, monkeypatch):
        import sys
        import threading
        import weakref

        self.before = set(threading.enumerate())
        self.qthreads: list = []
        self.qt = "PySide6.QtCore" in sys.modules  # only UI tests load Qt; core tests stay Qt-free
        if self.qt:
            from PySide6.QtCore import QThread

            original = QThread.start

            def start(thread, *args, **kwargs):
                self.qthreads.append(weakref.ref(thread))
                return original(thread, *args, **kwargs)

            monkeypatch.setattr(QThread, "start", start)

    def left_running(self) -> list[str]:
        import threading

        names = [
            t.name
            for t in threading.enumerate()
            if t not in self.before and t.name.startswith("cnnviz") and t.is_alive()
        ]
        for ref in self.qthreads:
            thread = ref()
            try:
                if thread is not None and thread.isRunning():
                    names.append(f"QThread {thread.objectName() or type(thread).__name__}")
            except RuntimeError:  # the C++ object is gone: it is not running
                pass
        if self.qt:
            from PySide6.QtCore import QThreadPool

            if QThreadPool.globalInstance().activeThreadCount():
                names.append("QThreadPool worker")
        return names

    def wait_all_stopped(self, timeout: float = 2.0) -> list[str]:
        import time

        deadline = time.monotonic() + timeout
        while (left := self.left_running()) and time.monotonic() < deadline:
            time.sleep(0.02)
        return left


@pytest.fixture(autouse=True)
def _no_dangling_threads(monkeypatch):
    """Fail a test that leaves a cnnviz Python thread or any QThread running (as napari does)."""
    watch = ThreadWatch(monkeypatch)
    yield
    left = watch.wait_all_stopped()
    if left:
        pytest.fail(f"test left threads running: {left}")


@pytest.fixture
def gui_watchdog(qapp):
    """A started :class:`~cnnviz_gui.ui.watchdog.GuiWatchdog` (10 ms heartbeat, stalls over 100 ms logged).

    Drive the GUI with ``qtbot.waitUntil``/``qtbot.wait`` (they run the event loop), then assert
    ``gui_watchdog.max_stall_ms < 100`` with ``gui_watchdog.report()`` as the message. Call ``reset()`` to
    leave out a phase (e.g. TensorFlow's first import).
    """
    import gc

    from PySide6.QtCore import QCoreApplication, QEvent

    from cnnviz_gui.ui.watchdog import GuiWatchdog

    # windows of earlier tests: delete them and collect their garbage now, not inside the measurement
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    wd = GuiWatchdog(interval_ms=10, threshold_ms=100)
    wd.start()
    yield wd
    wd.stop()
    wd.deleteLater()


@pytest.fixture
def live_window(qtbot):
    """The real main window on a real compute process, TensorFlow imported there beforehand.

    Messages and consent questions are recorded in ``window.messages`` / ``window.consents`` instead of
    showing modal boxes. The window is closed (the compute process ended) at the end.
    """
    import gc

    from cnnviz_gui.ui.app import configure_pyqtgraph, create_bridge
    from cnnviz_gui.ui.main_window import MainWindow
    from cnnviz_gui.ui.state import AppState

    gc.collect()
    configure_pyqtgraph()
    bridge = create_bridge(spare=False)
    w = MainWindow(AppState(), bridge)
    w.messages, w.consents = [], []
    w.show_message_box = lambda parent, title, text, details="": w.messages.append((title, text, details))
    w.ask_consent = lambda parent, err: w.consents.append(err) or False
    qtbot.addWidget(w)
    started = []
    bridge.request("runtime.start", {}, kind="startup", sticky="runtime", on_result=started.append)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: bool(started), timeout=120_000)  # TensorFlow's import is measured elsewhere
    yield w
    w.close()


# -- a main window whose compute runs in this process (synchronously) and whose message boxes are recorded ---
def make_window(qtbot, backend=None, answer: bool = True):
    from cnnviz_gui.core.runtime.local import LocalCompute
    from cnnviz_gui.ui.app import configure_pyqtgraph
    from cnnviz_gui.ui.bridge import ComputeBridge
    from cnnviz_gui.ui.main_window import MainWindow
    from cnnviz_gui.ui.state import AppState

    configure_pyqtgraph()
    w = MainWindow(AppState(), ComputeBridge(backend or LocalCompute(synchronous=True)))
    w.messages = []
    w.questions = []
    w.show_message_box = lambda parent, title, text, details="": w.messages.append((title, text, details))

    def ask(parent, title, text):
        w.questions.append(title)
        return answer

    w.ask_question = ask
    qtbot.addWidget(w)
    w.show()
    return w


@pytest.fixture
def new_window(qtbot):
    """A factory: ``new_window()`` builds another window (e.g. a second start of the app)."""
    return lambda **kw: make_window(qtbot, **kw)


def open_model_in(bridge, state, path) -> None:
    """Open ``path`` in ``bridge``'s compute (synchronous in tests) and make it the state's model."""
    from cnnviz_gui.ui.state import OpenModel

    def opened(result):
        state.set_model(
            OpenModel(result.model_id, str(path), result.info, result.convention, result.read_started)
        )

    errors = []
    bridge.request("models.open", {"model_id": f"t{id(state)}", "path": str(path)}, on_result=opened,
                   on_error=errors.append)  # fmt: skip
    assert not errors, errors[0].message


@pytest.fixture(scope="session")
def photo_path(tmp_path_factory) -> Path:
    """A 1200x800 JPEG of a drawn landscape with a red house in the centre."""
    from drawn_photo import draw_photo

    path = tmp_path_factory.mktemp("photos") / "house.jpg"
    draw_photo().save(path, quality=90)
    return path


@pytest.fixture(scope="session")
def real_models(tmp_path_factory):
    """Small real architectures (keras.applications, weights=None), saved once: the paths and the Keras
    objects saved. ``transfer``: a MobileNetV2 (alpha 0.35, 96x96) nested in a Sequential with a 4-class
    softmax head; ``resnet``: ResNet50 at 64x64, 1000 classes; ``functional``: the same MobileNetV2 behind a
    Rescaling layer, 3 logits."""
    keras = pytest.importorskip("keras")
    from keras import layers

    d = tmp_path_factory.mktemp("real")
    keras.utils.set_random_seed(0)
    base = keras.applications.MobileNetV2(
        alpha=0.35, input_shape=(96, 96, 3), weights=None, include_top=False
    )
    transfer = keras.Sequential(
        [keras.Input((96, 96, 3)), base, layers.GlobalAveragePooling2D(name="gap"),
         layers.Dense(4, activation="softmax", name="head")],
        name="flowers",
    )  # fmt: skip
    transfer.save(d / "transfer.keras")
    resnet = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3))
    resnet.save(d / "resnet.keras")
    inp = keras.Input((96, 96, 3))
    h = layers.Rescaling(1 / 127.5, offset=-1, name="scale")(inp)
    h = base(h)
    functional = keras.Model(
        inp, layers.Dense(3, name="logits")(layers.GlobalAveragePooling2D()(h)), name="ft"
    )
    functional.save(d / "functional.keras")
    return {"dir": d, "transfer": d / "transfer.keras", "resnet": d / "resnet.keras",
            "functional": d / "functional.keras", "base": base, "resnet_model": resnet}  # fmt: skip
