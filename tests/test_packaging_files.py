"""The standalone build's inputs are consistent (the build itself runs in `make package`, not here)."""

from __future__ import annotations

import configparser
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGING = REPO / "packaging"


def test_desktop_entry_names_the_command_icon_and_file_types():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(PACKAGING / "cnnviz.desktop")
    d = entry["Desktop Entry"]
    assert d["Type"] == "Application" and d["Exec"].split()[0] == "cnnviz" and d["Icon"] == "cnnviz"
    assert "application/x-cnnviz-session" in d["MimeType"].split(";")
    assert (REPO / "resources" / "icons" / "cnnviz-256.png").is_file()


def test_session_mime_type_matches_the_session_suffix():
    from cnnviz_gui.core.session import SESSION_SUFFIX

    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    root = ET.parse(PACKAGING / "cnnviz-mime.xml").getroot()
    mime = root.find("m:mime-type", ns)
    assert mime.get("type") == "application/x-cnnviz-session"
    assert mime.find("m:glob", ns).get("pattern") == "*" + SESSION_SUFFIX


def test_spec_bundles_existing_files_and_smoke_test_is_executable():
    spec = (PACKAGING / "cnnviz.spec").read_text()
    for rel in re.findall(r'ROOT / "packaging" / "([^"]+)"', spec):
        assert (PACKAGING / rel).is_file(), rel
    for folder in re.findall(r'\(str\(RES / "(\w+)"\)', spec):
        assert (REPO / "resources" / folder).is_dir(), folder
    assert (REPO / "docs" / "user-guide.md").is_file()
    assert os.access(PACKAGING / "smoke_test.sh", os.X_OK)
    makefile = (REPO / "Makefile").read_text()
    assert "packaging/cnnviz.spec" in makefile and "packaging/smoke_test.sh" in makefile
