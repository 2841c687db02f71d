"""Plain-data messages between the GUI and the compute process: a JSON header plus raw array buffers.

Only plain values cross the process boundary: ``None``, bool, int, float, str, lists, tuples, dicts, NumPy
arrays of numbers, booleans or fixed-size strings, and dataclasses registered with :func:`wire_type` (all of
them in :mod:`~cnnviz_gui.core.runtime.wire_types`, the one list of what may cross). A
registered dataclass travels as its name and fields and is rebuilt from them on the other side; nothing is
ever unpickled, so a message cannot make the receiver run code. Exceptions travel as
:class:`RemoteError` descriptions; classes registered with :func:`wire_error` are rebuilt with their fields
(e.g. a refused model's ``needs_consent``).

Arrays go as separate buffers after the header, so a receiver reads them straight into their final memory.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from typing import Any

import numpy as np

PREFIX = "cnnviz_gui."
_TYPES: dict[str, type] = {}
_ERRORS: dict[str, type] = {}


class WireError(TypeError):
    """A value that cannot travel between the processes, or a message that cannot be read."""


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def wire_type(cls: type) -> type:
    """Register a dataclass whose instances may cross the process boundary (its fields must be plain)."""
    if not dataclasses.is_dataclass(cls):
        raise WireError(f"{cls.__name__} is not a dataclass")
    _TYPES[_qualname(cls)] = cls
    return cls


def wire_error(cls: type, *fields: str) -> type:
    """Register an exception class rebuilt on the other side with ``message`` and ``fields``."""
    cls.wire_fields = tuple(fields)
    _ERRORS[_qualname(cls)] = cls
    return cls


class RemoteError(Exception):
    """An exception raised in the other process: its type's name and message (and registered fields)."""

    def __init__(self, message: str, type_name: str = "Exception"):
        super().__init__(message)
        self.message = message
        self.type_name = type_name


def error_to_plain(exc: BaseException) -> dict:
    """An exception as plain data: type, message (a person's message when it has one) and its fields."""
    message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    fields = {name: getattr(exc, name, None) for name in getattr(type(exc), "wire_fields", ())}
    return {"type": _qualname(type(exc)), "message": str(message), "fields": fields}


def error_from_plain(data: dict) -> Exception:
    """Rebuild a registered exception class with its fields, anything else as :class:`RemoteError`."""
    name, message = str(data.get("type", "Exception")), str(data.get("message", ""))
    cls = _lookup(name, _ERRORS)
    if cls is None:
        return RemoteError(message, name.rsplit(".", 1)[-1])
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    exc.message = message
    for field, value in (data.get("fields") or {}).items():
        if field in cls.wire_fields:
            setattr(exc, field, value)
    return exc


def _lookup(name: str, registry: dict[str, type]) -> type | None:
    """A registered class by qualified name (the registry is :mod:`~cnnviz_gui.core.runtime.wire_types`)."""
    if name not in registry and name.startswith(PREFIX):
        importlib.import_module("cnnviz_gui.core.runtime.wire_types")
    return registry.get(name)


# -- encoding ------------------------------------------------------------------------------------------------
def encode(obj: Any) -> tuple[bytes, list[np.ndarray]]:
    """``obj`` as a JSON header and a list of byte buffers (uint8 arrays), raising WireError for other data."""
    buffers: list[np.ndarray] = []
    plain = _to_plain(obj, buffers)
    try:
        header = json.dumps(plain, separators=(",", ":"), allow_nan=True).encode()
    except (TypeError, ValueError) as err:
        raise WireError(str(err)) from err
    return header, buffers


def _to_plain(obj: Any, buffers: list) -> Any:
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biufcUS":
            raise WireError(f"arrays of {obj.dtype} cannot be sent (only numbers, booleans and strings)")
        data = np.ascontiguousarray(obj)
        buffers.append(data.reshape(-1).view(np.uint8) if data.size else np.zeros(0, np.uint8))
        return {"__nd__": len(buffers) - 1, "dtype": data.dtype.str, "shape": list(data.shape)}
    if isinstance(obj, np.generic):
        return _to_plain(obj.item(), buffers)
    if isinstance(obj, list):
        return [_to_plain(v, buffers) for v in obj]
    if isinstance(obj, tuple):
        return {"__tuple__": [_to_plain(v, buffers) for v in obj]}
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _to_plain(v, buffers) for k, v in obj.items()}
        return {"__dict__": [[_to_plain(k, buffers), _to_plain(v, buffers)] for k, v in obj.items()]}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        name = _qualname(type(obj))
        if _lookup(name, _TYPES) is not type(obj):
            raise WireError(f"{type(obj).__name__} is not registered with wire_type and cannot be sent")
        fields = {f.name: _to_plain(getattr(obj, f.name), buffers) for f in dataclasses.fields(obj)}
        return {"__dc__": name, "f": fields}
    if isinstance(obj, bytes | bytearray):
        buffers.append(np.frombuffer(bytes(obj), np.uint8))
        return {"__bytes__": len(buffers) - 1}
    if hasattr(obj, "__fspath__"):
        return str(obj)
    raise WireError(f"a {type(obj).__name__} cannot be sent between the processes")


# -- decoding ------------------------------------------------------------------------------------------------
def decode(header: bytes, buffers: list[np.ndarray]) -> Any:
    """Rebuild what :func:`encode` wrote; ``buffers`` are uint8 arrays (writable, they become the arrays)."""
    try:
        plain = json.loads(header)
    except (ValueError, UnicodeDecodeError) as err:
        raise WireError(f"unreadable message: {err}") from err
    return _from_plain(plain, buffers)


def _from_plain(obj: Any, buffers: list) -> Any:
    if isinstance(obj, list):
        return [_from_plain(v, buffers) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__nd__" in obj:
        raw = buffers[obj["__nd__"]]
        dtype = np.dtype(obj["dtype"])
        if dtype.kind not in "biufcUS":
            raise WireError(f"refused an array of {dtype}")
        shape = tuple(int(s) for s in obj["shape"])
        if raw.size == 0:
            return np.zeros(shape, dtype)
        return raw.view(dtype).reshape(shape)
    if "__tuple__" in obj:
        return tuple(_from_plain(v, buffers) for v in obj["__tuple__"])
    if "__dict__" in obj:
        return {_hashable(_from_plain(k, buffers)): _from_plain(v, buffers) for k, v in obj["__dict__"]}
    if "__dc__" in obj:
        return _dataclass(obj["__dc__"], {k: _from_plain(v, buffers) for k, v in obj["f"].items()})
    if "__bytes__" in obj:
        return bytes(buffers[obj["__bytes__"]])
    return {k: _from_plain(v, buffers) for k, v in obj.items()}


def _hashable(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def _dataclass(name: str, values: dict) -> Any:
    cls = _lookup(name, _TYPES)
    if cls is None:
        raise WireError(f"refused {name}: not a registered type")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    init = {k: v for k, v in values.items() if k in fields and fields[k].init}
    obj = cls(**init)
    for k, v in values.items():
        if k in fields and not fields[k].init:
            object.__setattr__(obj, k, v)
    return obj


def roundtrip(obj: Any) -> Any:
    """``decode(encode(obj))`` with copied buffers: what the other process would receive (tests, in-process)."""
    header, buffers = encode(obj)
    return decode(header, [np.array(b, copy=True) for b in buffers])
