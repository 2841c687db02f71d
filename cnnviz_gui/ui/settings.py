"""The app's QSettings and the person's preferences stored in them.

A settings file that Qt cannot parse (or that holds binary garbage) is renamed aside to
``<name>.corrupt-<timestamp>``; the app starts with defaults and says so. Every value read back is checked:
one of the wrong type falls back to its default on its own, so one bad entry never spoils the others.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

from PySide6.QtCore import QSettings

from cnnviz_gui.core.session import set_aside

ORGANISATION = APPLICATION = "cnnviz"
THEMES = {"system": "Follow the system", "light": "Light", "dark": "Dark"}
DEVICES = {"auto": "GPU when available, else CPU", "cpu": "CPU only"}
RESTORE = {"restore": "Restore the last session", "ask": "Ask", "never": "Start with the default model"}
COLORMAP_NAMES = ("viridis", "jet", "gray", "magma", "inferno", "plasma", "cividis")
MAX_THREADS = 256


def _looks_corrupt(path: Path) -> bool:
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if b"\x00" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def open_settings(
    organisation: str = ORGANISATION, application: str = APPLICATION
) -> tuple[QSettings, str | None]:
    """The app's settings, and a message for the person when a corrupted file had to be set aside."""
    settings = QSettings(organisation, application)
    path = Path(settings.fileName())
    if not path.is_file():
        return settings, None
    if settings.status() == QSettings.Status.NoError and not _looks_corrupt(path):
        return settings, None
    del settings
    try:
        moved = set_aside(path)
        where = f" It was renamed to {moved.name} (in {moved.parent})."
    except OSError as err:
        where = f" It could not be moved aside ({err.strerror}); it will be overwritten."
    message = (
        f"The settings file {path.name} was damaged and could not be read.{where} cnnviz starts with "
        "default settings; your preferences and recent files have to be set again."
    )
    return QSettings(organisation, application), message


@dataclass
class Preferences:
    """What the Preferences dialog edits. Device and threads restart the compute process to take effect."""

    colormap: str = "viridis"
    device: str = "auto"
    threads: int = 0
    theme: str = "system"
    restore_session: str = "restore"
    spare_process: bool = True

    @classmethod
    def load(cls, settings: QSettings) -> Preferences:
        """Read the preferences; a missing or invalid entry gets its default."""
        default = cls()
        values = {}
        for f in fields(cls):
            raw = settings.value(f"preferences/{f.name}", getattr(default, f.name))
            values[f.name] = _checked(f.name, raw, getattr(default, f.name))
        return cls(**values)

    def save(self, settings: QSettings) -> None:
        for name, value in asdict(self).items():
            settings.setValue(f"preferences/{name}", value)
        settings.sync()


def _checked(name: str, raw, default):
    choices = {
        "colormap": COLORMAP_NAMES,
        "device": tuple(DEVICES),
        "theme": tuple(THEMES),
        "restore_session": tuple(RESTORE),
    }
    if name in choices:
        return raw if isinstance(raw, str) and raw in choices[name] else default
    if name == "spare_process":
        if isinstance(raw, bool):
            return raw
        return {"true": True, "false": False}.get(str(raw).lower(), default)
    if name == "threads":
        try:
            value = int(raw)
        except (TypeError, ValueError):
            return default
        return value if 0 <= value <= MAX_THREADS else default
    return default


def string_list(settings: QSettings, key: str) -> list[str]:
    """A list of strings stored under ``key`` (one string is stored as a plain string by QSettings)."""
    value = settings.value(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return []
    return [str(v) for v in value if isinstance(v, str) and v]
