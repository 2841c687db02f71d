"""Matplotlib figures of activations for export and the CLI (backend-free, safe on any thread)."""

from __future__ import annotations

import numpy as np

from cnnviz_gui.core.activations.maps import maps_of
from cnnviz_gui.core.figures import new_figure


def maps_figure(
    output: np.ndarray,
    layer: str,
    cmap: str = "viridis",
    title: str = "",
    input_image: np.ndarray | None = None,
    probabilities: np.ndarray | None = None,
    class_names: list[str] | None = None,
    shared_levels: bool = True,
):
    """A figure of one layer's output for one input: every map in a grid with its index and a colour bar
    (conv layers), or a bar chart of unit values (dense layers); optionally the input and class bars."""
    maps = maps_of(output)
    side = []
    if input_image is not None:
        side.append("input")
    if probabilities is not None:
        side.append("probs")
    if maps is not None:
        n = len(maps)
        ncols = int(np.ceil(np.sqrt(n * 1.5)))
        nrows = int(np.ceil(n / ncols))
        fig = new_figure(min(2.0 + 1.1 * ncols + 2.2 * bool(side), 18), min(1.2 + 1.15 * nrows, 18))
        outer = fig.add_gridspec(1, 2 if side else 1, width_ratios=[1, 4] if side else None)
        _side_panels(fig, outer[0, 0] if side else None, side, input_image, probabilities, class_names)
        grid = outer[0, -1].subgridspec(nrows, ncols, wspace=0.05, hspace=0.25)
        lo, hi = float(maps.min()), float(maps.max())
        if hi <= lo:
            hi = lo + 1e-6
        im = None
        axes = []
        for i in range(nrows * ncols):
            ax = fig.add_subplot(grid[i // ncols, i % ncols])
            ax.set_xticks([])
            ax.set_yticks([])
            axes.append(ax)
            if i >= n:
                ax.axis("off")
                continue
            vmin, vmax = (lo, hi) if shared_levels else (float(maps[i].min()), float(maps[i].max()) + 1e-6)
            im = ax.imshow(maps[i], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            ax.set_title(str(i), fontsize=7, pad=2)
        if im is not None:
            cb = fig.colorbar(im, ax=axes, shrink=0.8, fraction=0.03)
            cb.set_label("activation" if shared_levels else "activation (each map scaled to its own range)")
        h, w = maps.shape[1:]
        fig.suptitle(title or f"{layer}: {n} maps of {h}x{w}")
        return fig
    vec = np.asarray(output, dtype=np.float32).ravel()
    fig = new_figure(9 if side else 7, 4.5 if side else 3.5)
    outer = fig.add_gridspec(1, 2 if side else 1, width_ratios=[1, 3] if side else None)
    _side_panels(fig, outer[0, 0] if side else None, side, input_image, probabilities, class_names)
    ax = fig.add_subplot(outer[0, -1])
    ax.bar(np.arange(len(vec)), vec, width=0.9, color="tab:blue")
    ax.set_xlabel("unit")
    ax.set_ylabel("activation")
    ax.set_xlim(-0.6, len(vec) - 0.4)
    fig.suptitle(title or f"{layer}: {len(vec)} units")
    return fig


def _side_panels(fig, spec, side, input_image, probabilities, class_names) -> None:
    if spec is None:
        return
    sub = spec.subgridspec(len(side), 1, hspace=0.4)
    for k, what in enumerate(side):
        ax = fig.add_subplot(sub[k, 0])
        if what == "input":
            img = np.asarray(input_image, dtype=np.float32)
            ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title("input", fontsize=9)
        else:
            p = np.asarray(probabilities, dtype=np.float32)
            names = class_names or [str(i) for i in range(len(p))]
            top = int(np.argmax(p))
            colors = ["tab:orange" if i == top else "tab:gray" for i in range(len(p))]
            ax.barh(np.arange(len(p)), p, color=colors)
            ax.set_yticks(np.arange(len(p)), names[: len(p)], fontsize=7)
            ax.invert_yaxis()
            ax.set_xlim(0, 1)
            ax.set_xlabel("probability", fontsize=8)
            ax.set_title(f"predicted {names[top]} ({p[top] * 100:.1f}%)", fontsize=9)


def class_stats_figure(stats, cmap: str = "viridis", difference: tuple[int, int] | None = None, fig=None):
    """Heat map of mean activation (maps x classes) with silent maps marked; optionally the difference
    between two classes as bars below. ``fig`` may be a (sub)figure to draw into."""
    means = stats.means
    if fig is None:
        fig = new_figure(min(3 + 0.09 * stats.n_maps, 18), 5.5 if difference else 3.8)
    rows = 2 if difference else 1
    gs = fig.add_gridspec(rows, 1, height_ratios=[2, 1] if difference else None)
    ax = fig.add_subplot(gs[0, 0])
    im = ax.imshow(means, aspect="auto", cmap=cmap, interpolation="nearest")
    silent = np.argwhere(stats.silent)
    if len(silent):
        ax.scatter(silent[:, 1], silent[:, 0], marker="x", s=10, c="red", linewidths=0.8, label="silent")
        ax.legend(loc="upper right", fontsize=7)
    ax.set_yticks(np.arange(len(stats.class_names)), stats.class_names, fontsize=7)
    ax.set_xlabel("map")
    ax.set_ylabel("class")
    ax.set_title(f"{stats.layer}: mean activation per map and class ({int(stats.counts.sum())} samples)")
    fig.colorbar(im, ax=ax, label="mean activation")
    if difference:
        from cnnviz_gui.core.activations.statistics import class_difference

        a, b = difference
        d = class_difference(stats, a, b)
        ax2 = fig.add_subplot(gs[1, 0])
        colors = np.where(d.diff >= 0, "tab:red", "tab:blue")
        ax2.bar(np.arange(len(d.diff)), d.diff, color=colors, width=0.9)
        ax2.set_xlim(-0.6, len(d.diff) - 0.4)
        ax2.set_xlabel("map")
        ax2.set_ylabel(f"mean({stats.class_names[a]}) - mean({stats.class_names[b]})")
        best = ", ".join(str(int(m)) for m in d.order[:5])
        ax2.set_title(f"'{stats.class_names[a]}' vs '{stats.class_names[b]}': most separating maps {best}")
        ax2.axhline(0, color="0.5", linewidth=0.6)
    return fig


def compare_figure(rows=None, stats=None, difference: tuple[int, int] | None = None, cmap: str = "jet"):
    """The Compare tab as one figure: pinned inputs (one row of maps each, shared levels) and/or class
    statistics with the difference between two classes.

    ``rows`` is (layer, [tiles (N, H, W) per input], [label per input]).
    """
    parts = []
    if rows is not None:
        layer, tiles, labels = rows
        n = tiles[0].shape[0]
        shown = min(n, 32)
        parts.append(("rows", 0.9 * len(tiles) + 0.8))
    if stats is not None:
        parts.append(("stats", 5.5 if difference else 3.8))
    if not parts:
        raise ValueError("nothing to draw: no pinned inputs and no class statistics")
    width = 12.0 if rows is None else min(max(8.0, 0.42 * shown + 2.5), 18)
    fig = new_figure(width, sum(h for _, h in parts))
    subs = fig.subfigures(len(parts), 1, height_ratios=[h for _, h in parts]) if len(parts) > 1 else [fig]
    for sub, (kind, _) in zip(subs, parts, strict=True):
        if kind == "rows":
            _pinned_rows(sub, layer, tiles, labels, shown, cmap)
        else:
            class_stats_figure(stats, cmap="viridis", difference=difference, fig=sub)
    return fig


def short_label(label: str, limit: int = 22) -> str:
    """'MNIST sample (10k, bundled) sample #4 (label 4)' -> '#4 (label 4)'; other labels cut to ``limit``."""
    if "sample #" in label:
        label = "#" + label.rsplit("sample #", 1)[1]
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _pinned_rows(fig, layer, tiles, labels, shown, cmap) -> None:
    from cnnviz_gui.core.activations.maps import mosaic

    stack = np.stack([t[:shown] for t in tiles])
    lo, hi = float(np.min(stack)), float(np.max(stack))
    hi = hi if hi > lo else lo + 1e-6
    axes = fig.subplots(len(tiles), 1, squeeze=False)[:, 0]
    h, w = stack.shape[2:]
    pad = 1 if max(h, w) < 8 else 2
    im = None
    for k, ax in enumerate(axes):
        row = mosaic(stack[k], shown, pad)
        im = ax.imshow(row, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_yticks([])
        ax.set_ylabel(
            f"{k + 1}: {short_label(str(labels[k]))}", fontsize=7, rotation=0, ha="right", va="center"
        )
        centres = np.arange(shown) * (w + pad) + (w - 1) / 2
        step = 1 if shown <= 32 else 4
        ax.set_xticks(centres[::step], [str(m) for m in range(0, shown, step)], fontsize=6)
        ax.tick_params(length=0, labeltop=k == 0, labelbottom=False)
        for spine in ax.spines.values():
            spine.set_visible(False)
    fig.colorbar(im, ax=list(axes), shrink=0.9, fraction=0.02, label="activation (shared levels)")
    more = f" (first {shown} of {tiles[0].shape[0]})" if shown < tiles[0].shape[0] else ""
    fig.suptitle(f"{layer}: maps{more} of {len(tiles)} pinned inputs, same levels")
