"""Matplotlib figures of attribution for export and the CLI (backend-free, safe on any thread).

Overlay (input, map over it, raw map), method comparison (inputs x methods) and the sanity row. Grids of
maps are one mosaic image with labels as tick labels, never one Axes per tile, so big grids stay fast and
constrained layout keeps every label inside the figure.
"""

from __future__ import annotations

import textwrap

import numpy as np

from cnnviz_gui.core.attribution.display import colourise, grey_rgb, normalise, overlay_rgb
from cnnviz_gui.core.attribution.types import CAM_METHODS, METHODS, SIGNED_METHODS
from cnnviz_gui.core.figures import new_figure


def _class_name(index: int, class_names: list[str] | None) -> str:
    if class_names is not None and 0 <= index < len(class_names):
        return str(class_names[index])
    return str(index)


def _probability(p: float) -> str:
    return f"{p:.2f}" if p >= 0.01 else f"{p:.1e}"


def _interpolation(shape) -> str:
    return "nearest" if max(shape[:2]) <= 64 else "antialiased"


def describe_result(result, i: int = 0, class_names: list[str] | None = None) -> str:
    """One line about input ``i``'s result: method, class, score, probability (and IG's baseline)."""
    c = int(result.class_index[i])
    kind = "logit" if result.score_kind == "logit" else "output"
    text = (
        f"{result.method_name} for class {_class_name(c, class_names)} "
        f"(p = {_probability(float(result.probabilities[i, c]))}, {kind} {result.score[i]:.3g})"
    )
    if result.method in CAM_METHODS and result.layer:
        text += f" at {result.layer}"
    if result.baseline_score is not None:
        text += f"; {result.params.get('baseline', '')} baseline {result.baseline_score[i]:.3g}"
        err = result.extras.get("completeness_error")
        if err is not None:
            text += f", completeness error {float(err[i]) * 100:.1f}%"
    if result.method == "occlusion":
        text += f"; patch {result.params.get('patch')}, stride {result.params.get('stride')}"
    return text


def _wrap(text: str, width_in: float, fontsize: float = 8.0) -> str:
    chars = max(30, int(width_in * 72 / (fontsize * 0.55)))
    return "\n".join(textwrap.wrap(text, chars))


def _draw_overlay_row(fig, spec, image01, result, i, cmap, alpha, contrast, parts, class_names):
    cols = spec.subgridspec(1, len(parts))
    signed = result.signed
    image = np.asarray(image01, dtype=np.float32)
    for k, part in enumerate(parts):
        ax = fig.add_subplot(cols[0, k])
        ax.set_xticks([])
        ax.set_yticks([])
        if part == "input":
            ax.imshow(grey_rgb(image), interpolation=_interpolation(image.shape))
            ax.set_title("input", fontsize=9)
        elif part == "overlay":
            over = overlay_rgb(image, result.attribution[i], cmap, alpha, contrast, signed)
            ax.imshow(over, interpolation=_interpolation(image.shape))
            ax.set_title(f"{result.method_name} over the input", fontsize=9)
        elif part == "map":
            raw = result.layer_map[i] if result.layer_map is not None else result.attribution[i]
            name = cmap or ("RdBu_r" if signed else "jet")
            if signed:
                top = float(np.abs(raw).max()) or 1e-12
                im = ax.imshow(raw, cmap=name, vmin=-top, vmax=top, interpolation=_interpolation(raw.shape))
            else:
                im = ax.imshow(raw, cmap=name, vmin=0.0, interpolation=_interpolation(raw.shape))
            where = (
                f" at {result.layer} ({raw.shape[0]}x{raw.shape[1]})" if result.layer_map is not None else ""
            )
            ax.set_title(f"raw map{where}", fontsize=9)
            fig.colorbar(im, ax=ax, shrink=0.85, fraction=0.05).ax.tick_params(labelsize=7)
        else:
            raise ValueError(f"unknown figure part '{part}'; use input, overlay or map")


def overlay_figure(
    image01: np.ndarray,
    result,
    i: int = 0,
    cmap: str | None = None,
    alpha: float = 0.5,
    contrast: float = 99.0,
    parts: tuple[str, ...] = ("input", "overlay", "map"),
    class_names: list[str] | None = None,
    title: str | None = None,
    sanity=None,
):
    """Input ``i`` of ``result``: the input, the map over it, the raw map with a colour bar (CAM methods:
    the map at the layer's resolution), as chosen in ``parts``; with ``sanity`` the sanity row below."""
    width = 2.8 * len(parts) + 0.6
    top = 3.2
    height = top + (_sanity_height(sanity, width) if sanity is not None else 0.0)
    fig = new_figure(width, height)
    rows = 2 if sanity is not None else 1
    ratios = [top, _sanity_height(sanity, width)] if sanity is not None else None
    gs = fig.add_gridspec(rows, 1, height_ratios=ratios)
    _draw_overlay_row(fig, gs[0, 0], image01, result, i, cmap, alpha, contrast, parts, class_names)
    if sanity is not None:
        _draw_sanity(fig.add_subplot(gs[1, 0]), image01, sanity, cmap, contrast, width)
    fig.suptitle(_wrap(title or describe_result(result, i, class_names), width, 10), fontsize=10)
    return fig


