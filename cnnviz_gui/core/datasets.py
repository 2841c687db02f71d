"""Dataset sources. The bundled MNIST sample is always available offline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz_gui.core.resources import mnist_sample_path


@dataclass
class Dataset:
    """Images as float32 in 0..1 with shape (N, H, W, C) and integer labels."""

    name: str
    x: np.ndarray
    y: np.ndarray
    class_names: list[str]

    def __len__(self) -> int:
        return len(self.y)


def load_bundled_mnist() -> Dataset:
    """The 10,000-digit MNIST sample shipped with the app."""
    with np.load(mnist_sample_path()) as data:
        x = data["x"].astype(np.float32)[..., None] / 255.0
        y = data["y"].astype(np.int64)
    return Dataset("MNIST sample (10k, bundled)", x, y, [str(i) for i in range(10)])


def split_shuffled(ds: Dataset, n_train: int, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Shuffle with a fixed seed and split into (train, test)."""
    order = np.random.default_rng(seed).permutation(len(ds))
    tr, te = order[:n_train], order[n_train:]
    return (
        Dataset(ds.name + " (train)", ds.x[tr], ds.y[tr], ds.class_names),
        Dataset(ds.name + " (test)", ds.x[te], ds.y[te], ds.class_names),
    )
