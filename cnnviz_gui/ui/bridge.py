"""The GUI's one door to the compute process, and the one place that decides how every job ends.

Views ask for an operation by name with plain parameters (:meth:`ComputeBridge.request`); callbacks always
run on the GUI thread. A job ends in exactly one of:

- **done**: ``on_result(result)``;
- **stopped** (the person stopped it): ``on_stopped(partial result or None)``;
- **superseded** (a newer request of the same ``kind``): nothing is delivered, ever;
- **failed**: ``on_error(JobError)``, or :attr:`job_failed` when no ``on_error`` was given.

Stop is cooperative first; a running job that has not ended ``stop_grace_s`` after Stop (a long native call)
gets the compute process killed and restarted. When the compute process dies (killed, out of memory, a native
abort) the bridge restarts it and replays the *sticky* requests (TensorFlow's start, the open models) in
order, so the person's work is back without them doing anything; :attr:`process_message` says what happened.
Progress is coalesced: only the newest progress of a job is delivered, at most ``progress_hz`` times a second.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from cnnviz_gui.core.runtime.jobs import JobError
from cnnviz_gui.core.runtime.wire import error_from_plain

log = logging.getLogger(__name__)

ENDED = ("done", "stopped", "superseded", "failed")
#: restarts within this many seconds count as a crash loop; after MAX_RESTARTS the sticky state is dropped
RESTART_WINDOW_S, MAX_RESTARTS = 60.0, 3


@dataclass
class Job:
    """A request as the GUI sees it; ``state`` is queued, running (returned: its function returned on Stop and
    its result is on the way), then one of done/stopped/superseded/failed."""

    id: int
    op: str
    params: dict
    kind: str | None = None
    label: str = ""
    on_result: Callable | None = None
    on_error: Callable | None = None
    on_progress: Callable | None = None
    on_stopped: Callable | None = None
    sticky: str | None = None
    on_replayed: Callable | None = None
    state: str = "queued"
    stopping: bool = False
    generation: int = 0
    submitted: float = field(default_factory=time.monotonic)

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    @property
    def cancelled(self) -> bool:
        return self.state == "superseded" or self.stopping


class ComputeBridge(QObject):
    """Requests to the compute process and their results on the GUI thread (see the module docstring)."""

    #: the label of the job that runs now; "" when the compute process is idle
    status_changed = Signal(str)
    #: a job without ``on_error`` failed: (label, JobError)
    job_failed = Signal(str, object)
    #: one sentence for the status bar about the compute process (restarting, restarted)
    process_message = Signal(str)
    #: the compute process (re)started and replayed its sticky requests
    restarted = Signal()
    _event = Signal(int, object)

    def __init__(self, backend, parent: QObject | None = None, *, progress_hz: float = 30.0,
                 stop_grace_s: float = 0.25, spare_factory: Callable | None = None, spare_delay_s: float = 20.0):  # fmt: skip
        super().__init__(parent)
        self.backend = backend
        self.stop_grace_s = stop_grace_s
        self.spare_factory = spare_factory
        self.spare_delay_s = spare_delay_s
        self.use_spare = spare_factory is not None
        self.jobs: dict[int, Job] = {}
        self.sticky: OrderedDict[str, Job] = OrderedDict()
        self._ids = itertools.count(1)
        self._latest_progress: dict[int, tuple] = {}
        self._restarts: list[float] = []
        self._restart_reason = ""
        self._closing = False
        self._retired: list = []
        self._spare = None
        self._spare_ready = False
        self.restart_count = 0
        self._timer = QTimer(self)
        self._timer.setInterval(int(1000 / progress_hz))
        self._timer.timeout.connect(self._flush_progress)  # runs only while jobs are in flight
        self._event.connect(self._on_event)
        self._spare_timer = QTimer(self)
        self._spare_timer.setSingleShot(True)
        self._spare_timer.timeout.connect(self._start_spare)
        backend.on_event = self._event.emit
        backend.start()

    @property
    def pid(self) -> int | None:
        """The compute process's id (None in-process)."""
        return getattr(self.backend, "pid", None)

    @property
    def generation(self) -> int:
        """Which compute process events must come from (a number per process started)."""
        return self.backend.generation

    # -- asking -----------------------------------------------------------------------------------------------
    @property
    def synchronous(self) -> bool:
        return bool(getattr(self.backend, "synchronous", False))

    def request(self, op: str, params: dict | None = None, *, kind: str | None = None, label: str = "",
                on_result: Callable | None = None, on_error: Callable | None = None,
                on_progress: Callable | None = None, on_stopped: Callable | None = None,
                sticky: str | None = None, on_replayed: Callable | None = None) -> Job:  # fmt: skip
        """Run operation ``op`` with ``params`` in the compute process.

        A pending or running job of the same ``kind`` is superseded (its result is never delivered).
        ``sticky``: once done, the request is replayed (``on_replayed(result)``) whenever the compute
        process restarts; a later sticky request with the same key replaces it.
        """
        if kind is not None:
            self.cancel_kind(kind)
        job = Job(next(self._ids), op, dict(params or {}), kind, label or op, on_result, on_error, on_progress,
                  on_stopped, sticky, on_replayed, generation=self.generation)  # fmt: skip
        self.jobs[job.id] = job
        self._send(job)
        return job

    def _send(self, job: Job) -> None:
        job.generation = self.generation
        if not self._timer.isActive():
            self._timer.start()
        self.backend.submit(job.id, job.op, job.params, job.label)

    def control(self, job: Job, **data) -> None:
        """Send controls to a running job (e.g. which OIP map the live view follows)."""
        if not job.ended:
            self.backend.control(job.id, data)

    def cancel_kind(self, kind: str) -> None:
        """Supersede every pending or running job of ``kind``: none of them delivers anything any more."""
        for job in list(self.jobs.values()):
            if job.kind == kind and job.state in ("queued", "running"):
                job.state = "superseded"
                self._latest_progress.pop(job.id, None)
                self.backend.cancel(job.id)

    def stop(self, job: Job | None = None, keep: tuple[str, ...] = (), grace: bool = True) -> int:
        """The person's Stop: one job, or every job whose kind is not in ``keep``; returns how many.

        A stopped job delivers its partial result (``on_stopped``). With ``grace``, a running one that has
        not ended ``stop_grace_s`` later gets the compute process restarted.
        """
        targets = [job] if job is not None else [j for j in self.jobs.values() if j.kind not in keep]
        stopped = [j for j in targets if not j.ended and not j.cancelled]
        for j in stopped:
            j.stopping = True
            self.backend.cancel(j.id)
        if stopped and grace and self.stop_grace_s is not None:
            ids = [j.id for j in stopped]
            QTimer.singleShot(int(self.stop_grace_s * 1000), lambda: self._check_stopped(ids))
        return len(stopped)

    def _check_stopped(self, ids: list[int]) -> None:
        stuck = [self.jobs[i] for i in ids if i in self.jobs and self.jobs[i].state == "running"]
        if stuck and not self._closing:
            names = ", ".join(sorted({j.label for j in stuck}))
            self.restart(f"{names} did not stop within {self.stop_grace_s:.2f} s")

    @property
    def busy(self) -> bool:
        return any(not j.ended for j in self.jobs.values())

    def running_label(self) -> str:
        running = [j for j in self.jobs.values() if j.state == "running"]
        return running[0].label if running else ""

    def unstick(self, key: str) -> None:
        self.sticky.pop(key, None)

    # -- events from the compute process ----------------------------------------------------------------------
    @Slot(int, object)
    def _on_event(self, generation: int, event: dict) -> None:
        kind = event.get("ev")
        if self._spare is not None and generation == self._spare.generation:
            self._on_spare_event(event)
            return
        if generation != self.generation:
            return  # a process that was replaced
        if kind == "ready":
            return
        if kind == "exited":
            self._on_process_gone(event.get("code"))
            return
        job = self.jobs.get(event.get("job"))
        if job is None:
            return
        if kind == "started":
            if job.state == "queued":
                job.state = "running"
            self.status_changed.emit(job.label)
        elif kind == "progress":
            if job.on_progress is not None and not job.cancelled:
                args = (event["fraction"], event["text"], event["payload"])
                if self.synchronous:  # no event loop runs while a synchronous job does: draw each at once
                    job.on_progress(*args)
                else:
                    self._latest_progress[job.id] = (job, args)
        elif kind == "returned":
            job.state = "returned"  # the function returned on Stop: no reason to kill the process
        elif kind == "ended":
            self._flush_progress(job.id)
            self._end(job, event["state"], event.get("result"), event.get("error"))

    def _end(
        self, job: Job, state: str, result: Any = None, error: dict | None = None, quiet: bool = False
    ) -> None:
        """Decide how ``job`` ended and deliver exactly that (the only place that does).

        ``quiet``: a failure without ``on_error`` is not announced (the process message said it already).
        """
        self.jobs.pop(job.id, None)
        self._latest_progress.pop(job.id, None)
        if job.state == "superseded":
            pass
        elif state == "failed":
            job.state = "failed"
            err = JobError(
                str(error.get("message", "")), str(error.get("details", "")), error_from_plain(error)
            )
            if job.on_error is not None:
                job.on_error(err)
            elif not quiet:
                self.job_failed.emit(job.label, err)
        elif state == "stopped" or (job.stopping and state != "done"):
            job.state = "stopped"
            if job.on_stopped is not None:
                job.on_stopped(result)
        else:
            job.state = "done"
            if job.sticky is not None:
                self.sticky[job.sticky] = job
                self.sticky.move_to_end(job.sticky)
            if job.on_result is not None:
                job.on_result(result)
        if not self.busy:
            self._timer.stop()
            self.status_changed.emit("")
            if self._pending_restart:
                reason, self._pending_restart = self._pending_restart, ""
                QTimer.singleShot(0, lambda: self.restart(reason, expected=True))
            else:
                self._schedule_spare()
        else:
            self.status_changed.emit(self.running_label())

    def _flush_progress(self, only: int | None = None) -> None:
        if only is None:
            items = list(self._latest_progress.values())
            self._latest_progress.clear()
        else:
            item = self._latest_progress.pop(only, None)
            items = [item] if item else []
        for job, args in items:
            if not job.cancelled and not job.ended:
                job.on_progress(*args)

    # -- restarts ---------------------------------------------------------------------------------------------
    def restart(self, reason: str, expected: bool = False) -> None:
        """Kill the compute process and start a new one (its "exited" event does the rest). ``expected``: a
        restart the person asked for (new settings): it does not count towards a crash loop and the spare
        process, started with the old settings, is not used."""
        self._restart_reason = reason
        if expected:
            self._restarts.clear()
            self._spare_ready = False
        generation = self.generation
        self.backend.kill()
        if self.generation == generation:  # not handled yet (a real process reports its end asynchronously)
            self._on_process_gone(-9)

    def restart_when_idle(self, reason: str) -> None:
        """An expected restart (new settings) now, or as soon as no job is in flight."""
        if self.busy:
            self._pending_restart = reason
        else:
            self.restart(reason, expected=True)

    _pending_restart = ""

    def update_sticky(self, key: str, params: dict) -> None:
        """New parameters for the sticky request ``key`` (used from the next restart on)."""
        if key in self.sticky:
            self.sticky[key].params.update(params)

    def _on_process_gone(self, code) -> None:
        if self._closing:
            return
        reason, self._restart_reason = self._restart_reason, ""
        what = reason or f"The compute process ended unexpectedly (exit code {code})"
        log.warning("%s; restarting it", what)
        waiting = []  # jobs that had not started: they run in the new process, after the replays
        for job in list(self.jobs.values()):
            if job.stopping:
                self._end(job, "stopped")
            elif job.state == "queued":
                waiting.append(job)
            elif not job.ended:
                error = {"type": "", "message": f"{what}, while '{job.label}' ran."}
                self._end(job, "failed", error=error, quiet=True)
        now = time.monotonic()
        self._restarts = [t for t in self._restarts if now - t < RESTART_WINDOW_S] + [now]
        if len(self._restarts) > MAX_RESTARTS and self.sticky:
            self.sticky = OrderedDict((k, j) for k, j in self.sticky.items() if k == "runtime")
            what += "; it kept failing, so the models were not reopened"
        replay = list(self.sticky.values())
        if self._spare is not None and self._spare_ready:
            self._retire(self.backend)
            self.backend, self._spare = self._spare, None  # already started, TensorFlow imported
            replay = [j for j in replay if j.sticky != "runtime"]
        else:
            self._drop_spare()
            self.backend = self._fresh_backend()
        self.restart_count += 1
        reopened = [j.label for j in replay if j.sticky != "runtime"]
        self.process_message.emit(f"{what}: the compute process was restarted" + (
            f"; reopening {', '.join(reopened)}…" if reopened else "."))  # fmt: skip
        for old in replay:
            self._replay(old)
        for job in waiting:
            if job.id in self.jobs:  # a replay may have superseded it
                self.jobs[job.id] = self.jobs.pop(job.id)  # after the replays in the bridge's order too
                self._send(job)
        self.restarted.emit()

    def _fresh_backend(self):
        """A new compute process: from the factory (the old object retired) or the same object restarted."""
        backend = self.backend
        if self.spare_factory is not None:
            self._retire(backend)
            backend = self.spare_factory()
            backend.on_event = self._event.emit
        backend.start()
        return backend

    def _replay(self, old: Job) -> None:
        def replayed(result, old=old) -> None:
            if old.on_replayed is not None:
                old.on_replayed(result)

        def failed(err, old=old) -> None:
            self.sticky.pop(old.sticky, None)
            self.process_message.emit(f"Could not reopen after the restart: {err.message}")

        self.request(old.op, old.params, kind=None, label=old.label, on_result=replayed, on_error=failed,
                     sticky=old.sticky, on_replayed=old.on_replayed)  # fmt: skip

    def _retire(self, backend) -> None:
        if backend not in self._retired:
            self._retired.append(backend)

    # -- a spare process, ready to take over -----------------------------------------------------------------
    def _schedule_spare(self) -> None:
        if not self.use_spare:
            self._drop_spare()
            return
        if self.spare_factory is not None and self._spare is None and "runtime" in self.sticky:
            if not self._spare_timer.isActive():
                self._spare_timer.start(int(self.spare_delay_s * 1000))

    def _start_spare(self) -> None:
        if self._closing or self._spare is not None or "runtime" not in self.sticky or self.busy:
            if not self._closing and self._spare is None:
                self._schedule_spare()
            return
        runtime = self.sticky["runtime"]
        self._spare, self._spare_ready = self.spare_factory(), False
        self._spare.on_event = self._event.emit
        self._spare.start()
        self._spare.submit(next(self._ids), runtime.op, runtime.params, "spare: " + runtime.label)

    def _on_spare_event(self, event: dict) -> None:
        if event.get("ev") == "ended":
            self._spare_ready = event.get("state") == "done"
        elif event.get("ev") == "exited":
            self._retire(self._spare)
            self._spare, self._spare_ready = None, False

    def _drop_spare(self) -> None:
        if self._spare is not None:
            spare, self._spare = self._spare, None
            spare.shutdown(1.0)

    @property
    def spare_pid(self) -> int | None:
        return getattr(self._spare, "pid", None) if self._spare_ready else None

    # -- closing ------------------------------------------------------------------------------------------------
    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop every job, end the compute process (and the spare), wait for their threads."""
        self._closing = True
        self._timer.stop()
        self._spare_timer.stop()
        for job in list(self.jobs.values()):
            self.backend.cancel(job.id)
        self.backend.shutdown(timeout)
        self._drop_spare()
        for old in self._retired:
            old.shutdown(1.0)
        self._retired.clear()
