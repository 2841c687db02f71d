"""Exports of the Latent tab: figures of its parts (matplotlib, via ``core.latent_figures``) and arrays.

Functions take the panel and only read its NumPy state (no computing here).
"""

from __future__ import annotations

import numpy as np

from cnnviz_gui.core.latent import figures as lf


def figure(panel, part: str):
    """A matplotlib figure of the panel's ``part`` (see ``EXPORT_PARTS``), or None if it is not made yet."""
    name = panel.state.info.name if panel.state.info else "model"
    names = panel.dataset.class_names if panel.dataset is not None else None
    proj = panel.projection
    if part == "scatter" and panel.shown is not None:
        cents = proj.transform(np.nan_to_num(panel.stats.centroids))
        cents[panel.stats.counts == 0] = np.nan
        title = f"{name}: {panel.recognition.kind.upper()} latent space, {len(panel.shown):,} points of {panel.dataset.name}"
        return lf.scatter_figure(panel.shown, panel.labels, names, proj.axis_names, title, cents,
                                 panel.input_point(), panel.stats.format_text(names))  # fmt: skip
    if part == "manifold grid" and panel.grid is not None:
        return lf.manifold_figure(panel.grid.mosaic, panel.grid.bounds, panel.grid.n, proj.axis_names,
                                  f"{name}: decoded {panel.grid.n} x {panel.grid.n} grid")  # fmt: skip
    if part == "traversal" and panel.traversal is not None:
        tr = panel.traversal
        where = "the pinned point" if panel.view.traversal_pinned else "the data mean"
        title = (f"{name}: {panel.recognition.kind.upper()}, {tr.z_dim}-D; each dimension from "
                 f"-{tr.range_sd:g} to +{tr.range_sd:g} SD around {where}")  # fmt: skip
        return lf.traversal_figure(tr, title)
    if part == "interpolation strip" and panel.interpolation is not None:
        return lf.interpolation_figure(panel.interpolation.images, panel.interpolation.z, f"{name}: A → B")
    if part == "generation" and panel.generation is not None:
        return lf.generation_figure(
            panel.generation, names, title=f"{name}: generated samples classified by the default CNN"
        )
    return None


def arrays(panel) -> dict | None:
    """The panel's points, labels, statistics and results as arrays for an ``.npz`` (None before encoding)."""
    if panel.z is None:
        return None
    arrays = {"z": panel.z, "labels": panel.labels, "extent": panel.stats.extent, "r99": np.array(panel.stats.r99),
              "centroids": panel.stats.centroids, "shown": panel.shown,
              "axis_names": np.array(panel.projection.axis_names if panel.projection else ("", ""))}  # fmt: skip
    if panel.grid is not None:
        arrays.update(grid_mosaic=panel.grid.mosaic, grid_bounds=np.array(panel.grid.bounds))
    if panel.interpolation is not None:
        arrays.update(interpolation_z=panel.interpolation.z, interpolation_images=panel.interpolation.images)
    if panel.traversal is not None:  # the same keys as ``cnnviz latent --traverse --npz``
        arrays.update(panel.traversal.arrays())
        if panel.view.slider_z is not None:
            arrays["slider_z"] = panel.view.slider_z
    if panel.generation is not None:
        for s in panel.generation.sets:
            arrays[f"generated_{s.method}_z"] = s.z
            arrays[f"generated_{s.method}_confidence"] = s.confidence
    return arrays