def _mosaic(tiles: list[list[np.ndarray]], pad: int) -> np.ndarray:
    """RGB tiles (rows x cols, each (h, w, 3)) as one image with white gaps of ``pad`` pixels."""
    nrows, ncols = len(tiles), max(len(r) for r in tiles)
    h, w = tiles[0][0].shape[:2]
    out = np.ones((nrows * (h + pad) - pad, ncols * (w + pad) - pad, 3), np.float32)
    for r, row in enumerate(tiles):
        for c, tile in enumerate(row):
            out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = tile
    return out


def comparison_figure(
    images01: np.ndarray,
    results: dict,
    labels: list[str] | None = None,
    cmap: str | None = None,
    alpha: float = 0.5,
    contrast: float = 99.0,
    class_names: list[str] | None = None,
    title: str | None = None,
):
    """Several methods side by side (columns) for one or more inputs (rows, e.g. Compare's pinned inputs),
    each map over its input; one mosaic image. ``results``: method -> :class:`AttributionResult` of the same
    inputs (as :func:`~cnnviz_gui.core.attribution.methods.compare_methods` returns)."""
    images = np.asarray(images01, dtype=np.float32)
    if images.ndim == 3:
        images = images[None]
    if not results:
        raise ValueError("nothing to draw: no method results")
    methods = list(results)
    first = results[methods[0]]
    h, w = first.attribution.shape[1:]
    if images.shape[1:3] != (h, w):
        from cnnviz_gui.core.preprocess import fit_input

        images = fit_input(images, (h, w, images.shape[-1]))
    rows = []
    for i in range(len(images)):
        row = [grey_rgb(images[i])]
        for m in methods:
            r = results[m]
            row.append(overlay_rgb(images[i], r.attribution[i], cmap, alpha, contrast, m in SIGNED_METHODS))
        rows.append(row)
    pad = max(1, h // 14)
    mosaic = _mosaic(rows, pad)
    ncols = len(methods) + 1
    tile_in = float(np.clip(13.0 / ncols, 1.2, 2.2))
    width = tile_in * ncols + 2.2
    fig = new_figure(width, tile_in * len(images) + 1.4)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(mosaic, interpolation=_interpolation((h, w)))
    centres_x = np.arange(ncols) * (w + pad) + (w - 1) / 2
    ax.set_xticks(centres_x, ["input"] + [METHODS.get(m, m) for m in methods], fontsize=8)
    ax.tick_params(length=0, labeltop=True, labelbottom=False)
    centres_y = np.arange(len(images)) * (h + pad) + (h - 1) / 2
    row_labels = []
    for i in range(len(images)):
        c = int(first.class_index[i])
        label = labels[i] if labels is not None and i < len(labels) else f"input {i + 1}"
        p = _probability(float(first.probabilities[i, c]))
        row_labels.append(f"{label}\nclass {_class_name(c, class_names)} p={p}")
    ax.set_yticks(centres_y, row_labels, fontsize=7)
    for spine in ax.spines.values():
        spine.set_visible(False)
    fig.suptitle(
        _wrap(title or "attribution methods compared (same target class per row)", width, 10), fontsize=10
    )
    return fig


def _sanity_height(sanity, width: float) -> float:
    ncols = len(sanity.maps) + 2
    tile_in = min(1.6, (width - 0.8) / ncols)
    return tile_in + 1.4


def _draw_sanity(ax, image01, sanity, cmap, contrast, width):
    image = np.asarray(image01, dtype=np.float32)
    if image.ndim == 4:
        image = image[0]
    signed = sanity.method in SIGNED_METHODS
    tiles = [grey_rgb(image), colourise(normalise(sanity.original, contrast, signed), cmap, signed)]
    tiles += [colourise(normalise(m, contrast, signed), cmap, signed) for m in sanity.maps]
    h, w = sanity.original.shape
    pad = max(1, h // 14)
    ax.imshow(_mosaic([tiles], pad), interpolation=_interpolation((h, w)))
    centres = np.arange(len(tiles)) * (w + pad) + (w - 1) / 2
    labels = ["input", "original"]
    for label, rho, constant in zip(sanity.labels, sanity.similarity, sanity.constant, strict=True):
        labels.append(f"{label}\nρ = {rho:.2f}" + (" (flat)" if constant else ""))
    ax.set_xticks(centres, labels, fontsize=7)
    ax.set_yticks([])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(
        f"sanity check: {METHODS.get(sanity.method, sanity.method)}, weights randomised from the output down",
        fontsize=9,
    )
    ax.set_xlabel(_wrap(f"{sanity.explanation} {sanity.verdict}", width, 8), fontsize=8)


def sanity_figure(image01: np.ndarray, sanity, cmap: str | None = None, contrast: float = 99.0, title=None):
    """The sanity row: the input, the original map and the map after each randomisation step, each with
    its rank correlation to the original, and the sentence saying what the numbers mean."""
    ncols = len(sanity.maps) + 2
    width = float(np.clip(1.6 * ncols + 0.8, 7.0, 18.0))
    fig = new_figure(width, _sanity_height(sanity, width) + (0.4 if title else 0.0))
    _draw_sanity(fig.add_subplot(1, 1, 1), image01, sanity, cmap, contrast, width)
    if title:
        fig.suptitle(_wrap(title, width, 10), fontsize=10)
    return fig
