"""Live attribution: time from a stroke on the canvas to the Grad-CAM overlay on screen (``make bench``).

The whole window is built (offscreen) on the real compute process with the default CNN, the Attribution tab
shown. Each sample is one synthetic mouse move on the drawing canvas (a stroke segment): the canvas becomes
the 28x28 digit, the Activations tab's forward pass and the Attribution tab's Grad-CAM are asked for (the
compute process runs both, one after the other), the overlay, raw map and class list are updated, and the
clock stops after ``repaint()`` of the overlay, the raw map and the class list (a full synchronous paint).
The next move waits for that, so each sample is one stroke's whole path. Target: p95 <= 25 ms.
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

N_STROKES = int(os.environ.get("CNNVIZ_BENCH_STROKES", "200"))
WARM_UP = 20
TARGET_MS = 25.0


def _path(size: int, n: int) -> list[tuple[int, int]]:
    """A looping figure-eight over the canvas, as a hand would draw."""
    t = np.linspace(0, 2 * np.pi * max(1, n // 100), n)
    x = size / 2 + size * 0.3 * np.sin(t)
    y = size / 2 + size * 0.35 * np.sin(t) * np.cos(t)
    return [(int(a), int(b)) for a, b in zip(x, y, strict=True)]


def _isolate() -> None:
    """A fresh home: the benchmark never reads or writes the person's settings or last session."""
    home = tempfile.mkdtemp(prefix="cnnviz-bench-")
    for var, sub in (("HOME", ""), ("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                     ("XDG_STATE_HOME", "state")):  # fmt: skip
        os.environ[var] = os.path.join(home, sub)
    from PySide6.QtCore import QSettings

    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, os.path.join(home, "config"))


def _wait(app, until, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not until():
        if time.monotonic() > end:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.005)


def measure() -> dict[str, tuple[float, str, str]]:
    _isolate()
    from PySide6.QtCore import QEventLoop, QPoint, QPointF, Qt, QTimer
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from cnnviz_gui.core.resources import default_model_path
    from cnnviz_gui.ui.app import configure_pyqtgraph, create_bridge
    from cnnviz_gui.ui.main_window import MainWindow
    from cnnviz_gui.ui.state import AppState

    app = QApplication.instance() or QApplication([])
    configure_pyqtgraph()
    w = MainWindow(AppState(), create_bridge(spare=False))
    w.show_message_box = lambda *args, **kwargs: None
    w.resize(1280, 820)
    w.show()
    try:
        view = w.attribution_view
        w.tabs.setCurrentWidget(view)
        w.open_model_file(str(default_model_path()))
        _wait(app, lambda: view.shown.result is not None and not w.bridge.busy, 180)
        panel = w.input_panel
        panel.tabs.setCurrentWidget(panel.draw)
        canvas = panel.draw.canvas
        painted = [view.overlay.glw.viewport(), view.raw.glw.viewport(), view.classes.list.viewport()]
        points = _path(canvas.width(), N_STROKES + WARM_UP + 1)
        loop = QEventLoop()
        view.rendered.connect(loop.quit)
        guard = QTimer()
        guard.setSingleShot(True)
        guard.timeout.connect(loop.quit)

        def move(pos) -> None:
            local = QPointF(*pos)
            app.sendEvent(canvas, QMouseEvent(QMouseEvent.Type.MouseMove, local, canvas.mapToGlobal(local),
                                              Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton,
                                              Qt.KeyboardModifier.NoModifier))  # fmt: skip

        total, sent, compute, render, paint, cpu = [], [], [], [], [], []
        load = os.getloadavg()[0]
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(*points[0]))
        _wait(app, lambda: not w.bridge.busy, 30)
        for k, p in enumerate(points[1:]):
            count = view.render_count
            c0, t0 = time.process_time(), time.perf_counter()
            move(p)
            t_sent = time.perf_counter()
            if view.render_count == count:
                guard.start(5000)
                loop.exec()
                guard.stop()
            t_rendered = time.perf_counter()
            for widget in painted:
                widget.repaint()
            t1, c1 = time.perf_counter(), time.process_time()
            app.processEvents()  # Qt's own paint of the rest, outside the measured path
            if k >= WARM_UP and view.render_count > count:
                total.append((t1 - t0) * 1000)
                sent.append((t_sent - t0) * 1000)
                paint.append((t1 - t_rendered) * 1000)
                compute.append(view.last_latency_ms)
                render.append(view.last_render_ms)
                cpu.append((c1 - c0) * 1000)
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(*points[-1]))
        _wait(app, lambda: not w.bridge.busy, 30)
        load_after = os.getloadavg()[0]
    finally:
        w.close()
        app.processEvents()

    def pct(values, q) -> float:
        return float(np.percentile(values, q)) if values else float("nan")

    return {
        "attribution live: stroke -> Grad-CAM overlay on screen p50": (pct(total, 50), "ms", ""),
        "attribution live: stroke -> Grad-CAM overlay on screen p95": (
            pct(total, 95),
            "ms",
            f"<= {TARGET_MS:.0f}",
        ),
        "  stroke handled: canvas -> 28x28 digit, both requests sent p50": (pct(sent, 50), "ms", ""),
        "  request -> result (Grad-CAM after the stroke's forward pass) p50": (pct(compute, 50), "ms", ""),
        "  overlay, raw map and classes updated p50": (pct(render, 50), "ms", ""),
        "  repaint() of overlay, raw map and classes p50": (pct(paint, 50), "ms", ""),
        "  GUI process CPU time per stroke p50": (pct(cpu, 50), "ms", ""),
        "  strokes measured": (float(len(total)), "", ""),
        "  load average during the run (1 min)": (round((load + load_after) / 2, 1), "", ""),
    }


if __name__ == "__main__":
    for name, (value, unit, target) in measure().items():
        print(f"{name:70s} {value:9.2f} {unit:3s} {target}")
