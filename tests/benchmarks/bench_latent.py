"""Latent explorer speed (``make bench``): hover decode, encoding, scatter frames, manifold grid.

In the real window on a real compute process, for the bundled AE and VAE (opened as a person opens them):

- hover -> decoded image drawn: the scatter's ``hovered`` signal with a point of the visible plane, until the
  decoded image was set on its tile and the tile repainted (the GUI waits in a Qt event loop); budget one
  frame (16 ms) at p95;
- encode the 10,000 bundled digits from the Latent tab's ``encode()``: until the points are back in the GUI,
  and until they are projected and drawn (median of 3, after the first encode of the open).

In the window's process too (no TensorFlow needed): scatter pan frames at 10k and 70k points (all drawn, and
the default subset), each frame rendered with ``QGraphicsView.render`` onto a pixmap: wall time p95, and the
GUI thread's CPU time per frame (p50), which other programs on a shared machine hardly move.

In a process of its own with TensorFlow (the compute side alone, for comparison): one compiled decode call,
encoding 10,000 digits, a 30 x 30 grid.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
from harness import main, median, pct, qapp, real_window, run_fresh, say, shot, spin, wait_until

HOVERS = int(os.environ.get("CNNVIZ_BENCH_HOVERS", "150"))


def _hover_and_encode(w, kind: str, rows: dict) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    from cnnviz_gui.core.latent.space import bundled_autoencoder_path

    panel = w.latent_panel
    previous = w.state.loaded
    w.open_model_file(str(bundled_autoencoder_path(kind)))
    wait_until(lambda: w.state.loaded is not previous, timeout=300)
    wait_until(lambda: panel.shown is not None and not w.bridge.busy, timeout=300)
    w.tabs.setCurrentWidget(panel)
    spin(0.3)

    loop, guard = QEventLoop(), QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(loop.quit)
    tile = panel.decoded_tile
    original = tile.set_image

    def set_image(*args, **kwargs):  # the moment the decoded image reaches the tile
        original(*args, **kwargs)
        loop.quit()

    tile.set_image = set_image
    rng = np.random.default_rng(0)
    x0, x1, y0, y1 = panel.scatter.visible_bounds()
    times = []
    say(f"latent: {HOVERS} hovers, {kind}")
    for x, y in zip(rng.uniform(x0, x1, HOVERS + 10), rng.uniform(y0, y1, HOVERS + 10), strict=True):
        before = panel.decoded
        t0 = time.perf_counter()
        panel.scatter.hovered.emit(float(x), float(y))
        if panel.decoded is before:
            guard.start(5000)
            loop.exec()
            guard.stop()
        if panel.decoded is before:
            raise RuntimeError("a hover was not decoded within 5 s")
        tile.repaint()
        times.append((time.perf_counter() - t0) * 1000)
    tile.set_image = original
    shot(w, f"latent_{kind}_after_hovers")
    rows[f"latent {kind}: hover -> decoded image drawn p50"] = (pct(times[10:], 50), "ms", "")
    rows[f"latent {kind}: hover -> decoded image drawn p95"] = (pct(times[10:], 95), "ms", "<= 16")

    say(f"latent: encoding 10,000 digits, {kind}")
    back, drawn = [], []
    for _ in range(3):
        wait_until(lambda: not w.bridge.busy)
        encoded, shown = panel.dataset, panel.shown
        t0 = time.perf_counter()
        panel.encode()
        back.append(wait_until(lambda e=encoded: panel.dataset is not e, timeout=120))
        drawn.append(
            wait_until(lambda s=shown: panel.shown is not None and panel.shown is not s, timeout=120)
            + back[-1]
        )
    if len(panel.z) != 10_000:
        raise RuntimeError(f"{len(panel.z)} points encoded, not 10,000")
    rows[f"latent {kind}: encode 10,000 digits, request -> points back"] = (median(back), "s", "")
    rows[f"latent {kind}: encode 10,000 digits, until drawn"] = (median(drawn), "s", "")


def _blobs(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    centres = rng.uniform(-8, 8, (10, 2))
    return (centres[labels] + rng.standard_normal((n, 2)) * 1.5).astype(np.float32), labels


def scatter_frames(rows: dict) -> None:
    """Pan frames of the scatter at 10k and 70k points (all drawn, and the default 20k subset)."""
    from PySide6.QtGui import QPainter, QPixmap

    from cnnviz_gui.ui.latent.widgets import DEFAULT_MAX_SHOWN, LatentScatter

    qapp()
    say("latent: scatter frames")
    for n, max_shown in ((10000, None), (70000, None), (70000, DEFAULT_MAX_SHOWN)):
        scatter = LatentScatter()
        scatter.resize(900, 650)
        scatter.show()
        pts, labels = _blobs(n)
        scatter.set_points(pts, labels, [str(i) for i in range(10)], max_shown=max_shown)
        scatter.fit((-12, 12, -12, 12))
        pix = QPixmap(scatter.size())
        times, cpu = [], []
        for i in range(60):
            dx = 0.2 * np.sin(i / 5)
            scatter.setRange(xRange=(-12 + dx, 12 + dx), yRange=(-12, 12), padding=0)
            t0, c0 = time.perf_counter(), time.thread_time()
            painter = QPainter(pix)
            scatter.render(painter)
            painter.end()
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
        label = "all drawn" if max_shown is None else f"{scatter.n_shown // 1000}k drawn"
        what = f"latent scatter {n // 1000}k points ({label})"
        rows[f"{what}: pan frame p95"] = (pct(times[5:], 95), "ms", "")
        rows[f"{what}: GUI CPU/frame p50"] = (pct(cpu[5:], 50), "ms", "")
        scatter.close()
        scatter.deleteLater()


def window_rows() -> dict:
    rows: dict = {}
    with real_window() as w:
        w.start(None)  # the bundled CNN and digits, as at a start of the app
        wait_until(lambda: w.activation_view.acts is not None and not w.bridge.busy, timeout=300)
        for kind in ("ae", "vae"):
            _hover_and_encode(w, kind, rows)
        if w.messages:
            raise RuntimeError(f"the window showed messages: {w.messages}")
    scatter_frames(rows)
    return rows


def core_rows() -> dict:
    """The compute side alone, in this process: compiled decode call, encoding, a 30 x 30 grid."""
    from cnnviz_gui.core.datasets import load_bundled_mnist
    from cnnviz_gui.core.latent import space as latent
    from cnnviz_gui.core.models.loading import open_model

    rows = {}
    ds = load_bundled_mnist()
    rng = np.random.default_rng(0)
    for kind in ("ae", "vae"):
        say(f"latent: compute side alone, {kind}")
        space = latent.open_space(open_model(latent.bundled_autoencoder_path(kind)).model)
        times = []
        for z in rng.standard_normal((220, 2)).astype(np.float32):
            t0 = time.perf_counter()
            space.decode(z[None])
            times.append((time.perf_counter() - t0) * 1000)
        rows[f"latent {kind}: compiled decode call alone p95"] = (pct(times[20:], 95), "ms", "")
        space.encode(ds.x[:500])
        t0 = time.perf_counter()
        z = space.encode(ds.x).z
        rows[f"latent {kind}: encode 10,000 digits, compute side alone"] = (time.perf_counter() - t0, "s", "")
        proj = latent.fit_projection(z)
        bounds = latent.data_bounds(proj.transform(z))
        space.decode_grid(proj, bounds, 30)
        grid = []
        for _ in range(5):
            t0 = time.perf_counter()
            space.decode_grid(proj, bounds, 30)
            grid.append((time.perf_counter() - t0) * 1000)
        rows[f"latent {kind}: 30 x 30 grid decoded, compute side alone"] = (median(grid), "ms", "")
    return rows


def measure_here() -> dict:
    if "--core" in sys.argv:
        return core_rows()
    if "--window" in sys.argv:
        return window_rows()
    return measure()


def measure() -> dict:
    return {**run_fresh(__file__, "--window"), **run_fresh(__file__, "--core")}


if __name__ == "__main__":
    main(measure_here)
