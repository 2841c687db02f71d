"""Attribution maps ready to show: contrast normalisation, colour overlays and baselines (NumPy only).

No TensorFlow here: the GUI process may use these helpers on the arrays it receives.
"""

from __future__ import annotations

import numpy as np

#: default colour maps: unsigned maps (Grad-CAM, saliency) and signed ones (integrated gradients, occlusion)
DEFAULT_CMAP = "jet"
DEFAULT_SIGNED_CMAP = "RdBu_r"


def normalise(attribution: np.ndarray, contrast: float = 99.0, signed: bool = False) -> np.ndarray:
    """Scale maps (..., H, W) for display, each map on its own.

    Unsigned maps go to 0..1 with the ``contrast`` percentile of the map at 1 (100: the maximum; lower
    values saturate the strongest pixels and brighten the rest); signed maps go to -1..1 with the
    percentile of the absolute values at 1, so 0 stays 0. A map that is zero everywhere stays zero.
    """
    a = np.asarray(attribution, dtype=np.float32)
    contrast = float(np.clip(contrast, 50.0, 100.0))
    flat = a.reshape(*a.shape[:-2], -1)
    ref = np.abs(flat) if signed else np.maximum(flat, 0.0)
    top = np.percentile(ref, contrast, axis=-1)[..., None, None].astype(np.float32)
    scaled = np.divide(a, top, out=np.zeros_like(a), where=top > 0)
    return np.clip(scaled, -1.0 if signed else 0.0, 1.0).astype(np.float32)


def grey_rgb(image01: np.ndarray) -> np.ndarray:
    """An input image (H, W, C) or (H, W) in 0..1 as RGB (H, W, 3) for display (grey repeated, RGB kept)."""
    img = np.clip(np.asarray(image01, dtype=np.float32), 0.0, 1.0)
    if img.ndim == 2:
        img = img[..., None]
    if img.shape[-1] == 1:
        return np.repeat(img, 3, axis=-1)
    return img[..., :3]


def colourise(display: np.ndarray, cmap: str | None = None, signed: bool = False) -> np.ndarray:
    """A normalised map (H, W) (0..1, or -1..1 when signed) as RGB (H, W, 3) through a matplotlib colour map."""
    import matplotlib

    name = cmap or (DEFAULT_SIGNED_CMAP if signed else DEFAULT_CMAP)
    try:
        colour_map = matplotlib.colormaps[name]
    except KeyError as err:
        raise ValueError(f"unknown colour map '{name}'") from err
    v = np.asarray(display, dtype=np.float32)
    v = (v + 1.0) / 2.0 if signed else v
    return colour_map(np.clip(v, 0.0, 1.0))[..., :3].astype(np.float32)


def overlay_rgb(
    image01: np.ndarray,
    attribution: np.ndarray,
    cmap: str | None = None,
    alpha: float = 0.5,
    contrast: float = 99.0,
    signed: bool = False,
) -> np.ndarray:
    """The input (H, W, C) in 0..1 with the map (H, W) blended over it, as RGB (H, W, 3) in 0..1.

    Unsigned maps are blended with opacity ``alpha`` everywhere (the usual heat-map look); signed maps with
    ``2 alpha`` times the strength of the map (at most 1) over the input dimmed by ``alpha / 2`` (so red and blue read
    on white strokes), and regions without attribution show the input otherwise unchanged.
    """
    base = grey_rgb(image01)
    shown = normalise(attribution, contrast, signed)
    if shown.shape != base.shape[:2]:
        raise ValueError(f"a map of {shown.shape} does not fit an image of {base.shape[:2]}")
    colour = colourise(shown, cmap, signed)
    a = float(np.clip(alpha, 0.0, 1.0))
    if signed:
        base = base * (1.0 - a / 2.0)
    weight = (np.minimum(2.0 * a * np.abs(shown), 1.0) if signed else np.full(shown.shape, a, np.float32))[
        ..., None
    ]
    return np.clip(base * (1.0 - weight) + colour * weight, 0.0, 1.0).astype(np.float32)


# -- baselines -------------------------------------------------------------------------------------------
def gaussian_blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Blur a batch (N, H, W, C) with a Gaussian of ``sigma`` pixels (separable, reflected edges)."""
    x = np.asarray(images, dtype=np.float32)
    if sigma <= 0:
        return x.copy()
    radius = max(1, int(np.ceil(3 * sigma)))
    t = np.arange(-radius, radius + 1, dtype=np.float32)
    kernel = np.exp(-0.5 * (t / sigma) ** 2)
    kernel /= kernel.sum()
    for axis in (1, 2):
        size = x.shape[axis]
        r = min(radius, size - 1)
        k = kernel[radius - r : radius + r + 1]
        k = k / k.sum()
        pad = [(0, 0)] * x.ndim
        pad[axis] = (r, r)
        padded = np.pad(x, pad, mode="reflect") if r > 0 else x
        out = np.zeros_like(x)
        for j, w in enumerate(k):
            out += w * np.take(padded, np.arange(j, j + size), axis=axis)
        x = out
    return x


def baseline_images(images01: np.ndarray, kind: str) -> np.ndarray:
    """Baselines (N, H, W, C) in 0..1 for a batch of inputs: ``black`` (zeros), ``blurred`` (the input
    blurred with a Gaussian of a tenth of its size: its shapes gone, its colours kept) or ``mean`` (the
    input's mean colour everywhere)."""
    x = np.asarray(images01, dtype=np.float32)
    if kind == "black":
        return np.zeros_like(x)
    if kind == "blurred":
        return gaussian_blur(x, max(x.shape[1], x.shape[2]) / 10.0)
    if kind == "mean":
        return np.broadcast_to(x.mean(axis=(1, 2), keepdims=True), x.shape).astype(np.float32).copy()
    raise ValueError(f"unknown baseline '{kind}'; use black, blurred or mean")
