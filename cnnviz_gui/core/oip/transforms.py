"""Transformation robustness for OIP searches, and the shifts that measure it.

Inside each step of the Lucid preset the batch is moved by a random affine map per image before the model
sees it: the image padded with grey, shifted at random (jitter), scaled by 0.9..1.1, rotated by up to ±10°, and
shifted once more by a smaller jitter (the sequence of Olah et al., 2017). The pixel amounts are given for a
224-pixel image and scaled to the image size. All of it is one ``ImageProjectiveTransformV3`` per batch
(bilinear, grey outside the image), which TensorFlow differentiates. :func:`shifted` moves images by whole
pixels with reflected borders, for the robustness read-out. TensorFlow is imported lazily.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: grey (display value) filled in where a transformation moves the image away
FILL = 0.5


@dataclass(frozen=True)
class TransformAmounts:
    """Pixel amounts of the random transformations for one image size."""

    pad: int
    jitter: int
    jitter2: int
    scale: tuple[float, float] = (0.9, 1.1)
    rotate_deg: float = 10.0


def amounts_for(size: int, pad: int = 12, jitter: int = 8, jitter2: int = 4, reference: int = 224):
    """Lucid's amounts (pad 12, jitter 8, then 4 px at 224 px) scaled to an image of ``size`` pixels,
    at least 1 px each (a 28-pixel digit: 2, 1, 1; a 128-pixel image: 7, 5, 2)."""
    k = size / reference
    return TransformAmounts(max(1, round(pad * k)), max(1, round(jitter * k)), max(1, round(jitter2 * k)))


def random_transform(images, amounts: TransformAmounts, seed=None):
    """Random jitter, scale and rotation of a batch (B, H, W, C), one draw per image (inside a tf.function).

    The image is shifted by up to ``jitter + pad`` pixels in all (the pad lets the image move away from the
    borders) plus ``jitter2``, scaled and rotated about its centre; grey fills what comes into view.
    ``seed``: an int32 tensor of shape (2,) for reproducible draws (stateless), or None (global random).
    """
    import tensorflow as tf

    shape = tf.shape(images)
    b = shape[0]
    h = tf.cast(shape[1], tf.float32)
    w = tf.cast(shape[2], tf.float32)

    def uniform(k, lo, hi):
        if seed is None:
            return tf.random.uniform([b], lo, hi)
        return tf.random.stateless_uniform([b], seed + tf.constant([0, 7919], tf.int32) * k, lo, hi)

    reach = float(amounts.jitter + amounts.pad / 2.0)
    ty = uniform(1, -reach, reach) + uniform(2, -amounts.jitter2, amounts.jitter2)
    tx = uniform(3, -reach, reach) + uniform(4, -amounts.jitter2, amounts.jitter2)
    s = uniform(5, amounts.scale[0], amounts.scale[1])
    a = uniform(6, -amounts.rotate_deg, amounts.rotate_deg) * (math.pi / 180.0)
    # the transform maps output pixel (x, y) to the input pixel it samples: rotate and scale about the centre
    cy, cx = (h - 1.0) / 2.0, (w - 1.0) / 2.0
    cos, sin = tf.cos(a) / s, tf.sin(a) / s
    a0, a1 = cos, -sin
    b0, b1 = sin, cos
    a2 = cx - a0 * (cx + tx) - a1 * (cy + ty)
    b2 = cy - b0 * (cx + tx) - b1 * (cy + ty)
    zeros = tf.zeros([b])
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=shape[1:3],
        fill_value=FILL,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )


#: the four shifts of the robustness read-out: (rows, columns)
SHIFTS = ((4, 0), (-4, 0), (0, 4), (0, -4))


def shifted(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Images (N, H, W, C) moved by ``dy`` rows and ``dx`` columns; the border is filled by reflection."""
    x = np.asarray(images)
    n, h, w = x.shape[:3]
    py, px = min(abs(dy), h - 1), min(abs(dx), w - 1)
    padded = np.pad(x, ((0, 0), (py, py), (px, px), (0, 0)), mode="reflect")
    top, left = py - int(np.sign(dy)) * py, px - int(np.sign(dx)) * px
    return np.ascontiguousarray(padded[:, top : top + h, left : left + w])
