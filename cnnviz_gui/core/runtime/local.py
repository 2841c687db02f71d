"""The compute process's executor inside this process, for tests and tools.

:class:`LocalCompute` takes the same commands and gives the same events as
:class:`~cnnviz_gui.core.runtime.compute_process.ComputeProcess`, and every parameter and event goes
through the wire codec on its way, so an operation that returns something that could not cross the process
boundary fails here too. With ``synchronous=True`` a job runs inside ``submit`` and its events arrive before
``submit`` returns. It cannot be killed: :meth:`kill` only reports the "process" as exited.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable

from cnnviz_gui.core.runtime.executor import Executor
from cnnviz_gui.core.runtime.jobs import Store, load_ops
from cnnviz_gui.core.runtime.wire import WireError, error_to_plain, roundtrip

_generations = itertools.count(1_000_001)


class LocalCompute:
    """An in-process stand-in for the compute process (same interface)."""

    def __init__(self, on_event: Callable[[int, dict], None] | None = None, *, synchronous: bool = False,
                 extra_ops: tuple[str, ...] = (), store: Store | None = None):  # fmt: skip
        self.on_event = on_event
        self.synchronous = synchronous
        self.extra_ops = extra_ops
        self.store = store or Store()
        self.executor: Executor | None = None
        self.generation = 0
        self.pid = None

    @property
    def alive(self) -> bool:
        return self.executor is not None

    def start(self) -> int:
        from cnnviz_gui.core.runtime.diagnostics import retracing

        logging.getLogger("tensorflow").addHandler(retracing)
        load_ops(self.extra_ops)
        self.generation = next(_generations)
        generation = self.generation
        self.executor = Executor(
            lambda event: self._emit(generation, event), synchronous=self.synchronous, store=self.store,
        )  # fmt: skip
        self._emit(generation, {"ev": "ready", "pid": None})
        return generation

    def _emit(self, generation: int, event: dict) -> None:
        try:
            event = roundtrip(event)
        except WireError as err:
            if event.get("ev") != "ended":
                return
            error = error_to_plain(err)
            error["details"] = f"the result of the job could not be sent to the window: {err}"
            event = {**event, "state": "failed", "result": None, "error": error}
        if self.on_event is not None:
            self.on_event(generation, event)

    def submit(self, job_id: int, op: str, params: dict, label: str = "") -> bool:
        if self.executor is None:
            return False
        self.executor.submit(job_id, op, roundtrip(params), label)
        return True

    def cancel(self, job_id: int) -> bool:
        if self.executor is not None:
            self.executor.cancel(job_id)
        return self.executor is not None

    def control(self, job_id: int, data: dict) -> bool:
        if self.executor is not None:
            self.executor.control(job_id, roundtrip(data))
        return self.executor is not None

    def kill(self) -> None:
        """Stop the executor (cooperatively: a thread cannot be killed) and report the "process" as exited."""
        executor, generation = self.executor, self.generation
        if executor is None:
            return
        self.executor = None
        executor.shutdown(timeout=5.0)
        if self.on_event is not None:
            self.on_event(generation, {"ev": "exited", "code": -9})

    def shutdown(self, timeout: float = 3.0) -> None:
        executor, self.executor = self.executor, None
        if executor is not None:
            executor.shutdown(timeout)
