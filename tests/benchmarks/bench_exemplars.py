"""Dataset exemplars and the big mosaic figures (``make bench``; ``python tests/benchmarks/bench_exemplars.py``).

- The exemplar pass over the 10,000 bundled digits (one batched compiled read-out per 128 images, reduced to
  peak / position / mean / centre per map inside the graph), for the default CNN's ``Conv2D_3`` and
  ``Conv2D_1`` (the largest maps), traced before timing; then the same request answered from the cache.
- Figures as one mosaic image with labels: the exemplar figure of all 128 maps of ``Conv2D_3`` (5 patches each)
  and the OIP atlas of 128 maps with 3 exemplar patches beside each OIP, built and written as PNG (200 dpi)
  and SVG.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path


def _fresh():
    from cnnviz_gui.core.models.loading import open_model
    from cnnviz_gui.core.resources import default_model_path

    return open_model(default_model_path())


def measure() -> dict[str, tuple[float, str, str]]:
    from cnnviz_gui.core.activations.exemplar_figure import exemplar_figure
    from cnnviz_gui.core.activations.exemplars import find_exemplars
    from cnnviz_gui.core.datasets import Dataset, load_bundled_mnist
    from cnnviz_gui.core.figures import save
    from cnnviz_gui.core.oip import engine as oip
    from cnnviz_gui.core.oip.figures import atlas_figure

    rows: dict[str, tuple[float, str, str]] = {}
    ds = load_bundled_mnist()
    few = Dataset("warm-up", ds.x[:128], ds.y[:128], ds.class_names)
    for layer in ("Conv2D_3", "Conv2D_1"):
        loaded = _fresh()
        find_exemplars(loaded, layer, dataset=few, top=5)  # trace the read-out
        t0 = time.perf_counter()
        res = find_exemplars(loaded, layer, top=5)
        seconds = time.perf_counter() - t0
        rows[f"exemplars: {layer}, all maps, top 5 over the 10,000 bundled digits"] = (seconds, "s", "< 5")
        rows[f"exemplars: {layer}, images per second"] = (len(ds.x) / seconds, "img/s", "")
        find_exemplars(loaded, layer, maps=range(20), top=2)  # the first one also reads the model's geometry
        t0 = time.perf_counter()
        find_exemplars(loaded, layer, maps=range(10), top=3)
        rows[f"exemplars: {layer}, another request from the cache"] = (
            (time.perf_counter() - t0) * 1000,
            "ms",
            "< 100",
        )
        if layer == "Conv2D_3":
            conv3, exemplars = loaded, res
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        fig = exemplar_figure(exemplars)
        save(fig, Path(tmp) / "ex.png")
        rows["figure: exemplars of 128 maps x 5 patches, one mosaic, PNG"] = (
            time.perf_counter() - t0,
            "s",
            "< 5",
        )
        result = oip.run_oip(
            conv3, oip.OipRequest("Conv2D_3", list(range(128)), oip.preset("Lucid", steps=8))
        )
        for suffix in ("png", "svg"):
            t0 = time.perf_counter()
            save(atlas_figure(result, exemplars=exemplars, top=3), Path(tmp) / f"atlas.{suffix}")
            rows[f"figure: OIP atlas of 128 maps + 3 exemplar patches each, {suffix.upper()}"] = (
                time.perf_counter() - t0,
                "s",
                "< 5",
            )
    return rows


if __name__ == "__main__":
    for name, (value, unit, target) in measure().items():
        print(f"{name:90s} {value:10.3f} {unit:6s} {target}")
