"""Keep TensorFlow's native (C++) start-up chatter off a command line's stderr.

TensorFlow writes oneDNN / CUDA notices straight to file descriptor 2 before its logging is configured, so
``TF_CPP_MIN_LOG_LEVEL`` cannot silence them. For the command line, fd 2 is pointed at ``/dev/null`` while
Python's ``sys.stderr`` keeps writing to the real terminal: the person still sees every message and traceback
of cnnviz, but not the library's noise. ``CNNVIZ_NATIVE_LOGS=1`` keeps the native output.
"""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def native_stderr_silenced():
    """Redirect fd 2 to /dev/null; ``sys.stderr`` keeps the original stream. Restores both on exit."""
    if os.environ.get("CNNVIZ_NATIVE_LOGS") == "1":
        yield
        return
    try:
        sys.stderr.flush()
        original_fd = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real fd 2 (embedded, captured)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    old_stderr = sys.stderr
    python_stream = os.fdopen(os.dup(original_fd), "w", buffering=1, encoding="utf-8", errors="replace")
    try:
        os.dup2(devnull, 2)
        if getattr(old_stderr, "fileno", None) is not None and _is_fd2(old_stderr):
            sys.stderr = python_stream
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        sys.stderr = old_stderr
        os.dup2(original_fd, 2)
        os.close(original_fd)
        os.close(devnull)
        python_stream.close()


def _is_fd2(stream) -> bool:
    try:
        return stream.fileno() == 2
    except (OSError, ValueError):
        return False
