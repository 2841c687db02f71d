"""Does generation show a plain AE's fragmented latent space against a VAE's? Measured on the bundled models.

Run: ``python tests/benchmarks/latent_generation_contrast.py [--n 2000]``. For the bundled AE and VAE and
each sampling scheme it prints: mean confidence of the default CNN on the decoded samples, the share with
confidence >= 0.9, the share "off the data" (nearest encoded digit farther than 1x / 3x the data's median
nearest-neighbour spacing), the mean confidence of the samples 3x off the data, and the share of decoded
images "unlike any digit" (pixel distance to the nearest of the 10,000 real digits above 1.5x the median such
distance of the model's own reconstructions). Not a test: no assertions.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def scaled_prior(n: int, z_data: np.ndarray, seed: int) -> np.ndarray:
    """N(0, s^2 I) with s such that its r99 equals the data's r99 (around the origin, like the prior)."""
    rng = np.random.default_rng(seed)
    r99_data = np.percentile(np.linalg.norm(z_data, axis=1), 99)
    r99_unit = np.percentile(np.linalg.norm(rng.standard_normal((100_000, z_data.shape[1])), axis=1), 99)
    return (rng.standard_normal((n, z_data.shape[1])) * (r99_data / r99_unit)).astype(np.float32)


def uniform_box(n: int, z_data: np.ndarray, seed: int) -> np.ndarray:
    """Uniform over the data's 1st..99th percentile box: covers the gaps between the class clusters."""
    rng = np.random.default_rng(seed)
    lo, hi = np.percentile(z_data, [1, 99], axis=0)
    return rng.uniform(lo, hi, (n, z_data.shape[1])).astype(np.float32)


def _sampler(method: str):
    from cnnviz_gui.core.latent.generation import sample_latent

    return lambda n, z_data, seed: sample_latent(method, n, z_data, seed)


SCHEMES = {
    "prior N(0, I)": _sampler("prior"),
    "prior scaled to the data's r99": scaled_prior,
    "Gaussian fitted to the data": _sampler("fitted"),
    "uniform over the 1..99% box": uniform_box,
    "data neighbourhoods": _sampler("neighbourhood"),
}


def measure(n: int = 2000, seed: int = 0) -> list[dict]:
    from cnnviz_gui.core.latent import space as latent
    from cnnviz_gui.core.latent.generation import data_gaps, default_classifier, nearest_distances
    from cnnviz_gui.core.models.loading import open_model

    clf = default_classifier()
    data = latent.load_named_dataset("mnist-sample")
    pixels = data.x.reshape(len(data.x), -1)
    rows = []
    for kind in ("ae", "vae"):
        space = latent.LatentSpace(latent.recognise(open_model(latent.bundled_autoencoder_path(kind)).model))
        z_data = space.encode(data.x).z
        rec = space.decode(z_data[:2000]).reshape(2000, -1)
        typical = float(np.median(nearest_distances(rec, pixels)))  # a reconstruction's distance to a digit
        for name, draw in SCHEMES.items():
            z = draw(n, z_data, seed)
            images = space.decode(z)
            conf = clf.probabilities(images).max(1)
            gap = data_gaps(z, z_data, seed)
            unlike = nearest_distances(images.reshape(n, -1), pixels) / typical
            far = gap > 3
            rows.append({
                "model": kind.upper(), "sampling": name, "mean confidence": float(conf.mean()),
                "confidence >= 0.9": float((conf >= 0.9).mean()), "off data (1x)": float((gap > 1).mean()),
                "off data (3x)": float(far.mean()),
                "mean confidence off data (3x)": float(conf[far].mean()) if far.any() else float("nan"),
                "unlike any digit": float((unlike > 1.5).mean()),
            })  # fmt: skip
    return rows


def report(rows: list[dict], out=sys.stdout) -> None:
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |", file=out)
    print("| " + " | ".join("---" for _ in keys) + " |", file=out)
    for r in rows:
        cells = [r[k] if isinstance(r[k], str) else ("–" if np.isnan(r[k]) else f"{r[k]:.2f}") for k in keys]
        print("| " + " | ".join(cells) + " |", file=out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="samples per scheme")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    report(measure(args.n, args.seed))
