"""Session files (``.cnnviz.json``): what is needed to reproduce a figure later.

A session holds the model path, the input convention, the selected layer and maps, the current input (its
pixels, so a drawn digit comes back exactly), the active tab and one dictionary per view (``views``: each
view that implements ``session_state()`` stores what it needs, e.g. OIP settings and seeds). Files are
written atomically. A file that cannot be read as a session is renamed aside to
``<name>.corrupt-<timestamp>`` and reported with a message for a person; the caller then uses defaults.
Qt-free: the main window turns a :class:`Session` into state and back.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnviz_gui.core.atomic import atomic_write

SESSION_SUFFIX = ".cnnviz.json"
SESSION_FORMAT = "cnnviz-session"
SESSION_VERSION = 1
LAST_SESSION_NAME = "last-session" + SESSION_SUFFIX
MAX_SESSION_BYTES = 64 * 1024 * 1024
MAX_INPUT_VALUES = 4096 * 4096 * 4


class SessionError(Exception):
    """A session file that cannot be used; ``message`` says why for a person.

    ``set_aside`` is where a corrupted file was moved (None when it was left in place, e.g. a file from a
    newer cnnviz or one that does not exist).
    """

    def __init__(self, message: str, set_aside: Path | None = None):
        super().__init__(message)
        self.message = message
        self.set_aside = set_aside


@dataclass
class Session:
    """The content of a session file. ``input_image`` is float32 (H, W, C) in 0..1 or None."""

    model_path: str | None = None
    convention: str | None = None
    layer: str = ""
    maps: list[int] = field(default_factory=list)
    input_image: np.ndarray | None = None
    input_label: str = ""
    current_view: str = ""
    views: dict[str, dict] = field(default_factory=dict)
    app_version: str = ""
    saved_at: str = ""

    # -- (de)serialisation ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "format": SESSION_FORMAT,
            "version": SESSION_VERSION,
            "app_version": self.app_version,
            "saved_at": self.saved_at or time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "model": {"path": self.model_path, "convention": self.convention},
            "selection": {"layer": self.layer, "maps": [int(m) for m in self.maps]},
            "input": None,
            "current_view": self.current_view,
            "views": self.views,
        }
        if self.input_image is not None:
            a = np.ascontiguousarray(self.input_image, dtype="<f4")
            d["input"] = {
                "label": self.input_label,
                "shape": list(a.shape),
                "dtype": "float32",
                "data": base64.b64encode(a.tobytes()).decode("ascii"),
            }
        return d

    @classmethod
    def from_dict(cls, d: Any) -> Session:
        """Validate and convert; raises ``ValueError`` naming what is wrong."""
        if not isinstance(d, dict):
            raise ValueError("the file does not hold a JSON object")
        if d.get("format") != SESSION_FORMAT:
            raise ValueError(f"its 'format' is {d.get('format')!r}, not {SESSION_FORMAT!r}")
        model = _expect(d.get("model", {}), dict, "model")
        path = model.get("path")
        if path is not None and not isinstance(path, str):
            raise ValueError("'model.path' is not a string")
        convention = model.get("convention")
        if convention is not None and not isinstance(convention, str):
            raise ValueError("'model.convention' is not a string")
        selection = _expect(d.get("selection", {}), dict, "selection")
        layer = _expect(selection.get("layer", ""), str, "selection.layer")
        maps = _expect(selection.get("maps", []), list, "selection.maps")
        if not all(isinstance(m, int) and not isinstance(m, bool) and m >= 0 for m in maps):
            raise ValueError("'selection.maps' must be a list of map indices")
        views = _expect(d.get("views", {}), dict, "views")
        if not all(isinstance(k, str) and isinstance(v, dict) for k, v in views.items()):
            raise ValueError("'views' must map view titles to objects")
        image, label = _decode_input(d.get("input"))
        return cls(
            model_path=path,
            convention=convention,
            layer=layer,
            maps=list(maps),
            input_image=image,
            input_label=label,
            current_view=_expect(d.get("current_view", ""), str, "current_view"),
            views=views,
            app_version=str(d.get("app_version", "")),
            saved_at=str(d.get("saved_at", "")),
        )


def _expect(value, kind, name: str):
    if not isinstance(value, kind):
        raise ValueError(f"'{name}' has the wrong type ({type(value).__name__})")
    return value


def _decode_input(d: Any) -> tuple[np.ndarray | None, str]:
    if d is None:
        return None, ""
    _expect(d, dict, "input")
    shape = _expect(d.get("shape"), list, "input.shape")
    if not (2 <= len(shape) <= 3 and all(isinstance(n, int) and n > 0 for n in shape)):
        raise ValueError(f"'input.shape' {shape} is not an image shape")
    if int(np.prod(shape)) > MAX_INPUT_VALUES:
        raise ValueError("the stored input image is too large")
    if d.get("dtype") != "float32":
        raise ValueError("'input.dtype' must be float32")
    try:
        raw = base64.b64decode(_expect(d.get("data"), str, "input.data"), validate=True)
    except binascii.Error as err:
        raise ValueError("'input.data' is not valid base64") from err
    if len(raw) != 4 * int(np.prod(shape)):
        raise ValueError("'input.data' does not match 'input.shape'")
    image = np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float32)
    if image.ndim == 2:
        image = image[..., None]
    if not np.all(np.isfinite(image)):
        raise ValueError("the stored input image holds NaN or infinite values")
    return image, str(d.get("label", ""))


RESOURCE_PREFIX = "resource:"


def portable_model_path(path: str | None) -> str | None:
    """A bundled model is stored as ``resource:models/NAME`` so the session survives a new installation."""
    if not path:
        return path
    from cnnviz_gui.core.resources import resources_dir

    try:
        rel = Path(path).resolve().relative_to(resources_dir().resolve())
    except (ValueError, OSError, FileNotFoundError):
        return str(path)
    return RESOURCE_PREFIX + rel.as_posix()


def resolve_model_path(stored: str | None) -> str | None:
    """The file a stored model path means on this installation (see :func:`portable_model_path`)."""
    if stored and stored.startswith(RESOURCE_PREFIX):
        from cnnviz_gui.core.resources import resource_path

        return str(resource_path(*stored[len(RESOURCE_PREFIX) :].split("/")))
    return stored


# -- files ---------------------------------------------------------------------------------------------
def session_path(path: str | os.PathLike) -> Path:
    """``path`` with the ``.cnnviz.json`` ending added when it has none."""
    path = Path(path)
    return path if path.name.endswith(SESSION_SUFFIX) else path.with_name(path.name + SESSION_SUFFIX)


def save_session(session: Session, path: str | os.PathLike) -> Path:
    """Write ``session`` atomically (temporary file, then rename); returns the written path.

    Raises :class:`SessionError` with a message when the folder is missing or not writable.
    """
    path = Path(path)
    text = json.dumps(session.to_dict(), indent=1)

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write(path, write)
    except OSError as err:
        raise SessionError(f"The session could not be saved to {path}: {err.strerror or err}.") from err


def set_aside(path: str | os.PathLike) -> Path:
    """Rename a corrupted file to ``<name>.corrupt-<timestamp>`` (kept for inspection); returns the new path."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    os.replace(path, target)
    return target


