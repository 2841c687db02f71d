"""Operations the IPC benchmark adds to the compute process (``extra_ops=("ipc_ops",)``).

Times are wall-clock (``time.time()``): the GUI and the compute process run on the same machine and read the
same clock, so a difference between a time stamped in one and read in the other is a one-way time.
"""

from __future__ import annotations

import time

import numpy as np

from cnnviz_gui.core.runtime.jobs import JobContext, op

MODULE = "ipc_ops"


@op("bench.noop")
def noop(ctx: JobContext) -> None:
    """Nothing: the round trip of a request is all there is."""
    return None


@op("bench.take")
def take(ctx: JobContext, array: np.ndarray) -> dict:
    """The array arrived (GUI -> compute): when the operation started with it, and its size."""
    return {"received": time.time(), "nbytes": int(array.nbytes)}


@op("bench.give")
def give(ctx: JobContext, shape: tuple, fill: float = 0.5) -> dict:
    """An array of ``shape`` (float32) sent back (compute -> GUI), stamped just before the operation returns
    (it is made first, so making it is not counted)."""
    array = np.full(tuple(shape), fill, np.float32)
    return {"array": array, "sent": time.time()}
