"""Attribution: agreement with tf-keras-vis 0.8.x and speed, in one run (``make bench``).

- Agreement (same model, input and class; scores are pre-softmax logits on both sides, theirs through
  ``ReplaceToLinear`` on their clone of the model): Pearson r of Grad-CAM's ``layer_map`` (theirs with
  ``expand_cam=False, normalize_cam=False``) and of saliency's ``attribution`` (theirs with
  ``normalize_map=False``), on the default CNN (8 digits of the bundled sample, ``Conv2D_3``) and on
  MobileNetV2 224x224x3 with random weights (``weights=None``; 2 random images, ``out_relu``). A random-init
  MobileNetV2 gives Grad-CAM values ~1e-12, so maps are compared by correlation, never by an absolute
  tolerance. Integrated gradients' completeness error (|sum of the map - (score - baseline score)| relative)
  on the same 8 digits (64 steps, black baseline) and on the ResNet50 input below.
- Speed, ours and theirs measured in the same process, one after the other: Grad-CAM for one 28x28 digit
  (ours: ``attribute`` and ``live_attribution``, the whole call from a 0..1 image; theirs: their ``Gradcam``
  call with its defaults), p50 / p95; 64 inputs of 224x224x3 on MobileNetV2 (ours: one ``attribute`` call;
  theirs: their batch call), best of two; integrated gradients with 64 steps on one ResNet50 224 input
  (random weights) against 64 batched forward+backward passes of a plain compiled gradient of the same
  model (one batch of 64), best of two.

The CPU is shared: timings are noisy; the load average is printed with the table.
"""

from __future__ import annotations

import os
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

N_LIVE = int(os.environ.get("CNNVIZ_BENCH_ATTR_CALLS", "200"))
N_THEIRS = int(os.environ.get("CNNVIZ_BENCH_ATTR_THEIR_CALLS", "40"))


def _pearson(a, b) -> float:
    a, b = np.ravel(np.asarray(a, np.float64)), np.ravel(np.asarray(b, np.float64))
    return float(np.corrcoef(a, b)[0, 1])


def _min_pearson(ours, theirs) -> float:
    return min(_pearson(o, t) for o, t in zip(ours, theirs, strict=True))


def _times(fn, n: int, warm: int = 5, cpu: list | None = None) -> np.ndarray:
    """Wall times (ms) of ``n`` calls; with ``cpu`` the process CPU time of each call (all threads, ms) is
    appended to it: what a call costs, independent of other programs competing for the cores."""
    for _ in range(warm):
        fn()
    out = []
    for _ in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        out.append(time.perf_counter() - t0)
        if cpu is not None:
            cpu.append((time.process_time() - c0) * 1000.0)
    return np.asarray(out) * 1000.0


def _loaded(model):
    from cnnviz_gui.core.models.loading import LoadedModel, describe

    return LoadedModel(model, describe(model, f"{model.name}.keras", None))


def _their_tools(model):
    from tf_keras_vis.gradcam import Gradcam
    from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
    from tf_keras_vis.saliency import Saliency
    from tf_keras_vis.utils.model_modifiers import ReplaceToLinear

    return (
        Gradcam(model, model_modifier=ReplaceToLinear(), clone=True),
        GradcamPlusPlus(model, model_modifier=ReplaceToLinear(), clone=True),
        Saliency(model, model_modifier=ReplaceToLinear(), clone=True),
    )


