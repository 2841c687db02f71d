"""IPC cost: what a message between the GUI and the compute process costs (``make bench``).

- No-op round trip (``bench.noop``, :mod:`ipc_ops`) through a real compute process: from the GUI's
  ``ComputeBridge.request`` to its ``on_result`` on the GUI thread (the app's whole path: encode, socket,
  executor, outbox, reader thread, Qt queued signal), and the same through :class:`ComputeProcess` alone (no
  Qt: the reader thread's callback). p50 / p95.
- One-way transfer of float32 arrays of 1 KB (256 values), 100 KB (25,600), "3 MB map" (a 112x112x64 map,
  3.2 MB) and "31 MB digits" (the 10,000-digit dataset, 10000x28x28x1, 31.4 MB):
  the channel alone (``channel_pair()``: two threads of one process, ``send`` until ``recv`` returned the
  array); GUI -> compute (from ``request()`` to the operation running with the array, ``bench.take``);
  compute -> GUI (from the operation returning an array it made to ``on_result``, ``bench.give``). Medians,
  and throughput = bytes / one-way time. The GUI waits in a Qt event loop (it sleeps between events, as the
  app does), so no polling interval is in the figures.
- How long ``request()`` keeps the GUI thread with a 31 MB parameter (the socket write happens there, on the
  GUI thread, until the compute process has read what does not fit the socket buffer).

Run alone: ``python tests/benchmarks/bench_ipc.py``.
"""

from __future__ import annotations

import os
import queue
import threading
import time

import numpy as np
from harness import Waiter, main, median, pct, qapp, run_fresh, say, wait_until

ROUND_TRIPS = int(os.environ.get("CNNVIZ_BENCH_IPC_ROUND_TRIPS", "300"))
#: label -> (shape of a float32 array, repeats)
SIZES = {
    "1 KB": ((256,), 200),
    "100 KB": ((25_600,), 100),
    "3 MB map": ((112, 112, 64), 30),
    "31 MB digits": ((10_000, 28, 28, 1), 8),
}


def channel_one_way(shape: tuple, repeats: int) -> list[float]:
    """Seconds from ``send`` to ``recv`` returning the array, on a ``channel_pair`` (threads of this process)."""
    from cnnviz_gui.core.runtime.channel import channel_pair

    a, b = channel_pair()
    arrived: queue.Queue = queue.Queue()

    def receive() -> None:
        for _ in range(repeats + 1):
            message = b.recv()
            arrived.put((time.perf_counter(), message))

    reader = threading.Thread(target=receive, daemon=True)
    reader.start()
    array = np.random.default_rng(0).random(shape, dtype=np.float32)
    out = []
    for k in range(repeats + 1):  # the first is a warm-up
        t0 = time.perf_counter()
        a.send({"array": array})
        t1, message = arrived.get(timeout=60)
        assert message["array"].shape == array.shape
        if k:
            out.append(t1 - t0)
    reader.join(5)
    a.close()
    b.close()
    return out


def process_round_trips(n: int) -> list[float]:
    """Seconds of ``n`` no-op round trips through :class:`ComputeProcess` alone (events on its reader thread)."""
    from cnnviz_gui.core.runtime.compute_process import ComputeProcess

    ended: dict[int, threading.Event] = {}
    ready = threading.Event()

    def on_event(generation: int, event: dict) -> None:
        if event.get("ev") == "ready":
            ready.set()
        elif event.get("ev") == "ended":
            ended[event["job"]].set()

    process = ComputeProcess(on_event, extra_ops=("ipc_ops",))
    process.start()
    try:
        if not ready.wait(120):
            raise RuntimeError("the compute process did not start")
        out = []
        for job in range(1, n + 21):
            ended[job] = threading.Event()
            t0 = time.perf_counter()
            process.submit(job, "bench.noop", {})
            if not ended[job].wait(30):
                raise RuntimeError("no answer from the compute process")
            if job > 20:
                out.append(time.perf_counter() - t0)
        return out
    finally:
        process.shutdown()


