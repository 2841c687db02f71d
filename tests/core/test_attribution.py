"""Attribution methods: values a person would check (where the map is, what it sums to, which score it
explains), nested models, batching and retracing, cancel and readable errors. Tiny models built here."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from cnnviz_gui.core import attribution as attr
from cnnviz_gui.core.attribution import graph
from cnnviz_gui.core.models.loading import LoadedModel, describe


def _loaded(model) -> LoadedModel:
    return LoadedModel(model, describe(model, f"{model.name}.keras", None))


@pytest.fixture(scope="module")
def left_half_model():
    """A CNN that sees only the left half of its 28x28 input (the right half is cropped away and replaced by
    zeros before its one conv layer, 1x1 kernels without bias): its classes depend on the left half only."""
    import keras

    x = keras.Input((28, 28, 1))
    h = keras.layers.Cropping2D(((0, 0), (0, 14)))(x)
    h = keras.layers.ZeroPadding2D(((0, 0), (0, 14)))(h)
    h = keras.layers.Conv2D(6, 1, activation="relu", use_bias=False, name="maps")(h)
    h = keras.layers.MaxPooling2D(2, name="pool")(h)
    h = keras.layers.Flatten()(h)
    out = keras.layers.Dense(3, activation="softmax", name="head")(h)
    model = keras.Model(x, out, name="left_half")
    rng = np.random.default_rng(0)
    model.get_layer("maps").set_weights([rng.normal(0.5, 1.0, (1, 1, 1, 6)).astype(np.float32)])
    w = model.get_layer("head").get_weights()
    kernel = rng.normal(0, 0.3, w[0].shape).astype(np.float32)
    kernel[:, 0] = np.abs(kernel[:, 0])  # class 0 grows with what the maps see
    model.get_layer("head").set_weights([kernel, w[1]])
    return _loaded(model)


@pytest.fixture(scope="module")
def linear_model():
    """logits = W x + b on a flattened 6x6 image, softmax on top: d logit_c / dx = W[:, c] exactly."""
    import keras

    x = keras.Input((6, 6, 1))
    out = keras.layers.Dense(3, activation="softmax", name="head")(keras.layers.Flatten()(x))
    model = keras.Model(x, out, name="linear")
    rng = np.random.default_rng(1)
    model.get_layer("head").set_weights(
        [rng.normal(size=(36, 3)).astype(np.float32), np.array([0.5, -0.2, 0.1], np.float32)]
    )
    return _loaded(model)


def _digits(n=3, start=4000):
    from cnnviz_gui.core.datasets import load_bundled_mnist

    ds = load_bundled_mnist()
    return ds.x[start : start + n * 500 : 500]


def _random_image(shape=(28, 28, 1), seed=0):
    return np.random.default_rng(seed).uniform(0.2, 1.0, shape).astype(np.float32)


# -- where the map is ------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["gradcam", "gradcampp", "saliency", "smoothgrad", "ig", "occlusion"])
def test_a_model_that_sees_the_left_half_gets_no_attribution_on_the_right(left_half_model, method):
    image = _random_image()
    request = attr.AttributionRequest(method=method, samples=8, steps=16, layer="maps", class_index=0)
    r = attr.attribute(left_half_model, image, request, "0..1")
    a = r.attribution[0]
    assert a.shape == (28, 28)
    left, right = np.abs(a[:, :14]), np.abs(a[:, 14:])
    assert left.max() > 1e-4  # the left half explains the class
    if method == "occlusion":  # patches straddling the middle hide left pixels too
        assert right[:, 2:].max() < 1e-3 * left.max()  # (batches of other sizes round differently)
    else:
        assert right.max() < 1e-6 * left.max()
    if method in ("gradcam", "gradcampp"):
        assert r.layer == "maps" and r.layer_map.shape == (1, 28, 28)
        assert r.layer_map[0, :, 14:].max() == 0.0 and r.layer_map[0, :, :14].max() > 0
        # by default the last layer with maps: the pooled one, whose map is zero on the right half too
        pooled = attr.attribute(
            left_half_model, image, attr.AttributionRequest(method, class_index=0), "0..1"
        )
        assert pooled.layer == "pool" and pooled.layer_map.shape == (1, 14, 14)
        assert pooled.layer_map[0, :, 7:].max() == 0.0 and pooled.layer_map[0, :, :7].max() > 0


def test_gradcam_equals_the_textbook_formula_on_the_default_cnn(default_loaded):
    import keras
    import tensorflow as tf

    from cnnviz_gui.core.preprocess import to_model_range

    images = _digits(3)
    r = attr.attribute(default_loaded, images, attr.AttributionRequest("gradcam"))
    assert r.layer == "Conv2D_3" and r.layer_map.shape == (3, 3, 3) and r.attribution.shape == (3, 28, 28)
    model = default_loaded.model
    head = model.get_layer("Dense_out")
    sub = keras.Model(model.inputs, [model.get_layer("Conv2D_3").output, head.input])
    x = tf.constant(to_model_range(images, "standardised"))
    with tf.GradientTape() as tape:
        acts, feats = sub(x)
        logits = tf.matmul(feats, head.kernel) + head.bias
        score = tf.reduce_sum(logits * tf.one_hot(r.class_index, 10), axis=1)
    grads = tape.gradient(score, acts)
    weights = tf.reduce_mean(grads, axis=[1, 2])
    expected = tf.nn.relu(tf.einsum("nhwc,nc->nhw", acts, weights)).numpy()
    np.testing.assert_allclose(r.layer_map, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(r.score, tf.reduce_max(logits, axis=1).numpy(), rtol=1e-5)
    # the map at input resolution is the layer's map resized: same peak cell, non-negative
    assert r.attribution.min() >= 0
    for i in range(3):
        peak = np.unravel_index(np.argmax(r.layer_map[i]), (3, 3))
        big = np.unravel_index(np.argmax(r.attribution[i]), (28, 28))
        assert (big[0] * 3 // 28, big[1] * 3 // 28) == peak


# -- the score is the logit -------------------------------------------------------------------------------
def test_the_score_is_the_pre_softmax_logit_and_the_model_is_untouched(linear_model):
    model = linear_model.model
    w, b = model.get_layer("head").get_weights()
    image = _random_image((6, 6, 1), seed=3)
    for c in range(3):
        r = attr.attribute(linear_model, image, attr.AttributionRequest("saliency", class_index=c), "0..1")
        assert r.score_kind == "logit"
        logits = image.reshape(-1) @ w + b
        assert r.score[0] == pytest.approx(logits[c], rel=1e-5)
        # d logit / dx is the weight column; the softmax output's gradient would differ
        np.testing.assert_allclose(r.attribution[0], np.abs(w[:, c]).reshape(6, 6), rtol=1e-5)
        np.testing.assert_allclose(r.class_scores[0], logits, rtol=1e-5)
    probs = model(image[None]).numpy()[0]
    np.testing.assert_allclose(r.probabilities[0], probs, rtol=1e-5)
    assert model.get_layer("head").activation.__name__ == "softmax"  # still a softmax model
    assert probs.sum() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("head", ["softmax_layer", "activation_layer", "linear"])
def test_other_output_heads(head):
    import keras

    x = keras.Input((6, 6, 1))
    logits = keras.layers.Dense(3, name="dense")(keras.layers.Flatten()(x))
    if head == "softmax_layer":
        out = keras.layers.Softmax()(logits)
    elif head == "activation_layer":
        out = keras.layers.Activation("softmax")(logits)
    else:
        out = logits
    model = keras.Model(x, out)
    loaded = _loaded(model)
    image = _random_image((6, 6, 1), seed=4)
    r = attr.attribute(loaded, image, attr.AttributionRequest("saliency"), "0..1")
    w, b = model.get_layer("dense").get_weights()
    z = image.reshape(-1) @ w + b
    assert r.score_kind == ("output" if head == "linear" else "logit")
    assert r.score[0] == pytest.approx(z.max(), rel=1e-5)
    np.testing.assert_allclose(r.probabilities[0].sum(), 1.0, rtol=1e-5)


# -- integrated gradients and occlusion --------------------------------------------------------------------
@pytest.mark.parametrize("baseline", ["black", "blurred", "mean"])
def test_integrated_gradients_are_complete(default_loaded, baseline):
    images = _digits(2)
    request = attr.AttributionRequest("ig", steps=64, baseline=baseline)
    r = attr.attribute(default_loaded, images, request)
    for i in range(2):
        diff = float(r.score[i] - r.baseline_score[i])
        assert abs(diff) > 0.5  # the baseline really differs from the input
        assert float(r.attribution[i].sum()) == pytest.approx(diff, rel=0.05)
        assert r.extras["completeness_error"][i] < 0.05
    assert r.params == {"steps": 64, "baseline": baseline}


def test_integrated_gradients_of_a_linear_model_are_exact(linear_model):
    image = _random_image((6, 6, 1), seed=5)
    r = attr.attribute(linear_model, image, attr.AttributionRequest("ig", class_index=1, steps=4), "0..1")
    w = linear_model.model.get_layer("head").get_weights()[0]
    np.testing.assert_allclose(
        r.attribution[0], (image[..., 0] * w[:, 1].reshape(6, 6)), rtol=1e-4, atol=1e-6
    )


@pytest.fixture(scope="module")
def patch_model():
    """Sums over the nine 4x4 cells of a 12x12 image; class 0's logit weighs cell (1, 2) five times more."""
    import keras

    x = keras.Input((12, 12, 1))
    h = keras.layers.Conv2D(1, 4, strides=4, use_bias=False, name="cells")(x)
    out = keras.layers.Dense(2, activation="softmax", name="head")(keras.layers.Flatten()(h))
    model = keras.Model(x, out, name="patches")
    model.get_layer("cells").set_weights([np.ones((4, 4, 1, 1), np.float32)])
    k = np.zeros((9, 2), np.float32)
    k[:, 0] = 1.0
    k[1 * 3 + 2, 0] = 5.0
    model.get_layer("head").set_weights([k, np.zeros(2, np.float32)])
    return _loaded(model)


