"""Matplotlib figures of OIP results (one run, a layer atlas) and an animated GIF of an evolution.

Backend-free (safe on the compute thread); figures are saved with :func:`cnnviz_gui.core.figures.save`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cnnviz_gui.core.figures import ExportError, _atomic_write, new_figure


def contrast_stretch(images: np.ndarray, low: float = 2.0, high: float = 98.0) -> np.ndarray:
    """Scale each image (N, H, W) to 0..1 between its own ``low`` and ``high`` percentiles (clipped)."""
    a = np.asarray(images, dtype=np.float32)
    flat = a.reshape(len(a), -1)
    lo, hi = np.percentile(flat, [low, high], axis=1)[:, :, None, None]  # one pass: drawn at every live frame
    span = np.where(hi > lo, hi - lo, 1.0)
    return np.clip((a - lo) / span, 0.0, 1.0).astype(np.float32)


def atlas_order(result, by: str = "loss") -> np.ndarray:
    """Positions of the result's maps in atlas order: by final loss (highest first) or by map index."""
    if by == "loss":
        loss = np.where(result.reacts, result.losses, -np.inf)
        return np.argsort(-loss, kind="stable")
    return np.arange(len(result.maps))


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
    return ", ".join(parts)


def run_figure(result, i: int, cmap: str = "viridis", contrast: bool = False):
    """One map's run: initial image, the snapshot strip at log-spaced steps, and the loss curve."""
    snaps = result.snapshots[i, ..., 0]
    steps = [int(s) for s in result.snapshot_steps]
    frames = np.concatenate([result.initial[i, None, ..., 0], snaps])
    if contrast:
        frames = contrast_stretch(frames)
    n = len(frames)
    fig = new_figure(max(1.35 * n, 8.0), 4.6)
    grid = fig.add_gridspec(2, n, height_ratios=[1.0, 1.25])
    lo, hi = float(frames.min()), float(frames.max())
    curve = result.curves[i]
    for k in range(n):
        ax = fig.add_subplot(grid[0, k])
        ax.imshow(frames[k], cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
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
    ax.set_ylabel("loss (mean activation of the map)")
    ax.grid(alpha=0.3)
    m = int(result.maps[i])
    fig.suptitle(
        f"OIP of {result.layer} map {m}: final loss {result.losses[i]:.4g}, {_status(result, i)}"
        f"{_input_note(result)}",
        fontsize=10,
    )
    return fig


def atlas_figure(
    result, by: str = "loss", contrast: bool = True, cmap: str = "viridis", ncols: int | None = None
):
    """All maps' final OIPs in a grid (sorted by final loss or index); non-reacting maps are marked."""
    order = atlas_order(result, by)
    n = len(order)
    ncols = ncols or int(np.ceil(np.sqrt(n * 1.6)))
    nrows = int(np.ceil(n / ncols))
    fig = new_figure(min(1.0 + 0.95 * ncols, 20), min(1.0 + 1.05 * nrows, 24))
    grid = fig.add_gridspec(nrows, ncols, wspace=0.06, hspace=0.3)
    images = result.images[..., 0]
    shown = contrast_stretch(images) if contrast else images
    lo, hi = (0.0, 1.0) if contrast else (float(images.min()), float(images.max()))
    for k in range(nrows * ncols):
        ax = fig.add_subplot(grid[k // ncols, k % ncols])
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= n:
            ax.axis("off")
            continue
        i = order[k]
        m = int(result.maps[i])
        if result.reacts[i]:
            ax.imshow(shown[i], cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
            mark = "" if result.data_active is None or result.data_active[i] else "*"
            ax.set_title(f"{m}{mark}: {result.losses[i]:.3g}", fontsize=6, pad=2)
        else:
            ax.imshow(shown[i], cmap="gray", vmin=lo, vmax=hi, alpha=0.35, interpolation="nearest")
            ax.text(0.5, 0.5, "✕", color="red", fontsize=14, ha="center", va="center", transform=ax.transAxes)
            ax.set_title(f"{m}: no reaction", fontsize=6, pad=2, color="red")
    reacting = int(result.reacts.sum())
    note = "" if result.data_active is None else "; * = no image of the bundled sample activates the map"
    order_text = "sorted by final loss" if by == "loss" else "by map index"
    fig.suptitle(
        f"OIP atlas of {result.layer}{_input_note(result)}: {reacting}/{n} maps react "
        f"({order_text}; title: map: final loss{note})",
        fontsize=9,
    )
    return fig


def save_gif(
    frames: np.ndarray,
    path: str | os.PathLike,
    labels: list[str] | None = None,
    cmap: str = "viridis",
    scale: int = 8,
    ms_per_frame: int = 120,
) -> Path:
    """Write frames (N, H, W) of an evolution as an animated GIF (one colour scale for all frames)."""
    from matplotlib import colormaps
    from PIL import Image, ImageDraw

    path = Path(path)
    if path.suffix.lower() != ".gif":
        raise ExportError(f"An animation is saved as .gif, not '{path.suffix or 'no extension'}'.")
    frames = np.asarray(frames, dtype=np.float32)
    if frames.ndim != 3 or len(frames) == 0:
        raise ExportError("There are no frames to animate yet.")
    lut = (colormaps[cmap](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)
    lo, hi = float(frames.min()), float(frames.max())
    span = hi - lo if hi > lo else 1.0
    images = []
    for k, f in enumerate(frames):
        idx = np.clip(((f - lo) / span) * 255, 0, 255).astype(np.uint8)
        img = Image.fromarray(lut[idx]).resize((f.shape[1] * scale, f.shape[0] * scale), Image.NEAREST)
        if labels:
            ImageDraw.Draw(img).text((4, 2), labels[k], fill=(255, 255, 255))
        images.append(img)

    def writer(tmp):
        images[0].save(
            tmp, format="GIF", save_all=True, append_images=images[1:], duration=ms_per_frame, loop=0
        )

    return _atomic_write(path, writer)


def result_gif(result, i: int, path: str | os.PathLike, cmap: str = "viridis") -> Path:
    """The GIF of one map's evolution from its snapshots (initial image first)."""
    frames = np.concatenate([result.initial[i, None, ..., 0], result.snapshots[i, ..., 0]])
    labels = ["initial"] + [f"step {int(s)}" for s in result.snapshot_steps]
    return save_gif(frames, path, labels, cmap=cmap)
