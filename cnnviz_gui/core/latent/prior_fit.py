"""How well encoded data sit on a VAE's prior N(0, I): centre, radius and the prior samples that land on data.

A VAE trained to convergence is centred on its prior (a shift of the whole latent cloud costs KL and is free
for the decoder, whose first layer absorbs it) and its prior samples decode to data-like images because they
land where data are encoded. A plain AE is neither. These figures let a person who trains their own model
see which it is. NumPy only; the encoding is done by the caller.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from cnnviz_gui.core.latent.generation import EMPTY_FACTOR, data_gaps

#: a latent space counts as centred when every axis of the data's mean lies within this of the origin
CENTRE_TOLERANCE = 0.25
#: ... and as covering the prior when at least this share of prior samples lands on the data
ON_DATA_TARGET = 0.75


@dataclass
class PriorFit:
    """Figures of encoded points ``z`` (``z_mean`` for a VAE) against the prior N(0, I).

    ``centre``: mean of the points per axis; ``spread``: their standard deviation per axis; ``r99``: radius
    around the origin holding 99% of them; ``on_data_share``: share of ``n_prior`` samples of N(0, I) lying
    within ``factor`` x the median nearest-neighbour spacing of some encoded point; ``posterior_variance``:
    mean of exp(``z_log_var``) per axis (VAE only, else ``None``); ``sampled_on_data_share`` (VAE only): the
    same share measured against posterior samples z_mean + sigma * eps instead of the means. In more than two
    dimensions a VAE leaves some dimensions unused (collapsed: mean near 0, variance near 1, the posterior is
    the prior there); their means do not spread, so prior samples miss the means but not the samples.
    """

    centre: list[float]
    spread: list[float]
    r99: float
    on_data_share: float
    n_points: int
    n_prior: int
    factor: float
    posterior_variance: list[float] | None = None
    sampled_on_data_share: float | None = None

    @property
    def centred(self) -> bool:
        return bool(np.all(np.abs(self.centre) <= CENTRE_TOLERANCE))

    @property
    def covers_prior(self) -> bool:
        return self.on_data_share >= ON_DATA_TARGET

    @property
    def covers_prior_sampled(self) -> bool:
        """The prior's samples land on posterior samples (VAE), though maybe not on the means."""
        return self.sampled_on_data_share is not None and self.sampled_on_data_share >= ON_DATA_TARGET

    @property
    def converged(self) -> bool:
        """Centred, and the prior's samples land on the data (the means, or else the posterior samples)."""
        return self.centred and (self.covers_prior or self.covers_prior_sampled)

    def to_dict(self) -> dict:
        """Plain values only (lists, floats, ints), for a training outcome or a session."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> PriorFit | None:
        """The figures back from :meth:`to_dict` (other keys ignored); None when they are not all there."""
        names = {f.name for f in fields(cls)}
        required = {
            f.name for f in fields(cls) if f.name not in ("posterior_variance", "sampled_on_data_share")
        }
        if not required <= set(values):
            return None
        return cls(**{k: v for k, v in values.items() if k in names})

    def format_lines(self, name: str = "z") -> list[str]:
        """Lines for a person: centre, r99, on-data share (and posterior variances for a VAE)."""
        centre = ", ".join(f"{c:+.2f}" for c in self.centre[:8]) + (", …" if len(self.centre) > 8 else "")
        spread = ", ".join(f"{s:.2f}" for s in self.spread[:8]) + (", …" if len(self.spread) > 8 else "")
        lines = [
            f"latent centre (mean of {name} per axis): ({centre}); spread (std per axis): ({spread})",
            f"radius around the origin holding 99% of the points: r99 = {self.r99:.2f}",
            f"prior samples on the data: {self.on_data_share * 100:.0f}% of {self.n_prior:,} samples of N(0, I) "
            f"lie within {self.factor:g}x the median nearest-neighbour spacing of an encoded point",
        ]
        if self.posterior_variance is not None:
            pv = ", ".join(f"{v:.3g}" for v in self.posterior_variance[:8])
            lines.append(
                f"posterior variances (mean of exp(z_log_var) per axis): ({pv}{', …' if len(self.posterior_variance) > 8 else ''})"
            )
        if self.sampled_on_data_share is not None:
            lines.append(
                f"prior samples on posterior samples (z_mean + sigma * eps) instead of the means: "
                f"{self.sampled_on_data_share * 100:.0f}%"
            )
        return lines

    def verdict(self, longer: str = "train longer (--epochs)") -> str:
        """One line for a VAE: centred on its prior and covering it, or what to try (``longer`` says how to
        train longer where the person reads it: the command line's option, or a dialog's field)."""
        if self.centred and self.covers_prior:
            return (
                f"centred on the prior (|centre| <= {CENTRE_TOLERANCE:g} per axis) and "
                f"{self.on_data_share * 100:.0f}% of prior samples on the data: converged"
            )
        if self.centred and self.covers_prior_sampled:
            return (
                f"centred on the prior (|centre| <= {CENTRE_TOLERANCE:g} per axis); "
                f"{self.on_data_share * 100:.0f}% of prior samples land on the means z_mean but "
                f"{self.sampled_on_data_share * 100:.0f}% on posterior samples: some dimensions are unused "
                "(collapsed: their means stay near 0, the posterior is the prior there; a traversal shows which): "
                "converged"
            )
        what = []
        if not self.centred:
            what.append(f"not centred (|centre| > {CENTRE_TOLERANCE:g} on some axis)")
        if not (self.covers_prior or self.covers_prior_sampled):
            sampled = (
                f", {self.sampled_on_data_share * 100:.0f}% on posterior samples"
                if self.sampled_on_data_share is not None
                else ""
            )
            what.append(
                f"only {self.on_data_share * 100:.0f}% of prior samples on the data{sampled} "
                f"(< {ON_DATA_TARGET:.0%})"
            )
        return "; ".join(what) + f": not converged to its prior; {longer} or check the KL weight"

    def judgement(self, kind: str, longer: str = "train longer (--epochs)") -> str:
        """The verdict for a VAE (``kind`` "vae"); for a plain AE what the figures are for."""
        if kind == "vae":
            return self.verdict(longer)
        return (
            "a plain autoencoder has no prior: nothing pulls its points towards N(0, I), so these figures are "
            "the contrast to a VAE's (whose points should be centred with most prior samples on the data)"
        )


def prior_fit(
    z: np.ndarray,
    z_log_var: np.ndarray | None = None,
    n_prior: int = 2000,
    seed: int = 0,
    factor: float = EMPTY_FACTOR,
) -> PriorFit:
    """Measure encoded points ``z`` (N, d) against N(0, I); see :class:`PriorFit`."""
    z = np.asarray(z, np.float32)
    if z.ndim != 2 or len(z) < 2:
        raise ValueError(f"expected at least two encoded points of shape (N, d), got {z.shape}")
    prior = np.random.default_rng(seed).standard_normal((n_prior, z.shape[1])).astype(np.float32)
    gaps = data_gaps(prior, z, seed)
    z64 = z.astype(np.float64)
    pv = sampled = None
    if z_log_var is not None:
        var = np.exp(np.asarray(z_log_var, np.float64))
        pv = [float(v) for v in var.mean(axis=0)]
        eps = np.random.default_rng(seed + 1).standard_normal(z.shape)
        z_sampled = (z64 + np.sqrt(var) * eps).astype(np.float32)
        sampled = float((data_gaps(prior, z_sampled, seed) <= factor).mean())
    return PriorFit(
        centre=[float(c) for c in z64.mean(axis=0)],
        spread=[float(s) for s in z64.std(axis=0)],
        r99=float(np.percentile(np.linalg.norm(z64, axis=1), 99)),
        on_data_share=float((gaps <= factor).mean()),
        n_points=len(z),
        n_prior=int(n_prior),
        factor=float(factor),
        posterior_variance=pv,
        sampled_on_data_share=sampled,
    )
