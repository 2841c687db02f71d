"""How jobs end, as the person sees it: a failure is shown with details and logged; Stop ends a job (killing
the compute process when a native call does not yield); a crash of the compute process leaves the window
alive and brings the model back; closing mid-job exits cleanly."""

from __future__ import annotations

import logging
import os
import signal
import time

import pytest
from compute_test_ops import MODULE as TEST_OPS
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from cnnviz_gui.core.runtime import logs
from cnnviz_gui.ui import dialogs


@pytest.fixture
def log_file():
    """The app's log file in the (temporary) user log folder; the handler is removed afterwards."""
    path = logs.setup_logging()
    yield path
    root = logging.getLogger("cnnviz_gui")
    for h in list(root.handlers):
        if getattr(h, "baseFilename", "") == str(path):
            h.flush()
            root.removeHandler(h)
            h.close()


def _log_text(path) -> str:
    for h in logging.getLogger("cnnviz_gui").handlers:
        h.flush()
    return path.read_text()


@pytest.fixture
def process_window(qtbot, log_file):
    """The real window on a real compute process that also offers the tests' operations."""
    from cnnviz_gui.ui.app import configure_pyqtgraph, create_bridge
    from cnnviz_gui.ui.main_window import MainWindow
    from cnnviz_gui.ui.state import AppState

    configure_pyqtgraph()
    w = MainWindow(AppState(), create_bridge(str(log_file), spare=False, extra_ops=(TEST_OPS,)))
    w.messages = []
    w.show_message_box = lambda parent, title, text, details="": w.messages.append((title, text, details))
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


def test_a_failing_job_is_shown_with_details_and_logged(process_window, qtbot, log_file):
    w = process_window
    w.bridge.request("test.fail", {"message": "the weights do not fit this layer"}, label="Computing maps")
    qtbot.waitUntil(lambda: bool(w.messages), timeout=30_000)
    title, text, details = w.messages[-1]
    assert title == "Computing maps failed"
    assert text == "ValueError: the weights do not fit this layer"
    assert details.startswith("Traceback") and "in fail" in details
    assert w.statusBar().currentMessage().startswith("ValueError")
    qtbot.waitUntil(lambda: "Traceback" in _log_text(log_file), timeout=5_000)  # the compute process logs too
    logged = _log_text(log_file)
    assert "job test.fail (Computing maps) failed" in logged
    assert "ValueError: the weights do not fit this layer" in logged

    # the app stays usable: the next job runs and delivers its result
    results = []
    w.bridge.request("test.value", {"value": 42}, label="Next", on_result=results.append)
    qtbot.waitUntil(lambda: results == [42], timeout=10_000)
    qtbot.waitUntil(lambda: w.job_label.text().startswith("Ready"), timeout=10_000)
    assert len(w.messages) == 1


def test_message_box_has_a_details_expander(qtbot):
    """The real box: text for a person, the traceback behind "Show Details…"."""
    seen = {}

    def inspect_and_close():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, inspect_and_close)
            return
        seen.update(title=box.windowTitle(), text=box.text(), details=box.detailedText())
        box.accept()

    QTimer.singleShot(0, inspect_and_close)
    dialogs.show_message(None, "Training failed", "MemoryError: out of memory", "Traceback (most recent ...)")
    assert seen == {
        "title": "Training failed",
        "text": "MemoryError: out of memory",
        "details": "Traceback (most recent ...)",
    }


def test_closing_the_window_during_training_exits_cleanly(process_window, qtbot, tmp_path, log_file):
    w = process_window
    progress = []
    out = tmp_path / "never.keras"
    w.bridge.request("test.train", {"out": str(out)}, label="Training",
                     on_progress=lambda f, text, payload: progress.append(f))  # fmt: skip
    qtbot.waitUntil(lambda: len(progress) >= 2, timeout=120_000)
    process = w.bridge.backend.process
    start = time.perf_counter()
    assert w.close()
    closed_in = time.perf_counter() - start
    assert not process.is_alive(), "the compute process must end when the window closes"
    assert closed_in < 3.0, f"closing took {closed_in:.1f} s"
    assert w.messages == []
    assert not out.exists()
    assert not list(tmp_path.glob(".tmp-*")), "no temporary file left behind"
    qtbot.wait(50)  # events queued before the end arrive after close and must not fail
    assert "Traceback" not in _log_text(log_file)


