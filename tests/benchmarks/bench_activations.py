"""Live activation maps: time from a stroke on the canvas to the updated screen (``make bench``).

The whole app window is built (offscreen) with the real compute thread and the default CNN. Each sample is
one synthetic mouse-move on the drawing canvas. The clock stops when the forward pass has come back, the
Activations tab has been updated and every affected widget (canvas, 28x28 preview, map grid, probability
bars, large map) has been painted:

- ``repaint()`` (the budget measure): after the update, ``repaint()`` of the five widgets forces a full
  synchronous repaint (whole widgets, not only their dirty regions).
- ``qt paint`` (for information): as the app runs, Qt paints the dirty regions itself; the time is taken when
  all five widgets have received their paint events. Qt may deliver widget updates on its frame clock
  (``requestUpdate``, ~16 ms on platforms without vsync), so this can include waiting for a frame tick.

Budget: 16 ms at p95 (one 60 Hz frame) on the 2-core CI CPU. Printed: p50/p95 of the total, a breakdown
(convert, forward, render, paint), the process CPU time per stroke (all threads; what the work costs,
independent of other processes competing for the CPU), the load average, and a burst in which strokes
arrive faster than they can be processed (superseded forward passes are dropped).
"""

from __future__ import annotations

import os
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

N_STROKES = int(os.environ.get("CNNVIZ_BENCH_STROKES", "300"))
WARM_UP = 20
BUDGET_MS = 16.0


def _stats(values) -> str:
    a = np.asarray(values, dtype=np.float64)
    return f"p50 {np.percentile(a, 50):6.2f}  p95 {np.percentile(a, 95):6.2f}  max {a.max():7.2f} ms"


