"""Long session: 200 opens of the bundled model, 1,000 layer switches, 200 single-map OIPs, in the real window
on a real compute process; memory growth of both processes and retracing.

Targets (issues 5 and 13): the resident memory of the GUI process and of the compute process each grows
less than 50 MB after warm-up; no tf.function retracing warnings. ``CNNVIZ_BENCH_OPENS`` /
``CNNVIZ_BENCH_SWITCHES`` / ``CNNVIZ_BENCH_OIPS`` shorten it. The session itself is ``tests/long_session.py``.
Run alone with ``python tests/benchmarks/bench_memory.py``.
"""

from __future__ import annotations

import os

from harness import main, real_window, run_fresh, say

OPENS = int(os.environ.get("CNNVIZ_BENCH_OPENS", "200"))
SWITCHES = int(os.environ.get("CNNVIZ_BENCH_SWITCHES", "1000"))
OIPS = int(os.environ.get("CNNVIZ_BENCH_OIPS", "200"))


def single_map_oip(window, i: int) -> None:
    """One single-map OIP search on Conv2D_2 (map ``i % 64``, 20 steps) from the OIP tab; waits for its end."""
    from long_session import wait_until

    panel = window.oip_panel
    panel.form.select_layer("Conv2D_2")
    panel.form.maps_edit.setText(str(i % 64))
    panel.form.steps.setValue(20)
    panel.start()
    wait_until(lambda: not panel.running, timeout=120)
    if panel.result is None or int(panel.result.maps[0]) != i % 64:
        raise RuntimeError(f"OIP run {i} gave no result: {panel.info_label.text()}")


def measure_here() -> dict:
    from long_session import run_session

    from cnnviz_gui.core.resources import default_model_path

    actions = [("single-map OIPs", OIPS, single_map_oip)] if OIPS else []
    say(f"memory: {OPENS} opens, {SWITCHES} layer switches, {OIPS} single-map OIPs")
    with real_window() as window:
        r = run_session(window, str(default_model_path()), opens=OPENS, switches=SWITCHES, actions=actions)
        if window.messages:
            raise RuntimeError(f"the window showed messages: {window.messages}")
    oips = r["actions"].get("single-map OIPs", 0)
    what = f"{OPENS} opens, {SWITCHES} switches" + (f", {oips} OIPs" if oips else "")
    rows = {
        "memory: GUI process growth, whole session": (r["growth_mb"], "MB", "< 50"),
        "memory: compute process growth, whole session": (r["compute_growth_mb"], "MB", "< 50"),
        f"memory:   GUI process, of which {OPENS} opens": (
            r["rss_after_opens_mb"] - r["rss_start_mb"],
            "MB",
            "",
        ),
        "memory:   GUI process RSS after warm-up": (r["rss_start_mb"], "MB", ""),
        "memory:   compute process RSS after warm-up": (r["compute_rss_start_mb"], "MB", ""),
        "memory: retracing warnings (steady state)": (float(len(r["retracing_warnings"])), "", "0"),
        "memory: extra traces, summed over the opened models": (float(r["extra_traces"]), "", "0"),
        f"memory: session of {what}": (r["seconds"], "s", ""),
    }
    if oips:
        rows[f"memory:   GUI process, of which {oips} OIPs"] = (
            r["rss_end_mb"] - r["rss_after_switches_mb"],
            "MB",
            "",
        )
    return rows


def measure() -> dict:
    return run_fresh(__file__, timeout=3600)


if __name__ == "__main__":
    main(measure_here)