def _agreement(loaded, images01, convention, layer, label, rows) -> None:
    from tf_keras_vis.utils.scores import CategoricalScore

    from cnnviz_gui.core import attribution as attr
    from cnnviz_gui.core.preprocess import to_model_range

    x = to_model_range(images01, convention)
    cam = attr.attribute(loaded, images01, attr.AttributionRequest("gradcam", layer=layer), convention)
    campp = attr.attribute(loaded, images01, attr.AttributionRequest("gradcampp", layer=layer), convention)
    sal = attr.attribute(loaded, images01, attr.AttributionRequest("saliency"), convention)
    classes = [int(c) for c in cam.class_index]
    gradcam, gradcampp, saliency = _their_tools(loaded.model)
    score = CategoricalScore(classes)
    kw = {"penultimate_layer": layer, "seek_penultimate_conv_layer": False, "expand_cam": False}
    their_cam = np.asarray(gradcam(score, x, normalize_cam=False, **kw))
    their_campp = np.asarray(gradcampp(score, x, normalize_cam=False, **kw))
    their_sal = np.asarray(saliency(score, x, normalize_map=False))
    rows[f"attribution: Grad-CAM layer_map vs tf-keras-vis, {label} (min Pearson r)"] = (
        _min_pearson(cam.layer_map, their_cam),
        "r",
        ">= 0.99",
    )
    rows[f"attribution: saliency vs tf-keras-vis, {label} (min Pearson r)"] = (
        _min_pearson(sal.attribution, their_sal),
        "r",
        ">= 0.99",
    )
    rows[f"attribution: Grad-CAM++ layer_map vs tf-keras-vis, {label} (min Pearson r)"] = (
        _min_pearson(campp.layer_map, their_campp),
        "r",
        "",
    )
    rows[f"attribution: Grad-CAM peak |value|, {label}"] = (float(np.abs(cam.layer_map).max()), "", "")


def _mnist(rows) -> None:
    from tf_keras_vis.utils.scores import CategoricalScore

    from cnnviz_gui.core import attribution as attr
    from cnnviz_gui.core.datasets import load_bundled_mnist
    from cnnviz_gui.core.models.loading import open_model
    from cnnviz_gui.core.preprocess import to_model_range
    from cnnviz_gui.core.resources import default_model_path

    loaded = open_model(default_model_path())
    ds = load_bundled_mnist()
    images = ds.x[np.arange(8) * 1250 + 7]
    _agreement(loaded, images, "standardised", "Conv2D_3", "MNIST CNN", rows)
    ig = attr.attribute(loaded, images, attr.AttributionRequest("ig", steps=64))
    rows["attribution: IG completeness error, MNIST CNN, 8 digits, 64 steps (max)"] = (
        float(ig.extras["completeness_error"].max() * 100),
        "%",
        "< 5",
    )

    # speed for one digit: the whole call, 0..1 image in, arrays out
    one = images[0]
    request = attr.AttributionRequest("gradcam")
    cpu: list[float] = []
    ours = _times(lambda: attr.attribute(loaded, one, request), N_LIVE)
    live = _times(lambda: attr.live_attribution(loaded, one, method="gradcam"), N_LIVE, cpu=cpu)
    live_sal = _times(lambda: attr.live_attribution(loaded, one, method="saliency"), N_LIVE)
    gradcam, _, _ = _their_tools(loaded.model)
    x = to_model_range(one[None], "standardised")
    score = CategoricalScore([int(np.argmax(loaded.model(x).numpy()[0]))])
    theirs = _times(lambda: gradcam(score, x, penultimate_layer="Conv2D_3"), N_THEIRS, warm=3)
    p = {k: (np.percentile(v, 50), np.percentile(v, 95)) for k, v in (("o", ours), ("t", theirs))}
    rows["attribution: Grad-CAM one 28x28 digit, ours p50"] = (p["o"][0], "ms", "")
    rows["attribution: Grad-CAM one 28x28 digit, ours p95"] = (p["o"][1], "ms", "<= 10")
    rows["attribution: Grad-CAM one 28x28 digit, live_attribution p95"] = (
        np.percentile(live, 95),
        "ms",
        "<= 10",
    )
    rows["attribution: Grad-CAM one 28x28 digit, live_attribution CPU time per call p50 / p95"] = (
        np.percentile(cpu, 50),
        "ms",
        f"p95 {np.percentile(cpu, 95):.2f} ms",
    )
    rows["attribution: saliency one 28x28 digit, live_attribution p95"] = (
        np.percentile(live_sal, 95),
        "ms",
        "<= 10",
    )
    rows["attribution: Grad-CAM one 28x28 digit, tf-keras-vis p50"] = (p["t"][0], "ms", "")
    rows["attribution: Grad-CAM one 28x28 digit, tf-keras-vis p95"] = (p["t"][1], "ms", "")
    rows["attribution: Grad-CAM one 28x28 digit, speed-up over tf-keras-vis (p50)"] = (
        p["t"][0] / p["o"][0],
        "x",
        ">= 3",
    )


