"""Operations on activations in the compute process: one input's read-out, a batch, class statistics."""

from __future__ import annotations

import numpy as np

from cnnviz_gui.core.runtime.jobs import JobContext, op


@op("activations.forward")
def forward(ctx: JobContext, model: str, image: np.ndarray, convention: str, layers: list[str] | None = None):
    """One image (H, W, C) in 0..1 through the model: ``layers`` (all when None) and the class output."""
    from cnnviz_gui.core.activations.probe import forward as run

    acts = run(ctx.store.model(model), image, convention)
    if layers is not None:
        wanted = set(layers) | {acts.output_name}
        acts.layers = {k: v for k, v in acts.layers.items() if k in wanted or k.split("/")[-1] in wanted}
    return acts


@op("activations.batch")
def batch(ctx: JobContext, model: str, images: list[np.ndarray], convention: str) -> dict[str, np.ndarray]:
    """Several images in 0..1 through the model in one call: every layer's outputs (N, ...) by name."""
    from cnnviz_gui.core.activations.probe import get_probe
    from cnnviz_gui.core.preprocess import fit_input, to_model_range

    probe = get_probe(ctx.store.model(model))
    x = np.stack([fit_input(im, probe.input_shape) for im in images])
    return probe(to_model_range(x, convention))


@op("activations.class_stats")
def class_stats(ctx: JobContext, model: str, dataset: str, layer: str, convention: str,
                max_per_class: int | None = None):  # fmt: skip
    """Per-class statistics of ``layer``'s maps over the dataset ``dataset`` (a source key), with progress."""
    from cnnviz_gui.core.activations.statistics import class_statistics

    stats = class_statistics(
        ctx.store.model(model), ctx.store.dataset(dataset), layer, convention, max_per_class=max_per_class,
        progress=ctx.progress, cancelled=ctx.cancelled,
    )  # fmt: skip
    ctx.check()
    return stats
