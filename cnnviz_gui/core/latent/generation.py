"""Generating from a latent space: sample points three ways, decode them, classify the decoded images.

This is where a plain AE's fragmented latent space shows: points from the prior N(0, I) mostly land where no
data lie and decode to images the default CNN cannot name, while a VAE's prior samples decode to digits.
Sampling is NumPy only; decoding and classifying run on the compute thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from cnnviz_gui.core.latent.space import LatentError, LatentSpace
from cnnviz_gui.core.preprocess import to_model_range

ProgressFn = Callable[..., None]
SAMPLING_METHODS = ("prior", "fitted", "neighbourhood")
EMPTY_FACTOR = 3.0  # a sample farther than this many typical spacings from all data lies "off the data"
SAMPLING_TITLES = {
    "prior": "prior N(0, I)",
    "fitted": "Gaussian fitted to the data",
    "neighbourhood": "data neighbourhoods",
}


def sample_latent(method: str, n: int, z_data: np.ndarray | None, seed: int = 0, k: int = 5) -> np.ndarray:
    """Draw ``n`` latent points: from the prior N(0, I), a Gaussian fitted to ``z_data``, or its neighbourhoods.

    "neighbourhood": pick data points at random and move each by Gaussian noise whose scale is its distance to
    its ``k``-th nearest data neighbour, so the samples stay where the data actually lie.
    """
    rng = np.random.default_rng(seed)
    if method == "prior":
        if z_data is None:
            raise LatentError("The prior needs the latent dimension; encode a dataset first.")
        return rng.standard_normal((n, z_data.shape[1])).astype(np.float32)
    if z_data is None or len(z_data) < 2:
        raise LatentError(f"Sampling from '{method}' needs encoded data: encode a dataset first.")
    z = np.asarray(z_data, np.float64)
    if method == "fitted":
        cov = np.atleast_2d(np.cov(z, rowvar=False))
        return rng.multivariate_normal(
            z.mean(axis=0), cov, size=n, method="cholesky" if _pd(cov) else "svd"
        ).astype(np.float32)
    if method == "neighbourhood":
        seeds = z[rng.integers(0, len(z), n)]
        d2 = ((seeds[:, None, :] - z[None, :, :]) ** 2).sum(-1) if n * len(z) <= 2e7 else None
        if d2 is None:
            ref = z[rng.choice(len(z), min(len(z), int(2e7 // max(n, 1))), replace=False)]
            d2 = ((seeds[:, None, :] - ref[None, :, :]) ** 2).sum(-1)
        kk = min(k, d2.shape[1] - 1)
        radius = np.sqrt(np.partition(d2, kk, axis=1)[:, kk])  # index 0 is the point itself
        noise = rng.standard_normal(seeds.shape) * (radius[:, None] / np.sqrt(z.shape[1]))
        return (seeds + noise).astype(np.float32)
    raise LatentError(f"Unknown sampling method '{method}'; use one of {SAMPLING_METHODS}.")


def _pd(cov: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(cov)
        return True
    except np.linalg.LinAlgError:
        return False


class Classifier:
    """A classifier (default: the bundled CNN) with a cached compiled call; inputs are images in 0..1."""

    def __init__(self, model, convention: str = "standardised"):
        import tensorflow as tf

        self.model, self.convention = model, convention
        spec = tf.TensorSpec((None, *tuple(int(s) for s in model.inputs[0].shape[1:])), tf.float32)
        self.input_shape = tuple(spec.shape[1:])

        @tf.function(input_signature=[spec], reduce_retracing=True)
        def classify(x):
            return model(x, training=False)

        self._fn = classify

    def probabilities(self, images01: np.ndarray) -> np.ndarray:
        """Class probabilities (N, classes) through the cached compiled call (never ``model.predict``)."""
        x = np.asarray(images01, np.float32)
        if x.shape[1:] != self.input_shape:
            raise LatentError(
                f"The classifier expects images of shape {self.input_shape}; the decoder makes {x.shape[1:]}."
            )
        return np.asarray(self._fn(to_model_range(x, self.convention)))


_default_classifier: Classifier | None = None


def default_classifier() -> Classifier:
    """The bundled reference CNN (loaded once, on the compute thread)."""
    global _default_classifier
    if _default_classifier is None:
        from cnnviz_gui.core.models.loading import load_keras_model
        from cnnviz_gui.core.resources import default_model_path

        _default_classifier = Classifier(load_keras_model(default_model_path()), "standardised")
    return _default_classifier


@dataclass
class GeneratedSet:
    method: str
    z: np.ndarray
    images: np.ndarray
    predicted: np.ndarray  # class per image
    confidence: np.ndarray  # top softmax probability per image
    gap: np.ndarray | None = None  # distance to the nearest encoded point / the data's typical spacing

    @property
    def title(self) -> str:
        return SAMPLING_TITLES.get(self.method, self.method)

    def fraction_confident(self, threshold: float = 0.9) -> float:
        return float((self.confidence >= threshold).mean()) if len(self.confidence) else 0.0

    def fraction_off_data(self, factor: float = EMPTY_FACTOR) -> float:
        """Share of samples farther from every encoded point than ``factor`` x the data's typical spacing."""
        return float((self.gap > factor).mean()) if self.gap is not None and len(self.gap) else 0.0


