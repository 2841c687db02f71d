"""Exports are atomic: the written path is reported; a read-only folder or a full disk says so, leaves no
partial file, and the next export works."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest
from conftest import make_window
from matplotlib.figure import Figure

from cnnviz_gui.core import atomic


@pytest.fixture
def window(qtbot, default_model_path):
    w = make_window(qtbot)
    w.open_model_file(str(default_model_path))
    return w


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_export_reports_the_written_path(window, tmp_path):
    written = window.export_active_view(str(tmp_path / "summary.png"))
    assert written == tmp_path / "summary.png"
    assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(written) in window.statusBar().currentMessage()
    assert leftovers(tmp_path) == ["summary.png"]
    assert oct(written.stat().st_mode & 0o777) != oct(0o600), "ordinary permissions, not a temp file's"


def _half_then_fail(code):
    """A replacement for a writer: writes half a file, then fails like a full disk (or a refused write)."""

    def write(self_or_fh, target, *args, **kwargs):
        path = target if isinstance(target, (str, os.PathLike)) else getattr(target, "name", None)
        if path is not None:
            with open(path, "wb") as fh:
                fh.write(b"\x89PNG partial")
        raise OSError(code, os.strerror(code))

    return write


@pytest.mark.parametrize("suffix", [".png", ".pdf", ".npz"])
def test_full_disk_leaves_no_partial_file_and_the_app_goes_on(window, tmp_path, monkeypatch, suffix):
    target = tmp_path / f"summary{suffix}"
    target.write_bytes(b"an older export")  # an earlier file of the same name must survive untouched
    if suffix == ".npz":
        window.summary_view.export_arrays = lambda: {"weights": np.arange(6.0)}
        monkeypatch.setattr(
            np, "savez_compressed", lambda fh, **arrays: _half_then_fail(errno.ENOSPC)(None, fh)
        )
    else:
        monkeypatch.setattr(Figure, "savefig", _half_then_fail(errno.ENOSPC))
    assert window.export_active_view(str(target)) is None
    title, text, _ = window.messages[-1]
    assert title == "Export failed"
    assert "No space left on device" in text and "No file was written" in text
    assert target.read_bytes() == b"an older export"
    assert leftovers(tmp_path) == [target.name], "no temporary or partial file left"
    monkeypatch.undo()
    assert window.export_active_view(str(tmp_path / "again.pdf")) == tmp_path / "again.pdf"
    assert (tmp_path / "again.pdf").read_bytes().startswith(b"%PDF")


def test_read_only_folder_says_so(window, tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):  # root ignores folder permissions: refuse the write as the OS would

            def refuse(*args, **kwargs):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

            monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
        assert window.export_active_view(str(folder / "summary.png")) is None
        title, text, _ = window.messages[-1]
        assert title == "Export failed" and "permission denied" in text and str(folder) in text
        assert leftovers(folder) == []
        assert window.state.info.name == "mnist_cnn"
    finally:
        folder.chmod(0o700)
