"""The exemplar figure: per map, the receptive-field patches of the dataset images that drive it hardest, as one
mosaic with a label per map (:mod:`cnnviz_gui.core.labelled_grid`). Backend-free."""

from __future__ import annotations

import numpy as np

from cnnviz_gui.core.labelled_grid import Label, fit_cell, mosaic_figure, tile_row, to_rgb

MAX_CELL = 96


def exemplar_figure(result, cmap: str = "gray", ncols: int | None = None):
    """One tile per map: its ``top`` patches, strongest first, labelled ``map: strongest response``. Maps that
    no image activates are greyed and labelled so. Grey patches use ``cmap``; RGB patches are drawn as they
    are; white is outside the image."""
    h, w = result.patches.shape[2:4]
    cell = int(min(max(h, w, 16), MAX_CELL))
    tiles, labels = [], []
    for i, m in enumerate(result.maps):
        rgb = to_rgb(result.patches[i], cmap, 0.0, 1.0)
        silent = result.values[i] <= 0
        rgb[silent] = 0.35 * rgb[silent] + 0.65
        tiles.append(tile_row([fit_cell(p, cell) for p in rgb]))
        if silent.all():
            labels.append(Label(f"{int(m)}: never active", "red"))
        else:
            labels.append(Label(f"{int(m)}: {result.values[i, 0]:.3g}"))
    silent_maps = int((result.values[:, 0] <= 0).sum())
    where = (
        "whole images"
        if result.map_size is None
        else f"{h}x{w}-pixel receptive fields around the strongest position"
    )
    title = (
        f"Dataset exemplars of {result.layer}, {result.dataset} (input {result.convention}): for each map the "
        f"{result.top} images whose strongest response is highest, strongest first ({where}); label: map: "
        "strongest response"
    )
    if silent_maps:
        title += f"; {silent_maps} maps no image activates (greyed)"
    return mosaic_figure(tiles, labels, title, ncols=ncols, tile_inches=0.75 * result.top)


def exemplar_summary(result) -> str:
    """One line for a person: how many maps, images, silent maps, time."""
    silent = int(np.sum(result.values[:, 0] <= 0))
    return (
        f"top {result.top} of {result.dataset} for {len(result.maps)} maps of {result.layer}: patches "
        f"{result.field_size[0]}x{result.field_size[1]} px; {silent} maps no image activates; "
        f"{result.seconds:.1f} s{' (dataset pass cached)' if result.cached else ''}"
    )
