"""Training as one job for the compute thread: a request in, a plain outcome out (the GUI's Train dialog).

``run_training(request, progress, cancelled)`` loads the dataset, trains the default CNN, AE or VAE and
saves it atomically (temporary file, then rename): a stopped run leaves the output file as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnviz_gui.core.datasets import Dataset, load_dataset

KINDS = {"cnn": "CNN classifier", "ae": "Autoencoder (AE)", "vae": "Variational autoencoder (VAE)"}


@dataclass
class TrainingRequest:
    """What to train. ``max_samples`` (0 = all) draws a random subset; 90 % of it trains, 10 % tests."""

    kind: str
    dataset: str
    out: str
    epochs: int = 5
    latent_dim: int = 2
    beta: float = 1.0
    max_samples: int = 0
    seed: int = 0

    def check(self) -> None:
        """Raise ``ValueError`` with a message for a person when a value is out of range."""
        if self.kind not in KINDS:
            raise ValueError(f"Unknown model kind '{self.kind}'; choose one of {', '.join(KINDS)}.")
        if self.epochs < 1:
            raise ValueError("Train for at least one epoch.")
        if self.kind != "cnn" and self.latent_dim < 1:
            raise ValueError("The latent dimension must be at least 1.")
        if self.beta < 0:
            raise ValueError("beta must not be negative.")
        if not self.out.endswith(".keras"):
            raise ValueError(f"The output file must end in .keras (got '{self.out}').")


@dataclass
class TrainingOutcome:
    """What the dialog shows: where the model went, the curves, the held-out figures."""

    path: str | None
    cancelled: bool
    dataset: str
    n_samples: int
    history: dict[str, list[float]] = field(default_factory=dict)
    test_metrics: dict[str, float] = field(default_factory=dict)
    latent: dict = field(default_factory=dict)  # AE/VAE: AutoencoderTrainResult.report() (plain values)

    def summary(self) -> str:
        figures = ", ".join(f"{k} {v:.4g}" for k, v in self.test_metrics.items())
        return f"held-out {figures}" if figures else "no held-out samples"

    def latent_summary(self) -> str:
        """AE/VAE: centre, r99 and the share of prior samples on the data, in one line ('' for a CNN)."""
        if not self.latent.get("centre"):
            return ""
        centre = ", ".join(f"{c:+.2f}" for c in self.latent["centre"][:8])
        more = ", …" if len(self.latent["centre"]) > 8 else ""
        return (
            f"latent centre ({centre}{more}), r99 {self.latent['r99']:.2f}, "
            f"{self.latent['on_data_share'] * 100:.0f}% of prior samples on the data"
        )


def subset(ds: Dataset, n: int, seed: int = 0) -> Dataset:
    """A random subset of ``n`` samples (all of them when ``n`` is 0 or larger than the set)."""
    if n <= 0 or n >= len(ds):
        return ds
    idx = np.sort(np.random.default_rng(seed).permutation(len(ds))[:n])
    return Dataset(f"{ds.name} ({n} samples)", ds.x[idx], ds.y[idx], ds.class_names)


def run_training(request: TrainingRequest, progress=None, cancelled=None) -> TrainingOutcome:
    """Train as requested (call on the compute thread); raises ``DatasetError``/``ValueError`` with messages."""
    request.check()
    if progress is not None:
        progress(0.0, f"loading {request.dataset}", None)
    full = load_dataset(request.dataset)
    ds = subset(full, request.max_samples, request.seed)
    if len(ds) < 2:
        raise ValueError(f"{ds.name} has too few samples to train on.")
    n_train = len(ds) if len(ds) < 20 else int(round(0.9 * len(ds)))
    if request.kind == "cnn":
        from cnnviz_gui.core.training.cnn import train_cnn

        res = train_cnn(
            request.out, epochs=request.epochs, dataset=ds, n_train=n_train, seed=request.seed,
            progress=progress, cancelled=cancelled,
        )  # fmt: skip
        test = {"accuracy": float(res.test_accuracy)} if res.test_accuracy is not None else {}
    else:
        from cnnviz_gui.core.training.autoencoders import train_autoencoder

        res = train_autoencoder(
            request.out, kind=request.kind, epochs=request.epochs, latent_dim=request.latent_dim,
            beta=request.beta, dataset=ds, n_train=n_train, seed=request.seed, progress=progress,
            cancelled=cancelled,
        )  # fmt: skip
        test = dict(res.test_losses)
    return TrainingOutcome(
        str(res.path) if res.path is not None else None,
        bool(res.cancelled),
        full.name,
        len(ds),
        res.history,
        test,
        res.report() if request.kind != "cnn" else {},
    )
