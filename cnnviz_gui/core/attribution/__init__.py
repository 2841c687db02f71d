"""Attribution: which pixels make the model decide. Grad-CAM, Grad-CAM++, saliency, SmoothGrad, integrated
gradients and occlusion, batched over inputs; the sanity check by cascading weight randomisation; figures.

Plain functions for the compute process (TensorFlow is imported only when they run); results hold NumPy
arrays and plain values only. ``display`` is NumPy-only and may be used by the GUI process.
"""

from __future__ import annotations

from cnnviz_gui.core.attribution.methods import (
    attribute,
    cam_layer_choices,
    compare_methods,
    live_attribution,
    top_classes,
)
from cnnviz_gui.core.attribution.sanity import sanity_check, spearman
from cnnviz_gui.core.attribution.types import (
    BASELINES,
    CAM_METHODS,
    METHODS,
    SIGNED_METHODS,
    AttributionError,
    AttributionRequest,
    AttributionResult,
    ClassScore,
    LiveAttribution,
    SanityResult,
)

__all__ = [
    "BASELINES",
    "CAM_METHODS",
    "METHODS",
    "SIGNED_METHODS",
    "AttributionError",
    "AttributionRequest",
    "AttributionResult",
    "ClassScore",
    "LiveAttribution",
    "SanityResult",
    "attribute",
    "cam_layer_choices",
    "compare_methods",
    "live_attribution",
    "sanity_check",
    "spearman",
    "top_classes",
]
