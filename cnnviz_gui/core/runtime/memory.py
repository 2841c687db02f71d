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

#: above this many objects in the oldest generation (not frozen) a collection would take ~50 ms or more
MAX_OLD_OBJECTS = 60_000


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

    Only after :func:`freeze_long_lived`, and only while the oldest generation is small (a window with a few
    models holds ~15,000 objects there; a collection then takes 2–7 ms): otherwise the walk would hold the
    GIL long enough to stall the GUI, and collecting is left to Python's own schedule.
    """
    if not gc.get_freeze_count():
        return 0, 0.0
    start = time.perf_counter()
    old = len(gc.get_objects(generation=2))
    if old > MAX_OLD_OBJECTS:  # the walk would hold the GIL too long: leave it to Python's own schedule
        log.info("garbage collection skipped: %d old objects since start-up", old)
        return 0, (time.perf_counter() - start) * 1000
    n = gc.collect()
    ms = (time.perf_counter() - start) * 1000
    log.debug("garbage collection: %d objects of %d in %.1f ms", n, old, ms)
    return n, ms