def test_occluding_the_decisive_patch_lowers_the_score_most(patch_model):
    image = _random_image((12, 12, 1), seed=6)
    r = attr.attribute(
        patch_model, image, attr.AttributionRequest("occlusion", class_index=0, patch=4, stride=4), "0..1"
    )
    scores = r.extras["patch_scores"][0]
    assert scores.shape == (3, 3)
    assert np.unravel_index(np.argmin(scores), scores.shape) == (1, 2)
    assert (scores < r.score[0]).all()  # hiding any ink lowers this score
    a = r.attribution[0]
    assert (
        np.unravel_index(np.argmax(a), a.shape)[0] // 4 == 1
        and np.unravel_index(np.argmax(a), a.shape)[1] // 4 == 2
    )
    # default patch and stride (2 and 1 for 12 pixels): the strongest pixels still lie in that cell
    d = attr.attribute(patch_model, image, attr.AttributionRequest("occlusion", class_index=0), "0..1")
    assert d.params["patch"] == 2 and d.params["stride"] == 1
    top = np.argwhere(d.attribution[0] >= np.percentile(d.attribution[0], 90))
    assert ((top[:, 0] // 4 == 1) & (top[:, 1] // 4 == 2)).mean() > 0.8


# -- nested models ----------------------------------------------------------------------------------------
def _nested_transfer_model():
    """A functional base with a residual connection nested in a Sequential transfer model."""
    import keras

    bx = keras.Input((16, 16, 3))
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_a")(bx)
    r = keras.layers.Conv2D(8, 3, padding="same", name="conv_b")(h)
    h = keras.layers.Activation("relu", name="block_out")(keras.layers.Add()([h, r]))
    h = keras.layers.MaxPooling2D(2, name="base_pool")(h)
    base = keras.Model(bx, h, name="base")
    model = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            base,
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(4, activation="softmax"),
        ],
        name="transfer",
    )
    rng = np.random.default_rng(2)
    model.set_weights([rng.normal(0, 0.4, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def test_an_inner_layer_of_a_nested_base_model_works():
    import keras
    import tensorflow as tf

    model = _nested_transfer_model()
    loaded = _loaded(model)
    images = np.stack([_random_image((16, 16, 3), seed=s) for s in range(2)])
    default = attr.attribute(loaded, images, attr.AttributionRequest("gradcam"), "0..1")
    assert default.layer == "base_pool"  # the last layer with maps, inside the base
    r = attr.attribute(
        loaded, images, attr.AttributionRequest("gradcam", layer="base/conv_a", class_index=2), "0..1"
    )
    assert r.layer == "conv_a" and r.layer_map.shape == (2, 16, 16)
    # by hand: the base read out at conv_a and at its output; the residual path from conv_a counts too
    base = model.layers[0]
    sub = keras.Model(base.inputs, [base.get_layer("conv_a").output, base.output])
    gap, dense = model.layers[1], model.layers[2]
    with tf.GradientTape() as tape:
        acts, feats = sub(tf.constant(images))
        logits = tf.matmul(gap(feats), dense.kernel) + dense.bias
        score = logits[:, 2]
    grads = tape.gradient(score, acts)
    expected = tf.nn.relu(tf.einsum("nhwc,nc->nhw", acts, tf.reduce_mean(grads, axis=[1, 2]))).numpy()
    np.testing.assert_allclose(r.layer_map, expected, rtol=1e-4, atol=1e-6)
    assert r.layer_map.max() > 0


def test_mobilenet_v2_base_inside_a_transfer_model():
    import keras

    base = keras.applications.MobileNetV2(
        input_shape=(64, 64, 3), include_top=False, weights=None, alpha=0.35
    )
    model = keras.Sequential(
        [
            keras.Input((64, 64, 3)),
            base,
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(5, activation="softmax"),
        ]
    )
    loaded = _loaded(model)
    choices, default = attr.cam_layer_choices(loaded)
    assert default == "out_relu" and "block_13_expand_relu" in choices
    image = _random_image((64, 64, 3), seed=7)
    r = attr.attribute(
        loaded, image, attr.AttributionRequest("gradcam", layer="block_13_expand_relu"), "-1..1"
    )
    assert r.layer_map.shape == (1, 4, 4) and r.attribution.shape == (1, 64, 64)
    assert np.isfinite(r.attribution).all() and r.score_kind == "logit"


# -- batches, classes, retracing, cancel, errors -----------------------------------------------------------
def test_batches_equal_single_inputs_and_nothing_retraces(default_loaded):
    images = _digits(3)
    for method in ("gradcam", "saliency", "ig"):
        request = attr.AttributionRequest(method, steps=8)
        batch = attr.attribute(default_loaded, images, request)
        for i in range(3):
            one = attr.attribute(default_loaded, images[i], request)
            np.testing.assert_allclose(batch.attribution[i], one.attribution[0], rtol=1e-4, atol=1e-6)
            assert batch.class_index[i] == one.class_index[0]
    for c in range(4):  # other classes and batch sizes reuse the traced functions
        attr.attribute(default_loaded, images[: c + 1], attr.AttributionRequest("gradcam", class_index=c))
    compiled = graph.get_function(default_loaded, "gradcam")
    assert compiled.fn.experimental_get_tracing_count() == 1
    assert graph.get_function(default_loaded, "gradient").fn.experimental_get_tracing_count() == 1


def test_a_given_class_is_explained_and_predicted_is_the_default(default_loaded):
    image = _digits(1)[0]
    predicted = attr.attribute(default_loaded, image)
    assert predicted.class_index[0] == int(np.argmax(predicted.probabilities[0])) == 3
    other = attr.attribute(default_loaded, image, attr.AttributionRequest("gradcam", class_index=8))
    assert other.class_index[0] == 8 and other.score[0] < predicted.score[0]
    assert not np.allclose(other.layer_map, predicted.layer_map)
    top = attr.top_classes(default_loaded, image, k=3)
    assert [t.index for t in top][0] == 3 and top[0].probability > top[1].probability > top[2].probability
    assert top[0].score == pytest.approx(float(predicted.score[0]), rel=1e-5)


def test_live_attribution_and_compare_methods(default_loaded):
    image = _digits(1)[0]
    live = attr.live_attribution(default_loaded, image, method="saliency", contrast=100.0)
    assert (
        live.display.shape == (28, 28)
        and live.display.max() == pytest.approx(1.0)
        and live.display.min() >= 0
    )
    assert live.top[0].index == int(live.result.class_index[0])
    # plain values only: results cross the process boundary
    data = pickle.dumps(live)
    np.testing.assert_array_equal(pickle.loads(data).result.attribution, live.result.attribution)
    assert b"tensorflow" not in data and b"keras" not in data
    rows = _digits(2)
    results = attr.compare_methods(
        default_loaded,
        rows,
        methods=["gradcam", "ig"],
        request=attr.AttributionRequest(steps=8, class_index=5),
    )
    assert list(results) == ["gradcam", "ig"]
    assert all((r.class_index == 5).all() and r.attribution.shape == (2, 28, 28) for r in results.values())


def test_cancel_stops_a_long_method(default_loaded):
    from cnnviz_gui.core.runtime.jobs import JobCancelled

    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(JobCancelled):
        attr.attribute(
            default_loaded,
            _digits(3),
            attr.AttributionRequest("ig", steps=64, batch_size=8),
            cancelled=cancelled,
        )
    assert len(calls) == 3


@pytest.mark.parametrize(
    ("request_args", "message"),
    [
        ({"method": "gradcam", "layer": "Dense_1"}, "gives no maps"),
        ({"method": "gradcam", "layer": "nope"}, "no layer 'nope'; layers with maps: Conv2D_1"),
        ({"method": "saliency", "class_index": 10}, "class 10 does not exist"),
        ({"method": "lime"}, "unknown method 'lime'"),
        ({"method": "ig", "steps": 1}, "at least 2 steps"),
        ({"method": "ig", "baseline": "white"}, "unknown baseline 'white'"),
    ],
)
def test_bad_requests_are_explained(default_loaded, request_args, message):
    with pytest.raises(attr.AttributionError) as err:
        attr.attribute(default_loaded, _digits(1)[0], attr.AttributionRequest(**request_args))
    assert message in err.value.message


def test_models_without_maps_or_class_vectors_are_explained():
    import keras

    x = keras.Input((28, 28, 1))
    mlp = keras.Model(x, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(x)))
    with pytest.raises(attr.AttributionError, match="no layer with maps"):
        attr.attribute(_loaded(mlp), _random_image(), attr.AttributionRequest("gradcam"))
    # saliency still works for it
    assert attr.attribute(
        _loaded(mlp), _random_image(), attr.AttributionRequest("saliency")
    ).attribution.shape == (1, 28, 28)
    ae = keras.Model(x, keras.layers.Conv2D(1, 3, padding="same")(x))
    with pytest.raises(attr.AttributionError, match="vector of class scores"):
        attr.attribute(_loaded(ae), _random_image(), attr.AttributionRequest("saliency"))
