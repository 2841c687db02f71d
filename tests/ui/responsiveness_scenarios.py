"""The real window under a GUI watchdog: opening a model, switching layers, training an epoch, drawing,
showing the Latent and OIP tabs (their first paint, as its own step), encoding 10,000 digits, a whole-layer
OIP atlas, stopping. Run in a fresh process by ``test_responsiveness.py``.

Requirement: no GUI stall over 100 ms while work runs in the compute process, and Stop ends a job within
250 ms (without killing the process). TensorFlow's first import in the compute process is done before the
watchdog starts (see ``live_window``); start-up is measured in ``tests/benchmarks/bench_startup.py``. Stalls during which other programs kept
this process off the CPU are reported but not counted (see :mod:`cnnviz_gui.ui.watchdog`).
"""

from __future__ import annotations

import time

import numpy as np
from long_session import add_activation_view

MAX_STALL_MS = 100
MAX_STOP_MS = 250


def assert_responsive(watchdog, scenario, what: str) -> None:
    """Run ``scenario()`` under the watchdog; fail if its longest stall reaches 100 ms twice in a row.

    A shared 2-core machine adds noise the run-queue accounting cannot remove entirely (cache misses, memory
    bandwidth, hyper-threads), so one retry is allowed: a stall that the app causes every time still fails.
    """
    watchdog.reset()
    scenario()
    first = watchdog.report()
    print(f"{what}: {first}")
    if watchdog.max_stall_ms < MAX_STALL_MS:
        return
    watchdog.reset()
    scenario()
    print(f"{what} (again): {watchdog.report()}")
    assert watchdog.max_stall_ms < MAX_STALL_MS, (
        f"twice over {MAX_STALL_MS} ms: {first}\nthen: {watchdog.report()}"
    )


def test_opening_a_model_and_switching_layers_never_stalls(
    live_window, gui_watchdog, qtbot, default_model_path
):
    w = live_window
    view = add_activation_view(w)

    def scenario():
        gui_watchdog.label = "opening the default model"
        previous = w.state.loaded
        w.open_model_file(str(default_model_path))
        qtbot.waitUntil(
            lambda: w.state.loaded is not previous and w.state.input_image is not None, timeout=60_000
        )
        if view is not None:
            qtbot.waitUntil(lambda: view.acts is not None, timeout=30_000)
        qtbot.waitUntil(lambda: w.job_label.text().startswith("Ready"), timeout=10_000)
        gui_watchdog.label = "switching layers"
        names = [layer.name for layer in w.state.info.layers]
        for i in range(40):
            w.state.select_layer(names[i % len(names)])
            qtbot.wait(5)
        gui_watchdog.label = "opening it again"
        first = w.state.loaded
        w.open_model_file(str(default_model_path))
        qtbot.waitUntil(lambda: w.state.loaded is not first, timeout=60_000)
        qtbot.wait(100)
        assert w.messages == []
        assert gui_watchdog.beats > 20, "the heartbeat did not run"

    assert_responsive(gui_watchdog, scenario, "open + switch layers")


def _train_request(out, epochs: int) -> dict:
    """What the training dialog sends: the default CNN on 1,000 bundled digits."""
    from cnnviz_gui.core.training.jobs import TrainingRequest

    return {"request": TrainingRequest("cnn", "mnist-sample", str(out), epochs=epochs, max_samples=1000)}


def test_training_an_epoch_keeps_the_gui_responsive(live_window, gui_watchdog, qtbot, tmp_path):
    w = live_window

    def scenario():
        results, progress = [], []
        gui_watchdog.label = "training one epoch"
        w.bridge.request("training.run", _train_request(tmp_path / "cnn.keras", 1), label="Training",
                         on_result=results.append, on_progress=lambda f, text, payload: progress.append(f))  # fmt: skip
        qtbot.waitUntil(lambda: bool(results), timeout=120_000)
        assert w.messages == []
        res = results[0]
        assert res.path == str(tmp_path / "cnn.keras") and (tmp_path / "cnn.keras").stat().st_size > 100_000
        assert len(res.history["loss"]) == 1 and res.test_metrics["accuracy"] > 0.3  # one epoch learns
        assert progress and progress == sorted(progress)

    assert_responsive(gui_watchdog, scenario, "training one epoch")


def test_stop_ends_training_within_250_ms(live_window, gui_watchdog, qtbot, tmp_path):
    w = live_window
    out = tmp_path / "cnn.keras"
    out.write_bytes(b"the last good file")
    progress, stopped_at, results = [], [], []
    job = w.bridge.request(
        "training.run", _train_request(out, 50), label="Training", on_result=results.append,
        on_progress=lambda f, text, payload: progress.append(f),
        on_stopped=lambda partial: stopped_at.append(time.perf_counter()),
    )  # fmt: skip
    qtbot.waitUntil(lambda: len(progress) >= 3, timeout=60_000)
    stop = time.perf_counter()
    w.bridge.stop(job)  # what the dialog's Stop button does
    qtbot.waitUntil(lambda: bool(stopped_at), timeout=10_000)
    latency_ms = (stopped_at[0] - stop) * 1000
    assert results == [] and w.messages == []
    assert out.read_bytes() == b"the last good file", (
        "a cancelled training must not replace the last good file"
    )
    print(f"Stop during training took {latency_ms:.0f} ms")
    assert latency_ms < MAX_STOP_MS, f"Stop took {latency_ms:.0f} ms"
    assert w.bridge.restart_count == 0, "training stops by itself: the compute process is not killed"
    qtbot.waitUntil(lambda: not w.bridge.busy, timeout=5_000)
    assert np.all(np.diff(progress) >= 0)
    assert gui_watchdog.max_stall_ms < MAX_STALL_MS, gui_watchdog.report()


