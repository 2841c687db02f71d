"""The compute thread: results, errors, progress, cancellation, superseding, clean shutdown."""

from __future__ import annotations

import threading
import time

from cnnviz_gui.core.runtime.jobs import ComputeThread, JobCancelled


def test_synchronous_mode_runs_inline():
    c = ComputeThread(synchronous=True)
    got, progress = [], []

    def job(p, cancelled):
        p(0.5, "half")
        return threading.current_thread().name

    c.submit(job, on_result=got.append, on_progress=lambda f, t, payload: progress.append((f, t)))
    assert got == [threading.current_thread().name]
    assert progress == [(0.5, "half")]


def test_jobs_run_on_one_worker_thread_in_order():
    c = ComputeThread()
    names, order = set(), []
    done = threading.Event()

    def make(i):
        def job(p, cancelled):
            names.add(threading.current_thread().name)
            order.append(i)
            return i

        return job

    for i in range(5):
        c.submit(make(i), on_result=lambda r: r == 4 and done.set())
    assert done.wait(5)
    assert order == [0, 1, 2, 3, 4] and names == {"cnnviz-compute"}
    assert c.shutdown() and not c.alive


def test_error_becomes_message_and_thread_survives():
    c = ComputeThread()
    errors, results = [], []
    c.submit(lambda p, cancelled: 1 / 0, on_error=errors.append)
    c.submit(lambda p, cancelled: "still alive", on_result=results.append)
    assert c.wait_idle(5)
    assert errors[0].message.startswith("ZeroDivisionError") and "Traceback" in errors[0].details
    assert results == ["still alive"]
    c.shutdown()


def test_newer_request_supersedes_older_of_same_kind():
    c = ComputeThread()
    started = threading.Event()
    release = threading.Event()
    results, cancelled_calls = [], []

    def slow(p, cancelled):
        started.set()
        release.wait(5)
        return "stale"

    c.submit(
        slow, kind="probe", on_result=results.append, on_cancelled=lambda: cancelled_calls.append("slow")
    )
    assert started.wait(5)
    pending = [
        c.submit(lambda p, cc, i=i: f"pending {i}", kind="probe", on_result=results.append) for i in range(3)
    ]
    c.submit(lambda p, cc: "newest", kind="probe", on_result=results.append)
    release.set()
    assert c.wait_idle(5)
    assert results == ["newest"]
    assert cancelled_calls == ["slow"] and all(j.cancelled for j in pending)
    c.shutdown()


def test_cancel_stops_a_loop_within_one_step():
    c = ComputeThread()
    steps = []
    started = threading.Event()

    def loop(p, cancelled):
        for i in range(10_000):
            if cancelled():
                raise JobCancelled
            steps.append(i)
            started.set()
            time.sleep(0.002)
        return "finished"

    results = []
    job = c.submit(loop, on_result=results.append)
    assert started.wait(5)
    t0 = time.monotonic()
    job.cancel()
    assert job.finished.wait(1)
    assert time.monotonic() - t0 < 0.25
    assert results == [] and len(steps) < 10_000
    assert c.shutdown()
