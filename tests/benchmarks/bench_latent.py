"""Latent explorer speed (``make bench``): hover decode, scatter frames, encoding, manifold grid.

Budgets from issue 4: a decoded image on screen within one frame (16 ms) at p95 for the default models;
10,000 points pan and zoom smoothly (and 70,000 tried). Figures are printed, not asserted.

Paint timing: each frame pans the view a little and renders the scatter widget into a pixmap with
``QGraphicsView.render`` onto a QPainter (the same painting a screen update does), timed with ``perf_counter``.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _pct(values, q) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def _report(name: str, values) -> None:
    print(f"  {name}: p50 {_pct(values, 50):.1f} ms, p95 {_pct(values, 95):.1f} ms, n={len(values)}")


@pytest.fixture(scope="module")
def spaces():
    from cnnviz_gui.core.latent import space as latent
    from cnnviz_gui.core.models.loading import open_model

    return {k: latent.open_space(open_model(latent.bundled_autoencoder_path(k)).model) for k in ("ae", "vae")}


def test_bench_decode_direct_and_on_screen(spaces, qtbot):
    """Decode one point: the compiled call alone, and hover -> image on screen through the compute thread."""
    from PySide6.QtWidgets import QApplication

    from cnnviz_gui.core.runtime.jobs import ComputeThread
    from cnnviz_gui.ui.app import configure_pyqtgraph
    from cnnviz_gui.ui.bridge import ComputeBridge
    from cnnviz_gui.ui.latent.panel import LatentPanel
    from cnnviz_gui.ui.state import AppState

    print("\nlatent decode (one point)")
    rng = np.random.default_rng(0)
    for kind, space in spaces.items():
        times = []
        for z in rng.standard_normal((300, 2)).astype(np.float32):
            t0 = time.perf_counter()
            space.decode(z[None])
            times.append(time.perf_counter() - t0)
        _report(f"{kind} compiled decode call", times[20:])

    from cnnviz_gui.core.latent import space as latent
    from cnnviz_gui.core.models.loading import open_model

    configure_pyqtgraph()
    app = QApplication.instance()
    for kind in ("ae", "vae"):
        state, bridge = AppState(), ComputeBridge(ComputeThread())
        panel = LatentPanel(state, bridge)
        qtbot.addWidget(panel)
        panel.resize(1200, 800)
        panel.show()
        state.set_model(open_model(latent.bundled_autoencoder_path(kind)))
        qtbot.waitUntil(
            lambda panel=panel, bridge=bridge: panel.shown is not None and not bridge.compute.busy,
            timeout=60000,
        )
        x0, x1, y0, y1 = panel.scatter.visible_bounds()
        times = []
        for x, y in zip(rng.uniform(x0, x1, 150), rng.uniform(y0, y1, 150), strict=True):
            before = panel.decoded
            t0 = time.perf_counter()
            panel.scatter.hovered.emit(float(x), float(y))
            while panel.decoded is before and time.perf_counter() - t0 < 5:
                app.processEvents()  # busy-wait: no polling interval in the figure
            panel.decoded_tile.repaint()
            times.append(time.perf_counter() - t0)
        _report(f"{kind} hover -> decoded image drawn (compute thread + bridge + paint)", times[10:])
        bridge.shutdown()


def _blobs(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    centres = rng.uniform(-8, 8, (10, 2))
    return (centres[labels] + rng.standard_normal((n, 2)) * 1.5).astype(np.float32), labels


def test_bench_scatter_frames(qtbot):
    """Pan frames of the scatter at 10k and 70k points (all drawn, and the default 20k subset)."""
    from PySide6.QtGui import QPainter, QPixmap

    from cnnviz_gui.ui.app import configure_pyqtgraph
    from cnnviz_gui.ui.latent.widgets import DEFAULT_MAX_SHOWN, LatentScatter

    configure_pyqtgraph()
    print("\nlatent scatter frame time (pan + render 900x650)")
    for n, max_shown in ((10000, None), (70000, None), (70000, DEFAULT_MAX_SHOWN)):
        scatter = LatentScatter()
        qtbot.addWidget(scatter)
        scatter.resize(900, 650)
        scatter.show()
        pts, labels = _blobs(n)
        scatter.set_points(pts, labels, [str(i) for i in range(10)], max_shown=max_shown)
        scatter.fit((-12, 12, -12, 12))
        pix = QPixmap(scatter.size())
        times = []
        for i in range(60):
            dx = 0.2 * np.sin(i / 5)
            scatter.setRange(xRange=(-12 + dx, 12 + dx), yRange=(-12, 12), padding=0)
            t0 = time.perf_counter()
            painter = QPainter(pix)
            scatter.render(painter)
            painter.end()
            times.append(time.perf_counter() - t0)
        label = "all drawn" if max_shown is None else f"{scatter.n_shown:,} drawn"
        _report(f"{n:,} points ({label})", times[5:])
        scatter.close()


def test_bench_encode_and_grid(spaces):
    from cnnviz_gui.core.datasets import load_bundled_mnist
    from cnnviz_gui.core.latent import space as latent

    ds = load_bundled_mnist()
    print("\nlatent encode 10k and 30 x 30 grid")
    for kind, space in spaces.items():
        space.encode(ds.x[:500])
        t0 = time.perf_counter()
        z = space.encode(ds.x).z
        enc = time.perf_counter() - t0
        proj = latent.fit_projection(z)
        bounds = latent.data_bounds(proj.transform(z))
        space.decode_grid(proj, bounds, 30)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            space.decode_grid(proj, bounds, 30)
            times.append(time.perf_counter() - t0)
        print(
            f"  {kind}: encode 10,000 images {enc * 1000:.0f} ms; 30 x 30 grid median {np.median(times) * 1000:.0f} ms"
        )
