"""Restart: the compute process is killed (SIGKILL) while a job runs, in the real window with the bundled MNIST
CNN open; how long until its maps are on screen again, against the model's open time (``make bench``).

The job is an OIP search of the whole ``Conv2D_3`` layer started from the OIP tab (100,000 steps: it runs
until the kill). The clock runs from ``os.kill`` to the Activations tab drawing a forward pass of the new
compute process (the bridge notices the death, starts or takes over a process, replays TensorFlow's start and
the model's open, and the tab asks again when the model is back). With the spare process
(``create_bridge(spare=True)``, ``spare_delay_s`` 0.5 s so that it is ready before the kill; the kill waits
for it) a restart should cost the model's open time (``opened NAME in X s`` of the app's log) + at most 2 s;
without it TensorFlow's import comes on top. Each variant runs ``CNNVIZ_BENCH_RESTART_RUNS`` times (default
2), interleaved, each in a new window; medians.
"""

from __future__ import annotations

import os
import signal
import time

from harness import AppLog, compute_pid, main, median, real_window, run_fresh, say, shot, spin, wait_until

RUNS = int(os.environ.get("CNNVIZ_BENCH_RESTART_RUNS", "2"))


def one_restart(spare: bool) -> dict:
    """Open the bundled CNN, start a long OIP search, kill the compute process; seconds until maps are back."""
    from cnnviz_gui.core.resources import default_model_path

    with AppLog() as log, real_window(spare=spare, spare_delay_s=0.5) as w:
        w.start(str(default_model_path()))
        view = w.activation_view
        wait_until(lambda: view.acts is not None and not w.bridge.busy, timeout=300)
        opened = log.seconds("opened", "mnist_cnn")[-1]
        if spare:
            wait_until(lambda: w.bridge.spare_pid is not None, timeout=300)
        panel = w.oip_panel
        panel.form.select_layer("Conv2D_3")
        panel.form.maps_edit.setText("all")
        panel.form.steps.setValue(100_000)
        panel.form.data_check.setChecked(False)
        panel.start()
        wait_until(lambda: w.bridge.running_label().startswith("OIP search"), timeout=60)
        spin(1.0)  # it is well into its steps
        if not panel.running:
            raise RuntimeError("the OIP search ended before the kill")
        pid, shown = compute_pid(w), view.acts
        t0 = time.perf_counter()
        os.kill(pid, signal.SIGKILL)
        # a new forward pass is drawn as soon as it arrives (the tab sets it and renders it in one go)
        wait_until(lambda: view.acts is not None and view.acts is not shown, timeout=300, poll_s=0.001)
        seconds = time.perf_counter() - t0
        shot(w, f"restart_{'spare' if spare else 'no_spare'}_maps_back")
        if compute_pid(w) == pid or w.bridge.restart_count != 1 or w.state.info.name != "mnist_cnn":
            raise RuntimeError(
                f"maps came back without one restart: pid {pid} -> {compute_pid(w)}, "
                f"{w.bridge.restart_count} restarts, model {w.state.info.name}"
            )
        if w.messages:
            raise RuntimeError(f"the window showed messages: {w.messages}")
        return {"opened": opened, "back": seconds}


def measure_here() -> dict:
    with_spare, without = [], []
    for k in range(RUNS):
        say(f"restart: run {k + 1} of {RUNS}, with and without the spare process")
        with_spare.append(one_restart(spare=True))
        without.append(one_restart(spare=False))
    opened = median([r["opened"] for r in with_spare + without])
    back_spare = median([r["back"] for r in with_spare])
    back_plain = median([r["back"] for r in without])
    return {
        "restart: MNIST CNN open time (app log: opened ... in)": (opened, "s", ""),
        "restart, spare process: SIGKILL -> maps back on screen": (back_spare, "s", f"<= {opened + 2:.1f}"),
        "restart, spare process: maps back minus open time": (back_spare - opened, "s", "<= 2"),
        "restart, no spare process: SIGKILL -> maps back": (back_plain, "s", ""),
        "restart, no spare process: maps back minus open time": (back_plain - opened, "s", ""),
    }


def measure() -> dict:
    return run_fresh(__file__)


if __name__ == "__main__":
    main(measure_here)
