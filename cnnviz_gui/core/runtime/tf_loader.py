"""Load TensorFlow's native libraries without holding Python's GIL, so the GUI keeps drawing meanwhile.

``import tensorflow`` first loads about 1.3 GB of shared libraries whose static initialisers run inside
``dlopen``. Python's import machinery calls ``dlopen`` while holding the GIL, so for 0.5–1 s no other Python
thread (the GUI thread included) can run. A foreign call through :mod:`ctypes` releases the GIL: calling the C
library's ``dlopen`` on the same extension first does the heavy work with the GIL released; the import that
follows finds the libraries already loaded. Measured in ``tests/benchmarks/bench_startup.py``.

Set ``CNNVIZ_NO_TF_PRELOAD=1`` to skip it (for measurements or if a platform misbehaves).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: the first TensorFlow extension imported by ``import tensorflow``; it links every big native library
_FIRST_EXTENSION = ("python", "platform", "_pywrap_cpu_feature_guard")


def _extension_path() -> Path | None:
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or spec.origin is None:
        return None
    folder = Path(spec.origin).parent.joinpath(*_FIRST_EXTENSION[:-1])
    for candidate in sorted(folder.glob(_FIRST_EXTENSION[-1] + ".*")):
        if candidate.suffix in (".so", ".dylib"):
            return candidate
    return None


def preload_tensorflow_libraries() -> float | None:
    """``dlopen`` TensorFlow's first extension with the GIL released; returns the seconds it took.

    Returns ``None`` when skipped (TensorFlow already imported, Windows, no such file, disabled, or the
    call failed: the ordinary import then does the work as before).
    """
    if "tensorflow" in sys.modules or sys.platform == "win32" or os.environ.get("CNNVIZ_NO_TF_PRELOAD"):
        return None
    try:
        import ctypes

        path = _extension_path()
        if path is None:
            return None
        libc = ctypes.CDLL(None)
        libc.dlopen.restype = ctypes.c_void_p
        libc.dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
        start = time.perf_counter()
        # the same flags Python's import uses, so the import reuses this handle
        handle = libc.dlopen(os.fsencode(path), sys.getdlopenflags())
        took = time.perf_counter() - start
    except (OSError, AttributeError, ImportError) as err:
        log.info("TensorFlow preload skipped: %s", err)
        return None
    if not handle:
        log.info("TensorFlow preload failed; the import loads the libraries itself")
        return None
    log.info("TensorFlow native libraries loaded in %.2f s with the GIL released", took)
    return took
