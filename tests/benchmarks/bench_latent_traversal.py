"""Latent traversal and live slider decode (``make bench``), and how the bundled VAE sits on its prior.

- Slider decode: :func:`cnnviz_gui.core.latent.traversal.decode_point`, one latent point per call as a
  slider moves (issue 17: up to 32 dimensions, p95 <= 16 ms to screen; this is the compute part), for the
  bundled 2-D VAE and a 32-D VAE of the same architecture (untrained weights: the speed is the same).
- A whole traversal of the 32-D VAE: 32 dimensions x 9 steps decoded in one call, rows sorted.
- The bundled VAE and AE against the prior N(0, I) over the 10,000 bundled digits: centre, r99 and the
  share of 2,000 prior samples on the data (targets for the VAE from issue 17).

Run alone: ``python tests/benchmarks/bench_latent_traversal.py``.
"""

from __future__ import annotations

import os
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _latencies_ms(fn, points: np.ndarray, warm: int = 20) -> np.ndarray:
    times = []
    for z in points:
        t0 = time.perf_counter()
        fn(z)
        times.append(time.perf_counter() - t0)
    return np.asarray(times[warm:]) * 1000


def measure() -> dict[str, tuple[float, str, str]]:
    from cnnviz_gui.core.datasets import load_bundled_mnist
    from cnnviz_gui.core.latent import space as latent
    from cnnviz_gui.core.latent.prior_fit import prior_fit
    from cnnviz_gui.core.latent.traversal import decode_point, latent_space, latent_traversal
    from cnnviz_gui.core.models.loading import open_model
    from cnnviz_gui.core.training.autoencoders import build_autoencoder

    rows: dict[str, tuple[float, str, str]] = {}
    rng = np.random.default_rng(0)
    vae2 = open_model(latent.bundled_autoencoder_path("vae"))
    wide = latent.LatentSpace(latent.recognise(build_autoencoder("vae", latent_dim=32, name="vae32")))
    for name, target, dims in (("bundled 2-D VAE", vae2, 2), ("32-D VAE", wide, 32)):
        lat = _latencies_ms(
            lambda z, target=target: decode_point(target, z), rng.standard_normal((320, dims))
        )
        rows[f"traversal: slider decode, {name}, p50"] = (float(np.percentile(lat, 50)), "ms", "")
        rows[f"traversal: slider decode, {name}, p95"] = (float(np.percentile(lat, 95)), "ms", "< 16")
    z_wide = rng.standard_normal((2000, 32)).astype(np.float32)
    latent_traversal(wide, z_wide)  # traced once
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        latent_traversal(wide, z_wide, steps=9, range_sd=3.0)
        times.append(time.perf_counter() - t0)
    rows["traversal: 32 dimensions x 9 steps, decode + sort, median"] = (
        float(np.median(times)) * 1000,
        "ms",
        "",
    )

    x = load_bundled_mnist().x
    for kind, loaded in (("VAE", vae2), ("AE", open_model(latent.bundled_autoencoder_path("ae")))):
        encoded = latent_space(loaded).encode(x)
        fit = prior_fit(encoded.z, encoded.z_log_var)
        target_centre, target_r99, target_share = (
            ("<= 0.25", "<= 4.5", ">= 0.75") if kind == "VAE" else ("",) * 3
        )
        rows[f"prior fit: bundled {kind}, max |centre| over axes"] = (
            float(np.max(np.abs(fit.centre))), "", target_centre
        )  # fmt: skip
        rows[f"prior fit: bundled {kind}, r99"] = (fit.r99, "", target_r99)
        rows[f"prior fit: bundled {kind}, share of prior samples on the data"] = (
            fit.on_data_share, "", target_share
        )  # fmt: skip
    return rows


if __name__ == "__main__":
    for name, (value, unit, target) in measure().items():
        print(f"{name:70s} {value:10.3f} {unit:3s} {target}")
