"""Run one slow library call (a UMAP or t-SNE fit) in a child process, so that Stop ends it at once.

A compute-thread job can only stop between its own steps; UMAP and t-SNE run 20–50 s inside one library call
that never looks at a Stop flag. :func:`run_in_child` runs ``fn(*args)`` in a fresh ("spawn") process, waits
for its result while checking ``cancelled()`` every ``poll_s`` seconds, and terminates the process when the
person stops the job. ``fn`` must be a module-level function of a module that does not import TensorFlow.
"""

from __future__ import annotations

import multiprocessing as mp
import traceback
from collections.abc import Callable
from typing import Any

from cnnviz_gui.core.runtime.jobs import JobCancelled


class ChildJobCancelled(JobCancelled):
    """The job was stopped; the child process was terminated."""


class ChildJobFailed(Exception):
    """The call raised in the child (``message`` says what; ``details`` holds its traceback)."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


def _child_main(conn, fn, args) -> None:
    try:
        conn.send(("ok", fn(*args)))
    except BaseException as exc:  # everything goes back to the parent, which decides
        conn.send(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    finally:
        conn.close()


def run_in_child(
    fn: Callable[..., Any], *args, cancelled: Callable[[], bool] | None = None, poll_s: float = 0.05
) -> Any:
    """``fn(*args)`` in a child process; raises :class:`ChildJobCancelled` within ``poll_s`` of a Stop."""
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child_main, args=(send, fn, args), daemon=True, name="cnnviz-child")
    proc.start()
    send.close()
    try:
        while True:
            if cancelled is not None and cancelled():
                raise ChildJobCancelled()
            if receive.poll(poll_s):
                try:
                    message = receive.recv()
                except EOFError:
                    proc.join(1)
                    raise ChildJobFailed(
                        f"the worker process ended without a result (exit code {proc.exitcode})"
                    ) from None
                if message[0] == "ok":
                    return message[1]
                raise ChildJobFailed(message[1], message[2])
            if not proc.is_alive() and not receive.poll(0):
                raise ChildJobFailed(f"the worker process ended without a result (exit code {proc.exitcode})")
    finally:
        if proc.is_alive():
            proc.terminate()
            proc.join(2)
            if proc.is_alive():
                proc.kill()
                proc.join(1)
        receive.close()
