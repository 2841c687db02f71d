"""Matplotlib figures of activations for export and the CLI (backend-free, safe on any thread)."""

from __future__ import annotations

import numpy as np

from cnnviz_gui.core.activations.maps import maps_of
from cnnviz_gui.core.figures import new_figure
from cnnviz_gui.core.mosaic import mosaic_figure

#: a side panel lists at most this many classes (all of them when the model has no more)
SIDE_CLASSES = 10


def maps_figure(
    output: np.ndarray,
    layer: str,
    cmap: str = "viridis",
    title: str = "",
    input_image: np.ndarray | None = None,
    probabilities: np.ndarray | None = None,
    class_names: list[str] | None = None,
    shared_levels: bool = True,
    *,
    indices: list[int] | np.ndarray | None = None,
    top: int = 5,
):
    """A figure of one layer's output for one input.

    Conv layers: every map (or the maps ``indices``, in that order: sorted, top N) as ONE image mosaic
    labelled with the map indices, and a colour bar. Dense layers: the unit values. Beside them, optionally,
    the input (RGB in colour) and the predictions: every class for up to 10 classes, else the ``top`` most
    probable with their names (``class_names``, or the built-in ImageNet names for 1000 classes).
    """
    maps = maps_of(output)
    side = input_image is not None or probabilities is not None
    if maps is not None:
        order = np.arange(len(maps)) if indices is None else np.asarray(indices, dtype=np.int64)
        tiles = maps[order]
        h, w = maps.shape[1:]
        shown = f"{len(order)} of {len(maps)} maps" if len(order) != len(maps) else f"{len(maps)} maps"
        side_h = _side_height(input_image, probabilities, top)
        made = mosaic_figure(
            tiles,
            [str(int(i)) for i in order],
            title=title or f"{layer}: {shown} of {h}x{w}",
            cmap=cmap,
            per_tile=not shared_levels,
            colorbar_label="activation" if shared_levels else "activation (each map scaled to its own range)",
            side_width_in=SIDE_WIDTH if side else 0.0,
            side_height_in=side_h,
        )
        if side:
            _side_panels(made.figure, made.side_rect, input_image, probabilities, class_names, top)
        return made.figure
    vec = np.asarray(output, dtype=np.float32).ravel()
    fig = new_figure(
        9.5 if side else 7, max(4.5 if side else 3.5, _side_height(input_image, probabilities, top))
    )
    fig.set_layout_engine("none")
    from cnnviz_gui.core.mosaic import wrap_title

    width, height = fig.get_size_inches()
    fig.text(0.5, 0.98, wrap_title(title or f"{layer}: {len(vec)} units", width - 0.4), ha="center", va="top")
    left = (SIDE_WIDTH + 0.9) / width if side else 0.9 / width
    ax = fig.add_axes((left, 0.55 / height, 0.97 - left, 1 - 1.25 / height))
    if len(vec) <= 256:
        ax.bar(np.arange(len(vec)), vec, width=0.9, color="tab:blue")
    else:  # thousands of bars: one line collection instead of one patch each
        ax.vlines(np.arange(len(vec)), 0, vec, color="tab:blue", linewidth=0.6)
    ax.set_xlabel("unit")
    ax.set_ylabel("activation")
    ax.set_xlim(-0.6, len(vec) - 0.4)
    if side:
        _side_panels(fig, (0.2 / width, 0.3 / height, SIDE_WIDTH / width, 1 - 1.0 / height), input_image,
                     probabilities, class_names, top)  # fmt: skip
    return fig


SIDE_WIDTH = 3.2  # inches


def _side_height(input_image, probabilities, top) -> float:
    h = 0.0
    if input_image is not None:
        h += 2.4
    if probabilities is not None:
        n = len(probabilities) if len(probabilities) <= SIDE_CLASSES else min(top, len(probabilities))
        h += 0.75 + 0.2 * n
    return h


def _side_panels(fig, rect, input_image, probabilities, class_names, top) -> None:
    """The input image (RGB in colour) above the predictions (class names and probabilities)."""
    from cnnviz_gui.core.activations.predictions import class_names_for, top_k

    width, height = fig.get_size_inches()
    x0, y0, w0, h0 = rect
    cursor = y0 + h0  # top of the free rectangle, figure fraction
    if input_image is not None:
        img = np.clip(np.asarray(input_image, dtype=np.float32), 0, 1)
        size = min(2.1, w0 * width)
        ax = fig.add_axes(
            (x0 + (w0 - size / width) / 2, cursor - (size + 0.2) / height, size / width, size / height)
        )
        if img.ndim == 3 and img.shape[-1] == 1:
            ax.imshow(img[..., 0], cmap="gray", vmin=0, vmax=1, interpolation="none")
        elif img.ndim == 3:
            ax.imshow(img[..., :3], interpolation="none")
        else:
            ax.imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="none")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title("input", fontsize=9)
        cursor -= 2.4 / height
    if probabilities is None:
        return
    p = np.asarray(probabilities, dtype=np.float32).ravel()
    k = len(p) if len(p) <= SIDE_CLASSES else min(top, len(p))
    names = class_names if class_names is not None and len(class_names) == len(p) else None
    if names is None:  # the ImageNet names for 1000 outputs, else the class indices
        names = class_names_for(len(p))[0]
    best = top_k(p, len(p), names) if len(p) <= SIDE_CLASSES else top_k(p, k, names)
    if len(p) <= SIDE_CLASSES:  # few classes: all, in class order
        best = sorted(best, key=lambda b: b.index)
    bar_h = (0.2 * k + 0.15) / height
    label_w = 1.35 / width
    ax = fig.add_axes((x0 + label_w, cursor - 0.45 / height - bar_h, w0 - label_w - 0.1 / width, bar_h))
    winner = int(np.argmax(p))
    colors = ["tab:orange" if b.index == winner else "tab:gray" for b in best]
    values = [b.probability for b in best]
    ax.barh(np.arange(k), values, color=colors, height=0.8)
    ax.set_yticks(np.arange(k), [_short(b.name, 22) for b in best], fontsize=7)
    ax.invert_yaxis()
    hi = 1.0 if max(values) >= 0.5 else max(1.35 * max(values), 1e-3)  # small probabilities stay visible
    ax.set_xlim(0, hi)
    for i, v in enumerate(values):
        ax.text(v + 0.01 * hi, i, f"{v * 100:.1f}%", va="center", fontsize=6)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel("probability", fontsize=8)
    wname = names[winner]
    heading = f"predicted {_short(wname, 20)} ({p[winner] * 100:.1f}%)"
    if k < len(p):
        heading += f"\ntop {k} of {len(p)} classes"
    ax.set_title(heading, fontsize=8)