def _stroke_points(size: int, n: int) -> list[tuple[int, int]]:
    """A looping figure-eight path over the canvas, as a hand would draw."""
    t = np.linspace(0, 2 * np.pi * max(1, n // 120), n)
    x = size / 2 + size * 0.3 * np.sin(t)
    y = size / 2 + size * 0.35 * np.sin(t) * np.cos(t)
    return [(int(a), int(b)) for a, b in zip(x, y, strict=True)]


def test_stroke_to_screen_latency(qtbot):
    from PySide6.QtCore import QEvent, QEventLoop, QObject, QPoint, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from cnnviz_gui.core.resources import default_model_path
    from cnnviz_gui.core.runtime.jobs import ComputeThread
    from cnnviz_gui.ui.app import configure_pyqtgraph
    from cnnviz_gui.ui.bridge import ComputeBridge
    from cnnviz_gui.ui.main_window import MainWindow
    from cnnviz_gui.ui.state import AppState

    configure_pyqtgraph()
    compute = ComputeThread()
    w = MainWindow(AppState(), ComputeBridge(compute))
    w.show_message_box = lambda *args: None
    qtbot.addWidget(w)
    w.resize(1280, 820)
    w.show()
    w.open_model_file(str(default_model_path()))
    qtbot.waitUntil(lambda: w.state.loaded is not None, timeout=120_000)
    w._set_default_input()
    view = w.activation_view
    qtbot.waitUntil(lambda: view.acts is not None, timeout=60_000)
    w.tabs.setCurrentWidget(view)
    panel = w.input_panel
    panel.tabs.setCurrentWidget(panel.draw)
    w.state.select_layer("Conv2D_1")
    w.state.select_maps("Conv2D_1", [3])  # the large map is live too
    qtbot.wait(300)
    canvas = panel.draw.canvas
    app = QApplication.instance()
    widgets = [
        canvas,
        panel.draw.preview,
        view.grid.glw.viewport(),
        view.probs.viewport(),
        view.large.viewport(),
    ]

    class PaintClock(QObject):
        """Records when each widget last received a paint event."""

        def __init__(self):
            super().__init__()
            self.last: dict = {}

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                self.last[obj] = time.perf_counter()
            return False

        def painted_since(self, items, t: float) -> bool:
            return all(self.last.get(obj, 0.0) >= t for obj in items)

    clock = PaintClock()
    for widget in widgets:
        widget.installEventFilter(clock)

    def move(pos) -> None:
        local = QPointF(*pos)
        ev = QMouseEvent(
            QMouseEvent.Type.MouseMove,
            local,
            canvas.mapToGlobal(local),
            Qt.MouseButton.NoButton,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        app.sendEvent(canvas, ev)

    loop = QEventLoop()
    view.rendered.connect(loop.quit)
    points = _stroke_points(canvas.width(), N_STROKES + WARM_UP + 1)

    def run(mode: str) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {
            k: [] for k in ("total", "convert", "forward", "render", "paint", "cpu")
        }
        qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(*points[0]))
        app.processEvents()
        for k, p in enumerate(points[1:]):
            count = view.render_count
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            move(p)
            t_conv = panel.draw.last_convert_ms
            if view.render_count == count:  # sleep in an event loop, as the app does, until it is shown
                loop.exec()
            t_rendered = time.perf_counter()
            if mode == "repaint":
                for widget in widgets:
                    widget.repaint()
            else:  # the input widgets painted after the stroke, the result widgets after the update
                deadline = t_rendered + 1.0
                while time.perf_counter() < deadline and not (
                    clock.painted_since(widgets[:2], t0) and clock.painted_since(widgets[2:], t_rendered)
                ):
                    app.processEvents()
            t1 = time.perf_counter()
            cpu1 = time.process_time()
            if mode == "repaint":
                app.processEvents()  # Qt's own (duplicate) paint, outside the measured path
            if k >= WARM_UP:
                out["total"].append((t1 - t0) * 1000)
                out["convert"].append(t_conv)
                out["forward"].append(view.last_forward_ms)
                out["render"].append(view.last_render_ms)
                out["paint"].append((t1 - t_rendered) * 1000)
                out["cpu"].append((cpu1 - cpu0) * 1000)
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(*points[-1]))
        return out

    load_before = os.getloadavg()[0]
    results = {"repaint()": run("repaint"), "qt paint": run("qt")}
    load_after = os.getloadavg()[0]

    # burst: 60 moves 2 ms apart (faster than a forward pass); superseded passes are dropped
    renders_before = view.render_count
    t0 = time.perf_counter()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(*points[0]))
    for p in points[1:61]:
        move(p)
        app.processEvents()
        time.sleep(0.002)
    last_input = w.state.input_image.copy()
    qtbot.waitUntil(lambda: not compute.busy, timeout=10_000)
    app.processEvents()
    burst_s = time.perf_counter() - t0
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(*points[60]))
    burst_renders = view.render_count - renders_before

    print()
    print(
        f"stroke -> updated screen, default CNN, layer Conv2D_1 (32 maps 26x26) + map 3 large, "
        f"{N_STROKES} strokes, {os.cpu_count()} CPUs, load average {load_before:.1f} .. {load_after:.1f}"
    )
    for mode, r in results.items():
        p95 = float(np.percentile(r["total"], 95))
        if mode == "repaint()":
            note = f"(budget {BUDGET_MS:.0f} ms at p95: {'met' if p95 <= BUDGET_MS else 'MISSED'})"
        else:
            note = "(Qt's own paint; may wait for its frame clock)"
        print(f"[{mode}]")
        print(f"  total    {_stats(r['total'])}   {note}")
        print(f"  convert  {_stats(r['convert'])}   canvas -> 28x28 MNIST-style digit")
        print(f"  forward  {_stats(r['forward'])}   compiled probe, all layers, compute thread")
        print(f"  render   {_stats(r['render'])}   Activations tab items updated")
        print(f"  paint    {_stats(r['paint'])}   until the five widgets are painted")
        print(f"  cpu      {_stats(r['cpu'])}   process CPU time per stroke, all threads")
    print(
        f"burst: 60 moves 2 ms apart -> {burst_renders} screen updates in {burst_s * 1000:.0f} ms "
        "(superseded forward passes dropped)"
    )
    np.testing.assert_allclose(w.state.input_image, last_input)  # the last stroke is what is shown
    w.close()
    assert not compute.alive
