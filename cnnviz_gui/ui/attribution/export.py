"""What File > Export saves from the Attribution tab: figures made by ``core.attribution.figures`` and the
arrays under the command line's names (``attribution``, ``layer_map``, ``class_index``, ``score``,
``baseline_score``, ``randomized_similarity``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnviz_gui.ui.attribution.panels import fit_image

#: what File > Export's figure shows (the Export choice of the tab)
FIGURES = {
    "overlay": "overlay and raw map",
    "methods": "methods side by side",
    "sanity": "sanity row",
}


@dataclass
class Shown:
    """Everything the tab shows, as plain values (what the exports are made from)."""

    model_name: str = ""
    input_label: str = ""
    convention: str = ""
    result: object | None = None  # AttributionResult of the current input
    image: np.ndarray | None = None  # the input the result belongs to
    comparison: dict | None = None  # method -> AttributionResult of ``comparison_images``
    comparison_images: np.ndarray | None = None
    comparison_labels: list[str] = field(default_factory=list)
    sanity: object | None = None  # SanityResult
    sanity_image: np.ndarray | None = None
    class_names: list[str] | None = None


def _sanity_matches(shown: Shown) -> bool:
    """The sanity check was made for the input and method the overlay shows."""
    s, r = shown.sanity, shown.result
    if s is None or r is None or shown.image is None or shown.sanity_image is None:
        return False
    return (
        s.method == r.method
        and int(s.class_index) == int(r.class_index[0])
        and np.array_equal(np.asarray(shown.image), np.asarray(shown.sanity_image))
    )


def figure(shown: Shown, which: str, cmap: str | None, alpha: float, contrast: float):
    """The matplotlib figure of ``which`` (a key of :data:`FIGURES`), or None when it has not been made."""
    from cnnviz_gui.core.attribution.figures import (
        comparison_figure,
        describe_result,
        overlay_figure,
        sanity_figure,
    )

    names = shown.class_names
    if which == "methods":
        if not shown.comparison:
            return None
        title = f"{shown.model_name}: attribution methods compared (same target class per row)"
        return comparison_figure(shown.comparison_images, shown.comparison, shown.comparison_labels, cmap,
                                 alpha, contrast, names, title)  # fmt: skip
    if which == "sanity":
        if shown.sanity is None:
            return None
        title = f"{shown.model_name}: sanity check; input {shown.input_label}"
        image = fit_image(shown.sanity_image, shown.sanity.original.shape)
        return sanity_figure(image, shown.sanity, cmap, contrast, title)
    if shown.result is None:
        return None
    line = describe_result(shown.result, 0, names)
    title = f"{shown.model_name}: {line}; input {shown.input_label}, {shown.convention}"
    sanity = shown.sanity if _sanity_matches(shown) else None
    image = fit_image(shown.image, shown.result.attribution.shape[1:])  # e.g. a digit given to an RGB model
    return overlay_figure(image, shown.result, 0, cmap, alpha, contrast, class_names=names, title=title,
                          sanity=sanity)  # fmt: skip


def arrays(shown: Shown) -> dict | None:
    """The shown result under the command line's keys, plus the input, the comparison and the sanity row."""
    out: dict = {}
    r = shown.result
    if r is not None:
        out.update(r.to_arrays(0))
        out["method"] = np.array(r.method)
        out["input"] = np.asarray(shown.image, np.float32)
        out["probabilities"] = r.probabilities[0]
        out["convention"] = np.array(r.convention)
        if r.layer:
            out["layer"] = np.array(r.layer)
    s = shown.sanity
    if s is not None:
        if _sanity_matches(shown):
            out["randomized_similarity"] = np.float32(s.randomized_similarity)
        out["sanity_method"] = np.array(s.method)
        out["sanity_input"] = np.asarray(shown.sanity_image, np.float32)
        out["sanity_original"] = s.original
        out["sanity_maps"] = s.maps
        out["sanity_similarity"] = s.similarity
        out["sanity_steps"] = np.array([", ".join(names) for names in s.steps])
    if shown.comparison:
        out["compare_inputs"] = np.asarray(shown.comparison_images, np.float32)
        out["compare_labels"] = np.array(shown.comparison_labels)
        for method, result in shown.comparison.items():
            out[f"compare_{method}"] = result.attribution
        first = next(iter(shown.comparison.values()))
        out["compare_class_index"] = first.class_index
    return out or None
