"""OIP speed on the bundled CNN's Conv2D_3, 128 maps x 600 steps (``make bench``).

In a process with TensorFlow (``--core``), one after the other:

(a) a faithful port of the articles' loop: one map at a time, eager GradientTape, unit-RMS gradient,
    ``x += eps * g``, re-standardisation, give-up after >10 zero steps (timed on a few reacting maps and
    extrapolated to 128 full runs);
(b) the engine (``core.oip.run_oip``) called directly: all maps in one compiled batched step;
(c) tf-keras-vis ``ActivationMaximization`` in its batch mode (``CategoricalScore`` over the 128 maps), same
    step count, no input modifiers or regularizers (plain ascent, as ours);
(e) the quality figures of ``oip_quality.py`` (reacting, converged, OIP vs the best digit, run time; the
    maps data-active once) for the Seed preset with and without step decay, Precursor and Lucid (its own 512
    steps).

In the real window on a real compute process (``--window``), as a person runs it from the OIP tab:

(d) the search run by the OIP tab (``oip.run`` through the bridge; the tab shown, its live view drawn,
    data-activation check off) against a raw batched ``tf.function`` loop (the same step: mean of the map,
    unit-RMS gradient, ``x += eps * g``, re-standardise; the loss fetched every step) in a plain Python
    process started beside it (``--raw``: Keras only, no app code but the start images), interleaved
    ``CNNVIZ_BENCH_OIP_REPEATS`` times (default 2), the best of each kept. Both include tracing their step
    once (the app traces it for every run). Throughput = maps x steps per second, from the request to the
    result on the GUI thread; the steady state is taken between the first and the last live frame. Also:
    live frames per second reaching the GUI (the compute process sends at most 30) and the GUI thread's own
    CPU time during a run.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
from harness import main, median, qapp, real_window, run_fresh, say, shot, spin, wait_until

LAYER, MAPS = "Conv2D_3", 128
STEPS = int(os.environ.get("CNNVIZ_BENCH_OIP_STEPS", "600"))
EAGER_MAPS = int(os.environ.get("OIP_BENCH_EAGER_MAPS", "4"))
REPEATS = int(os.environ.get("CNNVIZ_BENCH_OIP_REPEATS", "2"))


def _loaded():
    from cnnviz_gui.core.models.loading import open_model
    from cnnviz_gui.core.resources import default_model_path

    return open_model(default_model_path())


# -- (a), (b), (c), (e): the compute side in this process ---------------------------------------------------
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


def bench_eager(loaded, engine_result) -> float:
    """Seconds for 128 maps, extrapolated from ``EAGER_MAPS`` reacting maps x 600 steps."""
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
    return (time.perf_counter() - t0) / len(reacting) * MAPS


def bench_engine(loaded):
    from cnnviz_gui.core.oip import engine as oip

    req = oip.OipRequest(LAYER, list(range(MAPS)), oip.preset("Seed (articles)", steps=3))
    oip.run_oip(loaded, req)  # the first run's one-off costs (as the app has them on its first run)
    req = oip.OipRequest(LAYER, list(range(MAPS)), oip.preset("Seed (articles)", steps=STEPS))
    t0 = time.perf_counter()
    res = oip.run_oip(loaded, req)
    return time.perf_counter() - t0, res


def bench_tf_keras_vis(loaded) -> float:
    """Seconds of tf-keras-vis's batch ActivationMaximization (nan when it cannot run here)."""
    try:
        from tf_keras_vis.activation_maximization import ActivationMaximization
        from tf_keras_vis.utils.model_modifiers import ExtractIntermediateLayer
        from tf_keras_vis.utils.scores import CategoricalScore
    except Exception as err:  # not installed, or incompatible with this Keras
        say(f"oip: tf-keras-vis cannot be imported: {type(err).__name__}: {err}")
        return float("nan")
    from cnnviz_gui.core.oip import start_images as oip_init

    try:
        am = ActivationMaximization(loaded.model, model_modifier=ExtractIntermediateLayer(LAYER), clone=True)
        x0 = oip_init.multiscale_images(MAPS, seed=0)
        kw = dict(input_range=(None, None), input_modifiers=[], regularizers=[])
        am(CategoricalScore(list(range(MAPS))), seed_input=x0, steps=2, **kw)  # warm-up
        t0 = time.perf_counter()
        am(CategoricalScore(list(range(MAPS))), seed_input=x0, steps=STEPS, **kw)
        return time.perf_counter() - t0
    except Exception as err:
        say(f"oip: tf-keras-vis failed with Keras 3: {type(err).__name__}: {err}")
        return float("nan")


