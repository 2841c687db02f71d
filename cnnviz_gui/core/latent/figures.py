"""Publication figures of a latent space (matplotlib, no GUI backend): scatter, manifold, strip, generation.

Every function returns a :class:`matplotlib.figure.Figure`; :func:`cnnviz_gui.core.figures.save` writes it.
The class colours are shared with the Latent tab (:data:`CLASS_COLORS`), so a figure matches the screen.
"""

from __future__ import annotations

import numpy as np

from cnnviz_gui.core.figures import image_grid, new_figure

#: one colour per class (matplotlib's tab10, then tab20's light shades for classes 10..19)
CLASS_COLORS = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
]  # fmt: skip


def class_color(c: int) -> str:
    return CLASS_COLORS[int(c) % len(CLASS_COLORS)]


def _names(class_names: list[str] | None, n: int) -> list[str]:
    names = list(class_names or [])
    return names + [str(i) for i in range(len(names), n)]


def draw_scatter(
    ax,
    points: np.ndarray,
    labels: np.ndarray | None,
    class_names: list[str] | None = None,
    axis_names: tuple[str, str] = ("z0", "z1"),
    centroids: np.ndarray | None = None,
    marker: tuple[float, float] | None = None,
    max_points: int = 20000,
    seed: int = 0,
) -> None:
    """Points (N, 2) coloured by class with a legend; centroids as labelled crosses, ``marker`` as a star."""
    points = np.asarray(points, np.float32)
    idx = np.arange(len(points))
    if len(points) > max_points:  # a readable figure (and a small SVG/PDF): a random subset
        idx = np.sort(np.random.default_rng(seed).choice(len(points), max_points, replace=False))
    size = 4.0 if len(idx) > 3000 else 9.0
    if labels is None:
        ax.scatter(points[idx, 0], points[idx, 1], s=size, c="#1f77b4", linewidths=0, rasterized=True)
    else:
        labels = np.asarray(labels).astype(np.int64)
        names = _names(class_names, int(labels.max()) + 1 if len(labels) else 0)
        for c in np.unique(labels):
            sel = idx[labels[idx] == c]
            ax.scatter(
                points[sel, 0],
                points[sel, 1],
                s=size,
                color=class_color(c),
                linewidths=0,
                label=names[c],
                rasterized=True,
            )
        legend = ax.legend(
            loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, markerscale=2.5, frameon=False
        )
        legend.set_title("class", prop={"size": 8})
    if centroids is not None:
        for c, (cx, cy) in enumerate(np.asarray(centroids)[:, :2]):
            if np.isfinite(cx) and np.isfinite(cy):
                ax.plot(cx, cy, "x", color="black", ms=7, mew=1.5)
                ax.annotate(str(c), (cx, cy), xytext=(3, 3), textcoords="offset points", fontsize=8)
    if marker is not None:
        ax.plot(*marker, marker="*", color="black", ms=14, mfc="#ffd60a", mew=1.0, label="current input")
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    ax.grid(True, alpha=0.3)


def scatter_figure(
    points: np.ndarray,
    labels: np.ndarray | None,
    class_names: list[str] | None = None,
    axis_names: tuple[str, str] = ("z0", "z1"),
    title: str = "",
    centroids: np.ndarray | None = None,
    marker: tuple[float, float] | None = None,
    stats_text: str = "",
):
    """The encoded points coloured by class, with a legend (and the statistics below the plot)."""
    fig = new_figure(7.0, 5.6 if stats_text else 5.0)
    ax = fig.add_subplot(1, 1, 1)
    draw_scatter(ax, points, labels, class_names, axis_names, centroids, marker)
    ax.set_title(title, fontsize=10)
    if stats_text:
        fig.text(0.01, 0.0, stats_text, fontsize=7, family="monospace", va="bottom")
    return fig


def manifold_figure(
    mosaic: np.ndarray,
    bounds: tuple[float, float, float, float],
    n: int,
    axis_names: tuple[str, str] = ("z0", "z1"),
    title: str = "",
):
    """The decoded n x n grid as one image placed on the latent axes it was decoded from."""
    fig = new_figure(6.0, 6.0)
    ax = fig.add_subplot(1, 1, 1)
    x0, x1, y0, y1 = bounds
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1, extent=(x0, x1, y0, y1), aspect="auto", origin="upper")
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    ax.set_title(title or f"decoded {n} x {n} grid", fontsize=10)
    return fig


