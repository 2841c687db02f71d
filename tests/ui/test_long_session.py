"""A short long session (make test): 20 opens, 100 layer switches; memory stays flat, no retracing.

The long version (200 opens, 1,000 switches) is ``tests/benchmarks/bench_memory.py`` (make bench).
"""

from __future__ import annotations

import math

from long_session import RetracingCounter, run_session

MAX_GROWTH_MB = 50


def test_retracing_counter_sees_a_retracing_function():
    """The detector itself works: a tf.function called with new Python values keeps retracing."""
    import tensorflow as tf

    @tf.function
    def scale(x, factor):
        return x * factor

    with RetracingCounter() as counter:
        for factor in range(8):
            scale(tf.ones(2), factor)
    assert counter.messages and "retracing" in counter.messages[0]


def test_twenty_opens_and_a_hundred_layer_switches(live_window, default_model_path):
    result = run_session(live_window, str(default_model_path), opens=20, switches=100)
    print(
        f"20 opens + 100 switches: GUI RSS {result['rss_start_mb']:.0f} -> {result['rss_end_mb']:.0f} MB "
        f"({result['growth_mb']:+.1f} MB), compute process {result['compute_growth_mb']:+.1f} MB "
        f"in {result['seconds']:.1f} s"
    )
    assert live_window.messages == []
    assert live_window.state.info.name == "mnist_cnn"
    assert result["retracing_warnings"] == []
    if result["activations_view"]:
        assert result["compiled_functions"] >= 1 and result["extra_traces"] == 0, result
    for key in ("growth_mb", "compute_growth_mb"):  # the GUI and the compute process
        if not math.isnan(result[key]):
            assert result[key] < MAX_GROWTH_MB, result
