"""The Lucid preset's image parameterisation: a 1/f-scaled Fourier spectrum, decorrelated colour, a sigmoid.

The optimised variable is a spectrum (real and imaginary parts) per image and channel. Its inverse real FFT,
scaled by 1/f so that every frequency band starts with the same energy, is a natural-looking image; for RGB
images a fixed 3x3 matrix (the square root of the colour correlation of natural images, as in Olah et al.,
"Feature Visualization", Distill 2017) turns decorrelated channels into RGB; a sigmoid squashes the result
into display values 0..1. The model then receives that display image in its own input convention
(:func:`cnnviz_gui.core.preprocess.to_model_range_tf`). Grey images use one channel and no colour matrix.
NumPy helpers build the scale and the random start; :func:`spectrum_to_display` runs inside a ``tf.function``.
"""

from __future__ import annotations

import numpy as np

#: square root of the colour correlation of natural (ImageNet) images, the published constants; columns
#: are scaled by the largest column norm so the matrix does not amplify
COLOUR_CORRELATION_SQRT = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], np.float32)
COLOUR_MATRIX = COLOUR_CORRELATION_SQRT / np.max(np.linalg.norm(COLOUR_CORRELATION_SQRT, axis=0))
#: the spectrum's start values are drawn with this standard deviation (a nearly uniform grey start)
START_STD = 0.01
#: the inverse transform's output is divided by this before the colour matrix (it keeps the sigmoid in
#: its linear range at the start; Lucid's constant)
IMAGE_DIVISOR = 4.0


def spectrum_shape(shape: tuple[int, int, int]) -> tuple[int, int, int, int]:
    """Shape of one image's parameter: (2 real/imaginary, C, H, W // 2 + 1)."""
    h, w, c = shape
    return (2, c, h, w // 2 + 1)


def frequency_scale(h: int, w: int, decay: float = 1.0) -> np.ndarray:
    """Per-frequency amplitude (H, W // 2 + 1): 1 / max(f, 1/max(h, w)) ** decay, times sqrt(h * w).

    The factor sqrt(h * w) makes the inverse transform (which divides by h * w) unitary, so a learning rate
    means about the same as for pixels.
    """
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    return (np.sqrt(h * w) / np.maximum(f, 1.0 / max(h, w)) ** decay).astype(np.float32)


def random_spectra(shape: tuple[int, int, int], seeds, std: float = START_STD) -> np.ndarray:
    """Start parameters (N, 2, C, H, W // 2 + 1), one seeded generator per image (tuples allowed)."""
    size = spectrum_shape(shape)
    return np.stack([np.random.default_rng(s).normal(0.0, std, size=size) for s in seeds]).astype(np.float32)


def spectrum_to_display(params, shape: tuple[int, int, int], scale: np.ndarray):
    """Parameters (B, 2, C, H, W // 2 + 1) -> display images (B, H, W, C) in 0..1 (TensorFlow, differentiable)."""
    import tensorflow as tf

    h, w, c = shape
    spectrum = tf.complex(params[:, 0] * scale, params[:, 1] * scale)
    image = tf.signal.irfft2d(spectrum, fft_length=[h, w])  # (B, C, H, W)
    image = tf.transpose(image, [0, 2, 3, 1]) / IMAGE_DIVISOR
    if c == 3:
        image = tf.tensordot(image, tf.constant(COLOUR_MATRIX.T), axes=[[3], [0]])
    return tf.sigmoid(image)


def display_to_spectrum(images01: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The parameters whose display image is ``images01`` (N, H, W, C) in 0..1 (inverse of
    :func:`spectrum_to_display`, values clipped to 0.001..0.999); used to start from a given image."""
    x = np.clip(np.asarray(images01, np.float64), 1e-3, 1 - 1e-3)
    n, h, w, c = x.shape
    logits = np.log(x / (1 - x))
    if c == 3:
        logits = logits @ np.linalg.inv(COLOUR_MATRIX.T.astype(np.float64))
    spec = np.fft.rfft2(np.moveaxis(logits * IMAGE_DIVISOR, -1, 1), s=(h, w)) / scale
    return np.stack([spec.real, spec.imag], axis=1).astype(np.float32)