def _short(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


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


def compare_figure(
    rows=None,
    stats=None,
    difference: tuple[int, int] | None = None,
    cmap: str = "jet",
    *,
    inputs: list[np.ndarray] | None = None,
    max_maps: int = 64,
):
    """The Compare tab as one figure: pinned inputs (their maps band by band in ONE image mosaic, shared
    levels) and/or class statistics with the difference between two classes.

    ``rows`` is (layer, [tiles (N, H, W) per input], [label per input]); at most ``max_maps`` maps of each
    input are shown. ``inputs`` (the pinned images, RGB in colour) are drawn left of their bands.
    """
    parts = []
    if rows is not None:
        layer, tiles, labels = rows
        n = tiles[0].shape[0]
        shown = min(n, max_maps)
        ncols = min(shown, 32)
        per = int(np.ceil(shown / ncols))
        parts.append(("rows", min(0.55 * per * len(tiles) + 1.3, 14.0)))
    if stats is not None:
        parts.append(("stats", 5.5 if difference else 3.8))
    if not parts:
        raise ValueError("nothing to draw: no pinned inputs and no class statistics")
    width = 12.0 if rows is None else min(max(8.0, 0.42 * ncols + 3.5), 18)
    fig = new_figure(width, sum(h for _, h in parts))
    subs = fig.subfigures(len(parts), 1, height_ratios=[h for _, h in parts]) if len(parts) > 1 else [fig]
    for sub, (kind, _) in zip(subs, parts, strict=True):
        if kind == "rows":
            _pinned_rows(sub, layer, tiles, labels, shown, ncols, cmap, inputs, width)
        else:
            class_stats_figure(stats, cmap="viridis", difference=difference, fig=sub)
    return fig


def short_label(label: str, limit: int = 22) -> str:
    """'MNIST sample (10k, bundled) sample #4 (label 4)' -> '#4 (label 4)'; other labels cut to ``limit``."""
    if "sample #" in label:
        label = "#" + label.rsplit("sample #", 1)[1]
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _pinned_rows(fig, layer, tiles, labels, shown, ncols, cmap, inputs, width) -> None:
    from matplotlib.collections import LineCollection

    from cnnviz_gui.core.mosaic import draw_mosaic, plan_mosaic

    stack = np.stack([t[:shown] for t in tiles])  # (inputs, maps, H, W)
    k_in, _, h, w = stack.shape
    per = int(np.ceil(shown / ncols))
    positions = (np.arange(k_in)[:, None] * per * ncols + np.arange(shown)[None, :]).ravel()
    map_labels = [str(m) for m in range(shown)] * k_in
    plan = plan_mosaic(
        len(positions), (h, w), map_labels, ncols=ncols, positions=positions, max_width_in=width - 3
    )
    if inputs is not None:  # room for a thumbnail as high as a band, left of each band
        plan = plan_mosaic(
            len(positions), (h, w), map_labels, ncols=ncols, positions=positions, max_width_in=width - 3,
            left=per * plan.cell_h,
        )  # fmt: skip
    ax = fig.subplots()
    drawn = draw_mosaic(ax, stack.reshape(-1, h, w), plan, map_labels, cmap=cmap)
    band_h = per * plan.cell_h
    for k in range(k_in):
        top = plan.top + k * band_h
        ax.text(-1.0, top + band_h / 2, f"{k + 1}: {short_label(str(labels[k]))}", fontsize=7, ha="right",
                va="center")  # fmt: skip
        if inputs is not None and k < len(inputs):
            img = np.clip(np.asarray(inputs[k], dtype=np.float32), 0, 1)
            inset = ax.inset_axes((0, top + plan.band, band_h - plan.band - plan.gap, band_h - plan.band - plan.gap),
                                  transform=ax.transData)  # fmt: skip
            inset.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray", vmin=0, vmax=1)
            inset.set_axis_off()
    if per > 1 and k_in > 1:  # a line between the bands of two inputs
        ys = [plan.top + k * band_h - plan.gap / 2 - 0.5 for k in range(1, k_in)]
        ax.add_collection(LineCollection([[(-0.5, y), (plan.width_px - 0.5, y)] for y in ys], colors="0.6",
                                         linewidths=0.6), autolim=False)  # fmt: skip
    fig.colorbar(drawn.mappable, ax=ax, shrink=0.9, fraction=0.02, label="activation (shared levels)")
    more = f" (first {shown} of {tiles[0].shape[0]})" if shown < tiles[0].shape[0] else ""
    fig.suptitle(f"{layer}: maps{more} of {len(tiles)} pinned inputs, same levels")
