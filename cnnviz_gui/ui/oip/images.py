"""NumPy helpers of the OIP views: contrast for live frames, grey images coloured with the views' lookup
tables, images side by side, and tiles of the atlas (an OIP's K images, then its dataset patches).

Images arrive as display values in 0..1: (H, W) or (H, W, 1) grey, (H, W, 3) RGB. Grey images are coloured
with :func:`cnnviz_gui.ui.widgets.map_grid.lookup_table`, so that what the atlas shows is exactly the colour
map's entries (the same table the live view's image items use); RGB images are shown as they are.
"""

from __future__ import annotations

import numpy as np

from cnnviz_gui.core.labelled_grid import contrast_stretch
from cnnviz_gui.ui.widgets.map_grid import LUT_SIZE, lookup_table

#: images with more values than this get their contrast range from a strided sample (live frames)
SAMPLE_ABOVE = 16384
GREYED = 0.35  # a map that does not react: its tile is faded towards white (as in the exported atlas)


def squeeze_grey(images: np.ndarray) -> np.ndarray:
    """Drop a trailing channel axis of 1: (..., H, W, 1) -> (..., H, W)."""
    a = np.asarray(images, dtype=np.float32)
    return a[..., 0] if a.ndim >= 3 and a.shape[-1] == 1 else a


def is_rgb(images: np.ndarray) -> bool:
    return np.asarray(images).ndim >= 3 and np.asarray(images).shape[-1] == 3


