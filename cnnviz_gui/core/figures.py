"""Matplotlib figure helpers and the one ``save()`` used by every export."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cnnviz_gui.core.atomic import atomic_write

FIGURE_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


class ExportError(Exception):
    """An export failed; ``message`` says why in words for a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def new_figure(width: float = 6.0, height: float = 4.0):
    """A matplotlib Figure not tied to any GUI backend (safe on any thread)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _atomic_write(path: Path, writer) -> Path:
    path = Path(path)
    if not path.parent.exists():
        raise ExportError(f"Cannot export to {path}: the folder {path.parent} does not exist.")
    try:
        return atomic_write(path, writer)
    except PermissionError as err:
        raise ExportError(f"Cannot write to the folder {path.parent}: permission denied.") from err
    except OSError as err:
        raise ExportError(f"Export to {path} failed: {err.strerror or err}. No file was written.") from err
    except Exception as err:
        raise ExportError(f"Export to {path} failed ({err}); no file was written.") from err


def save(figure, path: str | os.PathLike, dpi: int = 200) -> Path:
    """Save a matplotlib figure as PNG, SVG or PDF (chosen by extension), atomically.

    A failed export never leaves a partial file; it raises :class:`ExportError` with a readable message.
    """
    path = Path(path)
    fmt = FIGURE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ExportError(f"Unknown figure format '{path.suffix}': use .png, .svg or .pdf.")
    return _atomic_write(path, lambda tmp: figure.savefig(tmp, format=fmt, dpi=dpi))


def save_arrays(arrays: dict[str, np.ndarray], path: str | os.PathLike) -> Path:
    """Save raw arrays as a compressed ``.npz``, atomically."""
    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise ExportError(f"Arrays are saved as .npz, not '{path.suffix}'.")

    def writer(tmp):
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **{k: np.asarray(v) for k, v in arrays.items()})

    return _atomic_write(path, writer)


def image_grid(
    images: np.ndarray, ncols: int | None = None, pad: int = 1, fill: float = np.nan
) -> np.ndarray:
    """Tile (N, H, W) images into one mosaic (rows, cols) with ``pad`` pixels of ``fill`` between tiles."""
    images = np.asarray(images, dtype=np.float32)
    n, h, w = images.shape[:3]
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols)) if n else 0
    out = np.full((nrows * (h + pad) - pad if nrows else 0, ncols * (w + pad) - pad), fill, np.float32)
    for i in range(n):
        r, c = divmod(i, ncols)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = images[i]
    return out
