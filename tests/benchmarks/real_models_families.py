"""What works on each keras.applications family at its real input size (weights=None): the table of
``docs/real-models.md``. Not part of ``make bench`` (it takes several minutes); run

    python tests/benchmarks/real_models_families.py [VGG16 ResNet50 ...] > table.md

Each model is built and saved as ``.keras`` in a temporary folder by one process, and examined by a fresh
one (as a person's first session with the file): ``open_model`` time and the guessed convention; the first
view (one layer + the output, as the app's first maps); the top-5 predictions of a drawn photo with ImageNet
names; compiling every layer (``warm_probe``) and reading out every layer; the activations figure of the
layer with the most maps (PNG, SVG, PDF: time and size); a short OIP run (3 steps, 2 maps) in the guessed
convention (when the OIP search refuses that convention, again in "standardised", to show whether the
engine itself runs on the architecture). Every step that fails is reported with its message, not hidden.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FAMILIES = {
    "VGG16": (224, 224, 3),
    "ResNet50": (224, 224, 3),
    "MobileNetV2": (224, 224, 3),
    "EfficientNetB0": (224, 224, 3),
    "InceptionV3": (299, 299, 3),
    "DenseNet121": (224, 224, 3),
    "ConvNeXtTiny": (224, 224, 3),
}

BUILD = """
import keras
getattr(keras.applications, {name!r})(weights=None, input_shape={shape!r}).save({path!r})
print("RESULT {{}}")
"""

EXAMINE = """
import json, os, time, traceback
import numpy as np
import tensorflow as tf
r = {{}}
def step(name, fn):
    try:
        return fn()
    except Exception as err:
        r.setdefault("failures", []).append(f"{{name}}: {{type(err).__name__}}: {{str(err).splitlines()[0][:300]}}")
        return None
from cnnviz_gui.core.activations.probe import forward, get_probe, warm_probe
from cnnviz_gui.core.activations.predictions import predict
from cnnviz_gui.core.models.loading import open_model
from cnnviz_gui.core.photos import photo_to_input
t = time.perf_counter()
loaded = open_model({path!r})
r["open"] = time.perf_counter() - t
info = loaded.info
r["convention"] = info.input_convention
r["layers_in_tree"] = sum(1 for _ in info.iter_layers())
r["blocks"] = len({{l.block for l in info.iter_layers() if l.block}})
image = photo_to_input({photo!r}, info.input_shape)
conv = info.input_convention["convention"]
probe = get_probe(loaded)
r["probe_layers"] = len(probe.names)
r["unavailable"] = dict(probe.unavailable)
cands = [l for l in info.iter_layers() if l.n_maps and l.output_shape[0] and l.output_shape[0] >= 7]
big = max(cands, key=lambda l: (l.n_maps, -len(l.path), l.output_shape[0])) if cands else None
r["figure_layer"] = None if big is None else [big.name, list(big.output_shape)]
def first():
    t = time.perf_counter()
    a = forward(loaded, image, conv, layers=[big.name])
    r["first_view"] = time.perf_counter() - t
    return a
acts = step("first view", first) if big is not None else None
def preds():
    t = time.perf_counter()
    p = predict(loaded, image, conv, top=5)
    r["predict"] = time.perf_counter() - t
    r["top1"] = p.top[0].to_dict()
    r["names_from"] = p.names_from
step("predict", preds)
def every():
    t = time.perf_counter()
    warm_probe(loaded)
    r["warm"] = time.perf_counter() - t
    t = time.perf_counter()
    a = forward(loaded, image, conv)
    r["all_layers_forward"] = time.perf_counter() - t
    r["layers_read"] = len(a.layers)
    r["layers_finite"] = int(sum(bool(np.isfinite(v).all()) for v in a.layers.values()))
step("every layer", every)
def figures():
    from cnnviz_gui.core.activations.figures import maps_figure
    from cnnviz_gui.core.figures import save
    for ext in ("png", "svg", "pdf"):
        t = time.perf_counter()
        fig = maps_figure(acts.layers[big.name], big.name, title=f"{{info.name}} / {{big.name}}", input_image=image,
                          probabilities=acts.probabilities)
        path = save(fig, os.path.join({folder!r}, info.name + "." + ext))
        r["figure_" + ext] = time.perf_counter() - t
        r["size_" + ext] = os.path.getsize(path)