def stretch(images: np.ndarray) -> np.ndarray:
    """Each image of a stack (N, H, W[, 3]) scaled to 0..1 between its 2nd and 98th percentiles (colour
    images: one range for their three channels, so hues are kept). Large images take the percentiles from
    every n-th value: a live frame of a 224x224 RGB model costs a fraction of a millisecond, not several."""
    a = np.asarray(images, dtype=np.float32)
    per_image = a[0].size
    if per_image <= SAMPLE_ABOVE or np.isnan(a).any():
        return contrast_stretch(a)
    step = int(np.ceil(per_image / SAMPLE_ABOVE))
    flat = a.reshape(len(a), -1)[:, ::step]
    lo, hi = np.percentile(flat, [2.0, 98.0], axis=1)
    shape = (len(a),) + (1,) * (a.ndim - 1)
    lo, hi = lo.reshape(shape), hi.reshape(shape)
    return np.clip((a - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0, 1.0).astype(np.float32)


def colourise(images: np.ndarray, cmap: str, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """Grey images (N, H, W) coloured with the lookup table of ``cmap`` between ``lo`` and ``hi`` -> RGB
    (N, H, W, 3) in 0..1; RGB images (N, H, W, 3) are clipped to 0..1. nan becomes white (no pixel)."""
    a = np.asarray(images, dtype=np.float32)
    if a.shape[-1] == 3 and a.ndim == 4:
        nan = np.isnan(a).any(axis=-1)
        out = np.clip(np.nan_to_num(a, nan=1.0), 0.0, 1.0)
    else:
        a = squeeze_grey(a)
        nan = np.isnan(a)
        t = (np.nan_to_num(a, nan=lo) - lo) / (hi - lo if hi > lo else 1.0)
        index = np.clip(np.rint(t * (LUT_SIZE - 1)), 0, LUT_SIZE - 1).astype(np.intp)
        out = lookup_table(cmap)[index, :3].astype(np.float32) / 255.0
    out[nan] = 1.0
    return out


def side_by_side(images: np.ndarray, pad: int = 2, fill: float = np.nan) -> np.ndarray:
    """K images (K, H, W) or (K, H, W, 3) in one row, ``pad`` columns of ``fill`` between them."""
    a = np.asarray(images, dtype=np.float32)
    if len(a) == 1:
        return np.ascontiguousarray(a[0])
    k, h, w = a.shape[:3]
    out = np.full((h, k * (w + pad) - pad, *a.shape[3:]), fill, np.float32)
    for j in range(k):
        out[:, j * (w + pad) : j * (w + pad) + w] = a[j]
    return out


def grid(stack: np.ndarray, ncols: int, pad: int, fill: float = np.nan) -> np.ndarray:
    """Images (N, H, W) or (N, H, W, 3) in rows of ``ncols``, ``pad`` pixels of ``fill`` between them."""
    a = np.asarray(stack, dtype=np.float32)
    n, h, w = a.shape[:3]
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    extra = a.shape[3:]
    tiles = np.full((nrows * ncols, h + pad, w + pad, *extra), fill, np.float32)
    tiles[:n, :h, :w] = a
    order = (0, 2, 1, 3, *range(4, 4 + len(extra)))
    out = tiles.reshape(nrows, ncols, h + pad, w + pad, *extra).transpose(order)
    out = out.reshape(nrows * (h + pad), ncols * (w + pad), *extra)
    return np.ascontiguousarray(out[: nrows * (h + pad) - pad, : ncols * (w + pad) - pad])


def to_u8(rgb: np.ndarray) -> np.ndarray:
    """RGB in 0..1 -> uint8, C-contiguous (pyqtgraph draws it without a lookup table or scaling)."""
    return np.ascontiguousarray(np.clip(np.asarray(rgb) * 255.0 + 0.5, 0, 255).astype(np.uint8))


def fit(image: np.ndarray, size: int) -> np.ndarray:
    """An RGB image (h, w, 3) in a ``size`` x ``size`` cell: pixels repeated when it grows, averaged when it
    shrinks, centred on black."""
    from PIL import Image

    h, w = image.shape[:2]
    scale = size / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    if (nh, nw) != (h, w):
        img = Image.fromarray(to_u8(image))
        method = Image.Resampling.NEAREST if scale > 1 else Image.Resampling.LANCZOS
        image = np.asarray(img.resize((nw, nh), method), np.float32) / 255.0
    if (nh, nw) == (size, size):
        return np.asarray(image, np.float32)
    out = np.zeros((size, size, 3), np.float32)
    top, left = (size - nh) // 2, (size - nw) // 2
    out[top : top + nh, left : left + nw] = image
    return out


def greyed(rgb: np.ndarray) -> np.ndarray:
    """Faded towards white: a map that does not react, patches of a map no image activates."""
    return GREYED * rgb.mean(axis=-1, keepdims=True).repeat(3, axis=-1) + (1 - GREYED)


def patches_rgb(patches: np.ndarray, silent: np.ndarray | None = None) -> np.ndarray:
    """Dataset patches (k, h, w, c) in 0..1 (nan outside the image) as RGB: grey ones in grey, white where
    the receptive field leaves the image; ``silent`` ones (no response) faded."""
    a = np.asarray(patches, dtype=np.float32)
    rgb = colourise(a, "gray")
    if silent is not None and np.any(silent):
        rgb[silent] = greyed(rgb[silent])
    return rgb


def outlined(rgb: np.ndarray, box, colour=(1.0, 0.2, 0.2)) -> np.ndarray:
    """A copy of an RGB image (H, W, 3) with the rectangle ``box`` = (top, left, bottom, right), exclusive,
    outlined one pixel wide inside it (clipped to the image)."""
    out = np.array(rgb, dtype=np.float32, copy=True)
    h, w = out.shape[:2]
    top, left, bottom, right = (int(v) for v in box)
    t, b = max(top, 0), min(bottom, h) - 1
    lft, r = max(left, 0), min(right, w) - 1
    if b < t or r < lft:
        return out
    if top >= 0:  # a side beyond the image's border is not drawn
        out[t, lft : r + 1] = colour
    if bottom <= h:
        out[b, lft : r + 1] = colour
    if left >= 0:
        out[t : b + 1, lft] = colour
    if right <= w:
        out[t : b + 1, r] = colour
    return out


def exemplar_tiles(exemplars, m: int, whole: np.ndarray | None = None, size: int | None = None):
    """Tiles (k, band + s, w, 3) for map ``m``'s exemplars, strongest first, and ``band``: a black label band
    on top, the receptive-field patch and, with ``whole`` (the k dataset images at the model's input size,
    0..1), the whole image beside it with the field outlined in red."""
    row = exemplars.position_of(m)
    patches = patches_rgb(exemplars.patches[row], exemplars.values[row] <= 0)
    sides = [max(patches.shape[1:3])] + ([max(whole.shape[1:3])] if whole is not None else [])
    s = size or int(np.clip(max(sides), 48, 128))
    band, gap = max(12, s // 4), 2
    width = s if whole is None else 2 * s + gap
    tiles = np.zeros((len(patches), band + s, width, 3), np.float32)
    for j, patch in enumerate(patches):
        tiles[j, band:, :s] = fit(patch, s)
    if whole is not None:
        rgb = colourise(np.asarray(whole, np.float32), "gray")
        for j, (img, box) in enumerate(zip(rgb, exemplars.boxes[row], strict=False)):
            tiles[j, band:, s + gap :] = fit(outlined(img, box), s)
    return tiles, band


def exemplar_labels(exemplars, m: int) -> list[tuple[str, str]]:
    """Per exemplar of map ``m``: a short tile label (the dataset index) and a longer description (index,
    class name, strongest response)."""
    row = exemplars.position_of(m)
    names = exemplars.class_names
    out = []
    rows = zip(exemplars.indices[row], exemplars.labels[row], exemplars.values[row], strict=True)
    for index, label, value in rows:
        name = names[int(label)] if 0 <= int(label) < len(names) else str(int(label))
        out.append((f"#{int(index)}", f"#{int(index)} {name} ({float(value):.3g})"))
    return out
