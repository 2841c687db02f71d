"""The start-up marks the benchmarks read (``CNNVIZ_TIMING=1``, ``tests/benchmarks/bench_startup.py``): the
model is ready, then its first maps are on screen, then (with ``CNNVIZ_EXIT_WHEN_READY=1``) the window closes
and prints the memory of both processes while they still run."""

from __future__ import annotations


def _parse(err: str) -> tuple[dict[str, float], list[list[float]]]:
    marks = {}
    rss = []
    for line in err.splitlines():
        parts = line.split()
        if line.startswith("cnnviz-timing ") and len(parts) == 3:
            marks[parts[1]] = float(parts[2])
        elif line.startswith("cnnviz-rss "):
            rss.append([float(p) for p in parts[1:]])
    return marks, rss


def test_first_maps_mark_then_exit_with_both_processes_memory(
    live_window, qtbot, capfd, monkeypatch, default_model_path
):
    from cnnviz_gui.core.runtime.diagnostics import rss_mb
    from cnnviz_gui.ui.app import _watch_startup

    monkeypatch.setenv("CNNVIZ_TIMING", "1")
    monkeypatch.setenv("CNNVIZ_EXIT_WHEN_READY", "1")
    w = live_window
    _watch_startup(w)
    w.start(str(default_model_path))
    qtbot.waitUntil(lambda: w.activation_view.acts is not None, timeout=120_000)
    assert w.isVisible()  # the maps are shown; the window closes a moment later
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=10_000)
    marks, rss = _parse(capfd.readouterr().err)
    assert marks["model-ready"] <= marks["first-maps"], marks
    assert len(rss) == 1, rss  # printed once, at the close
    gui_mb, compute_mb = rss[0]
    assert abs(gui_mb - rss_mb()) < 0.25 * rss_mb(), rss  # this process (the test's own, TensorFlow and all)
    assert compute_mb > 200, rss  # the compute process holds TensorFlow and the model
