"""Keep Python's garbage collector from freezing the GUI and from letting closed models pile up.

With TensorFlow imported a process holds ~360,000 long-lived Python objects; a full collection walks all of
them with the GIL held (~200 ms on a 2-core machine), and Python runs one now and then by itself: a GUI stall
at a random moment. :func:`freeze_long_lived` moves the objects alive after start-up into the permanent
generation (``gc.freeze``), so later collections walk only newer objects (~2 ms). Keras models hold
reference cycles, so a closed model waits for a collection; :func:`release_unused` runs one after a model
is replaced, before its garbage grows the resident memory.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


def freeze_long_lived() -> int:
    """``gc.freeze()`` everything alive now, once per process (after TensorFlow and Keras are imported)."""
    if gc.get_freeze_count():
        return gc.get_freeze_count()
    gc.freeze()
    count = gc.get_freeze_count()
    log.info("%d start-up objects moved out of the garbage collector's way", count)
    return count


def release_unused() -> tuple[int, float]:
    """Collect garbage (e.g. a model just closed); returns (objects collected, milliseconds).

    Only after :func:`freeze_long_lived`: without it a collection walks every object (hundreds of ms), so
    it is left to Python's own schedule.
    """
    if not gc.get_freeze_count():
        return 0, 0.0
    start = time.perf_counter()
    n = gc.collect()
    ms = (time.perf_counter() - start) * 1000
    log.debug("garbage collection: %d objects in %.1f ms", n, ms)
    return n, ms
