"""Operations the tests add to the compute process (``extra_ops=("compute_test_ops",)``).

They stand for what real jobs do: fail, return, sleep in a native call that never looks at Stop, train,
crash the process.
"""

from __future__ import annotations

import os
import time

from cnnviz_gui.core.runtime.jobs import JobContext, op

MODULE = "compute_test_ops"


@op("test.value")
def value(ctx: JobContext, value=None):
    return value


@op("test.fail")
def fail(ctx: JobContext, message: str = "the weights do not fit this layer"):
    raise ValueError(message)


@op("test.sleep")
def sleep(ctx: JobContext, seconds: float = 1.0, cooperative: bool = True, progress: bool = False):
    """Sleep ``seconds``: checking Stop every 10 ms (cooperative) or in one call (like a long native op)."""
    if not cooperative:
        time.sleep(seconds)
        return "slept"
    end = time.monotonic() + seconds
    step = 0
    while time.monotonic() < end:
        ctx.check()
        if progress:
            ctx.progress(1 - (end - time.monotonic()) / seconds, f"step {step}", {"step": step})
        step += 1
        time.sleep(0.01)
    return "slept"


@op("test.train")
def train(ctx: JobContext, out: str, epochs: int = 50, n_train: int = 2000):
    from cnnviz_gui.core.datasets import load_bundled_mnist
    from cnnviz_gui.core.training.cnn import train_cnn

    return train_cnn(out, epochs=epochs, dataset=load_bundled_mnist(), n_train=n_train, progress=ctx.progress,
                     cancelled=ctx.cancelled).path  # fmt: skip


@op("test.crash")
def crash(ctx: JobContext, how: str = "abort"):
    """End the compute process as a native crash would (``abort``) or as the kernel's OOM killer does."""
    if how == "abort":
        os.abort()
    os.kill(os.getpid(), 9)


@op("test.pid")
def pid(ctx: JobContext) -> int:
    return os.getpid()


@op("test.garbage")
def garbage(ctx: JobContext, n: int = 200_000) -> int:
    """Reference cycles enough to cross every garbage-collection threshold many times (on this thread)."""
    junk = []
    for i in range(n):
        a = []
        a.append(a)
        if i % 1000 == 0:
            junk.append(a)
    return len(junk)
