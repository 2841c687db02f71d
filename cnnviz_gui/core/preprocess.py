"""Input conventions: value ranges and per-image standardisation."""

from __future__ import annotations

import numpy as np

#: Input conventions a model may expect; the app converts 0..1 float images into one of these.
CONVENTIONS = ("standardised", "0..1", "0..255")


def standardise(images: np.ndarray) -> np.ndarray:
    """Per-image standardisation (zero mean, unit std), as ``tf.image.per_image_standardization``.

    A 4-D array is a batch (N, H, W, C); anything else is one image.
    """
    x = np.asarray(images, dtype=np.float32)
    axes = tuple(range(1, x.ndim)) if x.ndim == 4 else tuple(range(x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    n = np.prod([x.shape[a] for a in axes])
    std = np.maximum(x.std(axis=axes, keepdims=True), 1.0 / np.sqrt(n))
    return ((x - mean) / std).astype(np.float32)


def to_model_range(images01: np.ndarray, convention: str) -> np.ndarray:
    """Convert a batch (N, H, W, C) of images in 0..1 to the model's input convention."""
    x = np.asarray(images01, dtype=np.float32)
    if convention == "standardised":
        return standardise(x)
    if convention == "0..1":
        return x
    if convention == "0..255":
        return x * 255.0
    raise ValueError(f"unknown input convention {convention!r}; expected one of {CONVENTIONS}")
