"""The compute process: started by the GUI ("spawn"), it owns TensorFlow and runs every job.

GUI side, :class:`ComputeProcess` starts the child, sends commands and hands each event the child sends to
``on_event(generation, event)`` on a reader thread (``generation`` counts restarts, so events of a process
that was replaced can be told apart). When the child exits or is killed the reader reports
``{"ev": "exited", "code": exit code}``.

Child side, :func:`child_main` reads commands::

    {"cmd": "submit", "job": id, "op": name, "params": {...}, "label": text}
    {"cmd": "cancel", "job": id}      {"cmd": "control", "job": id, "data": {...}}      {"cmd": "shutdown"}

and runs them on an :class:`~cnnviz_gui.core.runtime.executor.Executor`. Progress is coalesced where it is
produced: at most ``PROGRESS_HZ`` progress events per job per second leave the process, always the newest,
and a job's last progress is sent before its end.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from cnnviz_gui.core.runtime.channel import Channel, ChannelClosed
from cnnviz_gui.core.runtime.wire import WireError, error_to_plain

log = logging.getLogger(__name__)

PROGRESS_HZ = 30.0
EventFn = Callable[[int, dict], None]
_generations = itertools.count(1)


# -- child side ------------------------------------------------------------------------------------------------
class Outbox:
    """Sends events to the GUI; progress is kept per job and sent at most ``hz`` times a second."""

    def __init__(self, channel: Channel, hz: float = PROGRESS_HZ):
        self.channel = channel
        self.interval = 1.0 / hz
        self._cond = threading.Condition()
        self._pending: dict[int, dict] = {}
        self._last: dict[int, float] = {}
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="cnnviz-outbox", daemon=True)
        self._thread.start()

    def put(self, event: dict) -> None:
        job = event.get("job")
        if event.get("ev") == "progress":
            with self._cond:
                self._pending[job] = event
                self._cond.notify()
            return
        with self._cond:
            pending = self._pending.pop(job, None)
            if event.get("ev") == "ended":
                self._last.pop(job, None)
        if pending is not None:
            self._send(pending)
        self._send(event)

    def _send(self, event: dict) -> None:
        try:
            self.channel.send(event)
        except WireError as err:  # an operation returned something that cannot travel: it failed
            if event.get("ev") != "ended":
                log.error("dropped a %s event of job %s: %s", event.get("ev"), event.get("job"), err)
                return
            error = error_to_plain(err)
            error["details"] = f"the result of the job could not be sent to the window: {err}"
            self.channel.send({**event, "state": "failed", "result": None, "error": error})
        except ChannelClosed:
            pass  # the GUI is gone; the main loop ends too

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                now = time.monotonic()
                due = [j for j in self._pending if now - self._last.get(j, 0.0) >= self.interval]
                if not due:
                    wait = min(self._last.get(j, 0.0) + self.interval for j in self._pending) - now
                    self._cond.wait(max(wait, 0.001))
                    continue
                events = [self._pending.pop(j) for j in due]
                for j in due:
                    self._last[j] = now
            for event in events:
                self._send(event)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(2.0)


def child_main(conn, config: dict) -> None:
    """Entry point of the compute process (``multiprocessing`` spawn target)."""
    channel = Channel.from_fd(conn.fileno())
    conn.close()
    if config.get("log_path"):
        from cnnviz_gui.core.runtime.logs import setup_logging

        setup_logging(path=config["log_path"], rotate=False)
    from cnnviz_gui.core.runtime.diagnostics import retracing
    from cnnviz_gui.core.runtime.executor import Executor
    from cnnviz_gui.core.runtime.jobs import load_ops

    logging.getLogger("tensorflow").addHandler(retracing)

    load_ops(tuple(config.get("extra_ops", ())))
    outbox = Outbox(channel)
    executor = Executor(outbox.put)
    outbox.put({"ev": "ready", "pid": os.getpid()})
    log.info("compute process %d ready", os.getpid())
    try:
        while True:
            try:
                command = channel.recv()
            except ChannelClosed:
                break
            except WireError as err:
                log.error("unreadable command: %s", err)
                continue
            kind = command.get("cmd")
            if kind == "submit":
                executor.submit(
                    command["job"], command["op"], command.get("params") or {}, command.get("label", "")
                )
            elif kind == "cancel":
                executor.cancel(command["job"])
            elif kind == "control":
                executor.control(command["job"], command.get("data") or {})
            elif kind == "shutdown":
                break
    finally:
        executor.shutdown(timeout=2.0)  # a running job stops at its next check (training: after its batch)
        outbox.close()
        channel.close()
        logging.shutdown()
        os._exit(0)  # no interpreter teardown: TensorFlow's takes seconds and there is nothing left to save


# -- GUI side ----------------------------------------------------------------------------------------------------
class ComputeProcess:
    """The compute process as the GUI sees it: start, commands, events, kill and restart.

    ``on_event(generation, event)`` is called on the reader thread for every event, and once with
    ``{"ev": "exited", "code": ...}`` when the process is gone. ``extra_ops`` names modules the child imports
    to register more operations (tests). Nothing the child sends is unpickled.
    """

    def __init__(self, on_event: EventFn | None = None, *, extra_ops: tuple[str, ...] = (),
                 log_path: str | None = None):  # fmt: skip
        self.on_event = on_event
        self.config: dict[str, Any] = {"extra_ops": list(extra_ops), "log_path": log_path}
        self.generation = 0
        self.process = None
        self.channel: Channel | None = None
        self._reader: threading.Thread | None = None
        self.started_at = 0.0

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.is_alive()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> int:
        """Start a (new) child; returns its generation. Its first event is ``{"ev": "ready"}``."""
        ctx = mp.get_context("spawn")
        parent_end, child_end = ctx.Pipe(duplex=True)
        self.process = ctx.Process(
            target=child_main, args=(child_end, self.config), daemon=True, name="cnnviz-compute-process"
        )
        self.started_at = time.monotonic()
        self.process.start()
        child_end.close()
        self.channel = Channel.from_fd(parent_end.fileno())
        parent_end.close()
        self.generation = next(_generations)
        self._reader = threading.Thread(
            target=self._read, args=(self.channel, self.process, self.generation), name="cnnviz-compute-reader",
            daemon=True,
        )  # fmt: skip
        self._reader.start()
        return self.generation

    def _read(self, channel: Channel, process, generation: int) -> None:
        while True:
            try:
                event = channel.recv()
            except ChannelClosed:
                break
            except WireError as err:
                log.error("unreadable message from the compute process: %s", err)
                continue
            if self.on_event is not None:
                self.on_event(generation, event)
        process.join(5.0)
        channel.close()
        if self.on_event is not None:
            self.on_event(generation, {"ev": "exited", "code": process.exitcode})

    def send(self, command: dict) -> bool:
        """Send a command; False when the process is gone (its "exited" event follows)."""
        channel = self.channel
        if channel is None:
            return False
        try:
            channel.send(command)
            return True
        except ChannelClosed:
            return False

    def submit(self, job_id: int, op: str, params: dict, label: str = "") -> bool:
        return self.send({"cmd": "submit", "job": job_id, "op": op, "params": params, "label": label})

    def cancel(self, job_id: int) -> bool:
        return self.send({"cmd": "cancel", "job": job_id})

    def control(self, job_id: int, data: dict) -> bool:
        return self.send({"cmd": "control", "job": job_id, "data": data})

    def kill(self) -> None:
        """SIGKILL the child (a job that does not stop, or a hung process); its "exited" event follows."""
        process = self.process
        if process is not None and process.is_alive():
            try:
                os.kill(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            process.join(5.0)

    def shutdown(self, timeout: float = 3.0) -> None:
        """Ask the child to finish, kill it if it does not within ``timeout``, and wait for the reader."""
        process = self.process
        if process is None:
            return
        self.send({"cmd": "shutdown"})
        process.join(timeout)
        if process.is_alive():
            self.kill()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout + 5.0)