def test_the_stop_button_and_esc_end_any_running_job(process_window, qtbot):
    from cnnviz_gui.ui.help_dialogs import menu_actions

    w = process_window
    assert ("Model > Stop the running job", w.stop_action) in menu_actions(w.menuBar())
    assert w.stop_action.shortcut().toString() == "Esc"
    for press in ("button", "esc"):
        started, outcome = [], []
        w.bridge.request("test.sleep", {"seconds": 30, "progress": True}, kind="latent-project",
                         label="Projecting (umap)", on_progress=lambda *a, s=started: s.append(1),
                         on_result=outcome.append, on_stopped=lambda partial, o=outcome: o.append("stopped"))  # fmt: skip
        qtbot.waitUntil(lambda s=started: bool(s), timeout=60_000)
        qtbot.waitUntil(lambda: w.stop_button.isVisible(), timeout=2000)  # shown while a job runs
        assert "Projecting (umap)" in w.job_label.text()
        t0 = time.perf_counter()
        if press == "button":
            qtbot.mouseClick(w.stop_button, Qt.MouseButton.LeftButton)
        else:
            w.activateWindow()
            qtbot.keyClick(w, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda o=outcome: o == ["stopped"], timeout=2000)
        assert (time.perf_counter() - t0) * 1000 < 250, "a cooperative job ends within 250 ms of Stop"
        qtbot.waitUntil(lambda: not w.stop_button.isVisible(), timeout=2000)
    assert w.bridge.restart_count == 0  # cooperative: the process was not killed


def test_a_job_that_ignores_stop_gets_the_process_restarted_and_the_model_back(
    process_window, qtbot, default_model_path, log_file
):
    w = process_window
    w.start(str(default_model_path))
    qtbot.waitUntil(lambda: w.activation_view.acts is not None, timeout=120_000)
    pid = w.bridge.pid
    outcome = []
    w.bridge.request("test.sleep", {"seconds": 60, "cooperative": False}, kind="busy", label="A native call",
                     on_result=outcome.append, on_stopped=lambda partial: outcome.append("stopped"))  # fmt: skip
    qtbot.waitUntil(lambda: w.bridge.running_label() == "A native call", timeout=10_000)
    w.stop_jobs()
    qtbot.waitUntil(lambda: outcome == ["stopped"], timeout=5_000)
    assert "did not stop within 0.25 s" in w.statusBar().currentMessage()
    assert "the compute process was restarted" in w.statusBar().currentMessage()
    w.activation_view.acts = None
    qtbot.waitUntil(lambda: w.activation_view.acts is not None, timeout=120_000)  # the maps are back
    assert w.bridge.pid != pid and w.state.info.name == "mnist_cnn"
    assert w.messages == []


def test_killing_the_compute_process_leaves_the_window_and_the_work(
    process_window, qtbot, default_model_path
):
    w = process_window
    w.start(str(default_model_path))
    qtbot.waitUntil(lambda: w.activation_view.acts is not None, timeout=120_000)
    w.state.select_maps("Conv2D_2", [5])
    image, layer = w.state.input_image.copy(), w.state.layer
    w.bridge.request("test.sleep", {"seconds": 60, "cooperative": True}, kind="busy", label="Long job")
    qtbot.waitUntil(lambda: w.bridge.running_label() == "Long job", timeout=10_000)
    os.kill(w.bridge.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: "ended unexpectedly" in w.statusBar().currentMessage(), timeout=10_000)
    w.activation_view.acts = None
    qtbot.waitUntil(lambda: w.activation_view.acts is not None, timeout=120_000)
    assert w.isVisible() and w.state.layer == layer and w.state.maps == [5]
    assert (w.state.input_image == image).all()
    assert w.activation_view.current_output()[0] == "Conv2D_2"
    assert w.bridge.restart_count == 1 and w.messages == []