def core_rows() -> dict:
    import oip_quality

    loaded = _loaded()
    say("oip: engine in this process")
    t_engine, res = bench_engine(loaded)
    say(f"oip: articles' eager loop, {EAGER_MAPS} maps")
    t_eager = bench_eager(loaded, res)
    say("oip: tf-keras-vis")
    t_vis = bench_tf_keras_vis(loaded)
    rows = {
        f"oip (a) articles' eager loop, {MAPS} maps x {STEPS} (extrap.)": (t_eager, "s", ""),
        f"oip (b) engine, batched compiled step, {MAPS} x {STEPS}": (t_engine, "s", ""),
        "oip (c) tf-keras-vis ActivationMaximization, batch": (t_vis, "s", ""),
        "oip ratio (a)/(b)": (t_eager / t_engine, "x", ">= 50"),
        "oip ratio (c)/(b)": (t_vis / t_engine, "x", ">= 3"),
        "oip (b) maps reacting": (float(res.reacts.sum()), "", ""),
    }
    for name in ("Seed (articles)", "Seed (articles)+decay", "Precursor", "Lucid"):
        say(f"oip: quality, {name}")
        result, seconds = oip_quality.measure(name, None if name == "Lucid" else STEPS)
        figures = oip_quality.report(name, result, seconds, out=sys.stderr)
        short = name.replace(" (articles)", "").lower()
        if name == "Seed (articles)":  # a property of the data and the model, the same for every preset
            rows[f"oip quality: maps data-active of {MAPS}"] = (float(figures["data_active"]), "", "")
        rows[f"oip quality {short}: maps reacting of {MAPS}"] = (float(figures["reacting"]), "", "")
        rows[f"oip quality {short}: reacting maps converged"] = (float(figures["converged"]), "", "")
        rows[f"oip quality {short}: reacting maps >= best digit"] = (
            float(figures["beats_best_digit"]),
            "",
            "",
        )
        rows[f"oip quality {short}: run time incl. data-active pass"] = (seconds, "s", "")
    return rows


# -- (d): the raw loop in a plain process, and the OIP tab on the real compute process -----------------------
def raw_rows() -> dict:
    """A raw batched ``tf.function`` ascent of the 128 maps, 600 steps, in this (plain) process."""
    import keras
    import tensorflow as tf

    from cnnviz_gui.core.oip import start_images as oip_init
    from cnnviz_gui.core.resources import default_model_path

    model = keras.saving.load_model(default_model_path(), compile=False)
    sub = keras.Model(model.inputs, model.get_layer(LAYER).output)
    x0 = oip_init.multiscale_images(MAPS, seed=[(0, m, 0) for m in range(MAPS)])
    idx = tf.constant(np.arange(MAPS), tf.int32)
    n = float(np.prod(x0.shape[1:]))

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            per = tf.reduce_mean(sub(x, training=False), axis=[1, 2])
            loss = tf.reduce_sum(per * tf.one_hot(idx, MAPS), axis=1)
            total = tf.reduce_sum(loss)
        g = tape.gradient(total, x)
        g = g / (tf.sqrt(tf.reduce_mean(g * g, axis=[1, 2, 3], keepdims=True)) + 1e-7)
        xn = x + 0.01 * g
        mean, var = tf.nn.moments(xn, axes=[1, 2, 3], keepdims=True)
        return (xn - mean) / tf.maximum(tf.sqrt(var), 1.0 / np.sqrt(n)), loss

    t0 = time.perf_counter()
    x = tf.constant(x0)
    curve = []
    for j in range(STEPS):
        x, loss = step(x)
        curve.append(loss.numpy())
        if j == 0:
            t1 = time.perf_counter()
    t2 = time.perf_counter()
    return {"seconds": (t2 - t0, "s", ""), "steady_steps_per_s": ((STEPS - 1) / (t2 - t1), "1/s", "")}


