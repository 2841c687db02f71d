"""Receptive fields (in input pixels) of every layer, computed from a model's configuration alone."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPATIAL_KERNEL = {"Conv2D", "DepthwiseConv2D", "SeparableConv2D"}
POOLS = {"MaxPooling2D", "AveragePooling2D", "MaxPool2D", "AveragePool2D"}
FULL = {
    "Flatten",
    "Dense",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
    "GlobalAvgPool2D",
    "GlobalMaxPool2D",
}
MODELS = {"Functional", "Sequential", "Model"}

RF = tuple[tuple[int, int], tuple[int, int]]  # ((rh, rw), (jump_h, jump_w))


def _pair(v, default=1) -> tuple[int, int]:
    if v is None:
        return (default, default)
    if isinstance(v, int):
        return (v, v)
    v = list(v)
    return (int(v[0]), int(v[-1])) if v else (default, default)


def _history_names(obj, out: list[str]) -> list[str]:
    """Layer names referenced by ``keras_history`` entries anywhere in an inbound-node structure."""
    if isinstance(obj, dict):
        hist = (
            obj.get("keras_history")
            if "keras_history" in obj
            else (obj.get("config") or {}).get("keras_history")
        )
        if isinstance(hist, list) and hist:
            out.append(str(hist[0]))
        for v in obj.values():
            if isinstance(v, dict | list | tuple):
                _history_names(v, out)
    elif isinstance(obj, list | tuple):  # tuples: a config from get_config() rather than from a file
        # Keras 2 style: [["layer", 0, 0, {}], ...]
        if len(obj) >= 3 and isinstance(obj[0], str) and isinstance(obj[1], int):
            out.append(obj[0])
        else:
            for v in obj:
                _history_names(v, out)
    return out


def _combine(parents: list[RF | str]) -> RF | str:
    if not parents:
        return ((1, 1), (1, 1))
    if any(p == "full" for p in parents):
        return "full"
    rs = [p[0] for p in parents]
    js = [p[1] for p in parents]
    return ((max(r[0] for r in rs), max(r[1] for r in rs)), (max(j[0] for j in js), max(j[1] for j in js)))


def _window(cls: str, cfg: dict) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Kernel, stride and dilation (each (h, w)) of a convolution or pooling layer's config."""
    if cls in POOLS:
        return _pair(cfg.get("pool_size"), 2), _pair(cfg.get("strides") or cfg.get("pool_size"), 2), (1, 1)
    return _pair(cfg.get("kernel_size"), 1), _pair(cfg.get("strides"), 1), _pair(cfg.get("dilation_rate"), 1)


def _apply(cls: str, cfg: dict, rf: RF | str, inner: dict | None, walk=None) -> RF | str:
    if rf == "full":
        return "full"
    (rh, rw), (jh, jw) = rf
    if cls in SPATIAL_KERNEL or cls in POOLS:
        k, s, d = _window(cls, cfg)
        return ((rh + (k[0] - 1) * d[0] * jh, rw + (k[1] - 1) * d[1] * jw), (jh * s[0], jw * s[1]))
    if cls in FULL:
        return "full"
    if cls in MODELS and inner is not None:
        sub = (walk or _walk)(inner, start=rf)
        return sub.get("__output__", rf)
    return rf


def _walk(
    config: dict,
    start: RF | str = ((1, 1), (1, 1)),
    prefix: str = "",
    out: dict | None = None,
    apply=_apply,
    combine=_combine,
) -> dict:
    """Walk a (nested) model config, applying ``apply`` layer by layer and ``combine`` where branches meet."""
    out = {} if out is None else out

    def walk(inner_config, start):
        return _walk(inner_config, start=start, apply=apply, combine=combine)

    inner = config.get("config", config) if isinstance(config, dict) else {}
    layers = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(layers, list):
        return out
    local: dict[str, RF | str] = {}
    prev: RF | str = start
    for lc in layers:
        if not isinstance(lc, dict):
            continue
        cls = str(lc.get("class_name", ""))
        cfg = lc.get("config") or {}
        name = str(lc.get("name") or cfg.get("name") or "")
        inbound = lc.get("inbound_nodes")
        if cls == "InputLayer":
            local[name] = start
            prev = start
            continue
        if inbound:
            parents = [local[n] for n in _history_names(inbound, []) if n in local]
            here_in = combine(parents) if parents else start
        else:  # Sequential: a chain
            here_in = prev
        res = apply(cls, cfg, here_in, lc if cls in MODELS else None, walk)
        local[name] = res
        prev = res
        qual = prefix + name
        if cls in MODELS:
            _walk(lc, start=here_in, prefix=qual + "/", out=out, apply=apply, combine=combine)
        out[qual] = res
    out_names = _history_names(inner.get("output_layers"), []) if inner.get("output_layers") else []
    final = local.get(out_names[0]) if out_names else prev
    if prefix == "":
        out["__output__"] = final
    else:
        out.setdefault("__output__", final)
    return out


def receptive_fields(model_config: dict | None) -> dict[str, tuple[int, int] | str]:
    """Map qualified layer name (``outer/inner``) to its receptive field ``(h, w)`` or ``"full"``."""
    if not isinstance(model_config, dict):
        return {}
    raw = _walk(model_config)
    raw.pop("__output__", None)
    return {k: (v if v == "full" else v[0]) for k, v in raw.items()}


