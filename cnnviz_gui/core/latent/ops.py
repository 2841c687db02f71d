"""Latent-space operations of the compute process: the space is kept under the GUI's id between jobs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnviz_gui.core.latent.prior_fit import PriorFit
from cnnviz_gui.core.latent.recognition import Recognition
from cnnviz_gui.core.latent.space import LatentStats
from cnnviz_gui.core.latent.traversal import Traversal
from cnnviz_gui.core.runtime.jobs import JobContext, op


@dataclass
class OpenedSpace:
    """What the Latent tab gets when it asks for a model's latent space (``recognition`` None: not found,
    ``message`` says why) and what a person could pick instead (sub-models, bottleneck layers)."""

    recognition: Recognition | None
    convention: str
    submodels: list[str] = field(default_factory=list)
    bottlenecks: list[str] = field(default_factory=list)
    message: str = ""


@dataclass
class EncodedDataset:
    """A dataset's latent points: ``z`` (N, d), labels, class names and the statistics of the points;
    ``prior``: how they sit on the prior N(0, I) (centre, r99, share of prior samples on the data)."""

    name: str
    z: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    stats: LatentStats
    z_log_var: np.ndarray | None = None
    prior: PriorFit | None = None


@op("latent.open")
def open_space(ctx: JobContext, space: str, model: str | None = None, encoder: str | None = None,
               decoder: str | None = None, bottleneck: str | None = None,
               files: tuple[str, str] | None = None) -> OpenedSpace:  # fmt: skip
    """Recognise the encoder and decoder of the open model ``model`` (or of two files) as ``space``."""
    from cnnviz_gui.core.latent.space import explore

    keras_model = ctx.store.model(model).model if files is None else None
    found, (subs, bottlenecks), message = explore(keras_model, encoder, decoder, bottleneck, files)
    ctx.store.objects.pop(space, None)
    if found is None:
        return OpenedSpace(None, "0..1", list(subs), list(bottlenecks), message)
    found.model_id = model  # closed together with its model
    ctx.store.objects[space] = found
    return OpenedSpace(found.recognition, found.convention, list(subs), list(bottlenecks))


@op("latent.encode")
def encode(ctx: JobContext, space: str, dataset: str) -> EncodedDataset:
    """Encode the dataset ``dataset`` (a source key) in batches with progress; its statistics and how the
    points sit on the prior N(0, I) (2,000 prior samples, as ``cnnviz train`` and the models README)."""
    from cnnviz_gui.core.latent.prior_fit import prior_fit
    from cnnviz_gui.core.latent.space import latent_statistics, load_named_dataset

    found = ctx.store.object(space)
    ds = load_named_dataset(dataset) if dataset not in ctx.store.datasets else ctx.store.dataset(dataset)
    encoded = found.encode(ds.x, progress=ctx.progress, cancelled=ctx.cancelled)
    stats = latent_statistics(encoded.z, ds.y, len(ds.class_names))
    fit = prior_fit(encoded.z, encoded.z_log_var) if len(encoded.z) >= 2 else None
    return EncodedDataset(
        ds.name, encoded.z, np.asarray(ds.y), list(ds.class_names), stats, encoded.z_log_var, fit
    )


@op("latent.encode_input")
def encode_input(ctx: JobContext, space: str, image: np.ndarray) -> np.ndarray:
    """The latent point (d,) of one image in 0..1."""
    from cnnviz_gui.core.preprocess import fit_input

    found = ctx.store.object(space)
    return found.encode(fit_input(image, found.recognition.input_shape)[None]).z[0]


@op("latent.decode")
def decode(ctx: JobContext, space: str, z: np.ndarray) -> np.ndarray:
    """Images (N, H, W, C) of latent points (N, d), one compiled call."""
    return ctx.store.object(space).decode(z)


@op("latent.decode_point")
def decode_point(ctx: JobContext, space: str, z: np.ndarray) -> np.ndarray:
    """The image (H, W) or (H, W, C) of one latent point (d,): the live path of the per-dimension sliders."""
    from cnnviz_gui.core.latent.traversal import decode_point as run

    return run(ctx.store.object(space), z)


@op("latent.traverse")
def traverse(ctx: JobContext, space: str, z: np.ndarray | None = None, centre: np.ndarray | None = None,
             steps: int = 9, range_sd: float = 3.0) -> Traversal:  # fmt: skip
    """Every latent dimension moved from -R to +R standard deviations around ``centre`` (default: the mean
    of the encoded data ``z``, sent by the GUI that holds them; without ``z`` the origin and SD 1)."""
    from cnnviz_gui.core.latent.traversal import latent_traversal

    return latent_traversal(ctx.store.object(space), z, centre, int(steps), float(range_sd),
                            progress=ctx.progress, cancelled=ctx.cancelled)  # fmt: skip


@op("latent.grid")
def grid(ctx: JobContext, space: str, projection, bounds: tuple, n: int):
    """An n x n grid over ``bounds`` of the shown plane, decoded in one call."""
    return ctx.store.object(space).decode_grid(projection, tuple(bounds), int(n))


@op("latent.interpolate")
def interpolate(ctx: JobContext, space: str, a: np.ndarray, b: np.ndarray, steps: int):
    return ctx.store.object(space).interpolate(a, b, int(steps))


@op("latent.generate")
def generate(ctx: JobContext, space: str, z: np.ndarray, n: int):
    """Samples of each method decoded and classified by the default CNN (confidence histograms)."""
    from cnnviz_gui.core.latent.generation import generate as run

    return run(ctx.store.object(space), z, n=int(n), progress=ctx.progress)


@op("latent.project")
def project(ctx: JobContext, z: np.ndarray, method: str, axes: tuple) -> tuple:
    """Fit a 2-D projection of points ``z`` (UMAP and t-SNE in a child process Stop ends); (projection, shown)."""
    from cnnviz_gui.core.latent.projection import fit_projection

    proj = fit_projection(z, method, tuple(axes), cancelled=ctx.cancelled)
    return proj, proj.transform(z)
