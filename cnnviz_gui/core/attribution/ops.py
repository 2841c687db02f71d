"""Attribution as operations of the compute process: thin wrappers over :mod:`.methods` and :mod:`.sanity`.

``attribution.live`` answers every stroke (one compiled call: Grad-CAM, Grad-CAM++, saliency);
``attribution.compute``, ``attribution.compare`` and ``attribution.sanity`` are the slow ones: they report
progress and stop between compiled calls. ``attribution.layers`` lists the layers the CAM methods can use.
"""

from __future__ import annotations

import numpy as np

from cnnviz_gui.core.attribution.types import (
    AttributionRequest,
    AttributionResult,
    LiveAttribution,
    SanityResult,
)
from cnnviz_gui.core.runtime.jobs import JobContext, op


def _request(request: AttributionRequest | dict | None) -> AttributionRequest:
    if isinstance(request, AttributionRequest):
        return request
    return AttributionRequest.from_dict(request or {})


@op("attribution.layers")
def layers(ctx: JobContext, model: str) -> dict:
    """``{"layers": [keys], "default": key or None}``: the layers Grad-CAM can use and the default one."""
    from cnnviz_gui.core.attribution.methods import cam_layer_choices

    keys, default = cam_layer_choices(ctx.store.model(model))
    return {"layers": list(keys), "default": default}


@op("attribution.live")
def live(ctx: JobContext, model: str, image: np.ndarray, convention: str, method: str = "gradcam",
         class_index: int | None = None, layer: str | None = None, contrast: float = 99.0,
         top_k: int = 5) -> LiveAttribution:  # fmt: skip
    """One image's map for the live overlay (a few ms for the MNIST CNN) and its most probable classes."""
    from cnnviz_gui.core.attribution.methods import live_attribution

    return live_attribution(
        ctx.store.model(model), image, convention, method, class_index, layer, contrast, top_k
    )


@op("attribution.compute")
def compute(ctx: JobContext, model: str, images: np.ndarray, convention: str,
            request: AttributionRequest | dict | None = None) -> AttributionResult:  # fmt: skip
    """Any method for a batch of images (N, H, W, C) or one image, with progress; Stop ends it."""
    from cnnviz_gui.core.attribution.methods import attribute

    result = attribute(
        ctx.store.model(model), images, _request(request), convention, ctx.progress, ctx.cancelled
    )
    ctx.check()
    return result


@op("attribution.compare")
def compare(ctx: JobContext, model: str, images: np.ndarray, convention: str, methods: list[str],
            request: AttributionRequest | dict | None = None) -> dict[str, AttributionResult]:  # fmt: skip
    """Several methods for the same inputs and target classes: ``{method: AttributionResult}``."""
    from cnnviz_gui.core.attribution.methods import compare_methods

    results = compare_methods(
        ctx.store.model(model), images, convention, tuple(methods), _request(request), ctx.progress,
        ctx.cancelled,
    )  # fmt: skip
    ctx.check()
    return results


@op("attribution.sanity")
def sanity(ctx: JobContext, model: str, image: np.ndarray, convention: str,
           request: AttributionRequest | dict | None = None, max_steps: int = 8) -> SanityResult:  # fmt: skip
    """The cascading weight-randomisation check of one image's map, step by step with progress."""
    from cnnviz_gui.core.attribution.sanity import sanity_check

    result = sanity_check(
        ctx.store.model(model), image, convention, _request(request), max_steps,
        progress=ctx.progress, cancelled=ctx.cancelled,
    )  # fmt: skip
    ctx.check()
    return result
