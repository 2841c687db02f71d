"""What the compute process can tell about itself: memory, compiled functions, TensorFlow's retracing warnings."""

from __future__ import annotations

import logging
import os


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process (this one by default) in MB, from /proc (psutil elsewhere)."""
    try:
        with open(f"/proc/{pid or os.getpid()}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / 2**20
    except Exception:  # no psutil, or the process is gone
        return float("nan")


def compiled_functions(loaded) -> list:
    """The ``tf.function`` objects cached for an open model (e.g. its read-out probe's)."""
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


def extra_traces(loaded) -> int:
    """Traces beyond the first of each of the model's cached functions (0 when nothing retraced)."""
    return sum(max(fn.experimental_get_tracing_count() - 1, 0) for fn in compiled_functions(loaded))


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


#: attached for the life of the compute process (``runtime.status`` reports and can reset it)
retracing = RetracingCounter()