if acts is not None:
    step("figure", figures)
def oip_run():
    from cnnviz_gui.core.oip import engine as oip
    target = oip.OipTarget(loaded, big.name, conv)
    settings = oip.preset("Seed (articles)", steps=3, seed=0)
    t = time.perf_counter()
    res = oip.run_oip(loaded, oip.OipRequest(target.key, [0, 1], settings, convention=conv))
    r["oip"] = time.perf_counter() - t
    r["oip_shape"] = list(res.images.shape)
if big is not None:
    step("oip (guessed convention)", oip_run)
    if "oip" not in r and conv != "standardised":  # the engine on this architecture, in its own convention
        conv = "standardised"
        step("oip (standardised)", oip_run)
        r["oip_convention"] = "standardised"
print("RESULT " + json.dumps(r))
"""


def _run(code: str, timeout: float = 1800) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env
    )
    for line in res.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    return {
        "failures": [
            f"process failed: {res.stderr.strip().splitlines()[-1] if res.stderr.strip() else res.returncode}"
        ]
    }


def examine(name: str, shape: tuple, folder: str, photo: str) -> dict:
    path = str(Path(folder) / f"{name}.keras")
    built = _run(BUILD.format(name=name, shape=shape, path=path))
    if built.get("failures"):
        return built
    result = _run(EXAMINE.format(path=path, photo=photo, folder=folder))
    result["file_mb"] = Path(path).stat().st_size / 2**20
    Path(path).unlink()
    return result


def _s(value, digits=1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown(rows: dict[str, dict]) -> str:
    head = (
        "| model (input) | file | open | convention guessed | layers read out | first view | top-1 (names) | "
        "every layer: compile / forward | figure layer | figure PNG / SVG / PDF | OIP (3 steps, 2 maps) |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
    )
    out = []
    for name, r in rows.items():
        shape = FAMILIES[name]
        conv = (r.get("convention") or {}).get("convention", "–")
        top = r.get("top1")
        top_text = f"{top['name']} {top['probability'] * 100:.2f}% ({r.get('names_from')})" if top else "–"
        layer = r.get("figure_layer")
        fig = "–"
        if "figure_png" in r:
            fig = " / ".join(
                f"{r['figure_' + e]:.1f} s {r['size_' + e] / 2**20:.1f} MB" for e in ("png", "svg", "pdf")
            )
        oip = f"{r['oip']:.1f} s" if "oip" in r else "fails (see below)"
        if "oip" in r and r.get("oip_convention"):
            oip += f" ({r['oip_convention']} only, see below)"
        read = f"{r.get('layers_read', '–')} of {r.get('probe_layers', '–')} ({r.get('layers_finite', '–')} finite)"
        out.append(
            f"| {name} ({shape[0]}x{shape[1]}) | {_s(r.get('file_mb'), 0)} MB | {_s(r.get('open'))} s | {conv} | "
            f"{read} | {_s(r.get('first_view'))} s | {top_text} | {_s(r.get('warm'))} s / {_s(r.get('all_layers_forward'))} s | "
            f"{layer[0] + ' ' + 'x'.join(map(str, layer[1])) if layer else '–'} | {fig} | {oip} |"
        )
    notes = []
    for name, r in rows.items():
        for f in r.get("failures", []):
            notes.append(f"- {name}: {f}")
        if r.get("unavailable"):
            notes.append(f"- {name}: not readable: {r['unavailable']}")
        if r.get("convention"):
            notes.append(f"- {name}: convention reason: {r['convention']['reason']}")
    return head + "\n".join(out) + "\n\n" + "\n".join(notes) + "\n"


def main(names: list[str]) -> None:
    sys.path.insert(0, str(HERE.parent))
    from drawn_photo import draw_photo

    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        photo = str(Path(folder) / "photo.jpg")
        draw_photo().save(photo, quality=90)
        for name in names:
            rows[name] = examine(name, FAMILIES[name], folder, photo)
            print(f"{name}: {json.dumps(rows[name])}", file=sys.stderr, flush=True)
    print(markdown(rows))


if __name__ == "__main__":
    main(sys.argv[1:] or list(FAMILIES))