def test_drawing_continuously_on_the_canvas_never_stalls(
    live_window, gui_watchdog, qtbot, default_model_path
):
    """Strokes drawn at mouse speed; every segment asks for a forward pass that supersedes the last."""
    from PySide6.QtCore import QPoint, Qt

    w = live_window
    view = add_activation_view(w)
    w.open_model_file(str(default_model_path))
    qtbot.waitUntil(lambda: w.state.loaded is not None and view.acts is not None, timeout=60_000)
    panel = w.input_panel
    panel.tabs.setCurrentWidget(panel.draw)
    canvas = panel.draw.canvas
    size = canvas.width()

    def scenario():
        canvas.clear()
        before = canvas.strokes
        gui_watchdog.label = "drawing"
        for stroke in range(6):
            x = size // 8 + stroke * size // 8
            qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(x, size // 8))
            for step in range(25):  # ~60 Hz mouse events
                qtbot.mouseMove(canvas, QPoint(x + step % 3, size // 8 + step * size // 32))
                qtbot.wait(16)
            qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(x, size * 7 // 8))
        qtbot.waitUntil(lambda: not w.bridge.busy, timeout=10_000)
        qtbot.wait(50)
        assert canvas.strokes - before == 6 and w.state.input_label == "a drawing"
        assert view.acts is not None and w.messages == []

    assert_responsive(gui_watchdog, scenario, "drawing")


def show_tab(window, panel, watchdog, qtbot, what: str) -> None:
    """Make ``panel`` the current tab and let it paint, measured as its own step (a person clicks the tab
    first, then starts the work), so its first paint is not counted inside the next scenario."""

    def scenario():
        watchdog.label = f"tab {what} shown"
        window.tabs.setCurrentWidget(panel)
        qtbot.wait(800)

    assert_responsive(watchdog, scenario, f"tab {what} shown (first paint)")


def test_encoding_ten_thousand_digits_never_stalls_and_stops_fast(live_window, gui_watchdog, qtbot):
    from cnnviz_gui.core.latent.space import bundled_autoencoder_path

    w = live_window
    panel = w.latent_panel
    show_tab(w, panel, gui_watchdog, qtbot, "Latent")

    def scenario():
        gui_watchdog.label = "opening the VAE and encoding 10,000 digits"
        previous = w.state.loaded
        w.open_model_file(str(bundled_autoencoder_path("vae")))
        qtbot.waitUntil(lambda: w.state.loaded is not previous, timeout=120_000)
        qtbot.waitUntil(lambda: panel.z is not None and panel.shown is not None, timeout=120_000)
        qtbot.waitUntil(lambda: not w.bridge.busy, timeout=30_000)
        assert panel.z.shape == (10_000, 2) and w.messages == []

    assert_responsive(gui_watchdog, scenario, "encoding 10,000")

    # Stop during a second encoding: as soon as its first progress is drawn, however fast the machine
    panel.progress.setValue(0)
    panel.encode()
    qtbot.waitUntil(lambda: panel.progress.value() > 0, timeout=30_000)
    assert w.bridge.busy, "the encoding reports progress while it runs"
    stop = time.perf_counter()
    w.stop_jobs()  # the status bar's Stop, or Esc
    qtbot.waitUntil(lambda: not w.bridge.busy, timeout=10_000)
    latency_ms = (time.perf_counter() - stop) * 1000
    print(f"Stop during encoding took {latency_ms:.0f} ms")
    assert latency_ms < MAX_STOP_MS, f"Stop took {latency_ms:.0f} ms"
    assert not panel.progress.isVisible() and w.bridge.restart_count == 0


def test_whole_layer_oip_atlas_never_stalls_and_stops_fast(
    live_window, gui_watchdog, qtbot, default_model_path
):
    w = live_window
    w.open_model_file(str(default_model_path))
    qtbot.waitUntil(lambda: w.state.loaded is not None and w.state.input_image is not None, timeout=60_000)
    panel = w.oip_panel
    show_tab(w, panel, gui_watchdog, qtbot, "OIP")
    assert panel.form.select_layer("Conv2D_1")

    def scenario():
        gui_watchdog.label = "OIP atlas of Conv2D_1 (all 32 maps)"
        panel.form.maps_edit.setText("all")
        panel.form.steps.setValue(40)
        panel.start()
        qtbot.waitUntil(lambda: not panel.running, timeout=120_000)
        assert panel.result is not None and len(panel.result.maps) == 32 and w.messages == []
        assert panel.atlas.image.image is not None and panel.frames_drawn > 0

    assert_responsive(gui_watchdog, scenario, "OIP atlas")

    panel.form.steps.setValue(100_000)
    panel.start()
    qtbot.waitUntil(lambda: panel.frames_drawn >= 3, timeout=60_000)
    stop = time.perf_counter()
    panel.stop()  # the Stop button
    qtbot.waitUntil(lambda: not panel.running, timeout=10_000)
    latency_ms = (time.perf_counter() - stop) * 1000
    print(f"Stop during OIP took {latency_ms:.0f} ms")
    assert panel.result is not None and panel.result.stopped
    assert latency_ms < MAX_STOP_MS, f"Stop took {latency_ms:.0f} ms"
    assert w.bridge.restart_count == 0
