"""Plain-NumPy helpers for feature maps: (H, W, C) outputs as maps, mosaics, per-map scaling (no TensorFlow)."""

from __future__ import annotations

import numpy as np


def maps_of(output: np.ndarray) -> np.ndarray | None:
    """An image-like layer output (H, W, C) as maps (C, H, W); None for vectors and other shapes."""
    a = np.asarray(output)
    if a.ndim != 3:
        return None
    return np.ascontiguousarray(np.moveaxis(a, -1, 0))


def mosaic(maps: np.ndarray, ncols: int | None = None, pad: int = 1, fill: float = np.nan) -> np.ndarray:
    """Tile maps (N, H, W) into one (rows, cols) float32 array with ``pad`` pixels of ``fill`` between
    tiles, without a Python loop over maps (fast enough for every stroke)."""
    maps = np.asarray(maps, dtype=np.float32)
    n, h, w = maps.shape
    ncols = max(1, min(ncols or int(np.ceil(np.sqrt(n))), max(n, 1)))
    nrows = max(1, int(np.ceil(n / ncols)))
    tiles = np.full((nrows * ncols, h + pad, w + pad), fill, np.float32)
    tiles[:n, :h, :w] = maps
    grid = tiles.reshape(nrows, ncols, h + pad, w + pad).transpose(0, 2, 1, 3)
    grid = grid.reshape(nrows * (h + pad), ncols * (w + pad))
    return np.ascontiguousarray(grid[: nrows * (h + pad) - pad, : ncols * (w + pad) - pad])


def normalise_per_map(maps: np.ndarray) -> np.ndarray:
    """Scale each map (N, H, W) to 0..1 by its own minimum and maximum (a flat map becomes 0)."""
    maps = np.asarray(maps, dtype=np.float32)
    lo = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - lo
    return np.where(span > 0, (maps - lo) / np.where(span > 0, span, 1.0), 0.0).astype(np.float32)
