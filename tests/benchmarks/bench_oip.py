"""OIP speed on the default CNN's Conv2D_3, 128 maps x 600 steps, measured in one run (``make bench``).

(a) a faithful port of the articles' loop: one map at a time, eager GradientTape, unit-RMS gradient,
    ``x += eps * g``, re-standardisation, give-up after >10 zero steps (timed on a few reacting maps and
    extrapolated to 128 full runs; said in the output);
(b) the engine (``core.oip.run_oip``): all maps in one compiled batched step;
(c) tf-keras-vis ``ActivationMaximization`` in its batch mode (``CategoricalScore`` over the 128 maps), same
    step count, no input modifiers or regularizers (plain ascent, as ours);
(d) the live view's overhead: the engine alone on the compute thread vs. the engine driving an offscreen OIP
    panel through the bridge (frames ~30 Hz).
Then the quality figures (reacting / data-active / converged / 4-px shift kept / OIP vs the best digit) of
``oip_quality.py`` for the Seed preset (with and without step decay), Precursor and Lucid (its own 512 steps).
Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

LAYER, MAPS, STEPS = "Conv2D_3", 128, 600
EAGER_MAPS = int(os.environ.get("OIP_BENCH_EAGER_MAPS", "4"))


def _loaded():
    from cnnviz_gui.core.models.loading import open_model
    from cnnviz_gui.core.resources import default_model_path

    return open_model(default_model_path())


def articles_loop(submodel, x0: np.ndarray, map_index: int, steps: int = STEPS, eps: float = 0.01):
    """The articles' strategy 0 for one map, eager (a port of the published algorithm, not its code)."""
    import tensorflow as tf

    x = tf.constant(x0[None])
    loss_val, n_zeros = 0.0, 0
    for _ in range(steps):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_mean(submodel(x, training=False)[0, :, :, map_index])
        g = tape.gradient(loss, x)
        g = g / (tf.sqrt(tf.reduce_mean(tf.square(g))) + 1e-7)
        loss_val = float(loss)
        if loss_val == 0.0 and float(tf.reduce_mean(g)) == 0.0:
            n_zeros += 1
            if n_zeros > 10:
                break
        x = tf.image.per_image_standardization(x + eps * g)
    return x.numpy()[0], loss_val


def bench_eager(loaded, engine_result) -> tuple[float, str]:
    import keras

    from cnnviz_gui.core.oip import start_images as oip_init

    model = loaded.model
    sub = keras.Model(model.inputs, model.get_layer(LAYER).output)
    reacting = [int(m) for m in engine_result.maps[engine_result.reacts]][:EAGER_MAPS]
    x0 = oip_init.multiscale_images(len(reacting), seed=[(0, m, 0) for m in reacting])
    articles_loop(sub, x0[0], reacting[0], steps=3)  # warm-up
    t0 = time.perf_counter()
    for k, m in enumerate(reacting):
        articles_loop(sub, x0[k], m)
    per_map = (time.perf_counter() - t0) / len(reacting)
    return per_map * MAPS, f"{len(reacting)} reacting maps x {STEPS} steps timed, extrapolated to {MAPS} maps"


def bench_engine(loaded):
    from cnnviz_gui.core.oip import engine as oip

    req = oip.OipRequest(LAYER, list(range(MAPS)), oip.preset("Seed (articles)", steps=3))
    oip.run_oip(loaded, req)  # trace the step once (as the app does on its first run)
    req = oip.OipRequest(LAYER, list(range(MAPS)), oip.preset("Seed (articles)", steps=STEPS))
    t0 = time.perf_counter()
    res = oip.run_oip(loaded, req)
    return time.perf_counter() - t0, res


def bench_tf_keras_vis(loaded) -> tuple[float | None, str]:
    try:
        from tf_keras_vis.activation_maximization import ActivationMaximization
        from tf_keras_vis.utils.model_modifiers import ExtractIntermediateLayer
        from tf_keras_vis.utils.scores import CategoricalScore
    except Exception as err:  # not installed, or incompatible with this Keras
        return None, f"tf-keras-vis cannot be imported: {type(err).__name__}: {err}"
    from cnnviz_gui.core.oip import start_images as oip_init

    try:
        am = ActivationMaximization(loaded.model, model_modifier=ExtractIntermediateLayer(LAYER), clone=True)
        x0 = oip_init.multiscale_images(MAPS, seed=0)
        kw = dict(input_range=(None, None), input_modifiers=[], regularizers=[])
        am(CategoricalScore(list(range(MAPS))), seed_input=x0, steps=2, **kw)  # warm-up
        t0 = time.perf_counter()
        am(CategoricalScore(list(range(MAPS))), seed_input=x0, steps=STEPS, **kw)
        return time.perf_counter() - t0, "batch mode, plain ascent (its default Adam), no modifiers"
    except Exception as err:
        return None, f"tf-keras-vis failed with Keras 3: {type(err).__name__}: {err}"