# -- geometry: where in the input a map position looks ---------------------------------------------------------
@dataclass(frozen=True)
class FieldGeometry:
    """Where the positions of a layer's maps look in the input (pixels, rows then columns).

    ``size``: receptive field (h, w); ``jump``: input pixels between neighbouring map positions; ``start``:
    the input coordinate of the centre of map position (0, 0) (may be fractional or negative);
    ``map_size``: the map's spatial size when the input size is known, else None.
    """

    size: tuple[int, int]
    jump: tuple[float, float]
    start: tuple[float, float]
    map_size: tuple[int, int] | None = None

    def centre(self, row: int, col: int) -> tuple[float, float]:
        """Input coordinates (row, col) of the centre of map position (``row``, ``col``)."""
        return (self.start[0] + row * self.jump[0], self.start[1] + col * self.jump[1])

    def box(self, row: int, col: int) -> tuple[int, int, int, int]:
        """The receptive field of a map position as (top, left, bottom, right), bottom/right exclusive;
        it may reach outside the image."""
        cy, cx = self.centre(row, col)
        top = int(np.floor(cy - (self.size[0] - 1) / 2.0 + 0.5))
        left = int(np.floor(cx - (self.size[1] - 1) / 2.0 + 0.5))
        return top, left, top + self.size[0], left + self.size[1]


_GEO = tuple  # (size, jump, start, map_size | None)


def _padding_pairs(v) -> tuple[tuple[int, int], tuple[int, int]]:
    """ZeroPadding2D / Cropping2D amounts as ((top, bottom), (left, right))."""
    if isinstance(v, int):
        return (v, v), (v, v)
    v = list(v)
    if len(v) == 2 and all(isinstance(a, int) for a in v):
        return (v[0], v[0]), (v[1], v[1])
    (t, b), (lft, r) = v
    return (int(t), int(b)), (int(lft), int(r))


def _geo_apply(cls: str, cfg: dict, g, inner: dict | None, walk=None):
    if g == "full":
        return "full"
    (rh, rw), (jh, jw), (sh, sw), n = g
    if cls in SPATIAL_KERNEL or cls in POOLS:
        k, s, d = _window(cls, cfg)
        same = str(cfg.get("padding", "valid")).lower() == "same"
        eff = ((k[0] - 1) * d[0] + 1, (k[1] - 1) * d[1] + 1)
        before, out = [0, 0], None
        if n is not None:
            out = []
            for a in range(2):
                if same:
                    o = -(-n[a] // s[a])
                    before[a] = max((o - 1) * s[a] + eff[a] - n[a], 0) // 2
                else:
                    o = (n[a] - eff[a]) // s[a] + 1
                out.append(max(int(o), 0))
            out = tuple(out)
        elif same:
            before = [(eff[0] - 1) // 2, (eff[1] - 1) // 2]
        start = (sh + ((eff[0] - 1) / 2 - before[0]) * jh, sw + ((eff[1] - 1) / 2 - before[1]) * jw)
        return ((rh + (eff[0] - 1) * jh, rw + (eff[1] - 1) * jw), (jh * s[0], jw * s[1]), start, out)
    if cls in ("ZeroPadding2D", "Cropping2D"):
        (t, b), (lft, r) = _padding_pairs(cfg.get("padding" if cls == "ZeroPadding2D" else "cropping", 0))
        sign = -1 if cls == "ZeroPadding2D" else 1
        out = None if n is None else (n[0] - sign * (t + b), n[1] - sign * (lft + r))
        return ((rh, rw), (jh, jw), (sh + sign * t * jh, sw + sign * lft * jw), out)
    if cls == "UpSampling2D":
        f = _pair(cfg.get("size"), 2)
        start = (sh - (f[0] - 1) / (2 * f[0]) * jh, sw - (f[1] - 1) / (2 * f[1]) * jw)
        out = None if n is None else (n[0] * f[0], n[1] * f[1])
        return ((rh, rw), (jh / f[0], jw / f[1]), start, out)
    if cls in FULL:
        return "full"
    if cls in MODELS and inner is not None:
        return (walk or _walk)(inner, start=g).get("__output__", g)
    return g


def _geo_combine(parents: list):
    if not parents:
        return ((1, 1), (1, 1), (0.0, 0.0), None)
    if any(p == "full" for p in parents):
        return "full"
    widest = max(parents, key=lambda p: p[0][0] * p[0][1])
    size = (max(p[0][0] for p in parents), max(p[0][1] for p in parents))
    return (size, widest[1], widest[2], widest[3])


def _input_size(config: dict) -> tuple[int, int] | None:
    inner = config.get("config", config) if isinstance(config, dict) else {}
    for lc in inner.get("layers") or []:
        cfg = (lc or {}).get("config") or {}
        bs = cfg.get("batch_shape") or cfg.get("batch_input_shape")
        if bs and len(bs) == 4 and bs[1] is not None and bs[2] is not None:
            return int(bs[1]), int(bs[2])
    return None


def receptive_field_geometry(model_config: dict | None) -> dict[str, FieldGeometry | str]:
    """Map qualified layer name to its :class:`FieldGeometry`, or ``"full"`` (dense, flatten, global pool).

    Padding "same" is resolved as TensorFlow does (more padding after than before when odd), from the
    input size in the config; ``ZeroPadding2D``, ``Cropping2D`` and ``UpSampling2D`` move the grid.
    """
    if not isinstance(model_config, dict):
        return {}
    start = ((1, 1), (1, 1), (0.0, 0.0), _input_size(model_config))
    raw = _walk(model_config, start=start, apply=_geo_apply, combine=_geo_combine)
    raw.pop("__output__", None)
    return {
        k: v if v == "full" else FieldGeometry(tuple(v[0]), tuple(v[1]), tuple(v[2]), v[3])
        for k, v in raw.items()
    }
