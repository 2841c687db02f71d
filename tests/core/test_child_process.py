"""Slow library calls run in a child process: results come back, errors are explained, Stop ends them at once."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from cnnviz_gui.core.runtime.child_process import ChildJobCancelled, ChildJobFailed, run_in_child
from cnnviz_gui.core.runtime.jobs import JobCancelled


def child_pid_then_sleep(path: str, seconds: float) -> float:
    with open(path, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(seconds)
    return seconds


def column_sums(a: np.ndarray) -> np.ndarray:
    return a.sum(axis=0)


def fail_clearly(n: int) -> None:
    raise ValueError(f"n_neighbors must be below the number of points ({n})")


def test_the_result_comes_back_from_another_process():
    a = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_array_equal(run_in_child(column_sums, a), a.sum(axis=0))


def test_an_error_in_the_child_is_explained():
    with pytest.raises(ChildJobFailed) as info:
        run_in_child(fail_clearly, 5)
    assert "ValueError: n_neighbors must be below the number of points (5)" in str(info.value)
    assert "Traceback" in info.value.details and "fail_clearly" in info.value.details


def test_stop_terminates_the_child_at_once(tmp_path):
    pid_file = tmp_path / "pid"
    stop_at = []

    def cancelled():
        if pid_file.exists() and pid_file.read_text():
            stop_at.append(stop_at[0] if stop_at else time.perf_counter())
            return True
        return False

    with pytest.raises(ChildJobCancelled) as info:
        run_in_child(child_pid_then_sleep, str(pid_file), 60.0, cancelled=cancelled)
    assert isinstance(info.value, JobCancelled)  # the compute thread reports it as a cancellation
    assert (time.perf_counter() - stop_at[0]) < 2.5  # not the 60 s of the call
    pid = int(pid_file.read_text())
    time.sleep(0.1)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the child is gone
