"""Real models at ImageNet scale: ResNet50 224x224 (weights=None, saved as .keras in a temporary folder).

Rows (``make bench``):

- *bare Keras*: ``keras.saving.load_model`` + one compiled call (``tf.function``) returning ``conv4_block6_out``
  and the output, for one image; *ours*: ``open_model`` (checks, description, graph facts, convention guess)
  + the first ``forward(..., layers=["conv4_block6_out"])`` of a drawn photo (centre-cropped, caffe).
  Each is timed in a fresh Python process after TensorFlow is imported, interleaved, 3 times; medians and
  their ratio (target <= 1.2).
- the 1024-map figure of ``conv4_block6_out`` (input in colour, top-5 ImageNet predictions): building it and
  saving it as PNG, SVG and PDF, beyond the model's load and forward (target <= 5 s each), and the file sizes
  (target < 10 MB each).
- compiling every layer afterwards in the background (``warm_probe``), and a layer switch after that.

Run alone: ``python tests/benchmarks/bench_summary.py bench_real_models`` or ``python
tests/benchmarks/bench_real_models.py``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPEATS = int(os.environ.get("CNNVIZ_BENCH_REAL_REPEATS", "3"))
LAYER = "conv4_block6_out"
HERE = Path(__file__).resolve().parent

BUILD = """
import keras
keras.applications.ResNet50(weights=None, input_shape=(224, 224, 3)).save({model!r})
print("RESULT {{}}")
"""

BARE = """
import json, time
import numpy as np
import tensorflow as tf
import keras
x = np.random.default_rng(0).random((1, 224, 224, 3)).astype(np.float32)
t0 = time.perf_counter()
model = keras.saving.load_model({model!r}, compile=False)
t1 = time.perf_counter()
sub = keras.Model(model.inputs, [model.get_layer({layer!r}).output, model.outputs[0]])
fn = tf.function(lambda x: sub(x, training=False), input_signature=[tf.TensorSpec((None, 224, 224, 3), tf.float32)])
out = [o.numpy() for o in fn(x)]
t2 = time.perf_counter()
print("RESULT " + json.dumps({{"load": t1 - t0, "first": t2 - t1, "total": t2 - t0}}))
"""

OURS = """
import json, os, time
import numpy as np
import tensorflow as tf
import keras
from cnnviz_gui.core.activations.probe import forward, warm_probe
from cnnviz_gui.core.models.loading import open_model
from cnnviz_gui.core.photos import photo_to_input
image = photo_to_input({photo!r}, (224, 224, 3))
t0 = time.perf_counter()
loaded = open_model({model!r})
convention = loaded.info.input_convention["convention"]
t1 = time.perf_counter()
acts = forward(loaded, image, convention, layers=[{layer!r}])
t2 = time.perf_counter()
r = {{"load": t1 - t0, "first": t2 - t1, "total": t2 - t0, "convention": convention}}
if {figure!r}:
    from cnnviz_gui.core.activations.figures import maps_figure
    from cnnviz_gui.core.activations.predictions import imagenet_class_names
    from cnnviz_gui.core.figures import save
    names = imagenet_class_names()
    for ext in ("png", "svg", "pdf"):
        t = time.perf_counter()
        fig = maps_figure(acts.layers[{layer!r}], {layer!r}, title="ResNet50 / {layer}: 1024 maps of 14x14",
                          input_image=image, probabilities=acts.probabilities, class_names=names)
        path = save(fig, os.path.join({folder!r}, "maps." + ext))
        r["figure_" + ext] = time.perf_counter() - t
        r["size_" + ext] = os.path.getsize(path)
    t = time.perf_counter()
    warm_probe(loaded)
    r["warm"] = time.perf_counter() - t
    switches = []
    for name in ("conv2_block3_out", "conv3_block4_out", "conv5_block3_out", "pool1_pool", {layer!r}):
        t = time.perf_counter()
        forward(loaded, image, convention, layers=[name])
        switches.append(time.perf_counter() - t)
    r["switch"] = float(np.median(switches))
print("RESULT " + json.dumps(r))
"""


def _run(code: str, timeout: float = 900) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env
    )
    for line in res.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"benchmark step failed:\n{res.stderr[-2000:]}")


def measure() -> dict[str, tuple[float, str, str]]:
    sys.path.insert(0, str(HERE.parent))
    from drawn_photo import draw_photo

    with tempfile.TemporaryDirectory() as folder:
        model = str(Path(folder) / "resnet50.keras")
        photo = str(Path(folder) / "photo.jpg")
        draw_photo().save(photo, quality=90)
        _run(BUILD.format(model=model))
        bare, ours = [], []
        for i in range(REPEATS):
            bare.append(_run(BARE.format(model=model, layer=LAYER)))
            ours.append(
                _run(OURS.format(model=model, layer=LAYER, photo=photo, figure=i == 0, folder=folder))
            )
    b = statistics.median(r["total"] for r in bare)
    o = statistics.median(r["total"] for r in ours)
    fig = ours[0]
    mb = 1024 * 1024
    return {
        "real models: ResNet50 224 bare Keras load + first forward (layer + output)": (b, "s", ""),
        "real models: ResNet50 224 open + guess + first maps (layer + output)": (o, "s", ""),
        "real models: ResNet50 224 first maps / bare Keras": (o / b, "x", "<= 1.2"),
        "real models: ResNet50 224 open (ours) / load (bare)": (
            statistics.median(r["load"] for r in ours) / statistics.median(r["load"] for r in bare),
            "x",
            "",
        ),
        "real models: 1024-map figure, build + save PNG": (fig["figure_png"], "s", "<= 5"),
        "real models: 1024-map figure, build + save SVG": (fig["figure_svg"], "s", "<= 5"),
        "real models: 1024-map figure, build + save PDF": (fig["figure_pdf"], "s", "<= 5"),
        "real models: 1024-map figure PNG size": (fig["size_png"] / mb, "MB", "< 10"),
        "real models: 1024-map figure SVG size": (fig["size_svg"] / mb, "MB", "< 10"),
        "real models: 1024-map figure PDF size": (fig["size_pdf"] / mb, "MB", "< 10"),
        "real models: ResNet50 every layer compiled afterwards (background)": (fig["warm"], "s", ""),
        "real models: ResNet50 layer switch after that (one layer + output)": (
            fig["switch"] * 1000,
            "ms",
            "",
        ),
    }


if __name__ == "__main__":
    for name, (value, unit, target) in measure().items():
        print(f"{name:75s} {value:10.3f} {unit:3s} {target}")
