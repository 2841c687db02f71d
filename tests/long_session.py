"""A long session driven on the real window, for memory-growth and retracing checks.

Used by ``tests/ui/test_long_session.py`` (short: make test) and ``tests/benchmarks/bench_memory.py``
(long: make bench). It needs no pytest: it runs the Qt event loop itself, so a benchmark can call it.

``run_session(window, model_path, opens=.., switches=.., actions=[(name, count, fn)])``: opens the model
``opens`` times (each open replaces, i.e. closes, the previous one), switches layers ``switches`` times, then
runs each extra action ``count`` times (``fn(window, i)`` must block until its work is done, e.g. with
:func:`wait_until`). This is the hook for later tabs: 200 single-map OIPs, encodes, decodes.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable

from PySide6.QtWidgets import QApplication

from cnnviz_gui.core.runtime.diagnostics import RetracingCounter, rss_mb  # noqa: F401 - used by tests


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    """Run the Qt event loop until ``predicate()`` is true; raise TimeoutError after ``timeout`` seconds."""
    app = QApplication.instance()
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError(f"condition not met within {timeout:.0f} s")
        app.processEvents()
        time.sleep(0.002)


def add_activation_view(window):
    """The window's Activations tab, made current."""
    window.tabs.setCurrentWidget(window.activation_view)
    return window.activation_view


def compute_status(window, reset_warnings: bool = False) -> dict:
    """The compute process's own report (``runtime.status``): RSS, compiled functions, extra traces, warnings."""
    got = []
    window.bridge.request(
        "runtime.status", {"reset_warnings": reset_warnings}, label="Status", on_result=got.append
    )
    wait_until(lambda: bool(got))
    return got[0]


def _open_and_wait(window, view, model_path: str) -> None:
    previous = window.state.loaded
    window.open_model_file(model_path)
    wait_until(lambda: window.state.loaded is not previous and window.state.loaded is not None)
    if view is not None:
        wait_until(lambda: view.acts is not None and not window.bridge.busy)
    wait_until(lambda: not window.bridge.busy)


def run_session(
    window,
    model_path: str,
    opens: int,
    switches: int,
    actions: list[tuple[str, int, Callable]] = (),
    warmup: int = 10,
) -> dict:
    """Drive the session; return memory (MB) of both processes, retracing warnings, counts and seconds.

    Each open traces the new model's functions once (that is compiling a new model, not retracing); TF's
    frequent-tracing heuristic warns about that after five opens in a row, because it keys on the Python
    code. So opens are checked by ``extra_traces`` (traces beyond the first of each cached function, summed
    over every opened model), and TF's retracing warnings are counted in the steady state that follows. The
    compute process reports its own memory, functions and warnings (``runtime.status``).
    """
    view = add_activation_view(window)
    extra_traces = 0
    for _ in range(warmup):
        _open_and_wait(window, view, model_path)
    layers = [layer.name for layer in window.state.info.iter_layers()]
    for i in range(min(switches, 2 * len(layers))):  # warm the drawing of every layer once
        window.state.select_layer(layers[i % len(layers)])
        wait_until(lambda: not window.bridge.busy)
    for _name, count, fn in actions:  # warm each action up (its first runs allocate caches)
        for i in range(min(count, warmup)):
            fn(window, i)
    QApplication.instance().processEvents()
    gc.collect()
    compute_start = compute_status(window, reset_warnings=True)["rss_mb"]
    start_rss, start = rss_mb(), time.perf_counter()
    for i in range(opens):
        extra_traces += compute_status(window)["extra_traces"]
        _open_and_wait(window, view, model_path)
        if os.environ.get("CNNVIZ_BENCH_VERBOSE") and i % 10 == 9:
            print(f"open {i + 1}: RSS {rss_mb():.1f} MB", flush=True)
    after_opens = rss_mb()
    compute_status(window, reset_warnings=True)  # warnings about compiling each newly opened model: see above
    layers = [layer.name for layer in window.state.info.iter_layers()]
    for i in range(switches):
        window.state.select_layer(layers[i % len(layers)])
        if i % 10 == 0:
            QApplication.instance().processEvents()
    wait_until(lambda: not window.bridge.busy)
    after_switches = rss_mb()
    for _name, count, fn in actions:
        for i in range(count):
            fn(window, i)
    QApplication.instance().processEvents()
    status = compute_status(window)
    extra_traces += status["extra_traces"]
    gc.collect()
    end_rss = rss_mb()
    return {
        "opens": opens,
        "switches": switches,
        "actions": {name: count for name, count, _ in actions},
        "rss_start_mb": start_rss,
        "rss_after_opens_mb": after_opens,
        "rss_after_switches_mb": after_switches,
        "rss_end_mb": end_rss,
        "growth_mb": end_rss - start_rss,
        "compute_rss_start_mb": compute_start,
        "compute_rss_end_mb": status["rss_mb"],
        "compute_growth_mb": status["rss_mb"] - compute_start,
        "retracing_warnings": status["retracing_warnings"],
        "extra_traces": extra_traces,
        "compiled_functions": status["compiled_functions"],
        "seconds": time.perf_counter() - start,
        "activations_view": view is not None,
        "platform": sys.platform,
    }
