"""The bridge between the compute thread and the GUI thread.

Callbacks given to :meth:`ComputeBridge.submit` always run on the GUI thread: the compute thread's callbacks
are re-emitted through a Qt signal (a queued connection). Progress is coalesced: only the newest progress of a
job is delivered, at most ~30 times a second, so a fast loop never floods the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from cnnviz_gui.core.runtime.jobs import ComputeThread, Job, JobError


class ComputeBridge(QObject):
    """Submit jobs to a :class:`ComputeThread`; receive results, errors and progress on the GUI thread."""

    #: (text) what the compute thread is doing; "" when idle
    status_changed = Signal(str)
    #: a job failed: (label, JobError)
    job_failed = Signal(str, object)
    _deliver = Signal(object)

    def __init__(self, compute: ComputeThread, parent: QObject | None = None, progress_hz: float = 30.0):
        super().__init__(parent)
        self.compute = compute
        self._deliver.connect(self._on_deliver)
        self._latest_progress: dict[int, tuple[Callable, tuple]] = {}
        self._lock = threading.Lock()
        self._timer = QTimer(self)
        self._timer.setInterval(int(1000 / progress_hz))
        self._timer.timeout.connect(self._flush_progress)  # runs only while a job does: no idle wake-ups
        self.status_changed.connect(self._on_status)
        compute.add_status_listener(lambda text: self._deliver.emit((self.status_changed.emit, (text,))))

    @property
    def synchronous(self) -> bool:
        return self.compute.synchronous

    def submit(
        self,
        fn: Callable,
        *,
        kind: str | None = None,
        label: str = "",
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[JobError], None] | None = None,
        on_progress: Callable[[float, str, Any], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
    ) -> Job:
        """Run ``fn(progress, cancelled)`` on the compute thread; callbacks arrive on the GUI thread.

        Without ``on_error`` a failure is announced through :attr:`job_failed` (the main window shows it).
        A job of the same ``kind`` still pending or running is cancelled: its result is never delivered.
        """
        holder: dict[str, Job] = {}

        def wrap(cb):
            if cb is None:
                return None

            def relay(*args):
                self._deliver.emit((cb, args, holder.get("job")))

            return relay

        def error_cb(err):
            if on_error is not None:
                self._deliver.emit((on_error, (err,), holder.get("job")))
            else:
                self._deliver.emit((self.job_failed.emit, (label or "job", err)))

        def progress_cb(*args):
            job = holder.get("job")
            if job is None or on_progress is None:
                return
            with self._lock:
                self._latest_progress[job.id] = (on_progress, args, job)

        if self.synchronous:
            job = self.compute.submit(
                fn,
                kind=kind,
                label=label,
                on_result=on_result,
                on_error=on_error or error_cb,
                on_progress=on_progress,
                on_cancelled=on_cancelled,
            )
            return job
        job = self.compute.submit(
            fn,
            kind=kind,
            label=label,
            on_result=wrap(on_result),
            on_error=error_cb,
            on_progress=progress_cb,
            on_cancelled=wrap(on_cancelled),
        )
        holder["job"] = job
        return job

    @Slot(object)
    def _on_deliver(self, item) -> None:
        cb, args, *rest = item
        job = rest[0] if rest else None
        if job is not None:  # progress drawn before the result, never after it
            self._flush_progress(job.id)
        cb(*args)

    def _on_status(self, _text: str) -> None:
        """A job started or the compute thread went idle: flush progress at ``progress_hz`` while it works.
        Decided by the thread's state now (every start and every idle sends one such event)."""
        if self.compute.busy:
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()
            self._flush_progress()

    def _flush_progress(self, only: int | None = None) -> None:
        with self._lock:
            if only is None:
                items = list(self._latest_progress.values())
                self._latest_progress.clear()
            else:
                item = self._latest_progress.pop(only, None)
                items = [item] if item else []
        for cb, args, job in items:
            if not job.cancelled:
                cb(*args)

    def shutdown(self, timeout: float = 5.0) -> bool:
        self._timer.stop()
        return self.compute.shutdown(timeout)
