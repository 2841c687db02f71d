"""Training never loses the last good model: cancelling or a failed save leaves the previous file intact."""

from __future__ import annotations

import errno
import os

import keras
import pytest

from cnnviz_gui.core.datasets import Dataset, load_bundled_mnist
from cnnviz_gui.core.models.loading import open_model
from cnnviz_gui.core.training.cnn import train_cnn


@pytest.fixture(scope="module")
def digits() -> Dataset:
    ds = load_bundled_mnist()
    return Dataset(ds.name, ds.x[:400], ds.y[:400], ds.class_names)


@pytest.fixture
def last_good(tmp_path, default_model_path):
    path = tmp_path / "mine.keras"
    path.write_bytes(default_model_path.read_bytes())
    return path


def test_cancelling_keeps_the_last_good_file(digits, last_good):
    before = last_good.read_bytes()
    batches = []

    def cancelled():
        return len(batches) >= 2

    res = train_cnn(
        last_good, epochs=3, dataset=digits, n_train=300, batch_size=50,
        progress=lambda f, t="": batches.append(f), cancelled=cancelled,
    )  # fmt: skip
    assert res.cancelled and res.path is None and res.test_accuracy is None
    assert len(batches) == 2, "training stops after the batch during which Stop was pressed"
    assert last_good.read_bytes() == before
    assert sorted(p.name for p in last_good.parent.iterdir()) == ["mine.keras"]
    assert open_model(last_good).info.name == "mnist_cnn"


def test_a_failed_save_keeps_the_last_good_file(digits, last_good, monkeypatch):
    before = last_good.read_bytes()
    original = keras.Model.save

    def save_half_then_fail(self, filepath, *args, **kwargs):
        original(self, filepath, *args, **kwargs)
        with open(filepath, "r+b") as fh:
            fh.truncate(100)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(keras.Model, "save", save_half_then_fail)
    with pytest.raises(OSError):
        train_cnn(last_good, epochs=1, dataset=digits, n_train=300, batch_size=100)
    assert last_good.read_bytes() == before
    assert sorted(p.name for p in last_good.parent.iterdir()) == ["mine.keras"]


def test_a_finished_training_replaces_the_file_atomically(digits, last_good):
    before = last_good.read_bytes()
    res = train_cnn(last_good, epochs=1, dataset=digits, n_train=300, batch_size=100)
    assert res.path == last_good and not res.cancelled
    assert last_good.read_bytes() != before
    assert sorted(p.name for p in last_good.parent.iterdir()) == ["mine.keras"]
    loaded = open_model(last_good)
    assert loaded.info.name == "mnist_cnn" and loaded.info.n_params == 174_092
