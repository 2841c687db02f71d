"""Dataset sources: bundled sample, IDX (gzip or not), npz, image folders, Debian Fashion-MNIST, offline."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from PIL import Image

from cnnviz_gui.core import datasets
from cnnviz_gui.core.datasets import (
    DatasetError,
    debian_fashion_mnist,
    load_dataset,
    read_idx,
)


def _write_idx(path, array: np.ndarray, gz: bool) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if gz:
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)


@pytest.fixture
def tiny_images():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (6, 5, 4), dtype=np.uint8), np.array([0, 1, 2, 1, 0, 2], np.uint8)


def test_bundled_sample_by_name():
    ds = load_dataset("mnist-sample")
    assert ds.x.shape == (10000, 28, 28, 1) and ds.x.dtype == np.float32
    assert 0.0 <= ds.x.min() and ds.x.max() <= 1.0
    assert ds.class_names == [str(i) for i in range(10)]
    assert load_dataset("").name == ds.name


@pytest.mark.parametrize("gz", [False, True])
def test_idx_files_gzip_or_not(tmp_path, tiny_images, gz):
    x, y = tiny_images
    suffix = ".gz" if gz else ""
    _write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", x, gz)
    _write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", y, gz)
    ds = load_dataset(tmp_path / f"train-images-idx3-ubyte{suffix}")
    assert ds.x.shape == (6, 5, 4, 1)
    np.testing.assert_allclose(ds.x[..., 0] * 255, x, atol=1e-3)
    assert ds.y.tolist() == y.tolist()
    assert ds.class_names == ["0", "1", "2"]
    # the folder holding the files works too
    assert len(load_dataset(tmp_path)) == 6


def test_idx_errors(tmp_path, tiny_images):
    x, _ = tiny_images
    bad = tmp_path / "t10k-images-idx3-ubyte"
    bad.write_bytes(b"\x01\x02\x03\x04hello")
    with pytest.raises(DatasetError, match="not an IDX file"):
        read_idx(bad)
    _write_idx(bad, x, gz=False)
    with pytest.raises(DatasetError, match="No labels file"):
        load_dataset(bad)
    trunc = tmp_path / "cut-images-idx3-ubyte"
    trunc.write_bytes(bad.read_bytes()[:40])
    with pytest.raises(DatasetError, match="truncated"):
        read_idx(trunc)


def test_npz_with_x_and_y(tmp_path):
    x = np.random.default_rng(1).random((7, 8, 8, 3)).astype(np.float32)
    y = np.array([0, 1, 1, 0, 2, 2, 1])
    np.savez(tmp_path / "d.npz", x=x, y=y, class_names=np.array(["cat", "dog", "cow"]))
    ds = load_dataset(tmp_path / "d.npz")
    np.testing.assert_allclose(ds.x, x)
    assert ds.class_names == ["cat", "dog", "cow"]
    np.savez(tmp_path / "u8.npz", x=(x[..., 0] * 255).astype(np.uint8), y=y)
    ds8 = load_dataset(tmp_path / "u8.npz")
    assert ds8.x.shape == (7, 8, 8, 1) and ds8.x.max() <= 1.0
    np.savez(tmp_path / "wrong.npz", images=x)
    with pytest.raises(DatasetError, match="'x' \\(images\\) and 'y'"):
        load_dataset(tmp_path / "wrong.npz")


def test_image_folder_one_subfolder_per_class(tmp_path):
    for k, name in enumerate(["circle", "square"]):
        d = tmp_path / "shapes" / name
        d.mkdir(parents=True)
        for i in range(3):
            Image.fromarray(np.full((10, 12), 40 * k + i, np.uint8)).save(d / f"{i}.png")
    (tmp_path / "shapes" / "square" / "notes.txt").write_text("not an image")
    ds = load_dataset(tmp_path / "shapes")
    assert ds.class_names == ["circle", "square"]
    assert ds.x.shape == (6, 10, 12, 1)
    assert ds.y.tolist() == [0, 0, 0, 1, 1, 1]
    assert ds.x[3, 0, 0, 0] == pytest.approx(40 / 255)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no sub-folders"):
        load_dataset(tmp_path / "empty")


def test_unknown_names_and_files(tmp_path):
    with pytest.raises(DatasetError, match="neither a known dataset"):
        load_dataset("imagenet")
    (tmp_path / "x.csv").write_text("1,2")
    with pytest.raises(DatasetError, match="not a dataset cnnviz reads"):
        load_dataset(tmp_path / "x.csv")


def test_keras_dataset_offline_gives_a_clear_message(monkeypatch):
    keras = pytest.importorskip("keras")

    def offline():
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    with pytest.raises(DatasetError, match="offline.*bundled MNIST sample is still available"):
        load_dataset("cifar10")


@pytest.mark.skipif(debian_fashion_mnist() is None, reason="Debian's dataset-fashion-mnist is not installed")
def test_debian_fashion_mnist_is_detected_and_read():
    ds = load_dataset("fashion_mnist")
    assert "system package" in ds.name
    assert ds.x.shape == (10000, 28, 28, 1)
    assert ds.class_names[9] == "Ankle boot"
    assert np.bincount(ds.y).tolist() == [1000] * 10
    assert any("system package" in label for _, label in datasets.dataset_sources())