def _ask(bridge, op: str, params: dict) -> tuple[object, float]:
    """Request ``op`` and wait in the event loop for its result; (result, seconds spent inside request())."""
    done = Waiter()
    t0 = time.perf_counter()
    bridge.request(op, params, label=op, on_result=done, on_error=done)
    inside = time.perf_counter() - t0
    result = done.wait(60)
    if not isinstance(result, dict | type(None)):
        raise RuntimeError(f"{op} failed: {result.message}")
    return result, inside


def bridge_figures() -> dict:
    """Round trips and one-way transfers through the app's bridge and a real compute process."""
    from cnnviz_gui.ui.app import create_bridge

    qapp()
    bridge = create_bridge(spare=False, extra_ops=("ipc_ops",))
    try:
        wait_until(lambda: bridge.pid is not None, timeout=120)
        trips = []
        for k in range(ROUND_TRIPS + 20):
            t0 = time.perf_counter()
            _ask(bridge, "bench.noop", {})
            if k >= 20:
                trips.append(time.perf_counter() - t0)
        out = {"round_trips": trips, "to_compute": {}, "to_gui": {}, "inside_request": {}}
        for label, (shape, repeats) in SIZES.items():
            array = np.random.default_rng(1).random(shape, dtype=np.float32)
            to_compute, to_gui, inside = [], [], []
            for k in range(repeats + 1):
                sent = time.time()
                result, seconds = _ask(bridge, "bench.take", {"array": array})
                assert result["nbytes"] == array.nbytes
                got = _ask(bridge, "bench.give", {"shape": shape})[0]
                arrived = time.time()
                assert got["array"].shape == tuple(shape)
                if k:  # the first is a warm-up
                    to_compute.append(result["received"] - sent)
                    to_gui.append(arrived - got["sent"])
                    inside.append(seconds)
            out["to_compute"][label], out["to_gui"][label] = to_compute, to_gui
            out["inside_request"][label] = inside
        return out
    finally:
        bridge.shutdown()


def measure_here() -> dict:
    rows = {}
    say("ipc: round trips through the bridge and a compute process")
    b = bridge_figures()
    trips = [t * 1000 for t in b["round_trips"]]
    rows["ipc: no-op round trip, request() -> on_result, p50"] = (pct(trips, 50), "ms", "")
    rows["ipc: no-op round trip, request() -> on_result, p95"] = (pct(trips, 95), "ms", "")
    say("ipc: round trips through ComputeProcess alone")
    alone = [t * 1000 for t in process_round_trips(ROUND_TRIPS)]
    rows["ipc: no-op round trip, ComputeProcess alone (no Qt), p50"] = (pct(alone, 50), "ms", "")
    rows["ipc: no-op round trip, ComputeProcess alone (no Qt), p95"] = (pct(alone, 95), "ms", "")
    for label, (shape, repeats) in SIZES.items():
        say(f"ipc: {label} through the channel alone")
        nbytes = int(np.prod(shape)) * 4
        chan = median(channel_one_way(shape, repeats))
        to_compute, to_gui = median(b["to_compute"][label]), median(b["to_gui"][label])
        rows[f"ipc {label}: channel alone, send -> recv"] = (chan * 1000, "ms", "")
        rows[f"ipc {label}: channel alone, throughput"] = (nbytes / chan / 1e6, "MB/s", "")
        rows[f"ipc {label}: GUI->compute, request() -> op runs"] = (to_compute * 1000, "ms", "")
        rows[f"ipc {label}: compute->GUI, op return -> on_result"] = (to_gui * 1000, "ms", "")
        rows[f"ipc {label}: compute->GUI, throughput"] = (nbytes / to_gui / 1e6, "MB/s", "")
    big = list(SIZES)[-1]
    rows["ipc 31 MB digits: GUI thread inside request()"] = (
        median(b["inside_request"][big]) * 1000, "ms", "",
    )  # fmt: skip
    return rows


def measure() -> dict:
    return run_fresh(__file__)


if __name__ == "__main__":
    main(measure_here)
