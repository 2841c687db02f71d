"""The compute side without Qt: the wire codec, the channel, the executor's job lifecycle, the real process."""

from __future__ import annotations

import dataclasses
import queue
import threading
import time

import numpy as np
import pytest
from compute_test_ops import MODULE as TEST_OPS

from cnnviz_gui.core.models.loading import ModelLoadError
from cnnviz_gui.core.runtime import wire
from cnnviz_gui.core.runtime.channel import channel_pair
from cnnviz_gui.core.runtime.executor import Executor
from cnnviz_gui.core.runtime.jobs import load_ops
from cnnviz_gui.core.runtime.wire import RemoteError, WireError, decode, encode, roundtrip


# -- wire ------------------------------------------------------------------------------------------------------
def test_plain_values_and_arrays_cross_unchanged():
    value = {
        "n": 3, "x": 1.5, "nan": float("nan"), "s": "käse", "none": None, "flag": True,
        "shape": (28, 28, 1), "list": [1, [2, 3]], "by_int": {0: "zero", 7: "seven"},
        "img": np.arange(24, dtype=np.float32).reshape(2, 3, 4), "mask": np.array([True, False]),
        "names": np.array(["zero", "one"]), "empty": np.zeros((0, 5), np.int64), "scalar": np.float32(2.5),
    }  # fmt: skip
    got = roundtrip(value)
    assert got["shape"] == (28, 28, 1) and isinstance(got["shape"], tuple)
    assert got["by_int"] == {0: "zero", 7: "seven"} and got["list"] == [1, [2, 3]]
    assert np.isnan(got["nan"]) and got["s"] == "käse" and got["none"] is None and got["flag"] is True
    np.testing.assert_array_equal(got["img"], value["img"])
    assert got["img"].dtype == np.float32 and got["img"].flags.writeable
    assert got["mask"].dtype == bool and list(got["names"]) == ["zero", "one"]
    assert got["empty"].shape == (0, 5) and got["scalar"] == 2.5


def test_registered_dataclasses_cross_and_others_are_refused():
    from cnnviz_gui.core.oip.types import OipRequest, preset

    request = OipRequest("Conv2D_3", [1, 5], preset("Smooth"), convention="0..1")
    got = roundtrip(request)
    assert got == request and got is not request and isinstance(got.settings.grids, tuple)

    @dataclasses.dataclass
    class Secret:
        payload: str

    with pytest.raises(WireError, match="not registered"):
        encode(Secret("x"))
    with pytest.raises(WireError):
        encode({"f": lambda: 1})
    with pytest.raises(WireError):
        encode(np.array([object()]))


def test_a_message_cannot_make_the_receiver_build_an_unregistered_class():
    header = b'{"__dc__": "subprocess.Popen", "f": {"args": ["touch", "/tmp/x"]}}'
    with pytest.raises(WireError, match="not a registered type"):
        decode(header, [])
    header = b'{"__dc__": "cnnviz_gui.core.runtime.executor._Job", "f": {"id": 1}}'
    with pytest.raises(WireError):
        decode(header, [])


def test_errors_keep_their_type_and_fields():
    err = ModelLoadError("refused", "unsafe", needs_consent=True, unsafe_layers=["lam"])
    back = wire.error_from_plain(roundtrip(wire.error_to_plain(err)))
    assert isinstance(back, ModelLoadError) and back.message == "refused"
    assert back.needs_consent and back.unsafe_layers == ["lam"] and back.kind == "unsafe"
    other = wire.error_from_plain(wire.error_to_plain(ZeroDivisionError("division by zero")))
    assert isinstance(other, RemoteError) and other.message == "ZeroDivisionError: division by zero"


def test_channel_moves_large_arrays_between_threads():
    a, b = channel_pair()
    big = np.random.default_rng(0).random((200, 28, 28, 1), dtype=np.float32)
    got = []
    reader = threading.Thread(target=lambda: got.append(b.recv()))
    reader.start()
    a.send({"x": big, "label": "digits"})
    reader.join(10)
    np.testing.assert_array_equal(got[0]["x"], big)
    assert a.sent_bytes == b.received_bytes > big.nbytes
    a.close()
    b.close()


# -- executor --------------------------------------------------------------------------------------------------
def _executor(**kw):
    load_ops((TEST_OPS,))
    events = queue.Queue()
    return Executor(events.put, **kw), events


def _ended(events, job, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        e = events.get(timeout=timeout)
        if e.get("job") == job and e["ev"] == "ended":
            return e
    raise TimeoutError


def test_jobs_run_in_order_on_one_worker_and_each_ends_once():
    ex, events = _executor()
    for i in range(5):
        ex.submit(i, "test.value", {"value": i})
    ended = [_ended(events, i) for i in range(5)]
    assert [e["result"] for e in ended] == [0, 1, 2, 3, 4] and {e["state"] for e in ended} == {"done"}
    ex.submit(9, "test.fail", {"message": "boom"})
    failed = _ended(events, 9)
    assert failed["state"] == "failed" and failed["error"]["message"] == "ValueError: boom"
    assert "Traceback" in failed["error"]["details"]
    ex.submit(10, "no.such.op", {})
    assert "no operation 'no.such.op'" in _ended(events, 10)["error"]["message"]
    assert ex.shutdown()


def test_cancel_stops_a_running_job_and_drops_a_queued_one():
    ex, events = _executor()
    ex.submit(1, "test.sleep", {"seconds": 30, "progress": True})
    ex.submit(2, "test.value", {"value": "never"})
    ex.cancel(2)
    while events.get(timeout=10).get("ev") != "progress":
        pass
    ex.cancel(1)
    assert _ended(events, 1)["state"] == "stopped"
    queued = _ended(events, 2)
    assert queued["state"] == "stopped" and queued["result"] is None
    assert ex.shutdown()


# -- the real process ------------------------------------------------------------------------------------------
def test_the_compute_process_runs_jobs_and_its_death_is_reported():
    from cnnviz_gui.core.runtime.compute_process import ComputeProcess

    events = queue.Queue()
    proc = ComputeProcess(lambda generation, event: events.put((generation, event)), extra_ops=(TEST_OPS,))
    generation = proc.start()
    try:
        proc.submit(1, "test.pid", {})
        while True:
            gen, e = events.get(timeout=60)
            if e.get("job") == 1 and e["ev"] == "ended":
                break
        assert gen == generation and e["result"] == proc.pid and proc.pid != __import__("os").getpid()
        proc.submit(2, "test.crash", {"how": "abort"})
        while True:
            gen, e = events.get(timeout=30)
            if e["ev"] == "exited":
                break
        assert gen == generation and e["code"] != 0 and not proc.alive
    finally:
        proc.shutdown()


def test_the_window_gets_8_bit_datasets_as_bytes():
    """The bundled digits cross as uint8 (a quarter of the memory) and read back exactly as the float32 images
    the compute process uses; float data that is not 8-bit stays float."""
    from cnnviz_gui.core.datasets import Dataset, load_bundled_mnist

    ds = load_bundled_mnist()
    small = roundtrip(ds.as_bytes())
    assert small.x.dtype == np.uint8 and small.x.nbytes * 4 == ds.x.nbytes
    for i in (0, 4321, 9999):
        np.testing.assert_array_equal(small.image(i), ds.x[i])
    odd = Dataset("floats", np.full((2, 4, 4, 1), 0.3337, np.float32), np.zeros(2, np.int64), ["a"])
    assert odd.as_bytes() is odd and odd.image(1).dtype == np.float32
