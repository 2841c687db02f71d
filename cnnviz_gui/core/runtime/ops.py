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
def status(ctx: JobContext, reset_warnings: bool = False) -> dict:
    """What the process holds and how it does (tests, benchmarks): its id, resident memory (MB), open models,
    their compiled functions and extra traces, and TensorFlow's retracing warnings since start (or reset)."""
    from cnnviz_gui.core.runtime import diagnostics as d

    models = list(ctx.store.models.values())
    report = {
        "pid": os.getpid(),
        "rss_mb": d.rss_mb(),
        "models": sorted(ctx.store.models),
        "objects": sorted(ctx.store.objects),
        "datasets": list(ctx.store.datasets),
        "compiled_functions": sum(len(d.compiled_functions(m)) for m in models),
        "extra_traces": sum(d.extra_traces(m) for m in models),
        "retracing_warnings": list(d.retracing.messages),
    }
    if reset_warnings:
        d.retracing.messages.clear()
    return report


@op("datasets.load")
def load_dataset(ctx: JobContext, key: str):
    """A dataset by source name or path (kept for later jobs that name the same key); the window's copy
    holds 8-bit images as uint8."""
    return ctx.store.dataset(key).as_bytes()
