"""Matplotlib figures of OIP results (one run, a layer atlas) and an animated GIF of an evolution.

Images are display values in 0..1: grey ones are drawn with a colour map, RGB ones in colour. The atlas is one
mosaic image with a label per tile (:mod:`cnnviz_gui.core.labelled_grid`): a tile is the map's OIP (its K diverse
images side by side) followed, when exemplars are given, by the receptive-field patches of the dataset images
that drive the map hardest. Backend-free (safe on the compute thread); figures are saved with
:func:`cnnviz_gui.core.figures.save`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cnnviz_gui.core.figures import ExportError, _atomic_write, new_figure
from cnnviz_gui.core.labelled_grid import Label, contrast_stretch, fit_cell, mosaic_figure, tile_row, to_rgb

__all__ = [
    "ATLAS_ORDERS",
    "atlas_figure",
    "atlas_order",
    "contrast_stretch",
    "result_gif",
    "run_figure",
    "save_gif",
]

#: sort keys of the atlas: final loss, map index, share kept under a 4-pixel shift, relative to the best image
ATLAS_ORDERS = ("loss", "index", "shift", "vs_exemplar")
MAX_CELL = 96  # pixels of one image in the atlas mosaic (larger images are scaled down)


def atlas_order(result, by: str = "loss") -> np.ndarray:
    """Positions of the result's maps in atlas order: by final loss, the share kept under a 4-pixel shift
    or the ratio to the best dataset image (highest first, maps that do not react last), or by map index."""
    if by == "index":
        return np.arange(len(result.maps))
    if by == "shift" and result.shift_kept is not None:
        key = result.shift_kept
    elif by == "vs_exemplar" and result.vs_best_exemplar is not None:
        key = result.vs_best_exemplar
    elif by in ATLAS_ORDERS:
        key = result.losses
    else:
        raise ValueError(f"unknown atlas order '{by}'; use one of {', '.join(ATLAS_ORDERS)}")
    key = np.where(result.reacts & np.isfinite(key), key, -np.inf)
    return np.argsort(-key, kind="stable")


def _input_note(result) -> str:
    """ ", input 0..1" when the model saw the images in another range than standardised."""
    convention = getattr(result, "convention", "standardised")
    return "" if convention == "standardised" else f", input {convention}"


def _status(result, i: int) -> str:
    parts = []
    if not result.reacts[i]:
        parts.append("does not react")
    elif result.converged[i]:
        parts.append(f"converged (step {int(result.converged_step[i])})")
    else:
        parts.append("not converged")
    if result.data_active is not None:
        parts.append("data-active" if result.data_active[i] else "never active on the data")
    if result.shift_kept is not None and np.isfinite(result.shift_kept[i]):
        parts.append(f"keeps {result.shift_kept[i] * 100:.0f}% under a 4-px shift")
    return ", ".join(parts)


def _shown(images: np.ndarray, contrast: bool) -> np.ndarray:
    return contrast_stretch(images) if contrast else np.asarray(images, np.float32)


def _imshow(ax, image: np.ndarray, cmap: str, lo: float, hi: float) -> None:
    if image.shape[-1] == 3:
        ax.imshow(np.clip((image - lo) / (hi - lo if hi > lo else 1.0), 0, 1), interpolation="nearest")
    else:
        ax.imshow(image[..., 0], cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def run_figure(result, i: int, cmap: str = "viridis", contrast: bool = False):
    """One map's run: initial image, the snapshot strip at log-spaced steps, the loss curve, and with
    diversity K > 1 the K final images."""
    steps = [int(s) for s in result.snapshot_steps]
    frames = _shown(np.concatenate([result.initial[i, None], result.snapshots[i]]), contrast)
    n = len(frames)
    finals = result.image_sets()[i]
    K = len(finals)
    rows = [1.0, 1.25] + ([1.0] if K > 1 else [])
    fig = new_figure(max(1.35 * n, 8.0), 4.6 + (1.6 if K > 1 else 0.0))
    grid = fig.add_gridspec(len(rows), max(n, K), height_ratios=rows)
    lo, hi = (0.0, 1.0) if contrast else (float(frames.min()), float(frames.max()))
    curve = result.curves[i]
    for k in range(n):
        ax = fig.add_subplot(grid[0, k])
        _imshow(ax, frames[k], cmap, lo, hi)
        if k == 0:
            ax.set_title("initial", fontsize=8)
        else:
            s = steps[k - 1]
            if s < len(curve) and np.isfinite(curve[s]):
                ax.set_title(f"step {s}\nloss {curve[s]:.3g}", fontsize=8)
            else:
                ax.set_title(f"step {s}\n(stopped at {int(result.steps_used[i])})", fontsize=8)
    ax = fig.add_subplot(grid[1, :])
    ok = np.isfinite(curve)
    ax.plot(np.flatnonzero(ok), curve[ok], color="C0", lw=1.5)
    ax.set_xlabel("step")
    what = (
        "centre neuron of the map" if result.settings.objective == "centre" else "mean activation of the map"
    )
    ax.set_ylabel(f"loss ({what})" if result.kind == "map" else "loss (unit value)", fontsize=8)
    ax.grid(alpha=0.3)
    if K > 1:
        shown = _shown(finals, contrast)
        for k in range(K):
            ax = fig.add_subplot(grid[2, k])
            _imshow(
                ax, shown[k], cmap, *((0.0, 1.0) if contrast else (float(shown.min()), float(shown.max())))
            )
            ax.set_title(f"image {k + 1}/{K}: {result.image_losses[i, k]:.3g}", fontsize=8)
    m = int(result.maps[i])
    fig.suptitle(
        f"OIP of {result.layer} map {m}: final loss {result.losses[i]:.4g}, {_status(result, i)}"
        f"{_input_note(result)}",
        fontsize=10,
        wrap=True,
    )
    return fig


def _tile(result, i: int, cell: int, contrast: bool, cmap: str, exemplars, top: int) -> np.ndarray:
    images = _shown(result.image_sets()[i], contrast)
    lo, hi = (0.0, 1.0) if contrast else (float(np.nanmin(images)), float(np.nanmax(images)))
    rgb = to_rgb(images, cmap, lo, hi)
    if not result.reacts[i]:
        rgb = 0.35 * rgb.mean(axis=-1, keepdims=True).repeat(3, axis=-1) + 0.65  # greyed out
    cells = [fit_cell(img, cell) for img in rgb]
    breaks: tuple[int, ...] = ()
    if exemplars is not None:
        row = exemplars.position_of(int(result.maps[i]))
        prgb = to_rgb(exemplars.patches[row][:top], "gray", 0.0, 1.0)
        silent = exemplars.values[row][:top] <= 0  # no image activates the map: these patches mean nothing
        prgb[silent] = 0.35 * prgb[silent] + 0.65
        breaks = (len(cells),)
        cells += [fit_cell(p, cell) for p in prgb]
    return tile_row(cells, gap=1, breaks=breaks, big_gap=max(2, cell // 8))


def _label(result, i: int, cross_at: float = 0.5) -> Label:
    m = int(result.maps[i])
    if not result.reacts[i]:
        return Label(f"{m}: no reaction", "red", cross=True, cross_at=cross_at)
    mark = "" if result.data_active is None or result.data_active[i] else "*"
    text = f"{m}{mark}: {result.losses[i]:.3g}"
    if result.shift_kept is not None and np.isfinite(result.shift_kept[i]):
        text += f" ↔{result.shift_kept[i] * 100:.0f}%"
    if result.vs_best_exemplar is not None and np.isfinite(result.vs_best_exemplar[i]):
        ratio = float(result.vs_best_exemplar[i])
        text += f" ×{ratio:.0f}" if ratio >= 10 else f" ×{ratio:.2g}"
    return Label(text)


def atlas_figure(
    result,
    by: str = "loss",
    contrast: bool = True,
    cmap: str = "viridis",
    ncols: int | None = None,
    exemplars=None,
    top: int = 3,
):
    """All maps' final OIPs as one mosaic with a label per tile, sorted by ``by`` (:data:`ATLAS_ORDERS`).

    A tile holds the map's K images (diversity) and, with ``exemplars`` (an ``ExemplarResult`` of the same
    layer holding these maps), its ``top`` best dataset patches after a wider gap. Labels: ``map: final loss``,
    ``↔`` the share kept under a 4-pixel shift, ``×`` the ratio to the best dataset image; ``*`` marks maps
    no dataset image activates; maps that do not react are greyed, crossed and last.
    """
    order = atlas_order(result, by)
    h, w = result.images.shape[-3:-1]
    cell = int(min(max(h, w), MAX_CELL))
    if exemplars is not None:
        top = max(1, min(int(top), exemplars.top))
        missing = [int(m) for m in result.maps if int(m) not in set(exemplars.maps.tolist())]
        if missing:
            raise ValueError(f"the exemplars hold no patches for map {missing[0]}")
    tiles = [_tile(result, i, cell, contrast, cmap, exemplars, top) for i in order]
    cross_at = result.diversity * (cell + 1) / 2 / tiles[0].shape[1]  # the middle of the OIP images
    labels = [_label(result, i, cross_at) for i in order]
    reacting = int(result.reacts.sum())
    n = len(order)
    sort_text = {"loss": "final loss", "index": "map index", "shift": "share kept under a 4-px shift"}.get(
        by, "ratio to the best dataset image"
    )
    parts = [
        f"OIP atlas of {result.layer}{_input_note(result)}: {reacting}/{n} maps react, sorted by {sort_text}"
    ]
    key = "labels: map: final loss"
    if result.shift_kept is not None:
        key += ", ↔ share kept under a 4-px shift"
    if result.vs_best_exemplar is not None:
        key += ", × ratio to the best dataset image"
    if result.data_active is not None:
        key += "; * = no dataset image activates the map"
    parts.append(key)
    if result.diversity > 1:
        parts.append(f"{result.diversity} diverse images per map")
    if exemplars is not None:
        parts.append(f"right of each OIP: the {top} {exemplars.dataset} patches that drive the map hardest")
    cells_per_tile = tiles[0].shape[1] / cell
    return mosaic_figure(tiles, labels, "; ".join(parts), ncols=ncols, tile_inches=0.9 * cells_per_tile)


def _gif_frames_rgb(frames: np.ndarray, cmap: str) -> np.ndarray:
    """Frames (N, H, W), (N, H, W, 1) or (N, H, W, 3) -> uint8 RGB with one value scale for all frames."""
    frames = np.asarray(frames, dtype=np.float32)
    if frames.ndim == 4 and frames.shape[-1] == 1:
        frames = frames[..., 0]
    lo, hi = float(np.nanmin(frames)), float(np.nanmax(frames))
    if frames.ndim == 4:
        rgb = np.clip((frames - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
    else:
        rgb = to_rgb(frames, cmap, lo, hi)
    return (rgb * 255).astype(np.uint8)


def save_gif(
    frames: np.ndarray,
    path: str | os.PathLike,
    labels: list[str] | None = None,
    cmap: str = "viridis",
    scale: int = 8,
    ms_per_frame: int = 120,
) -> Path:
    """Write frames (N, H, W) or colour frames (N, H, W, 3) of an evolution as an animated GIF (one value
    scale for all frames); images larger than 96 pixels are scaled less."""
    from PIL import Image, ImageDraw

    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ExportError(f"An animation is saved as .gif, not '{path.suffix or 'no extension'}'.")
    frames = np.asarray(frames, dtype=np.float32)
    if frames.ndim not in (3, 4) or len(frames) == 0:
        raise ExportError("There are no frames to animate yet.")
    rgb = _gif_frames_rgb(frames, cmap)
    scale = max(1, min(scale, 512 // max(rgb.shape[1:3])))
    images = []
    for k, f in enumerate(rgb):
        img = Image.fromarray(f).resize((f.shape[1] * scale, f.shape[0] * scale), Image.NEAREST)
        if labels:
            ImageDraw.Draw(img).text((4, 2), labels[k], fill=(255, 255, 255))
        images.append(img)

    def writer(tmp):
        images[0].save(
            tmp, format="GIF", save_all=True, append_images=images[1:], duration=ms_per_frame, loop=0
        )

    return _atomic_write(path, writer)


def result_gif(result, i: int, path: str | os.PathLike, cmap: str = "viridis") -> Path:
    """The GIF of one map's evolution from its snapshots (initial image first), in colour for RGB models."""
    frames = np.concatenate([result.initial[i, None], result.snapshots[i]])
    labels = ["initial"] + [f"step {int(s)}" for s in result.snapshot_steps]
    return save_gif(frames, path, labels, cmap=cmap)
