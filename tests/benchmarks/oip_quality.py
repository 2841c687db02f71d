"""OIP quality on the default CNN's Conv2D_3: how many maps react, are data-active, converge.

Run: ``python tests/benchmarks/oip_quality.py [--steps 600] [--presets "Seed (articles)" Precursor]``
(also run by ``make bench`` through ``bench_oip_quality``). Prints one block per preset.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def measure(preset_name: str, steps: int = 600, layer: str = "Conv2D_3", maps=range(128), seed: int = 0):
    from cnnviz_gui.core.models.loading import open_model
    from cnnviz_gui.core.oip import engine as oip
    from cnnviz_gui.core.resources import default_model_path

    loaded = open_model(default_model_path())
    settings = oip.preset(preset_name, steps=steps, seed=seed)
    t0 = time.perf_counter()
    res = oip.run_oip(loaded, oip.OipRequest(layer, list(maps), settings, with_data_active=True))
    seconds = time.perf_counter() - t0
    return res, seconds


def report(preset_name: str, res, seconds: float, out=sys.stdout) -> dict:
    n = len(res.maps)
    reacts = res.reacts
    active = res.data_active
    rel = res.rel_change[reacts]
    figures = {
        "reacting": int(reacts.sum()),
        "data_active": int(active.sum()),
        "reacting_not_data_active": int((reacts & ~active).sum()),
        "converged": int((res.converged & reacts).sum()),
        "met_by_end": int((reacts & (res.converged_step >= 0)).sum()),
        "rel_below_1e-4": int((rel < 1e-4).sum()),
        "rel_below_5e-4": int((rel < 5e-4).sum()),
    }
    print(
        f"\n== OIP quality: preset '{preset_name}', {res.layer}, {n} maps x {res.curves.shape[1]} steps",
        file=out,
    )
    print(f"   run time (incl. data-active pass) {seconds:.1f} s on {res.device}", file=out)
    print(f"   reacting maps (final loss > 0):            {figures['reacting']}/{n}", file=out)
    print(f"   data-active maps (bundled 10k sample):     {figures['data_active']}/{n}", file=out)
    print(f"   reacting but never active on the data:     {figures['reacting_not_data_active']}", file=out)
    print(f"   data-active but not reacting:              {int((active & ~reacts).sum())}", file=out)
    thr, k = res.settings.conv_threshold, res.settings.conv_successive
    print(
        f"   converged (|rel. change| < {thr:g} in {k} successive steps at the end): "
        f"{figures['converged']}/{figures['reacting']} reacting",
        file=out,
    )
    print(
        f"   criterion met at some step by the end (an early stop would end there): "
        f"{figures['met_by_end']}/{figures['reacting']} reacting",
        file=out,
    )
    print(
        f"   last-step |rel. change| < 1e-4: {figures['rel_below_1e-4']}, < 5e-4: {figures['rel_below_5e-4']} "
        f"(of {figures['reacting']}); median {np.median(rel) if len(rel) else float('nan'):.2e}",
        file=out,
    )
    if len(rel):
        cs = res.converged_step[reacts & (res.converged_step >= 0)]
        if len(cs):
            print(f"   first convergence step: median {int(np.median(cs))}, max {int(cs.max())}", file=out)
    dead = [int(m) for m in res.maps[~reacts]]
    print(f"   not reacting: {dead[:40]}{' ...' if len(dead) > 40 else ''}", file=out)
    return figures


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--presets", nargs="*", default=["Seed (articles)", "Precursor"])
    args = p.parse_args(argv)
    for name in args.presets:
        res, seconds = measure(name, args.steps)
        report(name, res, seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
