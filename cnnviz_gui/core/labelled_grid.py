"""Tiles with a label strip above each (the OIP atlas, exemplar figures) as ONE image with text labels.

:func:`to_rgb` colours grey images with a colour map (RGB images pass through), :func:`fit_cell` brings an
image to a cell size, :func:`tile_row` puts cells side by side, and :func:`mosaic_figure` lays tiles out in a
grid with a label strip above each tile, draws them with one ``imshow`` and writes the labels as text whose
size fits the tile width. Used by the OIP atlas and the exemplar figure. Backend-free (Agg-safe).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import numpy as np

from cnnviz_gui.core.figures import new_figure

BACKGROUND = 1.0  # white between tiles and where an image has no pixels (nan)


def contrast_stretch(images: np.ndarray, low: float = 2.0, high: float = 98.0) -> np.ndarray:
    """Scale each image (N, ...) to 0..1 between its own ``low`` and ``high`` percentiles (clipped); nan
    stays nan. Colour images use one range for all their channels (hues are kept)."""
    a = np.asarray(images, dtype=np.float32)
    flat = a.reshape(len(a), -1)
    with np.errstate(all="ignore"):
        lo, hi = (
            np.nanpercentile(flat, [low, high], axis=1)
            if np.isnan(flat).any()
            else np.percentile(flat, [low, high], axis=1)
        )
    shape = (len(a),) + (1,) * (a.ndim - 1)
    lo, hi = lo.reshape(shape), hi.reshape(shape)
    span = np.where(hi > lo, hi - lo, 1.0)
    return np.clip((a - lo) / span, 0.0, 1.0).astype(np.float32)


def to_rgb(images: np.ndarray, cmap: str = "viridis", lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """Images (N, H, W, C) or (N, H, W) -> RGB (N, H, W, 3) in 0..1. One channel is coloured with ``cmap``
    between ``lo`` and ``hi``; three channels are clipped to 0..1; nan becomes the background."""
    from matplotlib import colormaps

    a = np.asarray(images, dtype=np.float32)
    if a.ndim == 3 or a.shape[-1] == 1:
        a = a.reshape(a.shape[:3])
        nan = np.isnan(a)
        t = np.clip((np.nan_to_num(a, nan=lo) - lo) / (hi - lo if hi > lo else 1.0), 0.0, 1.0)
        out = colormaps[cmap](t)[..., :3].astype(np.float32)
    else:
        nan = np.isnan(a).any(axis=-1)
        out = np.clip(np.nan_to_num(a[..., :3], nan=BACKGROUND), 0.0, 1.0)
    out[nan] = BACKGROUND
    return out


def fit_cell(image: np.ndarray, size: int) -> np.ndarray:
    """An RGB image (h, w, 3) scaled to fit a ``size`` x ``size`` cell, centred on the background:
    pixels are repeated when it grows (no blur), averaged (antialiased) when it shrinks."""
    from PIL import Image

    h, w = image.shape[:2]
    scale = size / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    if (nh, nw) != (h, w):
        img = Image.fromarray((np.clip(image, 0, 1) * 255).astype(np.uint8))
        method = Image.Resampling.NEAREST if scale > 1 else Image.Resampling.LANCZOS
        image = np.asarray(img.resize((nw, nh), method), np.float32) / 255.0
    out = np.full((size, size, 3), BACKGROUND, np.float32)
    top, left = (size - nh) // 2, (size - nw) // 2
    out[top : top + nh, left : left + nw] = image
    return out


def tile_row(
    cells: list[np.ndarray], gap: int = 1, breaks: tuple[int, ...] = (), big_gap: int = 4
) -> np.ndarray:
    """Cells (s, s, 3) side by side; ``gap`` pixels between them, ``big_gap`` before each index in ``breaks``."""
    parts = []
    for k, cell in enumerate(cells):
        if k:
            g = big_gap if k in breaks else gap
            parts.append(np.full((cell.shape[0], g, 3), BACKGROUND, np.float32))
        parts.append(cell)
    return np.concatenate(parts, axis=1)


@dataclass
class Label:
    text: str
    colour: str = "black"
    cross: bool = False  # a red cross over the tile (a map that does not react)
    cross_at: float = 0.5  # where across the tile (0..1) the cross is centred


def mosaic_figure(
    tiles: list[np.ndarray],
    labels: list[Label],
    title: str,
    ncols: int | None = None,
    tile_inches: float = 1.1,
    max_width: float = 20.0,
    max_height: float = 26.0,
):
    """Tiles (all (h, w, 3), 0..1) in a grid, one label above each, as one ``imshow`` plus text.

    The figure is sized from the grid (``tile_inches``: the width of one tile; capped by ``max_width`` x
    ``max_height``); label and title font sizes shrink until they fit.
    """
    n = len(tiles)
    if n == 0:
        raise ValueError("nothing to draw")
    th, tw = tiles[0].shape[:2]
    aspect_tile = tw / th
    ncols = ncols or max(1, int(np.ceil(np.sqrt(n * 1.6 / aspect_tile))))
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    label_px = max(8, th // 4)
    gap = max(4, th // 4)  # between tiles: wider than the 1-pixel gaps inside a tile
    cell_h, cell_w = th + label_px + gap, tw + gap
    mosaic = np.full((nrows * cell_h, ncols * cell_w - gap, 3), BACKGROUND, np.float32)
    for k, tile in enumerate(tiles):
        r, c = divmod(k, ncols)
        top, left = r * cell_h + label_px, c * cell_w
        mosaic[top : top + th, left : left + tw] = tile
    width = min(max_width, max(6.0, ncols * tile_inches))
    height_img = width * mosaic.shape[0] / mosaic.shape[1]
    head = 0.25 + 0.17 * 3
    if height_img + head > max_height:  # too tall: shrink the whole figure
        width *= (max_height - head) / height_img
        height_img = max_height - head
    title_size = 9.0 if width >= 6 else 7.0
    title_lines = textwrap.wrap(title, width=max(20, int(width * 72 / (0.6 * title_size))))
    head = 0.25 + 0.17 * len(title_lines) * title_size / 9
    fig = new_figure(max(width, 3.0), height_img + head)
    fig.set_layout_engine(
        "none"
    )  # the axes is placed exactly: no layout pass (it would draw the image twice)
    margin = 0.02
    frac = height_img / (height_img + head)
    ax = fig.add_axes((margin, margin * frac, 1 - 2 * margin, frac * (1 - 2 * margin)))
    # uint8 and no interpolation: pixels stay crisp and saving is faster than float with "nearest"
    ax.imshow((mosaic * 255 + 0.5).astype(np.uint8), interpolation="none")
    ax.set_axis_off()
    # font size: the longest label must fit a tile's width (points per data pixel)
    pt_per_px = width * 72 / mosaic.shape[1]
    longest = max(len(lab.text) for lab in labels) if labels else 1
    size = float(np.clip(min(tw * pt_per_px / (0.6 * longest), label_px * pt_per_px * 0.85), 2.0, 9.0))
    for k, lab in enumerate(labels):
        r, c = divmod(k, ncols)
        top, left = r * cell_h, c * cell_w
        ax.text(
            left + tw / 2, top + label_px * 0.55, lab.text, ha="center", va="center",
            fontsize=size, color=lab.colour, clip_on=False,
        )  # fmt: skip
        if lab.cross:
            ax.text(
                left + tw * lab.cross_at, top + label_px + th / 2, "✕", ha="center", va="center",
                fontsize=min(th * pt_per_px * 0.8, 40), color="red", alpha=0.8,
            )  # fmt: skip
    fig.suptitle("\n".join(title_lines), fontsize=title_size, y=1 - 0.08 / (height_img + head), va="top")
    return fig
