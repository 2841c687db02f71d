"""Latent traversals: move one latent dimension at a time and watch what the decoder makes of it.

For latent spaces wider than 2-D a scatter shows only a projection; a traversal shows every dimension. For
each dimension ``k`` the centre (the encoded data's mean, or a given point) is moved along ``k`` from ``-R``
to ``+R`` standard deviations (of the encoded data along ``k``) in ``S`` steps, and all ``d * S`` points are
decoded in one compiled call (in a few calls for big decoders). Rows are sorted by how much the image
changes: the mean over pixels of the standard deviation of that pixel across the row's ``S`` images. A
dimension the decoder ignores (a collapsed VAE dimension) changes nothing and ends at the bottom.

:func:`decode_point` is the live path for per-dimension sliders: one latent point, one cached compiled
decoder call (never ``model.predict``). Everything here runs on the compute thread; results hold NumPy
arrays and plain values only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cnnviz_gui.core.latent.space import LatentError, LatentSpace

ProgressFn = Callable[..., None]
CancelledFn = Callable[[], bool]

SPACE_CACHE_KEY = "latent_space"
MAX_STEPS = 31
MAX_RANGE = 10.0
#: decode at most this many output values (floats) per call; a wide, big decoder goes in several calls
DECODE_BUDGET = 32_000_000


@dataclass
class Traversal:
    """A traversal of every latent dimension, rows sorted by how much they change the image.

    ``traversal`` (rows, S, H, W) for one-channel images, (rows, S, H, W, C) otherwise; ``dims`` the latent
    dimension of each row; ``offsets`` (S,) the steps in standard deviations (-R..+R); ``change`` per row
    (mean over pixels of the per-pixel standard deviation across the row); ``centre`` (d,) the point that
    was moved; ``sd`` (d,) one standard deviation per dimension in latent units; ``scale`` "data" (the
    encoded data's SD) or "prior" (SD 1, when no encoded data were given).
    """

    traversal: np.ndarray
    dims: np.ndarray
    offsets: np.ndarray
    change: np.ndarray
    centre: np.ndarray
    sd: np.ndarray
    scale: str = "data"

    @property
    def z_dim(self) -> int:
        return int(len(self.centre))

    @property
    def range_sd(self) -> float:
        """R: the traversal runs from -R to +R standard deviations."""
        return float(np.max(np.abs(self.offsets))) if len(self.offsets) else 0.0

    def moved(self, offsets_sd: dict[int, float]) -> np.ndarray:
        """The centre (d,) with each latent dimension ``k`` of ``offsets_sd`` moved by that many of its SDs
        (the point a slider per dimension sets); the other dimensions stay at the centre."""
        z = np.array(self.centre, np.float32)
        for k, offset in offsets_sd.items():
            z[int(k)] += np.float32(offset) * self.sd[int(k)]
        return z

    def points(self) -> np.ndarray:
        """The latent points (rows, S, d) that were decoded, in row order."""
        return traversal_points(self.centre, self.sd, self.offsets, self.dims)

    def arrays(self) -> dict[str, np.ndarray]:
        """What the npz export holds: ``traversal`` plus the row order, offsets, change, centre and SD."""
        return {
            "traversal": self.traversal,
            "dims": self.dims,
            "offsets": self.offsets,
            "change": self.change,
            "centre": self.centre,
            "sd": self.sd,
        }


def latent_space(loaded, encoder=None, decoder=None, bottleneck=None) -> LatentSpace:
    """The :class:`LatentSpace` of an open model, recognised once and kept in ``loaded.cache``.

    ``loaded`` may also be a :class:`LatentSpace` already (returned as is), e.g. one made of two files.
    """
    if isinstance(loaded, LatentSpace):
        return loaded
    from cnnviz_gui.core.latent.space import input_convention, recognise

    key = (SPACE_CACHE_KEY, encoder, decoder, bottleneck)
    space = loaded.cache.get(key)
    if space is None:
        parts = recognise(loaded.model, encoder, decoder, bottleneck)
        space = LatentSpace(parts, input_convention(loaded.model))
        loaded.cache[key] = space
    return space


def traversal_points(
    centre: np.ndarray, sd: np.ndarray, offsets: np.ndarray, dims: np.ndarray | None = None
) -> np.ndarray:
    """Points (rows, S, d): ``centre`` moved along each of ``dims`` by ``offsets`` x that dimension's SD."""
    centre = np.asarray(centre, np.float32).ravel()
    sd = np.asarray(sd, np.float32).ravel()
    offsets = np.asarray(offsets, np.float32).ravel()
    dims = np.arange(len(centre)) if dims is None else np.asarray(dims, np.int64)
    pts = np.repeat(np.repeat(centre[None, None, :], len(dims), 0), len(offsets), 1)
    rows = np.arange(len(dims))
    pts[rows, :, dims] += offsets[None, :] * sd[dims][:, None]
    return pts


def image_change(row_images: np.ndarray) -> np.ndarray:
    """How much each row of images changes: mean over pixels (and channels) of the std across the row.

    ``row_images`` (rows, S, H, W[, C]) -> (rows,), in the decoder's output units (0..1 images: 0..0.5).
    """
    x = np.asarray(row_images, np.float32)
    return x.std(axis=1).reshape(len(x), -1).mean(axis=1)


def _check(steps: int, range_sd: float) -> None:
    if not 2 <= int(steps) <= MAX_STEPS:
        raise LatentError(f"A traversal needs between 2 and {MAX_STEPS} steps, got {steps}.")
    if not 0 < float(range_sd) <= MAX_RANGE:
        raise LatentError(
            f"The traversal range must be above 0 and at most {MAX_RANGE:g} standard deviations, "
            f"got {range_sd}."
        )


def latent_traversal(
    loaded,
    z_data: np.ndarray | None = None,
    centre: np.ndarray | None = None,
    steps: int = 9,
    range_sd: float = 3.0,
    progress: ProgressFn | None = None,
    cancelled: CancelledFn | None = None,
) -> Traversal:
    """Decode every latent dimension moved from ``-range_sd`` to ``+range_sd`` SDs in ``steps`` steps.

    Parameters
    ----------
    loaded
        An open model (``LoadedModel``; its latent space is recognised and cached) or a ``LatentSpace``.
    z_data
        Encoded data (N, d): their mean is the default centre, their SD per dimension the unit of the
        offsets. Without them the centre is the origin and the unit 1 (the prior of a VAE).
    centre
        A point (d,) to move instead of the data's mean (a pinned point).
    progress, cancelled
        ``progress(fraction, text)`` after each decoder call; ``cancelled()`` is checked between calls and
        raises :class:`~cnnviz_gui.core.runtime.jobs.JobCancelled`.

    Returns
    -------
    Traversal
        Rows sorted by :func:`image_change`, largest first.
    """
    _check(steps, range_sd)
    space = latent_space(loaded)
    d = space.z_dim
    if z_data is not None:
        z = np.asarray(z_data, np.float64)
        if z.ndim != 2 or z.shape[1] != d or len(z) < 2:
            raise LatentError(
                f"The encoded data must be at least two points of {d} coordinates, got {z.shape}."
            )
        mean, sd, scale = z.mean(axis=0), z.std(axis=0), "data"
    else:
        mean, sd, scale = np.zeros(d), np.ones(d), "prior"
    if centre is not None:
        centre = np.asarray(centre, np.float64).ravel()
        if centre.shape != (d,) or not np.all(np.isfinite(centre)):
            raise LatentError(f"The centre of a traversal needs {d} finite coordinates, got {centre.shape}.")
    else:
        centre = mean
    sd = np.where(sd > 0, sd, 1.0)  # a constant dimension: move it by one latent unit per step of SD
    offsets = np.linspace(-range_sd, range_sd, int(steps)).astype(np.float32)
    pts = traversal_points(centre, sd, offsets)  # (d, S, d) in dimension order
    images = _decode_rows(space, pts, progress, cancelled)
    change = image_change(images)
    order = np.argsort(-change, kind="stable")
    out = images[order]
    if out.shape[-1] == 1:
        out = out[..., 0]
    return Traversal(
        traversal=np.ascontiguousarray(out, np.float32),
        dims=order.astype(np.int64),
        offsets=offsets,
        change=change[order].astype(np.float32),
        centre=np.asarray(centre, np.float32),
        sd=np.asarray(sd, np.float32),
        scale=scale,
    )


def _decode_rows(space: LatentSpace, pts: np.ndarray, progress, cancelled) -> np.ndarray:
    """Decode (d, S, d) points; as few calls as the output size allows, checking ``cancelled`` between."""
    from cnnviz_gui.core.runtime.jobs import JobCancelled

    d, steps = pts.shape[:2]
    first = space.decode(pts[0, :1])  # one image: the output size, and a traced call
    per_row = steps * int(np.prod(first.shape[1:]))
    rows_per_call = max(1, DECODE_BUDGET // max(per_row, 1))
    parts = []
    for start in range(0, d, rows_per_call):
        if cancelled is not None and cancelled():
            raise JobCancelled()
        chunk = pts[start : start + rows_per_call]
        decoded = space.decode(chunk.reshape(-1, pts.shape[2]))
        parts.append(decoded.reshape(len(chunk), steps, *decoded.shape[1:]))
        if progress is not None:
            done = min(start + rows_per_call, d)
            progress(done / d, f"decoded {done} of {d} dimensions")
    return np.concatenate(parts)


def decode_point(loaded, z: np.ndarray) -> np.ndarray:
    """Decode one latent point (d,) for a live view (a slider per dimension): one cached compiled call.

    Returns the image (H, W) for one channel, (H, W, C) otherwise, float32.
    """
    space = latent_space(loaded)
    z = np.asarray(z, np.float32).reshape(1, -1)
    image = space.decode(z)[0]
    return image[..., 0] if image.shape[-1] == 1 else image
