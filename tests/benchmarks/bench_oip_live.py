"""What a live Lucid OIP run costs the window (``make bench``; ``python tests/benchmarks/bench_oip_live.py``).

1. The OIP tab on the real compute process (frames cross the process boundary as in the app), 128 maps with
   the Lucid preset: the default CNN's ``Conv2D_3`` (grey, 28x28), and a small RGB CNN (32x32x3, random
   weights: speed does not depend on training) whose third convolution has 128 maps, with diversity 1 and 3
   (the live view then shows three colour images side by side). Each run is traced with a few steps first,
   then timed; no reference dataset (the read-outs after the search are not part of the live view). Per run:
   frames per second reaching the panel (between the first and the last frame; at most ~30, fewer when the
   compute process makes fewer steps a second), ascent steps per second, and the share of one core the GUI
   thread used over the run (``time.thread_time``, as ``bench_oip.py`` measures it) and the whole GUI process
   (the bridge's reader thread decodes the frames). The compute process's work is not counted.
2. The panel's cost for one frame, without TensorFlow: frames of a 224x224 RGB model (1 and 3 images) and of
   a 28x28 grey one handed to the panel as the bridge hands them, then the window painted (offscreen);
   median and 95th percentile over 200 frames. At 30 frames a second the budget is 33 ms.

Figures depend on the machine's load (the load average is reported).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

STEPS = int(os.environ.get("CNNVIZ_BENCH_OIP_STEPS", "120"))
RGB_SIZE = 32


def _rgb_model(path: Path) -> Path:
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((RGB_SIZE, RGB_SIZE, 3))
    h = keras.layers.Conv2D(32, 3, activation="relu", name="c1")(inp)
    h = keras.layers.MaxPooling2D(name="p1")(h)
    h = keras.layers.Conv2D(64, 3, activation="relu", name="c2")(h)
    h = keras.layers.MaxPooling2D(name="p2")(h)
    h = keras.layers.Conv2D(128, 3, activation="relu", name="c3")(h)
    out = keras.layers.Dense(10, name="head")(keras.layers.GlobalAveragePooling2D()(h))
    keras.Model(inp, out, name="rgb_bench_cnn").save(path)
    return path


def _wait(app, until, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not until():
        if time.monotonic() > end:
            raise TimeoutError("the compute process did not answer in time")
        app.processEvents()
        time.sleep(0.005)


def _live_run(app, panel, steps: int) -> dict:
    """One run driven by the real event loop (it sleeps between events); timings of the frames drawn."""
    from PySide6.QtCore import QEventLoop, QTimer

    stamps: list[float] = []
    draw = panel.__class__._on_progress

    def timed(fraction, text, frame):
        draw(panel, fraction, text, frame)
        if frame is not None:
            stamps.append(time.perf_counter())

    panel._on_progress = timed
    panel.form.steps.setValue(steps)
    loop = QEventLoop()
    panel.finished.connect(loop.quit)
    QTimer.singleShot(600_000, loop.quit)
    wall, gui, proc = time.perf_counter(), time.thread_time(), time.process_time()
    panel.start()
    if panel.running:
        loop.exec()
    wall, gui, proc = time.perf_counter() - wall, time.thread_time() - gui, time.process_time() - proc
    panel.finished.disconnect(loop.quit)
    del panel._on_progress
    r = panel.result
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else float("nan")
    return {
        "frames": len(stamps),
        "fps": (len(stamps) - 1) / span if span > 0 else float("nan"),
        "steps_per_s": int(r.steps_used.max()) / span if span > 0 else float("nan"),
        "gui_share": gui / wall * 100,
        "process_share": proc / wall * 100,
        "shape": tuple(r.images.shape),
    }


def measure() -> dict[str, tuple[float, str, str]]:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from cnnviz_gui.core.resources import default_model_path
    from cnnviz_gui.ui.app import configure_pyqtgraph, create_bridge
    from cnnviz_gui.ui.oip.panel import OipPanel
    from cnnviz_gui.ui.state import AppState, OpenModel

    tmp = Path(tempfile.mkdtemp(prefix="cnnviz-bench-oip-"))
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp))
    app = QApplication.instance() or QApplication([])
    configure_pyqtgraph()
    rgb_path = _rgb_model(tmp / "rgb_bench_cnn.keras")
    bridge = create_bridge(spare=False)
    state = AppState()
    panel = OipPanel(state, bridge)
    panel.resize(1300, 800)
    panel.show()
    rows: dict[str, tuple[float, str, str]] = {}
    load = os.getloadavg()[0]
    try:
        started = []
        bridge.request("runtime.start", {}, kind="startup", sticky="runtime", on_result=started.append)
        _wait(app, lambda: bool(started), 180)
        cases = [
            ("grey", "default CNN Conv2D_3 (grey 28x28)", default_model_path(), "Conv2D_3", 1),
            ("RGB", f"RGB CNN c3 ({RGB_SIZE}x{RGB_SIZE}x3)", rgb_path, "c3", 1),
            ("RGB K=3", f"RGB CNN c3 ({RGB_SIZE}x{RGB_SIZE}x3), diversity 3", rgb_path, "c3", 3),
        ]
        opened: dict[str, OpenModel] = {}
        for tag, name, path, layer, k in cases:
            if str(path) not in opened:
                got = []
                bridge.request("models.open", {"model_id": f"b{len(opened)}", "path": str(path)},
                               on_result=got.append)  # fmt: skip
                _wait(app, lambda got=got: bool(got), 120)
                r = got[0]
                opened[str(path)] = OpenModel(r.model_id, str(path), r.info, r.convention, r.read_started)
                state.set_model(opened[str(path)])
            panel.form.preset_box.setCurrentText("Lucid")
            panel.form.apply_preset("Lucid")
            panel.form.select_layer(layer)
            panel.form.maps_edit.setText("0-127")
            panel.form.diversity.setValue(k)
            panel.form.reference.setCurrentIndex(panel.form.reference.findData(""))
            _live_run(app, panel, 3)  # trace the compiled step
            got = _live_run(app, panel, STEPS if k == 1 else max(STEPS // 3, 10))
            print(f"  {name}: {got}")
            rows[f"OIP live, Lucid, 128 maps, {name}: frames/s reaching the panel"] = (
                round(got["fps"], 1), "1/s", "~30 (the cap)",
            )  # fmt: skip
            rows[f"  {tag}: ascent steps/s"] = (round(got["steps_per_s"], 1), "1/s", "")
            rows[f"  {tag}: GUI thread share of one core"] = (round(got["gui_share"], 1), "%", "< 30")
            rows[f"  {tag}: GUI process share (with decoding)"] = (round(got["process_share"], 1), "%", "")
        for name, shape, k in (("RGB 224x224, 1 image", (224, 224, 3), 1),
                               ("RGB 224x224, 3 images", (224, 224, 3), 3),
                               ("grey 28x28, 1 image", (28, 28, 1), 1)):  # fmt: skip
            p50, p95 = frame_cost(app, panel, shape, k)
            rows[f"OIP live view, one frame drawn and painted, {name}: median"] = (
                round(p50, 2),
                "ms",
                "< 33",
            )
            rows[f"  {name}: 95th percentile"] = (round(p95, 2), "ms", "< 33")
    finally:
        panel.close()
        bridge.shutdown()
        app.processEvents()
    rows[f"  (load average at start {load:.1f}; {STEPS} steps per run, diversity 3: a third)"] = (0.0, "", "")
    return rows


def frame_cost(app, panel, shape: tuple, k: int, n: int = 200) -> tuple[float, float]:
    """Median and 95th percentile (ms) of handing the panel one live frame and painting the window."""
    import numpy as np

    from cnnviz_gui.core.oip.types import OipFrame, OipRequest

    rng = np.random.default_rng(0)
    images = rng.random((8, k, *shape), dtype=np.float32)
    grey = shape[-1] == 1
    panel.request = OipRequest("bench", list(range(128)))
    curve = np.cumsum(rng.random(600, dtype=np.float32))
    times = []
    for j in range(n):
        im = images[j % 8]
        first = im[0, ..., 0] if grey else im[0]
        frame = OipFrame(
            j, 600, "ascent", 3, first, curve[: j + 1], 1e-3, rng.random(128, dtype=np.float32),
            initial=first, snapshots=np.stack([first] * min(1 + j // 50, 8)),
            snapshot_steps=tuple(range(min(1 + j // 50, 8))), images=im,
        )  # fmt: skip
        t0 = time.perf_counter()
        panel._on_progress((j + 1) / 600, f"ascent step {j + 1}/600", frame)
        app.processEvents()  # the repaint (offscreen, as on screen)
        times.append(time.perf_counter() - t0)
    panel.request = None
    return float(np.percentile(times[10:], 50) * 1000), float(np.percentile(times[10:], 95) * 1000)


if __name__ == "__main__":
    for row, (value, unit, target) in measure().items():
        print(f"{row:70s} {value:>10} {unit:4s} {target}")
