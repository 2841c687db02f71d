"""The one compute thread: every TensorFlow call of the app runs here.

A job is a plain function ``fn(progress, cancelled) -> result``. ``progress(fraction, text, payload=None)``
reports progress (and, for live views, a payload such as the current OIP image); ``cancelled()`` turns true
when the job was cancelled or superseded. Callbacks run on the compute thread: the Qt bridge re-emits them as
signals on the GUI thread. ``ComputeThread(synchronous=True)`` runs jobs inline, for tests and the CLI.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

ProgressFn = Callable[..., None]
CancelledFn = Callable[[], bool]


class JobCancelled(Exception):
    """Raised inside a job to abandon it; reported as cancellation, not as an error."""


@dataclass
class JobError:
    """What a failed job reports: a message for a person and the traceback for the details view."""

    message: str
    details: str
    exception: BaseException | None = None


@dataclass
class Job:
    fn: Callable[[ProgressFn, CancelledFn], Any]
    kind: str | None = None
    label: str = ""
    on_result: Callable[[Any], None] | None = None
    on_error: Callable[[JobError], None] | None = None
    on_progress: Callable[..., None] | None = None
    on_cancelled: Callable[[], None] | None = None
    id: int = 0
    _cancel: threading.Event = field(default_factory=threading.Event)
    started: float | None = None
    finished: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()


class ComputeThread:
    """A single worker thread with a job queue, cancellation and superseding by job kind."""

    def __init__(self, synchronous: bool = False, name: str = "cnnviz-compute"):
        self.synchronous = synchronous
        self._ids = itertools.count(1)
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._pending: list[Job] = []
        self._current: Job | None = None
        self._thread: threading.Thread | None = None
        self._status_listeners: list[Callable[[str], None]] = []
        if not synchronous:
            self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
            self._thread.start()

    # -- public API ---------------------------------------------------------------------------------
    def submit(
        self, fn, *, kind=None, label="", on_result=None, on_error=None, on_progress=None, on_cancelled=None
    ) -> Job:
        """Queue ``fn``; a pending or running job of the same ``kind`` is cancelled (superseded)."""
        job = Job(
            fn,
            kind,
            label or getattr(fn, "__name__", "job"),
            on_result,
            on_error,
            on_progress,
            on_cancelled,
            id=next(self._ids),
        )
        if kind is not None:
            self.cancel_kind(kind)
        if self.synchronous:
            self._run(job)
            return job
        with self._lock:
            self._pending.append(job)
        self._queue.put(job)
        return job

    def cancel_kind(self, kind: str) -> None:
        with self._lock:
            for j in self._pending:
                if j.kind == kind:
                    j.cancel()
            if self._current is not None and self._current.kind == kind:
                self._current.cancel()

    def cancel_all(self, keep: tuple[str, ...] = ()) -> None:
        """Cancel every queued and running job except those whose kind is in ``keep``."""
        with self._lock:
            for j in self._pending:
                if j.kind not in keep:
                    j.cancel()
            if self._current is not None and self._current.kind not in keep:
                self._current.cancel()

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._current is not None or any(not j.cancelled for j in self._pending)

    def add_status_listener(self, fn: Callable[[str], None]) -> None:
        """``fn(text)`` is called (on the compute thread) when a job starts or the thread goes idle."""
        self._status_listeners.append(fn)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no job is pending or running (tests and the CLI)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                idle = self._current is None and not self._pending
            if idle:
                return True
            time.sleep(0.005)
        return False

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Cancel everything and stop the thread; returns whether it stopped within ``timeout``."""
        self.cancel_all()
        if self._thread is None:
            return True
        self._queue.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- worker ---------------------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                if job in self._pending:
                    self._pending.remove(job)
            self._run(job)

    def _status(self, text: str) -> None:
        for fn in self._status_listeners:
            try:
                fn(text)
            except Exception:  # a listener must never kill the worker
                log.exception("status listener failed")

    def _run(self, job: Job) -> None:
        try:
            if job.cancelled:
                if job.on_cancelled:
                    job.on_cancelled()
                return
            with self._lock:
                self._current = job
            self._status(job.label)
            job.started = time.monotonic()

            def progress(fraction, text="", payload=None):
                if job.on_progress is not None and not job.cancelled:
                    job.on_progress(fraction, text, payload)

            try:
                result = job.fn(progress, lambda: job.cancelled)
            except JobCancelled:
                result = None
                job.cancel()
            except Exception as exc:  # reported to the person, never raised into the loop
                log.exception("job %s failed", job.label)
                msg = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
                if job.on_error:
                    job.on_error(JobError(str(msg), traceback.format_exc(), exc))
                return
            if job.cancelled:
                if job.on_cancelled:
                    job.on_cancelled()
            elif job.on_result:
                job.on_result(result)
        finally:
            with self._lock:
                self._current = None
                idle = not self._pending
            job.finished.set()
            if idle:
                self._status("")


