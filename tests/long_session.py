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
import logging
import os
import sys
import time
from collections.abc import Callable

from PySide6.QtWidgets import QApplication


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    """Run the Qt event loop until ``predicate()`` is true; raise TimeoutError after ``timeout`` seconds."""
    app = QApplication.instance()
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError(f"condition not met within {timeout:.0f} s")
        app.processEvents()
        time.sleep(0.002)


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc; psutil elsewhere when installed)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
    except ImportError:
        return float("nan")


class RetracingCounter(logging.Handler):
    """Counts TensorFlow's "triggered tf.function retracing" warnings while attached."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if "retracing" in text:
            self.messages.append(text)

    def __enter__(self) -> RetracingCounter:
        logging.getLogger("tensorflow").addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        logging.getLogger("tensorflow").removeHandler(self)


def add_activation_view(window):
    """The window's Activations tab, made current."""
    window.tabs.setCurrentWidget(window.activation_view)
    return window.activation_view


def compiled_functions(loaded) -> list:
    """The ``tf.function`` objects cached for an open model (e.g. the activation probe's)."""
    found, seen = [], set()
    stack = list(loaded.cache.values())
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if hasattr(obj, "experimental_get_tracing_count"):
            found.append(obj)
        elif isinstance(obj, dict):
            stack.extend(obj.values())
        elif hasattr(obj, "__dict__") and type(obj).__module__.startswith("cnnviz_gui"):
            stack.extend(vars(obj).values())
    return found


def traces_of(loaded) -> int:
    """How many times the model's cached functions were traced (one per function when nothing retraces)."""
    return sum(fn.experimental_get_tracing_count() - 1 for fn in compiled_functions(loaded))


def _open_and_wait(window, view, model_path: str) -> None:
    previous = window.state.loaded
    window.open_model_file(model_path)
    wait_until(lambda: window.state.loaded is not previous and window.state.loaded is not None)
    if view is not None:
        wait_until(lambda: view.acts is not None and not window.bridge.compute.busy)
    wait_until(lambda: not window.bridge.compute.busy)


def run_session(
    window,
    model_path: str,
    opens: int,
    switches: int,
    actions: list[tuple[str, int, Callable]] = (),
    warmup: int = 10,
) -> dict:
    """Drive the session; return memory (MB), retracing warnings, counts and seconds.

    Each open traces the new model's functions once (that is compiling a new model, not retracing); TF's
    frequent-tracing heuristic warns about that after five opens in a row, because it keys on the Python
    code. So opens are checked by ``extra_traces`` (traces beyond the first of each cached function, summed
    over every opened model), and TF's retracing warnings are counted in the steady state that follows.
    """
    view = add_activation_view(window)
    extra_traces = 0
    for _ in range(warmup):
        _open_and_wait(window, view, model_path)
    with RetracingCounter() as retraces:
        layers = [layer.name for layer in window.state.info.iter_layers()]
        for i in range(min(switches, 2 * len(layers))):  # warm the drawing of every layer once
            window.state.select_layer(layers[i % len(layers)])
        for _name, count, fn in actions:  # warm each action up (its first runs allocate caches)
            for i in range(min(count, warmup)):
                fn(window, i)
        QApplication.instance().processEvents()
        gc.collect()
        start_rss, start = rss_mb(), time.perf_counter()
        retraces.messages.clear()  # warnings about compiling each newly opened model: see above
        for i in range(opens):
            extra_traces += traces_of(window.state.loaded)
            _open_and_wait(window, view, model_path)
            if os.environ.get("CNNVIZ_BENCH_VERBOSE") and i % 10 == 9:
                print(f"open {i + 1}: RSS {rss_mb():.1f} MB", flush=True)
        after_opens = rss_mb()
        retraces.messages.clear()
        layers = [layer.name for layer in window.state.info.iter_layers()]
        for i in range(switches):
            window.state.select_layer(layers[i % len(layers)])
            if i % 10 == 0:
                QApplication.instance().processEvents()
        after_switches = rss_mb()
        for _name, count, fn in actions:
            for i in range(count):
                fn(window, i)
        QApplication.instance().processEvents()
        extra_traces += traces_of(window.state.loaded)
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
        "retracing_warnings": list(retraces.messages),
        "extra_traces": extra_traces,
        "compiled_functions": len(compiled_functions(window.state.loaded)),
        "seconds": time.perf_counter() - start,
        "activations_view": view is not None,
        "platform": sys.platform,
    }