@dataclass
class GenerationResult:
    sets: list[GeneratedSet] = field(default_factory=list)
    bins: np.ndarray = field(default_factory=lambda: np.linspace(0.0, 1.0, 11))

    def histogram(self, method: str) -> np.ndarray:
        s = next(s for s in self.sets if s.method == method)
        return np.histogram(s.confidence, bins=self.bins)[0]

    def summary(self) -> str:
        """One line, the off-data shares first: the default CNN names most decoded images confidently even where
        no data lie, so the shares off the data separate a fragmented latent space from a smooth one better."""
        if not self.sets:
            return ""
        off = ", ".join(f"{s.title} {s.fraction_off_data() * 100:.0f}%" for s in self.sets)
        conf = ", ".join(
            f"{s.title} {s.confidence.mean():.2f} ({s.fraction_confident() * 100:.0f}% ≥ 0.9)"
            for s in self.sets
        )
        n = len(self.sets[0].z)
        return (
            f"Samples off the data: {off} ({n:,} per method; off = farther than {EMPTY_FACTOR:g}x the data's "
            f"typical spacing from every encoded point). Mean CNN confidence: {conf}."
        )


def nearest_distances(q: np.ndarray, ref: np.ndarray, exclude_self: bool = False) -> np.ndarray:
    """Distance from each point of ``q`` to its nearest point of ``ref`` (chunked, NumPy only)."""
    q, ref = np.asarray(q, np.float32), np.asarray(ref, np.float32)
    out = np.empty(len(q), np.float32)
    ref_sq = (ref**2).sum(1)
    for start in range(0, len(q), 512):
        qq = q[start : start + 512]
        d2 = np.maximum((qq**2).sum(1)[:, None] - 2 * qq @ ref.T + ref_sq[None, :], 0)
        if exclude_self:
            d2 = np.partition(d2, 1, axis=1)[:, 1]
        else:
            d2 = d2.min(1)
        out[start : start + 512] = np.sqrt(d2)
    return out


def data_gaps(samples: np.ndarray, z_data: np.ndarray, seed: int = 0) -> np.ndarray:
    """How far each sample lies from the encoded data, in units of the data's typical spacing (the median
    distance from a data point to its nearest neighbour). Values far above 1 mean an empty region."""
    rng = np.random.default_rng(seed)
    probe = z_data[rng.choice(len(z_data), min(1000, len(z_data)), replace=False)]
    spacing = float(np.median(nearest_distances(probe, z_data, exclude_self=True)))
    return nearest_distances(samples, z_data) / max(spacing, 1e-9)


def generate(
    space: LatentSpace,
    z_data: np.ndarray,
    n: int = 64,
    methods: tuple[str, ...] = SAMPLING_METHODS,
    classifier: Classifier | None = None,
    seed: int = 0,
    progress: ProgressFn | None = None,
) -> GenerationResult:
    """Sample with each method, decode, and classify the decoded images (confidence = top probability)."""
    clf = classifier or default_classifier()
    result = GenerationResult()
    for i, method in enumerate(methods):
        z = sample_latent(method, n, z_data, seed=seed + i)
        images = space.decode(z)
        probs = clf.probabilities(images)
        gap = data_gaps(z, z_data, seed)
        result.sets.append(GeneratedSet(method, z, images, probs.argmax(1), probs.max(1), gap))
        if progress is not None:
            progress((i + 1) / len(methods), f"sampled {SAMPLING_TITLES.get(method, method)}")
    return result