_default: ComputeThread | None = None


def default_compute() -> ComputeThread:
    """The process-wide compute thread (created on first use)."""
    global _default
    if _default is None or (not _default.synchronous and not _default.alive):
        _default = ComputeThread()
    return _default


def set_default_compute(compute: ComputeThread | None) -> None:
    global _default
    _default = compute


DEVICES = ("auto", "cpu")
_tf_settings: dict[str, Any] = {}


def configure_tensorflow(device: str = "auto", threads: int = 0) -> str:
    """Import TensorFlow (call on the compute thread) and apply the device and thread preferences.

    ``device``: ``"auto"`` uses a GPU when there is one (memory growth on); ``"cpu"`` hides every GPU,
    which only works before TensorFlow has initialised its devices. ``threads``: 0 lets TensorFlow decide,
    N > 0 limits the operations to N threads (also only before initialisation). Settings that came too late
    are noted in :func:`tensorflow_settings` (``needs_restart``). Returns the device name ("CPU" or "GPU: …").
    """
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; expected one of {DEVICES}")
    if device == "cpu" and "tensorflow" not in sys.modules:
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"  # CUDA is then never initialised at all
    from cnnviz_gui.core.runtime.tf_loader import preload_tensorflow_libraries

    preload_tensorflow_libraries()  # the heavy native part of the import, without holding the GIL
    import keras  # noqa: F401 - imported here so its objects are frozen below
    import tensorflow as tf

    from cnnviz_gui.core.runtime.memory import freeze_long_lived

    freeze_long_lived()  # later garbage collections skip TensorFlow's objects: no GIL-held pauses

    late: list[str] = []
    gpus = tf.config.list_physical_devices("GPU")
    if device == "cpu" and gpus:
        try:
            tf.config.set_visible_devices([], "GPU")
        except (RuntimeError, ValueError):  # devices already initialised
            late.append("device")
    if threads and threads > 0:
        try:
            if tf.config.threading.get_intra_op_parallelism_threads() != threads:
                tf.config.threading.set_intra_op_parallelism_threads(int(threads))
                tf.config.threading.set_inter_op_parallelism_threads(max(1, min(int(threads), 2)))
        except RuntimeError:
            late.append("threads")
    visible = tf.config.get_visible_devices("GPU") if "device" not in late else gpus
    for gpu in visible:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except (RuntimeError, ValueError):  # already initialised
            pass
    _tf_settings.update(device=device, threads=int(threads or 0), needs_restart=late)
    if visible:
        try:
            details = tf.config.experimental.get_device_details(visible[0])
            return f"GPU: {details.get('device_name', visible[0].name)}"
        except Exception:
            return f"GPU: {visible[0].name}"
    return "CPU"


def tensorflow_settings() -> dict[str, Any]:
    """What :func:`configure_tensorflow` applied: device, threads and ``needs_restart`` (settings too late)."""
    return dict(_tf_settings)


def library_versions() -> dict[str, str]:
    """Versions of Python, TensorFlow, Keras and NumPy, and the compute device (call on the compute thread)."""
    import platform

    import keras
    import numpy
    import tensorflow as tf

    gpus = tf.config.get_visible_devices("GPU")
    threads = tf.config.threading.get_intra_op_parallelism_threads()
    return {
        "Python": platform.python_version(),
        "TensorFlow": tf.__version__,
        "Keras": keras.__version__,
        "NumPy": numpy.__version__,
        "Device": ", ".join(g.name for g in gpus) if gpus else "CPU",
        "Threads": str(threads) if threads else "automatic",
    }