def _panel_run(w) -> dict:
    """One search from the OIP tab, as a person starts it; wall seconds, frames and the GUI thread's CPU."""
    from PySide6.QtCore import QEventLoop

    panel = w.oip_panel
    frames: list[tuple[float, int]] = []
    original = panel._on_progress

    def on_progress(fraction, text, frame):  # when each live frame reaches the GUI, and its step
        if frame is not None:
            frames.append((time.perf_counter(), frame.step))
        original(fraction, text, frame)

    panel._on_progress = on_progress  # the tab passes its handler to the bridge when it starts a search
    loop = QEventLoop()
    panel.finished.connect(loop.quit)
    gui_cpu = time.thread_time()
    t0 = time.perf_counter()
    panel.start()
    if panel.running:
        loop.exec()  # the real event loop: it sleeps between events
    seconds = time.perf_counter() - t0
    gui_cpu = time.thread_time() - gui_cpu
    panel.finished.disconnect(loop.quit)
    del panel._on_progress
    if panel.result is None or panel.result.images.shape[0] != MAPS:
        raise RuntimeError(f"the OIP search gave no result: {panel.info_label.text()}")
    (ta, sa), (tb, sb) = frames[0], frames[-1]
    return {
        "seconds": seconds,
        "engine_seconds": panel.result.seconds,
        "gui_cpu": gui_cpu,
        "frames_per_s": (len(frames) - 1) / (tb - ta),
        "steady_steps_per_s": (sb - sa) / (tb - ta),
        "frames": len(frames),
    }


def window_rows() -> dict:
    from cnnviz_gui.core.resources import default_model_path

    qapp()
    raw, app = [], []
    with real_window() as w:
        w.start(str(default_model_path()))
        wait_until(lambda: w.activation_view.acts is not None and not w.bridge.busy, timeout=300)
        panel = w.oip_panel
        w.tabs.setCurrentWidget(panel)
        panel.form.select_layer(LAYER)
        panel.form.maps_edit.setText(f"0-{MAPS - 1}")
        panel.form.steps.setValue(STEPS)
        panel.form.data_check.setChecked(False)
        spin(0.3)
        for k in range(REPEATS):
            say(f"oip: raw tf.function loop in a plain process, run {k + 1} of {REPEATS}")
            raw.append(run_fresh(__file__, "--raw"))
            say(f"oip: the OIP tab on the compute process, run {k + 1} of {REPEATS}")
            app.append(_panel_run(w))
            shot(w, "oip_tab_after_run")
            wait_until(lambda: not w.bridge.busy)
        say(f"oip: the tab's input convention: {panel.request.convention}")
        if w.messages:
            raise RuntimeError(f"the window showed messages: {w.messages}")
    raw_s = min(r["seconds"][0] for r in raw)
    raw_steady = max(r["steady_steps_per_s"][0] for r in raw)
    best = min(app, key=lambda r: r["seconds"])
    app_steady = max(r["steady_steps_per_s"] for r in app)
    work = MAPS * STEPS
    return {
        f"oip (d) raw tf.function loop, plain process, best of {REPEATS}": (work / raw_s, "map-steps/s", ""),
        f"oip (d) OIP tab via compute process, best of {REPEATS}": (
            work / best["seconds"],
            "map-steps/s",
            "",
        ),
        "oip (d) OIP tab / raw loop, whole run": (raw_s / best["seconds"], "x", ">= 0.8"),
        "oip (d) OIP tab / raw loop, steady state": (app_steady / raw_steady, "x", ">= 0.8"),
        "oip (d) OIP tab run: request -> result": (best["seconds"], "s", ""),
        "oip (d)   of which the engine in the compute process": (best["engine_seconds"], "s", ""),
        "oip (d) OIP tab steady state: steps of the batch per second": (app_steady, "1/s", ""),
        "oip (d) live frames reaching the GUI": (median([r["frames_per_s"] for r in app]), "1/s", "~30"),
        "oip (d) GUI thread CPU during a run (share of one core)": (
            median([r["gui_cpu"] / r["seconds"] * 100 for r in app]),
            "%",
            "",
        ),  # fmt: skip
    }


def measure_here() -> dict:
    if "--raw" in sys.argv:
        return raw_rows()
    if "--core" in sys.argv:
        return core_rows()
    if "--window" in sys.argv:
        return window_rows()
    return measure()


def measure() -> dict:
    return {**run_fresh(__file__, "--window"), **run_fresh(__file__, "--core")}


if __name__ == "__main__":
    main(measure_here)
