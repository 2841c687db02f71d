"""Real architectures, small (keras.applications, weights=None; the ``real_models`` fixture): a MobileNetV2
nested in a Sequential transfer model, a ResNet50 at 64x64, a functional transfer model. Opening traces
nothing; read-outs of chosen layers (nested ones too) equal bare Keras; warm-up; graph facts; OIP of a nested
layer. The command line on the same models: test_cli_real_models.py."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from cnnviz_gui.core.activations.probe import forward, get_probe, warm_probe  # noqa: E402
from cnnviz_gui.core.models.loading import open_model  # noqa: E402
from cnnviz_gui.core.mosaic import mosaic_labels  # noqa: E402


@pytest.fixture(scope="module")
def transfer(real_models):
    return open_model(real_models["transfer"])


@pytest.fixture(scope="module")
def resnet(real_models):
    return open_model(real_models["resnet"])


def test_opening_traces_nothing_and_guesses_the_convention(real_models):
    loaded = open_model(real_models["transfer"])
    assert loaded.cache == {}  # no probe, no compiled function
    assert loaded.info.input_convention["convention"] == "-1..1"
    assert "MobileNetV2" in loaded.info.input_convention["reason"]
    probe = get_probe(loaded)  # the probe walks the layers; still nothing compiled
    assert probe.compiled_sets == [] and not probe.warmed
    assert len(probe.names) == 1 + 153 + 2 and probe.unavailable == {}  # base, its layers, gap, head
    functional = open_model(real_models["functional"])
    assert functional.info.input_convention["convention"] == "0..255"  # its Rescaling comes first


def test_nested_layers_read_out_like_bare_keras(transfer, real_models):
    base = real_models["base"]
    image = np.random.default_rng(0).random((96, 96, 3)).astype(np.float32)
    acts = forward(transfer, image, "-1..1", layers=["block_3_expand_relu", "Conv1"])
    assert set(acts.layers) == {"block_3_expand_relu", "Conv1", "head"}
    x = image[None] * 2 - 1
    bare = keras.Model(
        base.inputs, [base.get_layer("block_3_expand_relu").output, base.get_layer("Conv1").output]
    )
    want_expand, want_conv1 = (t.numpy()[0] for t in bare(x, training=False))
    np.testing.assert_allclose(acts.layers["block_3_expand_relu"], want_expand, atol=1e-5)
    np.testing.assert_allclose(acts.layers["Conv1"], want_conv1, atol=1e-5)
    np.testing.assert_allclose(acts.layers["head"], transfer.model(x, training=False).numpy()[0], atol=1e-5)
    assert acts.probabilities.sum() == pytest.approx(1.0) and not acts.from_logits
    probe = get_probe(transfer)
    assert ("block_3_expand_relu", "Conv1", "head") in probe.compiled_sets
    n = len(probe.compiled_sets)
    forward(transfer, image, "-1..1", layers=["block_3_expand_relu", "Conv1"])  # the same set: no new compile
    assert len(probe.compiled_sets) == n


def test_warm_probe_reads_every_nested_layer_and_serves_switches_without_compiles(transfer):
    probe = get_probe(transfer)
    image = np.random.default_rng(1).random((96, 96, 3)).astype(np.float32)
    first = forward(transfer, image, "-1..1", layers=["block_6_project"])
    assert first.layers["block_6_project"].shape == (6, 6, 24)
    assert warm_probe(transfer, cancelled=lambda: True) is False and not probe.warmed
    seen = []
    assert warm_probe(transfer, progress=lambda f, text="", payload=None: seen.append(f)) is True
    assert probe.warmed and seen == [0.0, 1.0]
    before = list(probe.compiled_sets)
    tracing = probe._full.experimental_get_tracing_count()
    for name in ("Conv1_relu", "block_2_add", "out_relu", "gap", "mobilenetv2_0.35_96"):
        out = forward(transfer, image, "-1..1", layers=[name])
        assert set(out.layers) == {name, "head"}
    assert probe.compiled_sets == before and probe._full.experimental_get_tracing_count() == tracing
    again = forward(transfer, image, "-1..1", layers=["block_6_project"])
    np.testing.assert_allclose(again.layers["block_6_project"], first.layers["block_6_project"], atol=1e-5)
    every = forward(transfer, image, "-1..1")  # every layer of the nested base, in tree order
    assert list(every.layers) == probe.names and len(every.layers) == 156
    np.testing.assert_allclose(every.layers["out_relu"], every.layers["mobilenetv2_0.35_96"], atol=1e-6)


def test_first_view_of_resnet_reads_one_layer_and_the_output(resnet, real_models):
    image = np.random.default_rng(2).random((64, 64, 3)).astype(np.float32)
    acts = forward(resnet, image, "caffe", layers=["conv4_block6_out"])
    assert acts.layers["conv4_block6_out"].shape == (4, 4, 1024) and set(acts.layers) == {
        "conv4_block6_out", "predictions"}  # fmt: skip
    assert get_probe(resnet).compiled_sets == [("conv4_block6_out", "predictions")]
    model = real_models["resnet_model"]
    bare = keras.Model(model.inputs, model.get_layer("conv4_block6_out").output)
    from cnnviz_gui.core.preprocess import to_model_range

    want = bare(to_model_range(image[None], "caffe"), training=False).numpy()[0]
    np.testing.assert_allclose(acts.layers["conv4_block6_out"], want, rtol=1e-4, atol=1e-4)
    assert len(acts.probabilities) == 1000 and not acts.from_logits
    # the predictions after the first view reuse its compiled read-out (it holds the output)
    from cnnviz_gui.core.activations.predictions import predict

    result = predict(resnet, image, "caffe")
    assert (
        result.top[0].index == int(np.argmax(acts.probabilities))
        and result.names_from == "ImageNet (built in)"
    )
    assert get_probe(resnet).compiled_sets == [("conv4_block6_out", "predictions")]


def test_graph_facts_of_resnet_blocks_and_merges(resnet):
    info = resnet.info
    add = info.find_layer("conv4_block6_add")
    assert add.inbound == ["conv4_block5_out", "conv4_block6_3_bn"]
    assert info.find_layer("conv4_block5_out").outbound == ["conv4_block6_1_conv", "conv4_block6_add"]
    blocks = {layer.block for layer in info.iter_layers() if layer.block}
    assert len(blocks) == 16 and {"conv2_block1", "conv4_block6", "conv5_block3"} <= blocks
    assert info.find_layer("conv4_block6_out").block == "conv4_block6"
    assert info.find_layer("conv1_conv").block is None and info.find_layer("predictions").block is None
    members = [layer.name for layer in info.iter_layers() if layer.block == "conv4_block6"]
    assert members[0] == "conv4_block6_1_conv" and members[-1] == "conv4_block6_out" and len(members) == 10


def test_graph_facts_of_a_small_residual_and_inception_like_model():
    inp = keras.Input((8, 8, 3))
    a = layers.Conv2D(4, 1, name="stem")(inp)
    r = layers.Conv2D(4, 3, padding="same", name="res_conv")(a)
    s = layers.Add(name="merge")([a, r])
    b1 = layers.Conv2D(2, 1, name="branch1")(s)
    b2 = layers.MaxPooling2D(3, 1, padding="same", name="branch2")(s)
    c = layers.Concatenate(name="mixed")([b1, b2])
    out = layers.Dense(2, name="out")(layers.Flatten(name="flat")(c))
    from cnnviz_gui.core.models.loading import describe

    info = describe(keras.Model(inp, out), "x.keras", None)
    by = {layer.name: layer for layer in info.layers}
    assert by["merge"].inbound == ["stem", "res_conv"] and by["stem"].outbound == ["res_conv", "merge"]
    assert by["mixed"].inbound == ["branch1", "branch2"]
    assert by["res_conv"].block == by["merge"].block == "merge"  # no common name prefix: the merge names it
    assert by["branch1"].block == by["mixed"].block == "mixed"
    assert by["stem"].block is None and by["flat"].block is None
    assert info.to_dict()["layers"][2]["inbound"] == ["stem", "res_conv"]


def test_mosaic_figure_of_a_nested_layer_built_from_forward(transfer):
    from cnnviz_gui.core.activations.figures import maps_figure

    image = np.random.default_rng(3).random((96, 96, 3)).astype(np.float32)
    acts = forward(transfer, image, "-1..1", layers=["block_1_expand_relu"])
    fig = maps_figure(acts.layers["block_1_expand_relu"], "block_1_expand_relu", input_image=image,
                      probabilities=acts.probabilities, class_names=["a", "b", "c", "d"])  # fmt: skip
    assert mosaic_labels(fig) == [str(i) for i in range(48)]


def test_oip_of_a_nested_layer_runs(transfer):
    from cnnviz_gui.core.oip import engine as oip

    target = oip.OipTarget(transfer, "block_3_expand_relu", "standardised")
    assert target.info.kind == "map" and target.info.n_units == 48
    settings = oip.preset("Seed (articles)", steps=5, seed=0)
    result = oip.run_oip(transfer, oip.OipRequest(target.key, [0, 1], settings, convention="standardised"))
    assert result.images.shape == (2, 96, 96, 3) and np.isfinite(result.losses).all()


def test_oip_in_the_conventions_of_keras_applications(transfer):
    """A nested MobileNetV2 layer searched in its own convention (-1..1) and in caffe's: the model receives
    values in that range, the images are display values in 0..1."""
    from cnnviz_gui.core.oip import engine as oip

    for convention, (lo, hi) in {"-1..1": (-1.0, 1.0), "caffe": (-124.0, 152.0)}.items():
        settings = oip.preset("Lucid", steps=4, seed=0)
        request = oip.OipRequest("block_3_expand_relu", [0, 1], settings, convention=convention)
        result = oip.run_oip(transfer, request)
        assert result.convention == convention and np.isfinite(result.losses).all()
        assert result.images.min() >= 0.0 and result.images.max() <= 1.0
        assert lo - 1e-3 <= result.model_inputs.min() and result.model_inputs.max() <= hi + 1e-3