def load_session(path: str | os.PathLike) -> Session:
    """Read and validate a session file.

    A file that exists but is not a valid session (not JSON, wrong structure, wrong types) is set aside
    and :class:`SessionError` says so; a missing file or one written by a newer cnnviz raises
    :class:`SessionError` and is left alone.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError as err:
        raise SessionError(f"The session file {path} does not exist.") from err
    except OSError as err:
        raise SessionError(f"The session file {path} cannot be read: {err.strerror or err}.") from err
    try:
        if size > MAX_SESSION_BYTES:
            raise ValueError(f"it is {size / 1e6:.0f} MB, far larger than any session")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as err:
            raise ValueError("it is not a text file") from err
        except json.JSONDecodeError as err:
            raise ValueError(f"it is not valid JSON ({err.msg} at line {err.lineno})") from err
        except OSError as err:
            raise SessionError(f"The session file {path} cannot be read: {err.strerror or err}.") from err
        if isinstance(data, dict) and isinstance(data.get("version"), int):
            if data.get("format") == SESSION_FORMAT and data["version"] > SESSION_VERSION:
                raise SessionError(
                    f"{path.name} was saved by a newer cnnviz (session format {data['version']}; this "
                    f"version reads format {SESSION_VERSION}). Update cnnviz to open it."
                )
        return Session.from_dict(data)
    except ValueError as err:
        moved = None
        try:
            moved = set_aside(path)
        except OSError:
            pass
        where = f" It was renamed to {moved.name} so that nothing overwrites it." if moved else ""
        raise SessionError(
            f"{path.name} is not a usable cnnviz session: {err}.{where} Defaults are used instead.", moved
        ) from err


def user_data_dir() -> Path:
    """The per-user data folder of cnnviz (XDG data folder on Linux); holds the last session."""
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "cnnviz"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support" / "cnnviz"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "cnnviz"
    return base


def last_session_path() -> Path:
    """Where the session is saved on close and read at the next start."""
    return user_data_dir() / LAST_SESSION_NAME
