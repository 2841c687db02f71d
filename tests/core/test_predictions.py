"""Predictions: labels files, the built-in ImageNet names, top-k, softmax only for logits."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnviz_gui.core.activations.predictions import (
    LabelsError,
    class_names_for,
    imagenet_class_names,
    load_labels,
    predict,
    top_k,
)
from cnnviz_gui.core.activations.probe import class_probabilities


def test_imagenet_names_are_bundled_in_index_order():
    names = imagenet_class_names()
    assert len(names) == 1000 and len(set(names)) == 1000
    assert names[0] == "tench" and names[1] == "goldfish" and names[281] == "tabby"
    assert names[999] == "toilet tissue"
    assert class_names_for(1000)[1] == "ImageNet (built in)"
    assert class_names_for(10) == ([str(i) for i in range(10)], "class indices")


def test_labels_files_txt_json_list_and_dicts(tmp_path):
    (tmp_path / "a.txt").write_text("cat\r\ndog\nbird\n\n")
    assert load_labels(tmp_path / "a.txt") == ["cat", "dog", "bird"]
    (tmp_path / "b.json").write_text(json.dumps(["cat", "dog"]))
    assert load_labels(tmp_path / "b.json") == ["cat", "dog"]
    (tmp_path / "c.json").write_text(json.dumps({"1": "dog", "0": "cat", "3": "fish"}))
    assert load_labels(tmp_path / "c.json") == ["cat", "dog", "2", "fish"]
    keras_style = {"0": ["n01440764", "tench"], "1": ["n01443537", "goldfish"]}
    (tmp_path / "d.json").write_text(json.dumps(keras_style))
    assert load_labels(tmp_path / "d.json") == ["tench", "goldfish"]


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("missing.txt", None, "does not exist"),
        ("bad.json", "{not json", "not valid JSON"),
        ("keys.json", json.dumps({"cat": "0"}), "must be class indices"),
        ("number.json", "42", "list of names or a dict"),
        ("empty.txt", "\n", "holds no class names"),
    ],
)
def test_bad_labels_files_are_explained(tmp_path, name, content, message):
    if content is not None:
        (tmp_path / name).write_text(content)
    with pytest.raises(LabelsError, match=message):
        load_labels(tmp_path / name)
    with pytest.raises(LabelsError, match="holds 2 class names but the model has 10 outputs"):
        class_names_for(10, ["a", "b"], "two.txt")


def test_top_k_most_probable_first_with_names():
    p = np.array([0.1, 0.4, 0.05, 0.4, 0.05])
    top = top_k(p, 3, ["a", "b", "c", "d", "e"])
    assert [(t.index, t.name) for t in top] == [(1, "b"), (3, "d"), (0, "a")]  # ties: lower index first
    assert top[0].to_dict() == {"class": 1, "name": "b", "probability": pytest.approx(0.4)}
    assert len(top_k(p, 50)) == 5


def test_softmax_only_for_logits():
    probs = np.array([0.2, 0.5, 0.3], np.float32)
    assert class_probabilities(probs, "softmax") == (pytest.approx(probs), False)
    # a sigmoid output (multi-label) is not a distribution and is never renormalised
    sig = np.array([0.9, 0.8, 0.1])
    p, logits = class_probabilities(sig, "sigmoid")
    assert not logits and p == pytest.approx(sig)
    # logits from a linear layer are softmaxed, even when they happen to sum to one
    lin = np.array([0.5, 0.25, 0.25])
    p, logits = class_probabilities(lin, "linear")
    assert logits and p.sum() == pytest.approx(1.0) and p[0] == pytest.approx(np.exp(0.5) / np.exp(lin).sum())


def test_predict_reads_only_the_output_and_names_the_classes():
    keras = pytest.importorskip("keras")
    from cnnviz_gui.core.activations.probe import get_probe
    from cnnviz_gui.core.models.loading import LoadedModel, describe

    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8, 3))
    h = keras.layers.Conv2D(4, 3, name="conv")(inp)
    h = keras.layers.GlobalAveragePooling2D(name="gap")(h)
    logits = keras.layers.Dense(3, name="logits")(h)
    model = keras.Model(inp, logits, name="tiny")
    loaded = LoadedModel(model, describe(model, "tiny.keras", None))
    image = np.random.default_rng(1).random((8, 8, 3)).astype(np.float32)
    result = predict(loaded, image, "0..1", top=2, labels=["cat", "dog", "bird"], labels_source="pets.txt")
    expected = model(image[None], training=False).numpy()[0]
    soft = np.exp(expected - expected.max())
    soft /= soft.sum()
    assert result.from_logits and result.n_classes == 3 and result.names_from == "pets.txt"
    assert [p.index for p in result.top] == list(np.argsort(-soft)[:2])
    assert result.top[0].name == ["cat", "dog", "bird"][result.top[0].index]
    assert result.top[0].probability == pytest.approx(float(soft.max()), rel=1e-5)
    assert get_probe(loaded).compiled_sets == [("logits",)]  # only the output was compiled
