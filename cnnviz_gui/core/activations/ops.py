"""Operations on activations in the compute process: one input's read-out, a batch, class statistics."""

from __future__ import annotations

import logging

import numpy as np

from cnnviz_gui.core.runtime.jobs import JobContext, op

log = logging.getLogger(__name__)


@op("activations.forward")
def forward(ctx: JobContext, model: str, image: np.ndarray, convention: str, layers: list[str] | None = None):
    """One image (H, W, C) in 0..1 through the model: ``layers`` (every layer when None) and the output.

    Only what is asked is traced and run (a read-out compiled per set of layers, cached per model).
    """
    from cnnviz_gui.core.activations.probe import forward as run

    log.debug("forward of %s: %s, %s, layers %s", model, image.shape, convention, layers)
    return run(ctx.store.model(model), image, convention, layers=layers)


@op("activations.warm")
def warm(ctx: JobContext, model: str) -> bool:
    """Compile the read-out of every layer (after the first view, so later layer switches trace nothing);
    False when stopped first (a newer forward pass asks for the worker)."""
    from cnnviz_gui.core.activations.probe import warm_probe

    return warm_probe(ctx.store.model(model), ctx.progress, ctx.cancelled)


@op("activations.predict")
def predict(ctx: JobContext, model: str, image: np.ndarray, convention: str, top: int = 5,
            labels: str | None = None):  # fmt: skip
    """The ``top`` most probable classes with names (a labels file, ImageNet's for 1000 outputs, else
    indices)."""
    from cnnviz_gui.core.activations.predictions import load_labels
    from cnnviz_gui.core.activations.predictions import predict as run

    names = load_labels(labels) if labels else None
    return run(ctx.store.model(model), image, convention, top=top, labels=names, labels_source=labels or "")


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


@op("exemplars.find")
def exemplars(ctx: JobContext, model: str, layer: str, dataset: str, convention: str, maps=None,
              top: int = 5):  # fmt: skip
    """The ``top`` images of the dataset ``dataset`` (a source key) per map of ``layer`` by the map's strongest
    response anywhere, with positions and receptive-field patches (``ExemplarResult``); progress per batch,
    Stop between batches. The dataset pass is cached per model, layer, dataset and convention."""
    from cnnviz_gui.core.activations.exemplars import find_exemplars

    found = find_exemplars(
        ctx.store.model(model), layer, maps=maps, dataset=ctx.store.dataset(dataset), top=top,
        convention=convention, progress=ctx.progress, cancelled=ctx.cancelled,
    )  # fmt: skip
    ctx.check()
    return found
