"""The compute process's one worker thread: runs operations in order and reports each job's events.

Every TensorFlow call runs on this thread (Keras keeps per-thread state). Events go to ``emit(event)`` as
plain dicts::

    {"ev": "started", "job": id}
    {"ev": "progress", "job": id, "fraction": f, "text": s, "payload": ...}
    {"ev": "returned", "job": id}   (a cancelled job's function returned; its result follows)
    {"ev": "ended", "job": id, "state": "done" | "stopped" | "failed", "result": ..., "error": {...}}

A job ends exactly once. "stopped" means it was cancelled: either before it started (result None) or while it
ran, in which case ``result`` is what the operation returned (its partial result) or None when it raised
:class:`~cnnviz_gui.core.runtime.jobs.JobCancelled`. Whether a stopped job was superseded or stopped by the
person is the GUI's bridge's business, not the executor's.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cnnviz_gui.core.runtime.jobs import OPS, JobCancelled, JobContext, Store
from cnnviz_gui.core.runtime.wire import error_to_plain

log = logging.getLogger(__name__)

Emit = Callable[[dict], None]


@dataclass
class _Job:
    id: int
    op: str
    params: dict
    label: str = ""
    cancel: threading.Event = field(default_factory=threading.Event)
    controls: dict = field(default_factory=dict)


class Executor:
    """Run operations on one worker thread (or inline with ``synchronous=True``) and emit their events."""

    def __init__(self, emit: Emit, *, synchronous: bool = False, store: Store | None = None,
                 name: str = "cnnviz-compute"):  # fmt: skip
        self.emit = emit
        self.synchronous = synchronous
        self.store = store or Store()
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._jobs: dict[int, _Job] = {}
        self._lock = threading.Lock()
        self.current: int | None = None
        self._thread: threading.Thread | None = None
        if not synchronous:
            self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
            self._thread.start()

    def submit(self, job_id: int, op: str, params: dict | None = None, label: str = "") -> None:
        job = _Job(job_id, op, dict(params or {}), label)
        with self._lock:
            self._jobs[job_id] = job
        if self.synchronous:
            self._run(job)
        else:
            self._queue.put(job)

    def cancel(self, job_id: int) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None:
            job.cancel.set()

    def control(self, job_id: int, data: dict) -> None:
        """Update the controls a running job reads (the newest value of each key wins)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None:
            job.controls.update(data)

    def cancel_all(self) -> None:
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            job.cancel.set()

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Cancel everything and stop the worker; returns whether it stopped within ``timeout``."""
        self.cancel_all()
        if self._thread is None:
            return True
        self._queue.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._jobs)

    # -- worker -----------------------------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            self._run(job)

    def _ended(self, job: _Job, state: str, result: Any = None, error: dict | None = None) -> None:
        with self._lock:
            self._jobs.pop(job.id, None)
            self.current = None
        self.emit({"ev": "ended", "job": job.id, "state": state, "result": result, "error": error})

    def _run(self, job: _Job) -> None:
        if job.cancel.is_set():
            self._ended(job, "stopped")
            return
        self.current = job.id
        self.emit({"ev": "started", "job": job.id})

        def progress(fraction: float, text: str = "", payload: Any = None) -> None:
            if not job.cancel.is_set():
                self.emit({"ev": "progress", "job": job.id, "fraction": float(fraction), "text": str(text),
                           "payload": payload})  # fmt: skip

        ctx = JobContext(job.id, progress, job.cancel.is_set, self.store, job.controls)
        fn = OPS.get(job.op)
        start = time.perf_counter()
        try:
            if fn is None:
                raise KeyError(f"the compute process has no operation {job.op!r}")
            result = fn(ctx, **job.params)
        except JobCancelled:
            self._ended(job, "stopped")
        except Exception as exc:  # every failure becomes a message for a person; the worker goes on
            log.exception("job %s (%s) failed", job.op, job.label or job.id)
            error = error_to_plain(exc)
            error["details"] = traceback.format_exc()
            self._ended(job, "failed", error=error)
        else:
            if job.cancel.is_set():  # it returned on Stop: say so before its (maybe large) result is sent
                self.emit({"ev": "returned", "job": job.id})
            self._ended(job, "stopped" if job.cancel.is_set() else "done", result)
        finally:
            log.debug("job %d %s ran %.1f ms", job.id, job.op, (time.perf_counter() - start) * 1000)
