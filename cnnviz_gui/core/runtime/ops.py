"""Operations of the compute process itself: start TensorFlow, versions, status, datasets."""

from __future__ import annotations

import os
import time

from cnnviz_gui.core.runtime.jobs import JobContext, op


@op("runtime.start")
def start(ctx: JobContext, device: str = "auto", threads: int = 0) -> dict:
    """Import TensorFlow with the device and thread preferences; the compute device's name."""
    from cnnviz_gui.core.runtime.tensorflow_setup import configure_tensorflow

    started = time.perf_counter()
    name = configure_tensorflow(device, threads)
    return {"device": name, "pid": os.getpid(), "seconds": time.perf_counter() - started}


@op("runtime.versions")
def versions(ctx: JobContext) -> dict:
    from cnnviz_gui.core.runtime.tensorflow_setup import library_versions

    return library_versions()


@op("runtime.status")
def status(ctx: JobContext) -> dict:
    """The process id, its resident memory (MB) and what it holds (for tests, benchmarks, the About box)."""
    rss = 0.0
    try:
        with open(f"/proc/{os.getpid()}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) / 1024
    except OSError:
        pass
    return {"pid": os.getpid(), "rss_mb": rss, "models": sorted(ctx.store.models),
            "objects": sorted(ctx.store.objects), "datasets": list(ctx.store.datasets)}  # fmt: skip


@op("datasets.load")
def load_dataset(ctx: JobContext, key: str):
    """A dataset by source name or path (kept for later jobs that name the same key)."""
    return ctx.store.dataset(key)
