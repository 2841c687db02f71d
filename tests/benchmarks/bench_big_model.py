"""A big model in the real window: ResNet50 (224x224x3, ``weights=None``) saved as ``.keras`` in a temporary
folder, opened as a person opens their own network (``make bench``).

(a) Bare Keras in a fresh process (``--bare``), after TensorFlow's import: ``keras.saving.load_model``
    (safe mode, not compiled) + one compiled call returning the first conv layer's output and the model's
    output (the layers the Activations tab shows first), seconds; and one more call (the forward pass alone).
    The same in another fresh process after loading and calling the bundled CNN that way first
    (``--bare-warm``): the app's compute process has done that before a person opens their own model, so
    Keras's and TensorFlow's first-use costs are paid in both; the ratio is given against both.
(b) The app (``--window``): the real window on a real compute process with TensorFlow started and the bundled
    CNN shown (as after a start of the app), then the ResNet50 file opened with ``open_model_file`` (Ctrl+O):
    the app's log lines ``opened NAME in X s`` and ``first maps of NAME in X s`` (both counted from the moment
    the compute process starts reading the file) and the ratio first maps / bare (target <= 1.2).
(c) The longest GUI stall (``GuiWatchdog``) from the open to the first maps, and during 20 layer switches
    (conv layers spread over the model; each waits until the new layer's maps are drawn) (target < 100 ms).
(d) Resident memory of both processes with ResNet50 open, shown.

The model file is made in a process of its own (``--make``), so neither measuring process built it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from harness import AppLog, main, median, real_window, rss_both, run_fresh, say, shot, wait_until

SWITCHES = 20
#: each of (a) cold, (a) warm and (b) runs this many times, interleaved (medians)
REPEATS = int(os.environ.get("CNNVIZ_BENCH_BIG_REPEATS", "1"))


def make_model(path: str) -> dict:
    import keras

    model = keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3))
    model.save(path)
    return {"layers": (float(len(model.layers)), "", "")}


def _load_and_call(path: str, x):
    """``load_model`` + one compiled call returning the first conv layer's output and the model's output;
    (seconds of the load, seconds of both, the compiled function)."""
    import keras
    import tensorflow as tf

    t0 = time.perf_counter()
    model = keras.saving.load_model(path, compile=False, safe_mode=True)
    t_load = time.perf_counter() - t0
    conv = next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    read_out = keras.Model(model.inputs, [conv.output, model.output])
    fn = tf.function(lambda batch: read_out(batch, training=False))
    _ = [t.numpy() for t in fn(x)]
    return t_load, time.perf_counter() - t0, fn


def bare_rows(path: str, warm: bool = False) -> dict:
    """Load + one compiled call returning the first conv layer and the output, in this fresh process.

    ``warm``: the bundled CNN is loaded and called the same way first, as the app's compute process has
    done before a person opens their model (Keras's and TensorFlow's first-use costs are then paid)."""
    import numpy as np
    import tensorflow as tf

    if warm:
        from cnnviz_gui.core.resources import default_model_path

        _load_and_call(str(default_model_path()), tf.zeros((1, 28, 28, 1)))
    x = tf.constant(np.random.default_rng(0).random((1, 224, 224, 3), dtype=np.float32) * 255)
    t_load, total, fn = _load_and_call(path, x)
    t1 = time.perf_counter()
    _ = [t.numpy() for t in fn(x)]
    return {
        "bare_load": (t_load, "s", ""),
        "bare_total": (total, "s", ""),
        "bare_forward": ((time.perf_counter() - t1) * 1000, "ms", ""),
    }


def window_rows(path: str) -> dict:
    from cnnviz_gui.ui.watchdog import GuiWatchdog

    rows: dict = {}
    with AppLog() as log, real_window() as w:
        w.start(None)  # the bundled CNN and digits, as after a start of the app
        view = w.activation_view
        wait_until(lambda: view.acts is not None and not w.bridge.busy, timeout=300)
        wd = GuiWatchdog(interval_ms=10, threshold_ms=100).start()
        try:
            shown: list[str] = []
            view.first_maps.connect(shown.append)
            say("big model: opening ResNet50 in the window")
            wd.label = "opening ResNet50"
            wd.reset()
            w.open_model_file(path)
            wait_until(lambda: "resnet50" in shown, timeout=600)
            open_stall, open_gap = wd.max_stall_ms, wd.max_gap_ms
            open_report = wd.report()
            shot(w, "big_model_first_maps")
            wait_until(lambda: not w.bridge.busy, timeout=120)
            gui_rss, compute_rss = rss_both(w)
            conv = [layer.name for layer in w.state.info.conv_layers]
            picks = [conv[round(1 + k * (len(conv) - 2) / (SWITCHES - 1))] for k in range(SWITCHES)]
            say(f"big model: {SWITCHES} layer switches")
            wd.label = "switching layers"
            wd.reset()
            per_switch = []
            for name in picks:
                t0 = time.perf_counter()
                w.state.select_layer(name)
                wait_until(lambda n=name: (c := view.current_output()) is not None and c[0].split("/")[-1] == n,
                           timeout=300)  # fmt: skip
                per_switch.append(time.perf_counter() - t0)
            switch_stall, switch_gap = wd.max_stall_ms, wd.max_gap_ms
            switch_report = wd.report()
            shot(w, "big_model_after_switches")
        finally:
            wd.stop()
        if w.messages:
            raise RuntimeError(f"the window showed messages: {w.messages}")
        opened = log.seconds("opened", "resnet50")
        first = log.seconds("first maps of", "resnet50")
        say(f"big model: log lines: {log.lines('opened')[-1]}; {log.lines('first maps of')[-1]}")
        for what, text in (("open", open_report), ("switches", switch_report)):
            say(f"big model: watchdog, {what}: {text.splitlines()[0]}")
            print(f"watchdog, {what}:\n{text}", file=sys.stderr)  # with the threads' stacks of long stalls
    rows["app_opened"] = (opened[-1], "s", "")
    rows["app_first_maps"] = (first[-1], "s", "")
    rows["stall_open"] = (open_stall, "ms", "< 100")
    rows["gap_open"] = (open_gap, "ms", "")
    rows["stall_switch"] = (switch_stall, "ms", "< 100")
    rows["gap_switch"] = (switch_gap, "ms", "")
    rows["switch_median"] = (median(per_switch), "s", "")
    rows["gui_rss"] = (gui_rss, "MB", "< 400")
    rows["compute_rss"] = (compute_rss, "MB", "")
    return rows


def measure() -> dict:
    bare, warm, app = [], [], []
    with tempfile.TemporaryDirectory(prefix="cnnviz-bench-resnet-") as folder:
        path = str(Path(folder) / "resnet50.keras")
        say("big model: building and saving ResNet50 (weights=None)")
        run_fresh(__file__, "--make", path)
        for k in range(REPEATS):  # interleaved, so a busy moment on the machine hits all three
            say(f"big model: bare Keras in a fresh process, cold and warm ({k + 1} of {REPEATS})")
            bare.append(run_fresh(__file__, "--bare", path))
            warm.append(run_fresh(__file__, "--bare-warm", path))
            app.append(run_fresh(__file__, "--window", path))

    def m(runs: list[dict], key: str) -> tuple:
        return (median([r[key][0] for r in runs]), *runs[0][key][1:])

    first = m(app, "app_first_maps")
    return {
        "big model (a) bare Keras: load_model": m(bare, "bare_load"),
        "big model (a) bare Keras: load + first call (2 outputs)": m(bare, "bare_total"),
        "big model (a)   same, after the bundled CNN (warm Keras)": m(warm, "bare_total"),
        "big model (a) bare Keras: one more forward pass": m(bare, "bare_forward"),
        "big model (b) app log: opened resnet50 in": m(app, "app_opened"),
        "big model (b) app log: first maps of resnet50 in": first,
        "big model (b) ratio first maps / bare load + call": (
            first[0] / m(bare, "bare_total")[0],
            "x",
            "<= 1.2",
        ),
        "big model (b) ratio first maps / warm bare load + call": (
            first[0] / m(warm, "bare_total")[0],
            "x",
            "<= 1.2",
        ),  # fmt: skip
        "big model (c) longest GUI stall, open -> first maps": m(app, "stall_open"),
        "big model (c)   longest gap incl. starved, open": m(app, "gap_open"),
        f"big model (c) longest GUI stall, {SWITCHES} layer switches": m(app, "stall_switch"),
        "big model (c)   longest gap incl. starved, switches": m(app, "gap_switch"),
        "big model (c) layer switch -> maps drawn, median": m(app, "switch_median"),
        "big model (d) GUI process RSS, ResNet50 shown": m(app, "gui_rss"),
        "big model (d) compute process RSS, ResNet50 shown": m(app, "compute_rss"),
    }


def measure_here() -> dict:
    args = sys.argv[1:]
    if "--bare-warm" in args:
        return bare_rows(args[args.index("--bare-warm") + 1], warm=True)
    for flag, fn in (("--make", make_model), ("--bare", bare_rows), ("--window", window_rows)):
        if flag in args:
            return fn(args[args.index(flag) + 1])
    return measure()


if __name__ == "__main__":
    main(measure_here)
