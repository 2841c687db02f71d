"""Check, before Qt starts, that the X11 platform can load; Qt itself would abort with a cryptic message.

Qt 6's ``xcb`` platform plugin (the usual one on Linux desktops) needs system X11/XCB libraries that the wheel
(and the standalone build) do not ship. When one is missing, Qt prints "Could not load the Qt platform plugin
'xcb'" and aborts. :func:`missing_x11_libraries` finds them first so the person gets the package names.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

#: shared libraries the xcb plugin links against -> Debian/Ubuntu package providing each
X11_LIBRARIES = {
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}


def uses_x11(env: Mapping[str, str], platform: str = sys.platform) -> bool:
    """Whether Qt will pick the xcb platform: Linux, no other platform asked for, not a Wayland session."""
    if not platform.startswith("linux"):
        return False
    asked = env.get("QT_QPA_PLATFORM", "")
    if asked:
        return asked.split(";")[0].split(":")[0] == "xcb"
    return not (env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") == "wayland")


def missing_x11_libraries(
    env: Mapping[str, str] | None = None,
    platform: str = sys.platform,
    load: Callable[[str], object] | None = None,
) -> list[str]:
    """The X11 libraries Qt's xcb plugin needs that cannot be loaded (empty when fine or not using X11)."""
    if not uses_x11(os.environ if env is None else env, platform):
        return []
    load = load or ctypes.CDLL
    missing = []
    for soname in X11_LIBRARIES:
        try:
            load(soname)
        except OSError:
            missing.append(soname)
    return missing


def missing_x11_message(missing: list[str]) -> str:
    """A message for a person: what is missing and the command that installs it."""
    packages = " ".join(dict.fromkeys(X11_LIBRARIES[m] for m in missing))
    return (
        "cnnviz: the window cannot open: Qt's X11 platform needs system libraries that are not installed "
        f"({', '.join(missing)}). On Debian or Ubuntu: sudo apt-get install {packages}. "
        "The command-line tools (cnnviz info, activations, oip, latent, train) work without them."
    )
