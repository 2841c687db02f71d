"""The real window under a GUI watchdog: opening a model, switching layers, training an epoch, drawing,
showing the Latent and OIP tabs (their first paint, as its own step), encoding 10,000 digits, a whole-layer
OIP atlas, stopping. Run in a fresh process by ``test_responsiveness.py``.

Requirement (issue 5): no GUI stall over 100 ms while work runs on the compute thread, and Stop ends a job
within 250 ms. TensorFlow's first import is done before the watchdog starts (see ``live_window``); its cost
at start-up is measured in ``tests/benchmarks/bench_startup.py``. Stalls during which other programs kept
this process off the CPU are reported but not counted (see :mod:`cnnviz_gui.ui.watchdog`).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from long_session import add_activation_view

from cnnviz_gui.core.datasets import Dataset, load_bundled_mnist
from cnnviz_gui.core.training.cnn import train_cnn

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


def small_digits(n: int = 1200) -> Dataset:
    ds = load_bundled_mnist()
    return Dataset(ds.name, ds.x[:n], ds.y[:n], ds.class_names)


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


def _train_job(out, epochs, progress_seen):
    def job(progress, cancelled):  # the data is loaded on the compute thread, as the app would
        def report(fraction, text=""):
            progress(fraction, text)

        return train_cnn(
            out,
            epochs=epochs,
            dataset=small_digits(),
            n_train=1000,
            batch_size=50,
            progress=report,
            cancelled=cancelled,
        )

    return job


def test_training_an_epoch_keeps_the_gui_responsive(live_window, gui_watchdog, qtbot, tmp_path):
    w = live_window

    def scenario():
        results, progress = [], []
        gui_watchdog.label = "training one epoch"
        w.bridge.submit(
            _train_job(tmp_path / "cnn.keras", 1, progress),
            label="Training",
            on_result=results.append,
            on_progress=lambda f, text, payload: progress.append(f),
        )
        qtbot.waitUntil(lambda: bool(results), timeout=120_000)
        assert w.messages == []
        res = results[0]
        assert res.path == tmp_path / "cnn.keras" and res.path.stat().st_size > 100_000
        assert len(res.history["loss"]) == 1 and res.test_accuracy > 0.3  # one epoch on 1,000 digits learns
        assert progress and progress == sorted(progress) and progress[-1] == pytest.approx(1.0)

    assert_responsive(gui_watchdog, scenario, "training one epoch")


def test_stop_ends_training_within_250_ms(live_window, gui_watchdog, qtbot, tmp_path):
    w = live_window
    out = tmp_path / "cnn.keras"
    out.write_bytes(b"the last good file")
    progress, cancelled_at, results = [], [], []
    job = w.bridge.submit(
        _train_job(out, 50, progress),
        label="Training",
        on_result=results.append,
        on_progress=lambda f, text, payload: progress.append(f),
        on_cancelled=lambda: cancelled_at.append(time.perf_counter()),
    )
    qtbot.waitUntil(lambda: len(progress) >= 3, timeout=60_000)
    stop = time.perf_counter()
    job.cancel()  # what a Stop button does
    qtbot.waitUntil(lambda: bool(cancelled_at), timeout=10_000)
    latency_ms = (cancelled_at[0] - stop) * 1000
    assert results == [] and w.messages == []
    assert out.read_bytes() == b"the last good file", (
        "a cancelled training must not replace the last good file"
    )
    print(f"Stop during training took {latency_ms:.0f} ms")
    assert latency_ms < MAX_STOP_MS, f"Stop took {latency_ms:.0f} ms"
    qtbot.waitUntil(lambda: not w.bridge.compute.busy, timeout=5_000)
    assert np.all(np.diff(progress) >= 0)
    assert gui_watchdog.max_stall_ms < MAX_STALL_MS, gui_watchdog.report()


def test_drawing_continuously_on_the_canvas_never_stalls(
    live_window, gui_watchdog, qtbot, default_model_path
):
    """Strokes drawn at mouse speed; every segment submits a forward pass that supersedes the last."""
    from PySide6.QtCore import QPoint, Qt

    w = live_window
    if not hasattr(w, "input_panel"):
        pytest.skip("the Input pane is not part of this build")
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
        qtbot.waitUntil(lambda: not w.bridge.compute.busy, timeout=10_000)
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


def _latent_panel(window, watchdog, qtbot):
    panel = getattr(window, "latent_panel", None)
    if panel is None:
        pytest.skip("the Latent tab is not part of this build")
    show_tab(window, panel, watchdog, qtbot, "Latent")
    return panel


def test_encoding_ten_thousand_digits_never_stalls_and_stops_fast(live_window, gui_watchdog, qtbot):
    from cnnviz_gui.core.latent.space import bundled_autoencoder_path

    w = live_window
    panel = _latent_panel(w, gui_watchdog, qtbot)

    def scenario():
        gui_watchdog.label = "opening the VAE and encoding 10,000 digits"
        previous = w.state.loaded
        w.open_model_file(str(bundled_autoencoder_path("vae")))
        qtbot.waitUntil(lambda: w.state.loaded is not previous, timeout=120_000)
        qtbot.waitUntil(lambda: panel.z is not None and panel.shown is not None, timeout=120_000)
        qtbot.waitUntil(lambda: not w.bridge.compute.busy, timeout=30_000)
        assert panel.z.shape == (10_000, 2) and w.messages == []

    assert_responsive(gui_watchdog, scenario, "encoding 10,000")

    # Stop during a second encoding
    panel.encode()
    qtbot.waitUntil(lambda: 0 < panel.progress.value() < 100 or not w.bridge.compute.busy, timeout=30_000)
    if not w.bridge.compute.busy:
        pytest.skip("encoding finished before it could be stopped")
    stop = time.perf_counter()
    w.bridge.compute.cancel_all()  # what a Stop button does
    qtbot.waitUntil(lambda: not w.bridge.compute.busy, timeout=10_000)
    latency_ms = (time.perf_counter() - stop) * 1000
    print(f"Stop during encoding took {latency_ms:.0f} ms")
    assert latency_ms < MAX_STOP_MS, f"Stop took {latency_ms:.0f} ms"


def _oip_panel(window, watchdog, qtbot):
    panel = next(
        (
            window.tabs.widget(i)
            for i in range(window.tabs.count())
            if type(window.tabs.widget(i)).__name__ == "OipPanel"
        ),
        None,
    )
    if panel is None:
        pytest.skip("the OIP tab is not part of this build")
    show_tab(window, panel, watchdog, qtbot, "OIP")
    return panel


def test_whole_layer_oip_atlas_never_stalls_and_stops_fast(
    live_window, gui_watchdog, qtbot, default_model_path
):
    w = live_window
    w.open_model_file(str(default_model_path))
    qtbot.waitUntil(lambda: w.state.loaded is not None and w.state.input_image is not None, timeout=60_000)
    panel = _oip_panel(w, gui_watchdog, qtbot)
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
