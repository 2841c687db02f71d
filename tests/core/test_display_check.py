"""Before Qt starts: a missing X11 library gets the package to install, not Qt's abort."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from cnnviz_gui.display_check import X11_LIBRARIES, missing_x11_libraries, missing_x11_message, uses_x11


def test_only_an_x11_session_on_linux_is_checked():
    assert uses_x11({}, "linux")
    assert uses_x11({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert not uses_x11({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert not uses_x11({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}, "linux")
    assert not uses_x11({}, "darwin") and not uses_x11({}, "win32")
    assert missing_x11_libraries({"QT_QPA_PLATFORM": "offscreen"}, "linux", load=_fail_all) == []


def _fail_all(name):
    raise OSError(f"{name}: cannot open shared object file")


def test_missing_libraries_are_named_with_their_packages():
    def load(name):
        if name in ("libxcb-cursor.so.0", "libxcb-icccm.so.4"):
            raise OSError(f"{name}: cannot open shared object file")

    missing = missing_x11_libraries({}, "linux", load=load)
    assert missing == ["libxcb-cursor.so.0", "libxcb-icccm.so.4"]
    text = missing_x11_message(missing)
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4." in text
    assert "libxcb-cursor.so.0" in text and "cnnviz info" in text
    assert len(missing_x11_libraries({}, "linux", load=_fail_all)) == len(X11_LIBRARIES)


def test_the_gui_command_explains_instead_of_aborting():
    code = textwrap.dedent(
        """
        import ctypes, sys
        real = ctypes.CDLL
        def fake(name, *a, **k):
            if name == "libxcb-cursor.so.0":
                raise OSError(name + ": cannot open shared object file")
            return real(name, *a, **k)
        ctypes.CDLL = fake
        from cnnviz_gui.cli import main
        rc = main([])
        print("rc", rc, "qt imported", "PySide6.QtWidgets" in sys.modules)
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert "rc 2 qt imported False" in res.stdout, res.stdout + res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "sudo apt-get install " in lines[0] and " libxcb-cursor0" in lines[0]
