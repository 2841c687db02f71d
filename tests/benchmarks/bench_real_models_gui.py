"""The window's own work with ImageNet-scale models (``make bench``; a few minutes).

ResNet50 and DenseNet121 at 224x224 (weights=None, saved as ``.keras`` by a helper process, kept in a temporary
folder) are opened in the real window on the real compute process, the drawn test photo as input, under the
GUI watchdog (:mod:`cnnviz_gui.ui.watchdog`): the longest GUI stall of this app's own (time the OS gave other
programs is left out) from the open to the first maps, and during 20 layer switches (each waits for its
maps); the GUI thread's CPU time when a model opens (every view's reaction: the Layers tree, summary, ...);
a layer switch from request to maps on screen; drawing a page of 2048 maps of 7x7 and of 64 maps of 112x112 (into a pixmap).

Run alone: ``python tests/benchmarks/bench_real_models_gui.py`` (prints the stalls with the GUI thread's
stack when one is this app's own).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

HERE = Path(__file__).resolve().parent
MODELS = Path(tempfile.gettempdir()) / "cnnviz-bench-real-gui"
FAMILIES = {"resnet50": "ResNet50", "densenet121": "DenseNet121"}
SWITCHES = 20

_SAVE = """
import sys, keras
keras.applications.{cls}(weights=None).save(sys.argv[1])
"""


def model_file(name: str) -> Path:
    """A keras.applications model (weights=None, 224x224) saved once, in a helper process."""
    MODELS.mkdir(exist_ok=True)
    path = MODELS / f"{name}.keras"
    if not path.exists():
        tmp = path.with_suffix(".tmp.keras")
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        subprocess.run(
            [sys.executable, "-c", _SAVE.format(cls=FAMILIES[name]), str(tmp)], check=True, env=env
        )
        tmp.rename(path)
    return path


def _wait(app, until, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while not until():
        if time.monotonic() > end:
            return False
        app.processEvents()
        time.sleep(0.002)
    return True


def _switch_layers(names: list[str]) -> list[str]:
    """``SWITCHES`` layers spread over the model, maps and dense ones alike."""
    picks = np.linspace(0, len(names) - 1, SWITCHES).round().astype(int)
    return [names[i] for i in picks]


def run(verbose: bool = False) -> dict[str, tuple[float, str, str]]:
    from PySide6.QtWidgets import QApplication

    sys.path.insert(0, str(HERE.parent))
    from drawn_photo import draw_photo

    home = tempfile.mkdtemp(prefix="cnnviz-bench-home-")
    for var, sub in (("HOME", ""), ("XDG_CONFIG_HOME", "config"), ("XDG_STATE_HOME", "state")):
        os.environ[var] = str(Path(home) / sub)
    paths = {name: model_file(name) for name in FAMILIES}
    photo = Path(home) / "house.jpg"
    draw_photo().save(photo, quality=90)
    app = QApplication.instance() or QApplication([])
    from cnnviz_gui.ui.app import configure_pyqtgraph, create_bridge
    from cnnviz_gui.ui.main_window import MainWindow
    from cnnviz_gui.ui.state import AppState
    from cnnviz_gui.ui.watchdog import GuiWatchdog

    configure_pyqtgraph()
    w = MainWindow(AppState(), create_bridge(spare=False))
    w.show_message_box = lambda *a: print("message:", a[1:3])
    w.resize(1400, 860)
    w.show()
    started = []
    w.bridge.request("runtime.start", {}, kind="startup", sticky="runtime", on_result=started.append)
    _wait(app, lambda: bool(started), 180)
    view = w.activation_view
    set_model = w.state.set_model
    model_ms = []

    def timed_set_model(*args, **kwargs):  # CPU time of the GUI thread: what other programs take is not in it
        t = time.thread_time()
        set_model(*args, **kwargs)
        model_ms.append((time.thread_time() - t) * 1000)

    w.state.set_model = timed_set_model
    rows: dict[str, tuple[float, str, str]] = {}
    watchdog = GuiWatchdog(interval_ms=10, threshold_ms=100)
    watchdog.start()
    try:
        for name, path in paths.items():
            label = FAMILIES[name]
            watchdog.reset()
            watchdog.label = f"opening {label}"
            previous = w.state.loaded
            w.open_model_file(str(path))
            _wait(app, lambda previous=previous: w.state.loaded is not previous, 300)
            w.open_path(str(photo))
            w.tabs.setCurrentWidget(view)
            _wait(app, lambda: view.current_output() is not None and view.acts is not None, 300)
            open_stall, open_report = watchdog.max_stall_ms, watchdog.report()
            rows[f"{label} 224: GUI thread CPU when it opens (every view)"] = (model_ms[-1], "ms", "< 100")
            rows[f"{label} 224: longest GUI stall, open to first maps"] = (open_stall, "ms", "< 100")
            _wait(app, lambda: w.job_label.text().startswith("Ready"), 300)  # every layer warmed
            names = [layer.name for layer in w.state.info.iter_layers()]
            watchdog.reset()
            watchdog.label = f"{SWITCHES} layer switches in {label}"
            latencies = []
            for layer in _switch_layers(names):
                t = time.perf_counter()
                w.state.select_layer(layer)
                _wait(app, lambda layer=layer: view.current_output() is not None
                      and view.current_output()[0].split("/")[-1] == layer, 60)  # fmt: skip
                app.processEvents()
                latencies.append((time.perf_counter() - t) * 1000)
            rows[f"{label} 224: longest GUI stall, {SWITCHES} layer switches"] = (
                watchdog.max_stall_ms,
                "ms",
                "< 100",
            )
            rows[f"{label} 224: layer switch to maps on screen, median"] = (
                float(np.median(latencies)),
                "ms",
                "",
            )
            if verbose:
                print(f"{label} open: {open_report}")
                print(f"{label} switches: {watchdog.report()}")
        rows.update(_map_pages(app, view))
    finally:
        watchdog.stop()
        w.close()
        app.processEvents()
    return rows


def _map_pages(app, view) -> dict[str, tuple[float, str, str]]:
    """One page of 2048 maps of 7x7 and of 64 maps of 112x112 drawn (mosaic, levels, labels) and painted."""
    browser = view.browser
    rows = {}
    rng = np.random.default_rng(0)
    for n, side in ((2048, 7), (64, 112)):
        maps = rng.gamma(1.0, 1.0, (n, side, side)).astype(np.float32)
        times = []
        for k in range(12):
            t = time.perf_counter()
            browser.set_maps(maps * (1 + 0.01 * k))
            browser.grid.glw.grab()  # rendered: the mosaic coloured, the labels drawn
            times.append((time.perf_counter() - t) * 1000)
        shown = min(n, browser.page_size())
        rows[f"maps: a new input, {n} maps of {side}x{side} ({shown} on the page), drawn"] = (
            float(np.median(times[2:])),
            "ms",
            "< 16",
        )
    return rows


def measure() -> dict[str, tuple[float, str, str]]:
    return run()


if __name__ == "__main__":
    for row, (value, unit, target) in run(verbose=True).items():
        print(f"{row:70s} {value:10.1f} {unit:3s} {target}")
