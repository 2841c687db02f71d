"""The attribution operations of the compute process: what crosses the process boundary, progress, Stop and
the messages of refused requests (through the same executor and wire codec as the compute process)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz_gui.core.attribution import AttributionError, AttributionRequest, attribute
from cnnviz_gui.core.runtime.jobs import JobCancelled, JobContext, load_ops
from cnnviz_gui.core.runtime.local import LocalCompute


@pytest.fixture(scope="module")
def compute(default_model_path):
    """An in-process compute side with the default model open as ``m``; returns ``run(op, **params)``."""
    events: list[dict] = []
    backend = LocalCompute(lambda generation, event: events.append(event), synchronous=True)
    backend.start()
    ids = iter(range(1, 10_000))

    def run(op: str, **params):
        backend.submit(next(ids), op, params)
        ended = [e for e in events if e.get("ev") == "ended"][-1]
        progress = [e["fraction"] for e in events if e.get("ev") == "progress" and e["job"] == ended["job"]]
        return ended, progress

    ended, _ = run("models.open", model_id="m", path=str(default_model_path))
    assert ended["state"] == "done"
    yield run, backend.store
    backend.shutdown()


@pytest.fixture(scope="module")
def digit():
    from cnnviz_gui.core.datasets import load_bundled_mnist

    return load_bundled_mnist().x[0]


def test_layers_and_the_live_map_cross_as_plain_data(compute, digit):
    run, store = compute
    ended, _ = run("attribution.layers", model="m")
    layers = ["Conv2D_1", "MaxPool_1", "Conv2D_2", "MaxPool_2", "Conv2D_3"]  # every layer with maps
    assert ended["result"] == {"layers": layers, "default": "Conv2D_3"}
    ended, _ = run("attribution.live", model="m", image=digit, convention="standardised", method="gradcam",
                   class_index=3, top_k=4)  # fmt: skip
    live = ended["result"]
    expected = attribute(store.model("m"), digit, AttributionRequest("gradcam", 3))
    np.testing.assert_allclose(live.result.attribution, expected.attribution, rtol=1e-5, atol=1e-7)
    assert live.display.shape == (28, 28) and 0.0 <= live.display.min() and live.display.max() == 1.0
    assert [c.index for c in live.top] == list(np.argsort(-expected.probabilities[0])[:4])
    assert int(live.result.class_index[0]) == 3 and live.result.layer == "Conv2D_3"


def test_slow_methods_report_progress_and_compare_and_sanity_return_their_results(compute, digit):
    run, store = compute
    request = AttributionRequest("ig", steps=32, batch_size=8)
    ended, progress = run("attribution.compute", model="m", images=digit, convention="standardised",
                          request=request)  # fmt: skip
    r = ended["result"]
    assert r.method == "ig" and r.params["steps"] == 32 and r.baseline_score is not None
    assert len(progress) >= 4 and progress == sorted(progress) and progress[-1] == 1.0
    ended, progress = run("attribution.compare", model="m", images=np.stack([digit, digit[::-1]]),
                          convention="standardised", methods=["gradcam", "occlusion"],
                          request={"class_index": 2})  # fmt: skip
    results = ended["result"]
    assert list(results) == ["gradcam", "occlusion"] and results["occlusion"].attribution.shape == (2, 28, 28)
    assert list(results["gradcam"].class_index) == [2, 2] and progress[-1] == pytest.approx(1.0)
    ended, progress = run("attribution.sanity", model="m", image=digit, convention="standardised",
                          request={"method": "saliency"}, max_steps=3)  # fmt: skip
    s = ended["result"]
    assert s.maps.shape == (3, 28, 28) and len(s.similarity) == 3 and s.verdict.startswith("Saliency")
    assert len(progress) == 3


def test_refused_requests_arrive_with_their_message(compute, digit):
    run, _ = compute
    ended, _ = run("attribution.compute", model="m", images=digit, convention="standardised",
                   request={"method": "gradcam", "layer": "Dense_1"})  # fmt: skip
    assert ended["state"] == "failed"
    assert ended["error"]["type"].endswith("AttributionError") and "Dense_1" in ended["error"]["message"]
    ended, _ = run("attribution.live", model="m", image=digit, convention="standardised", class_index=12)
    assert ended["state"] == "failed" and "class 12 does not exist" in ended["error"]["message"]


def test_stop_ends_a_slow_method_and_a_sanity_check_between_compiled_calls(compute, digit):
    _, store = compute
    ops = load_ops()
    for op, params in (
        ("attribution.compute", {"images": digit, "request": AttributionRequest("smoothgrad", samples=64, batch_size=4)}),
        ("attribution.sanity", {"image": digit, "request": AttributionRequest("ig", steps=64, batch_size=8)}),
    ):  # fmt: skip
        calls: list[float] = []
        stop = {"now": False}

        def progress(fraction, text="", payload=None, _stop=stop, _calls=calls):
            _calls.append(fraction)
            _stop["now"] = True  # the person presses Stop at the first progress

        checks = []

        def cancelled(_stop=stop, _checks=checks):
            _checks.append(_stop["now"])
            return _stop["now"]

        ctx = JobContext(1, progress, cancelled, store)
        with pytest.raises(JobCancelled):
            ops[op](ctx, model="m", convention="standardised", **params)
        assert len(calls) == 1 and calls[0] < 0.5, op  # stopped at the next compiled call
    # the sanity copy's weights were restored: the next check is the same as a fresh one
    s1 = ops["attribution.sanity"](JobContext(2, lambda *a: None, lambda: False, store), model="m", image=digit,
                                   convention="standardised", request=AttributionRequest("gradcam"))  # fmt: skip
    s2 = ops["attribution.sanity"](JobContext(3, lambda *a: None, lambda: False, store), model="m", image=digit,
                                   convention="standardised", request=AttributionRequest("gradcam"))  # fmt: skip
    np.testing.assert_allclose(s1.similarity, s2.similarity, atol=1e-6)


def test_an_attribution_error_is_rebuilt_with_its_message():
    from cnnviz_gui.core.runtime.wire import error_from_plain, error_to_plain

    err = error_from_plain(error_to_plain(AttributionError("the layer has no maps")))
    assert isinstance(err, AttributionError) and err.message == "the layer has no maps"