def bench_live_overhead(loaded, steps: int = STEPS, maps: int = MAPS, repeats: int = 3) -> dict:
    """The engine alone vs. driving an offscreen panel (both on the compute thread), interleaved
    ``repeats`` times; the best of each (wall seconds and process CPU seconds, all threads) is kept, so
    that other load on a shared machine counts as little as possible. ``gui_cpu``: CPU seconds of the GUI
    thread itself during each live run (the panel's own work: receiving frames, drawing), which the noise of
    a shared 2-core machine hardly moves."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from cnnviz_gui.core.oip import engine as oip
    from cnnviz_gui.core.runtime.jobs import ComputeThread
    from cnnviz_gui.ui.app import configure_pyqtgraph
    from cnnviz_gui.ui.bridge import ComputeBridge
    from cnnviz_gui.ui.oip.panel import OipPanel
    from cnnviz_gui.ui.state import AppState

    app = QApplication.instance() or QApplication([])
    configure_pyqtgraph()
    compute = ComputeThread()
    bridge = ComputeBridge(compute)
    state = AppState()
    panel = OipPanel(state, bridge)
    panel.resize(1300, 800)
    panel.show()
    state.set_model(loaded)
    panel.form.maps_edit.setText(f"0-{maps - 1}")
    panel.form.steps.setValue(steps)
    panel.form.data_check.setChecked(False)
    req = oip.OipRequest(LAYER, list(range(maps)), oip.preset("Seed (articles)", steps=steps))
    out = {"alone": [], "alone_cpu": [], "live": [], "live_cpu": [], "gui_cpu": [], "frames": 0}
    try:
        compute.submit(lambda p, c: oip.run_oip(loaded, req, None, c)).finished.wait()  # warm-up
        for _ in range(repeats):
            got = []
            cpu = time.process_time()
            job = compute.submit(lambda p, c: oip.run_oip(loaded, req, None, c), on_result=got.append)
            job.finished.wait()
            out["alone_cpu"].append(time.process_time() - cpu)
            out["alone"].append(got[0].seconds)
            loop = QEventLoop()
            panel.finished.connect(loop.quit)
            cpu, gui = time.process_time(), time.thread_time()
            panel.start()
            if panel.running:
                loop.exec()  # the real event loop: it sleeps between events
            out["live_cpu"].append(time.process_time() - cpu)
            out["gui_cpu"].append(time.thread_time() - gui)
            panel.finished.disconnect(loop.quit)
            out["live"].append(panel.result.seconds)
            out["frames"] = panel.frames_drawn
            app.processEvents()
        return out
    finally:
        bridge.shutdown()
        panel.close()


def test_bench_oip_speed():
    loaded = _loaded()
    t_engine, res = bench_engine(loaded)
    t_eager, how = bench_eager(loaded, res)
    t_vis, vis_note = bench_tf_keras_vis(loaded)
    live = bench_live_overhead(loaded)
    print(f"\n== OIP speed: {LAYER}, {MAPS} maps x {STEPS} steps, device {res.device}")
    print(f"   (a) articles' loop, eager, map by map: {t_eager:8.1f} s  ({how})")
    print(
        f"   (b) engine, batched compiled step:     {t_engine:8.1f} s  ({int(res.reacts.sum())} maps react)"
    )
    if t_vis is None:
        print(f"   (c) tf-keras-vis: not measured: {vis_note}")
    else:
        print(f"   (c) tf-keras-vis ActivationMaximization: {t_vis:6.1f} s  ({vis_note})")
    print(f"   ratio (a)/(b): {t_eager / t_engine:6.1f}x   (target >= 50x)")
    if t_vis is not None:
        print(f"   ratio (c)/(b): {t_vis / t_engine:6.1f}x   (target >= 3x)")
    alone, shown = min(live["alone"]), min(live["live"])
    cpu_alone, cpu_shown = min(live["alone_cpu"]), min(live["live_cpu"])
    print(
        f"   (d) live view, best of {len(live['alone'])}: engine alone {alone:.1f} s, driving the offscreen panel "
        f"{shown:.1f} s ({live['frames']} frames drawn): wall overhead {(shown - alone) / alone * 100:+.1f} %, "
        f"CPU time {cpu_alone:.1f} s vs {cpu_shown:.1f} s: {(cpu_shown - cpu_alone) / cpu_alone * 100:+.1f} % "
        "(target < 10 %)"
    )
    gui = float(np.median(live["gui_cpu"]))
    print(
        f"       the panel's own work on the GUI thread: {gui:.2f} s CPU per live run (median), "
        f"{gui / shown * 100:.1f} % of one core over the run"
    )
    assert res.images.shape == (MAPS, 28, 28, 1)


def test_bench_oip_quality():
    import oip_quality

    for name in ("Seed (articles)", "Seed (articles)+decay", "Precursor", "Lucid"):
        res, seconds = oip_quality.measure(name, None if name == "Lucid" else STEPS)
        oip_quality.report(name, res, seconds)
