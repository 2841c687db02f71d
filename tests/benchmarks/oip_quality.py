"""OIP quality on the default CNN's Conv2D_3: how many maps react, are data-active, converge, keep their
activation under a 4-pixel shift, and beat the best of the 10,000 bundled digits.

Run: ``python tests/benchmarks/oip_quality.py [--steps 600] [--presets "Seed (articles)" Precursor]
[--step-decay]`` (also run by ``make bench`` through ``bench_oip_quality``). Prints one block per preset;
``Seed (articles)+decay`` is the Seed preset with its step-decay option on; ``--threshold 1e-4`` checks the
stricter convergence criterion on the same runs.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def measure(
    preset_name: str,
    steps: int | None = 600,
    layer: str = "Conv2D_3",
    maps=range(128),
    seed: int = 0,
    **overrides,
):
    from cnnviz_gui.core.models.loading import open_model
    from cnnviz_gui.core.oip import engine as oip
    from cnnviz_gui.core.resources import default_model_path

    loaded = open_model(default_model_path())
    if preset_name.endswith("+decay"):
        preset_name, overrides = preset_name[: -len("+decay")], {**overrides, "step_decay": True}
    if steps is not None:
        overrides["steps"] = steps
    settings = oip.preset(preset_name, seed=seed, **overrides)
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
    kept = res.shift_kept[reacts]
    ratio = res.vs_best_exemplar[reacts]
    figures["shift_kept_median"] = float(np.nanmedian(kept)) if len(kept) else float("nan")
    figures["beats_best_digit"] = int(np.sum(~(ratio < 1)))
    print(f"   4-px shift kept (reacting): median {figures['shift_kept_median']:.3f}", file=out)
    print(
        f"   OIP mean activation >= the best digit's: {figures['beats_best_digit']}/{figures['reacting']} "
        f"reacting maps; median ratio {np.nanmedian(ratio) if len(ratio) else float('nan'):.2f}",
        file=out,
    )
    dead = [int(m) for m in res.maps[~reacts]]
    print(f"   not reacting: {dead[:40]}{' ...' if len(dead) > 40 else ''}", file=out)
    return figures


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=600, help="steps of the pixel presets (Lucid keeps its 512)")
    p.add_argument("--presets", nargs="*", default=["Seed (articles)", "Precursor"])
    p.add_argument(
        "--threshold", type=float, default=None, help="convergence threshold (default: the preset's)"
    )
    args = p.parse_args(argv)
    extra = {} if args.threshold is None else {"conv_threshold": args.threshold}
    for name in args.presets:
        res, seconds = measure(name, None if name.startswith("Lucid") else args.steps, **extra)
        report(name, res, seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