def _mobilenet(rows) -> None:
    import keras
    from tf_keras_vis.utils.scores import CategoricalScore

    from cnnviz_gui.core import attribution as attr
    from cnnviz_gui.core.preprocess import to_model_range

    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))
    loaded = _loaded(model)
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (2, 224, 224, 3)).astype(np.float32)
    _agreement(loaded, images, "-1..1", "out_relu", "MobileNetV2 224 (random weights)", rows)

    batch = rng.uniform(0, 1, (64, 224, 224, 3)).astype(np.float32)
    request = attr.AttributionRequest("gradcam", layer="out_relu")
    attr.attribute(loaded, batch[:2], request, "-1..1")  # traced above; warm the batch path
    ours = []
    for _ in range(2):
        t0 = time.perf_counter()
        r = attr.attribute(loaded, batch, request, "-1..1")
        ours.append(time.perf_counter() - t0)
    gradcam, _, _ = _their_tools(model)
    x = to_model_range(batch, "-1..1")
    score = CategoricalScore([int(c) for c in r.class_index])
    kw = {"penultimate_layer": "out_relu", "seek_penultimate_conv_layer": False}
    gradcam(CategoricalScore(score.indices[:2]), x[:2], **kw)  # their warm-up
    theirs = []
    for _ in range(2):
        t0 = time.perf_counter()
        gradcam(score, x, **kw)
        theirs.append(time.perf_counter() - t0)
    rows["attribution: Grad-CAM 64 x 224x224x3 MobileNetV2, ours (best of 2)"] = (min(ours), "s", "")
    rows["attribution: Grad-CAM 64 x 224x224x3 MobileNetV2, tf-keras-vis batch call (best of 2)"] = (
        min(theirs),
        "s",
        "",
    )
    rows["attribution: Grad-CAM 64 x 224x224x3 MobileNetV2, ours / theirs"] = (
        min(ours) / min(theirs),
        "x",
        "<= 1",
    )


def _resnet(rows) -> None:
    import keras
    import tensorflow as tf

    from cnnviz_gui.core import attribution as attr
    from cnnviz_gui.core.preprocess import to_model_range

    keras.utils.set_random_seed(0)
    model = keras.applications.ResNet50(weights=None)
    loaded = _loaded(model)
    image = np.random.default_rng(1).uniform(0, 1, (224, 224, 3)).astype(np.float32)
    request = attr.AttributionRequest("ig", steps=64, batch_size=64)
    result = attr.attribute(loaded, image, attr.AttributionRequest("ig", steps=2), "caffe")  # trace
    cls = int(result.class_index[0])

    @tf.function(input_signature=[tf.TensorSpec((None, 224, 224, 3), tf.float32)])
    def gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            score = tf.reduce_sum(model(x, training=False)[:, cls])
        return tape.gradient(score, x)

    x = to_model_range(np.repeat(image[None], 64, axis=0), "caffe")
    gradient(x[:1])
    ours, plain = [], []
    for _ in range(2):  # interleaved, so both see the same load
        t0 = time.perf_counter()
        result = attr.attribute(loaded, image, request, "caffe")
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        gradient(x).numpy()
        plain.append(time.perf_counter() - t0)
    rows["attribution: IG 64 steps, one ResNet50 224 input (best of 2)"] = (min(ours), "s", "")
    rows["attribution: 64 batched forward+backward passes, ResNet50 224 (best of 2)"] = (min(plain), "s", "")
    rows["attribution: IG 64 steps / 64 forward+backward passes, ResNet50"] = (
        min(ours) / min(plain),
        "x",
        "<= 1.5",
    )
    rows["attribution: IG completeness error, ResNet50 (random weights), 64 steps"] = (
        float(result.extras["completeness_error"][0] * 100),
        "%",
        "< 5",
    )


def measure() -> dict[str, tuple[float, str, str]]:
    rows: dict[str, tuple[float, str, str]] = {}
    _mnist(rows)
    _mobilenet(rows)
    _resnet(rows)
    return rows


if __name__ == "__main__":
    t0 = time.perf_counter()
    for name, (value, unit, target) in measure().items():
        print(f"{name:95s} {value:10.4g} {unit:3s} {target}")
    print(f"total {time.perf_counter() - t0:.0f} s")