def interpolation_figure(images: np.ndarray, z: np.ndarray | None = None, title: str = ""):
    """Decoded images along a straight line in latent space, left to right."""
    images = np.asarray(images, np.float32)
    if images.ndim == 4:
        images = images[..., 0] if images.shape[-1] == 1 else images.mean(-1)
    steps = len(images)
    fig = new_figure(max(4.0, 0.9 * steps), 1.9)
    strip = image_grid(images, ncols=steps, pad=2, fill=1.0)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(strip, cmap="gray", vmin=0, vmax=1)
    ax.set_yticks([])
    w = images.shape[2] + 2
    ax.set_xticks([i * w + (w - 2) / 2 for i in range(steps)])
    ax.set_xticklabels([f"{t:.2f}" for t in np.linspace(0, 1, steps)], fontsize=7)
    ax.set_xlabel("t (0 = first point, 1 = second point)", fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def generation_figure(result, class_names: list[str] | None = None, n_show: int = 16, title: str = ""):
    """For each sampling method: a few decoded samples with their predicted class, and the histogram of
    the classifier's confidence (the top softmax probability) over all samples."""
    sets = result.sets
    fig = new_figure(9.0, 2.6 * max(1, len(sets)) + (0.3 if title else 0))
    grid = fig.add_gridspec(max(1, len(sets)), 2, width_ratios=[1.15, 1])
    names = _names(class_names, 10)
    for row, s in enumerate(sets):
        ax = fig.add_subplot(grid[row, 0])
        imgs = np.asarray(s.images[:n_show], np.float32)
        imgs = imgs[..., 0] if imgs.shape[-1] == 1 else imgs.mean(-1)
        ncols = 8
        ax.imshow(image_grid(imgs, ncols=ncols, pad=2, fill=1.0), cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        h, w = imgs.shape[1] + 2, imgs.shape[2] + 2
        for i in range(len(imgs)):
            r, c = divmod(i, ncols)
            pred = names[int(s.predicted[i])] if int(s.predicted[i]) < len(names) else str(s.predicted[i])
            ax.text(
                c * w + 1, r * h + 1, f"{pred} {s.confidence[i]:.2f}", fontsize=5.5, color="#d62728", va="top"
            )
        ax.set_title(f"{s.title}: decoded samples (predicted class, confidence)", fontsize=8)
        hx = fig.add_subplot(grid[row, 1])
        counts = result.histogram(s.method)
        bins = result.bins
        hx.bar(bins[:-1], counts, width=np.diff(bins), align="edge", color="#5b8fd6", edgecolor="white")
        hx.set_xlim(0, 1)
        hx.set_xlabel("classifier confidence", fontsize=8)
        hx.set_ylabel("samples", fontsize=8)
        hx.set_title(
            f"{s.title}: {s.fraction_off_data() * 100:.0f}% off data; conf. mean {s.confidence.mean():.2f}, "
            f"{s.fraction_confident() * 100:.0f}% ≥ 0.9",
            fontsize=8,
        )
        hx.tick_params(labelsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def overview_figure(
    points: np.ndarray,
    labels: np.ndarray | None,
    class_names: list[str] | None,
    axis_names: tuple[str, str],
    grid,
    title: str = "",
    centroids: np.ndarray | None = None,
):
    """The CLI's figure: the scatter on the left, the decoded manifold over the same region on the right."""
    fig = new_figure(12.0, 5.4)
    ax = fig.add_subplot(1, 2, 1)
    draw_scatter(ax, points, labels, class_names, axis_names, centroids)
    x0, x1, y0, y1 = grid.bounds
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title("encoded points", fontsize=10)
    mx = fig.add_subplot(1, 2, 2)
    mx.imshow(grid.mosaic, cmap="gray", vmin=0, vmax=1, extent=(x0, x1, y0, y1), aspect="auto")
    mx.set_xlabel(axis_names[0])
    mx.set_ylabel(axis_names[1])
    note = f" ({grid.note})" if grid.note else ""
    mx.set_title(f"decoded {grid.n} x {grid.n} grid{note}", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def _tile_rows(images: np.ndarray, pad: int, fill: float) -> np.ndarray:
    """(rows, S, H, W[, C]) -> one mosaic (rows*(H+pad)-pad, S*(W+pad)-pad[, C])."""
    rows, steps, h, w = images.shape[:4]
    extra = images.shape[4:]
    out = np.full((rows * (h + pad) - pad, steps * (w + pad) - pad, *extra), fill, np.float32)
    for r in range(rows):
        for s in range(steps):
            out[r * (h + pad) : r * (h + pad) + h, s * (w + pad) : s * (w + pad) + w] = images[r, s]
    return out


def traversal_mosaic(result) -> tuple[np.ndarray, int]:
    """A traversal's images as one mosaic in 0..1 (rows x steps tiles, white gaps of ``pad`` pixels; a decoder
    whose output leaves 0..1 is stretched to it) and ``pad``: what the figure and the Latent tab show."""
    images = np.asarray(result.traversal, np.float32)
    h = images.shape[2]
    lo, hi = float(np.nanmin(images)), float(np.nanmax(images))
    if lo < -0.01 or hi > 1.01:  # not a 0..1 decoder: stretch its range for display
        images = (images - lo) / max(hi - lo, 1e-12)
    pad = max(1, h // 14)
    return np.clip(_tile_rows(images, pad, 1.0), 0.0, 1.0), pad


def traversal_figure(result, title: str = "", axis_names: list[str] | None = None):
    """A latent traversal as one mosaic: one labelled row per dimension (sorted by how much it changes the
    image), one column per step from -R to +R standard deviations."""
    mosaic, pad = traversal_mosaic(result)
    rows, steps, h, w = np.shape(result.traversal)[:4]
    tile = min(0.55, 40.0 / max(rows, 1))  # inches per image; very wide spaces get smaller tiles
    fig = new_figure(max(5.5, 1.9 + tile * steps), max(2.6, 1.3 + tile * rows))
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(mosaic, cmap=None if mosaic.ndim == 3 else "gray", vmin=0, vmax=1, interpolation="nearest")
    names = axis_names or [f"z{i}" for i in range(len(result.centre))]
    fontsize = max(4.0, min(8.0, 72 * tile * 0.4))
    ax.set_yticks([r * (h + pad) + h / 2 for r in range(rows)])
    ax.set_yticklabels(
        [f"{names[int(k)]}  ({c:.3f})" for k, c in zip(result.dims, result.change, strict=True)],
        fontsize=fontsize,
    )
    ax.set_xticks([s * (w + pad) + w / 2 for s in range(steps)])
    ax.set_xticklabels(
        ["0" if o == 0 else f"{o:+.3g}" for o in result.offsets], fontsize=min(8.0, fontsize + 1)
    )
    unit = (
        "standard deviations of the encoded data" if result.scale == "data" else "prior standard deviations"
    )
    ax.set_xlabel(f"offset from the centre ({unit})", fontsize=8)
    ax.set_ylabel("latent dimension (mean pixel change)", fontsize=8)
    ax.tick_params(length=0)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, fontsize=9, wrap=True)
    return fig
