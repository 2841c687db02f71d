"""Initial images for OIP searches: random fluctuations at several length scales, or a 1/f spectrum.

The articles' start image: fill small grids (3x3, 7x7, 14x14, 28x28) with uniform noise in [-1, 1], upscale
each to the image size (bicubic, antialiased), weight them (0.5 each by default), add, and standardise each
image (zero mean, unit standard deviation). The Fourier option draws a random spectrum whose amplitude falls off
as 1/f**decay, the generalisation the articles wished for. Everything is seeded and reproducible.
Call on the compute thread (uses TensorFlow's resize).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_GRIDS = (3, 7, 14, 28)
DEFAULT_FACTORS = (0.5, 0.5, 0.5, 0.5)


def standardise_images(x: np.ndarray) -> np.ndarray:
    """Per-image standardisation of a batch (N, H, W, C), as ``tf.image.per_image_standardization``."""
    x = np.asarray(x, dtype=np.float32)
    axes = tuple(range(1, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    n = int(np.prod(x.shape[1:]))
    std = np.maximum(x.std(axis=axes, keepdims=True), 1.0 / np.sqrt(n))
    return ((x - mean) / std).astype(np.float32)


def upscale(grids: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Upscale a batch of small grids (N, h, w, C) to ``size`` by bicubic interpolation with antialiasing."""
    import tensorflow as tf

    grids = np.asarray(grids, dtype=np.float32)
    if grids.shape[1:3] == tuple(size):
        return grids
    out = tf.image.resize(grids, size, method="bicubic", antialias=True)
    return out.numpy().astype(np.float32)


def _generators(n: int, seed) -> list[np.random.Generator]:
    """One generator per image: from a sequence of per-image seeds, or one shared generator/int seed."""
    if isinstance(seed, np.random.Generator):
        return [seed] * n
    if isinstance(seed, int | np.integer):
        return [np.random.default_rng(int(seed))] * n
    seeds = list(seed)
    if len(seeds) != n:
        raise ValueError(f"{len(seeds)} seeds for {n} images")
    return [np.random.default_rng(s) for s in seeds]


def multiscale_images(
    n: int,
    shape: tuple[int, int, int] = (28, 28, 1),
    grids: Sequence[int] = DEFAULT_GRIDS,
    factors: Sequence[float] = DEFAULT_FACTORS,
    seed=0,
) -> np.ndarray:
    """``n`` standardised start images (N, H, W, C): a weighted sum of upscaled uniform noise grids.

    ``grids`` are the side lengths of the noise grids (clipped to the image size); ``factors`` their weights
    (0 leaves a scale out; its noise is still drawn so that the other scales stay the same). ``seed``: an
    int, a Generator, or one seed per image (e.g. ``(seed, map, restart)`` tuples) so that an image does not
    depend on which other images are made with it.
    """
    if len(grids) != len(factors):
        raise ValueError(f"{len(grids)} grid sizes but {len(factors)} amplitude factors")
    if not any(f != 0 for f in factors):
        raise ValueError("at least one amplitude factor must be non-zero")
    rngs = _generators(n, seed)
    h, w, c = shape
    noise = [[] for _ in grids]
    for rng in rngs:
        for k, g in enumerate(grids):
            noise[k].append(rng.uniform(-1.0, 1.0, size=(min(int(g), h), min(int(g), w), c)))
    total = np.zeros((n, h, w, c), np.float32)
    for k, f in enumerate(factors):
        if f != 0 and n:
            total += np.float32(f) * upscale(np.stack(noise[k]).astype(np.float32), (h, w))
    return standardise_images(total)


def fourier_images(
    n: int,
    shape: tuple[int, int, int] = (28, 28, 1),
    decay: float = 1.0,
    seed=0,
) -> np.ndarray:
    """``n`` standardised start images whose random spectrum falls off as 1/f**``decay`` (0 = white);
    ``seed`` as in :func:`multiscale_images`."""
    rngs = _generators(n, seed)
    h, w, c = shape
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    f = np.sqrt(fx**2 + fy**2)
    f[0, 0] = 1.0 / max(h, w)
    amp = 1.0 / f**decay
    amp[0, 0] = 0.0
    size = (c, h, w // 2 + 1)
    spec = np.stack([r.normal(size=size) + 1j * r.normal(size=size) for r in rngs]).reshape(n, *size)
    img = np.fft.irfft2(spec * amp, s=(h, w)).astype(np.float32)
    return standardise_images(np.moveaxis(img, 1, -1))


def add_scale(images: np.ndarray, grid: int, factor: float, seed=0) -> np.ndarray:
    """Add one more scale of fluctuations to standardised images and standardise again (strategy 1)."""
    n, h, w, c = images.shape
    size = (min(grid, h), min(grid, w), c)
    noise = np.stack([r.uniform(-1.0, 1.0, size=size) for r in _generators(n, seed)]).astype(np.float32)
    return standardise_images(images + np.float32(factor) * upscale(noise, (h, w)))
