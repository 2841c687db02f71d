"""A failing job reaches the person (message + details) and the log file; closing mid-job exits cleanly."""

from __future__ import annotations

import logging
import time

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from cnnviz_gui.core.datasets import load_bundled_mnist
from cnnviz_gui.core.runtime import logs
from cnnviz_gui.core.training.cnn import train_cnn
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


def test_a_failing_job_is_shown_with_details_and_logged(live_window, qtbot, log_file):
    w = live_window

    def broken(progress, cancelled):
        raise ValueError("the weights do not fit this layer")

    w.bridge.submit(broken, label="Computing maps")
    qtbot.waitUntil(lambda: bool(w.messages), timeout=10_000)
    title, text, details = w.messages[-1]
    assert title == "Computing maps failed"
    assert text == "ValueError: the weights do not fit this layer"
    assert details.startswith("Traceback") and "in broken" in details
    assert w.statusBar().currentMessage().startswith("ValueError")

    for h in logging.getLogger("cnnviz_gui").handlers:
        h.flush()
    logged = log_file.read_text()
    assert "job Computing maps failed" in logged and "Traceback" in logged
    assert "ValueError: the weights do not fit this layer" in logged

    # the app stays usable: the next job runs and delivers its result
    results = []
    w.bridge.submit(lambda progress, cancelled: 6 * 7, label="Next", on_result=results.append)
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


def test_closing_the_window_during_training_exits_cleanly(live_window, qtbot, tmp_path, log_file):
    w = live_window
    ds = load_bundled_mnist()
    progress = []

    def job(report, cancelled):
        return train_cnn(
            tmp_path / "never.keras",
            epochs=50,
            dataset=ds,
            n_train=2000,
            progress=report,
            cancelled=cancelled,
        )

    w.bridge.submit(job, label="Training", on_progress=lambda f, text, payload: progress.append(f))
    qtbot.waitUntil(lambda: len(progress) >= 2, timeout=60_000)
    compute = w.bridge.compute
    start = time.perf_counter()
    assert w.close()
    closed_in = time.perf_counter() - start
    assert not compute.alive, "the compute thread must stop when the window closes"
    assert closed_in < 2.0, f"closing took {closed_in:.1f} s"
    assert w.messages == []
    assert not (tmp_path / "never.keras").exists()
    assert not list(tmp_path.glob(".tmp-*")), "no temporary file left behind"
    qtbot.wait(50)  # callbacks queued by the stopped job arrive after close and must not fail
    for h in logging.getLogger("cnnviz_gui").handlers:
        h.flush()
    assert "Traceback" not in log_file.read_text()


def test_the_stop_button_and_esc_end_any_running_job(new_window, qtbot):
    import threading
    import time as _time

    from PySide6.QtCore import Qt

    from cnnviz_gui.core.runtime.jobs import ComputeThread, JobCancelled
    from cnnviz_gui.ui.help_dialogs import menu_actions

    compute = ComputeThread()
    w = new_window(compute=compute)
    try:
        assert ("Model > Stop the running job", w.stop_action) in menu_actions(w.menuBar())
        assert w.stop_action.shortcut().toString() == "Esc"
        for press in ("button", "esc"):
            started, outcome = threading.Event(), []

            def job(progress, cancelled, started=started):  # long (like UMAP on 10k points), checks Stop
                started.set()
                for _ in range(3000):
                    if cancelled():
                        raise JobCancelled()
                    _time.sleep(0.01)
                return "finished"

            w.bridge.submit(job, kind="latent-project", label="Projecting (umap)",
                            on_result=outcome.append, on_cancelled=lambda out=outcome: out.append("cancelled"))  # fmt: skip
            assert started.wait(10)
            qtbot.waitUntil(lambda: w.stop_button.isVisible(), timeout=2000)  # shown while a job runs
            assert "Projecting (umap)" in w.job_label.text()
            t0 = _time.perf_counter()
            if press == "button":
                qtbot.mouseClick(w.stop_button, Qt.MouseButton.LeftButton)
            else:
                w.activateWindow()
                qtbot.keyClick(w, Qt.Key.Key_Escape)
            qtbot.waitUntil(lambda: not compute.busy, timeout=2000)
            assert (_time.perf_counter() - t0) * 1000 < 250
            qtbot.waitUntil(lambda out=outcome: out == ["cancelled"], timeout=2000)
            qtbot.waitUntil(lambda: not w.stop_button.isVisible(), timeout=2000)
    finally:
        w.close()
    assert not compute.alive


def test_progress_arrives_while_a_job_runs_and_the_bridge_sleeps_when_idle(qtbot):
    from cnnviz_gui.core.runtime.jobs import ComputeThread
    from cnnviz_gui.ui.bridge import ComputeBridge

    bridge = ComputeBridge(ComputeThread())
    try:
        seen, results = [], []

        def slow(progress, cancelled):
            progress(0.1, "first")
            time.sleep(1.5)  # reports rarely: its progress must still be drawn before it ends
            progress(0.9, "second")
            time.sleep(1.0)
            return "done"

        bridge.submit(
            slow,
            label="",  # a job without a label (its start status is empty text)
            on_progress=lambda f, text, payload: seen.append((text, time.monotonic())),
            on_result=lambda r: results.append(time.monotonic()),
        )
        qtbot.waitUntil(lambda: bool(results), timeout=10_000)
        assert [t for t, _ in seen] == ["first", "second"]
        assert seen[1][1] < results[0] - 0.5  # shown while the job slept, not only when it ended
        qtbot.waitUntil(lambda: not bridge._timer.isActive(), timeout=2_000)  # idle: no 30 Hz wake-ups
    finally:
        bridge.shutdown()
