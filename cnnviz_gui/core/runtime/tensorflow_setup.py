"""TensorFlow in the compute process: device and thread preferences, library versions."""

from __future__ import annotations

import os
import sys
from typing import Any

DEVICES = ("auto", "cpu")
_tf_settings: dict[str, Any] = {}


def configure_tensorflow(device: str = "auto", threads: int = 0) -> str:
    """Import TensorFlow (in the compute process) and apply the device and thread preferences.

    ``device``: ``"auto"`` uses a GPU when there is one (memory growth on); ``"cpu"`` hides every GPU,
    which only works before TensorFlow has initialised its devices. ``threads``: 0 lets TensorFlow decide,
    N > 0 limits the operations to N threads (also only before initialisation). Settings that came too late
    are noted in :func:`tensorflow_settings` (``needs_restart``). Returns the device name ("CPU" or "GPU: …").
    """
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; expected one of {DEVICES}")
    if device == "cpu" and "tensorflow" not in sys.modules:
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"  # CUDA is then never initialised at all
    from cnnviz_gui.core.runtime.tf_loader import preload_tensorflow_libraries

    preload_tensorflow_libraries()  # the heavy native part of the import, without holding the GIL
    import keras  # noqa: F401 - imported here so its objects are frozen below
    import tensorflow as tf

    from cnnviz_gui.core.runtime.memory import freeze_long_lived

    freeze_long_lived()  # later garbage collections skip TensorFlow's objects: no GIL-held pauses

    late: list[str] = []
    gpus = tf.config.list_physical_devices("GPU")
    if device == "cpu" and gpus:
        try:
            tf.config.set_visible_devices([], "GPU")
        except (RuntimeError, ValueError):  # devices already initialised
            late.append("device")
    if threads and threads > 0:
        try:
            if tf.config.threading.get_intra_op_parallelism_threads() != threads:
                tf.config.threading.set_intra_op_parallelism_threads(int(threads))
                tf.config.threading.set_inter_op_parallelism_threads(max(1, min(int(threads), 2)))
        except RuntimeError:
            late.append("threads")
    visible = tf.config.get_visible_devices("GPU") if "device" not in late else gpus
    for gpu in visible:
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except (RuntimeError, ValueError):  # already initialised
            pass
    _tf_settings.update(device=device, threads=int(threads or 0), needs_restart=late)
    if visible:
        try:
            details = tf.config.experimental.get_device_details(visible[0])
            return f"GPU: {details.get('device_name', visible[0].name)}"
        except Exception:
            return f"GPU: {visible[0].name}"
    return "CPU"


def tensorflow_settings() -> dict[str, Any]:
    """What :func:`configure_tensorflow` applied: device, threads and ``needs_restart`` (settings too late)."""
    return dict(_tf_settings)


def library_versions() -> dict[str, str]:
    """Versions of Python, TensorFlow, Keras and NumPy, and the compute device (call on the compute thread)."""
    import platform

    import keras
    import numpy
    import tensorflow as tf

    gpus = tf.config.get_visible_devices("GPU")
    threads = tf.config.threading.get_intra_op_parallelism_threads()
    return {
        "Python": platform.python_version(),
        "TensorFlow": tf.__version__,
        "Keras": keras.__version__,
        "NumPy": numpy.__version__,
        "Device": ", ".join(g.name for g in gpus) if gpus else "CPU",
        "Threads": str(threads) if threads else "automatic",
    }
