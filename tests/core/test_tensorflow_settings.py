"""Device and thread preferences reach TensorFlow before it initialises (a fresh process)."""

from __future__ import annotations

import json
import subprocess
import sys


def _configure(device: str, threads: int) -> dict:
    code = (
        "import json\n"
        "from cnnviz_gui.core.runtime.tensorflow_setup import configure_tensorflow, tensorflow_settings, library_versions\n"
        f"name = configure_tensorflow({device!r}, {threads})\n"
        "import tensorflow as tf\n"
        "tf.constant([1.0]) * 2.0\n"  # initialise the runtime
        "print(json.dumps({'name': name, 'settings': tensorflow_settings(), 'versions': library_versions(),\n"
        "    'intra': tf.config.threading.get_intra_op_parallelism_threads(),\n"
        "    'gpus': len(tf.config.get_visible_devices('GPU'))}))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_cpu_only_and_two_threads_are_applied():
    out = _configure("cpu", 2)
    assert out["name"] == "CPU" and out["gpus"] == 0
    assert out["intra"] == 2 and out["settings"]["needs_restart"] == []
    assert out["versions"]["Threads"] == "2" and out["versions"]["Device"] == "CPU"
    assert out["versions"]["TensorFlow"].startswith("2.")


def test_settings_that_come_too_late_are_reported():
    import tensorflow as tf

    from cnnviz_gui.core.runtime.tensorflow_setup import configure_tensorflow, tensorflow_settings

    tf.constant([1.0]) * 2.0  # this process's TensorFlow is running already
    current = tf.config.threading.get_intra_op_parallelism_threads()
    configure_tensorflow("auto", current + 3)
    assert "threads" in tensorflow_settings()["needs_restart"]
    assert tf.config.threading.get_intra_op_parallelism_threads() == current
