"""Read what a model file contains without building it (no Keras, no code from the file runs)."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

MAX_JSON_BYTES = 64 * 1024 * 1024
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


@dataclass
class ArchiveSummary:
    """Layer names and types of a model file, read from its configuration alone."""

    layers: list[tuple[str, str]] = field(default_factory=list)
    keras_version: str | None = None
    model_class: str | None = None

    def format_text(self, limit: int = 40) -> str:
        rows = [f"{name}  ({cls})" for name, cls in self.layers[:limit]]
        if len(self.layers) > limit:
            rows.append(f"... and {len(self.layers) - limit} more layers")
        return "\n".join(rows)


def read_keras_json(path: str | Path, member: str) -> dict | None:
    """One JSON member of a ``.keras`` zip, or None when it is missing, too large or not JSON."""
    try:
        with zipfile.ZipFile(path) as zf:
            try:
                info = zf.getinfo(member)
            except KeyError:
                return None
            if info.file_size > MAX_JSON_BYTES:
                return None
            return json.loads(zf.read(info).decode("utf-8"))
    except (zipfile.BadZipFile, OSError, ValueError, UnicodeDecodeError):
        return None


def iter_layer_configs(config: dict, prefix: str = ""):
    """Yield ``(qualified_name, class_name, layer_config)`` for every layer, nested models included."""
    if not isinstance(config, dict):
        return
    inner = config.get("config", config)
    layers = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(layers, list):
        return
    for lc in layers:
        if not isinstance(lc, dict):
            continue
        cls = str(lc.get("class_name", "?"))
        name = str(lc.get("name") or (lc.get("config") or {}).get("name") or "?")
        qual = f"{prefix}{name}"
        yield qual, cls, lc
        yield from iter_layer_configs(lc, prefix=qual + "/")


def summarize_config(config: dict | None) -> ArchiveSummary:
    summary = ArchiveSummary()
    if not isinstance(config, dict):
        return summary
    summary.model_class = str(config.get("class_name", "")) or None
    summary.layers = [(name, cls) for name, cls, _ in iter_layer_configs(config)]
    return summary


def summarize_keras_file(path: str | Path) -> ArchiveSummary:
    """Summary of a ``.keras`` file from its ``config.json`` and ``metadata.json``."""
    summary = summarize_config(read_keras_json(path, "config.json"))
    meta = read_keras_json(path, "metadata.json") or {}
    summary.keras_version = meta.get("keras_version")
    return summary


def h5_model_config(path: str | Path) -> dict | None:
    """The ``model_config`` attribute of a legacy ``.h5`` model, or None (weights-only or unreadable)."""
    import h5py

    with h5py.File(path, "r") as f:
        raw = f.attrs.get("model_config")
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8")
    try:
        return json.loads(raw)
    except ValueError:
        return None


def h5_keras_version(path: str | Path) -> str | None:
    import h5py

    with h5py.File(path, "r") as f:
        v = f.attrs.get("keras_version")
    return v.decode() if isinstance(v, bytes) else (str(v) if v is not None else None)


def find_layers_of_class(config: dict | None, class_names: set[str]) -> list[str]:
    """Qualified names of layers whose class is one of ``class_names``."""
    return [q for q, cls, _ in iter_layer_configs(config or {}) if cls in class_names]


def unknown_classes(config: dict | None) -> list[tuple[str, str]]:
    """Layers whose class is neither a Keras built-in nor a known container: ``(name, class)``."""
    out = []
    for q, cls, lc in iter_layer_configs(config or {}):
        module = str(lc.get("module") or "")
        registered = lc.get("registered_name")
        if module.startswith("keras") and (registered is None or registered == cls):
            continue
        if not module and registered is None:
            continue
        out.append((q, str(registered or cls)))
    return out
