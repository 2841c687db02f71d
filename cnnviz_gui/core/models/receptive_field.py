"""Receptive fields (in input pixels) of every layer, computed from a model's configuration alone."""

from __future__ import annotations

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
            if isinstance(v, dict | list):
                _history_names(v, out)
    elif isinstance(obj, list):
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


def _apply(cls: str, cfg: dict, rf: RF | str, inner: dict | None) -> RF | str:
    if rf == "full":
        return "full"
    (rh, rw), (jh, jw) = rf
    if cls in SPATIAL_KERNEL or cls in POOLS:
        if cls in POOLS:
            k = _pair(cfg.get("pool_size"), 2)
            s = _pair(cfg.get("strides") or cfg.get("pool_size"), 2)
            d = (1, 1)
        else:
            k = _pair(cfg.get("kernel_size"), 1)
            s = _pair(cfg.get("strides"), 1)
            d = _pair(cfg.get("dilation_rate"), 1)
        return ((rh + (k[0] - 1) * d[0] * jh, rw + (k[1] - 1) * d[1] * jw), (jh * s[0], jw * s[1]))
    if cls in FULL:
        return "full"
    if cls in MODELS and inner is not None:
        sub = _walk(inner, start=rf)
        return sub.get("__output__", rf)
    return rf


def _walk(
    config: dict, start: RF | str = ((1, 1), (1, 1)), prefix: str = "", out: dict | None = None
) -> dict:
    out = {} if out is None else out
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
            here_in = _combine(parents) if parents else start
        else:  # Sequential: a chain
            here_in = prev
        res = _apply(cls, cfg, here_in, lc if cls in MODELS else None)
        local[name] = res
        prev = res
        qual = prefix + name
        if cls in MODELS:
            _walk(lc, start=here_in, prefix=qual + "/", out=out)
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