def test_new_thread_preferences_restart_the_compute_process_with_them(
    process_window, qtbot, default_model_path
):
    from cnnviz_gui.ui.settings import Preferences

    w = process_window
    w.start(str(default_model_path))
    qtbot.waitUntil(lambda: w.activation_view.acts is not None and w.device != "", timeout=120_000)
    pid = w.bridge.pid
    w.set_preferences(Preferences(threads=1), needs_restart=True)
    qtbot.waitUntil(lambda: w.bridge.restart_count == 1, timeout=30_000)  # once the running job has ended
    versions = []
    w.bridge.request("runtime.versions", on_result=versions.append)
    qtbot.waitUntil(lambda: bool(versions), timeout=120_000)
    assert versions[0]["Threads"] == "1" and w.bridge.pid != pid
    w.activation_view.acts = None
    qtbot.waitUntil(lambda: w.activation_view.acts is not None, timeout=60_000)  # the model is open again
    assert w.messages == [] and w.state.info.name == "mnist_cnn"


def test_progress_arrives_while_a_job_runs_and_the_bridge_sleeps_when_idle(qtbot):
    from cnnviz_gui.core.runtime.local import LocalCompute
    from cnnviz_gui.ui.bridge import ComputeBridge

    bridge = ComputeBridge(LocalCompute(extra_ops=(TEST_OPS,)))
    try:
        seen, results = [], []
        bridge.request(
            "test.sleep", {"seconds": 1.0, "progress": True},
            label="",  # a job without a label
            on_progress=lambda f, text, payload: seen.append((payload["step"], time.monotonic())),
            on_result=lambda r: results.append(time.monotonic()),
        )  # fmt: skip
        qtbot.waitUntil(lambda: bool(results), timeout=10_000)
        assert len(seen) >= 10, "progress is drawn while the job runs"
        assert len(seen) <= 45, "at most ~30 progress deliveries a second"
        assert seen[0][1] < results[0] - 0.5
        qtbot.waitUntil(lambda: not bridge._timer.isActive(), timeout=2_000)  # idle: no 30 Hz wake-ups
    finally:
        bridge.shutdown()


def test_a_spare_compute_process_takes_over_after_a_crash(qtbot, default_model_path, log_file):
    from cnnviz_gui.ui.app import configure_pyqtgraph, create_bridge
    from cnnviz_gui.ui.main_window import MainWindow
    from cnnviz_gui.ui.state import AppState

    configure_pyqtgraph()
    bridge = create_bridge(str(log_file), spare=True)
    bridge.spare_delay_s = 0.5  # the app waits 20 s of idleness first
    w = MainWindow(AppState(), bridge)
    w.messages = []
    w.show_message_box = lambda parent, title, text, details="": w.messages.append((title, text, details))
    qtbot.addWidget(w)
    w.show()
    try:
        w.start(str(default_model_path))
        qtbot.waitUntil(lambda: w.activation_view.acts is not None, timeout=120_000)
        qtbot.waitUntil(lambda: bridge.spare_pid is not None, timeout=120_000)  # TensorFlow loaded there too
        spare, first = bridge.spare_pid, bridge.pid
        assert spare != first
        os.kill(first, signal.SIGKILL)
        qtbot.waitUntil(lambda: bridge.pid == spare, timeout=10_000)
        w.activation_view.acts = None
        qtbot.waitUntil(lambda: w.activation_view.acts is not None, timeout=60_000)
        assert w.state.info.name == "mnist_cnn" and w.messages == []
        assert (
            "reopening mnist_cnn" in w.statusBar().currentMessage()
            or "open again" in w.statusBar().currentMessage()
        )
    finally:
        w.close()
