"""The one save(): PNG/SVG/PDF by extension, atomic, readable errors, no partial files."""

from __future__ import annotations

import os

import numpy as np
import pytest

from cnnviz_gui.core import figures


def _figure():
    fig = figures.new_figure(3, 2)
    ax = fig.add_subplot()
    im = ax.imshow(np.arange(16.0).reshape(4, 4), cmap="viridis")
    fig.colorbar(im)
    ax.set_title("test")
    return fig


@pytest.mark.parametrize("ext, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_save_by_extension(tmp_path, ext, magic):
    path = figures.save(_figure(), tmp_path / f"fig{ext}")
    assert path.read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [f"fig{ext}"]  # no temporary file left
    assert oct(os.stat(path).st_mode & 0o777) != oct(0o600)


def test_unknown_format_and_missing_folder(tmp_path):
    with pytest.raises(figures.ExportError, match="Unknown figure format"):
        figures.save(_figure(), tmp_path / "fig.bmp")
    with pytest.raises(figures.ExportError, match="does not exist"):
        figures.save(_figure(), tmp_path / "nope" / "fig.png")


def test_failed_export_leaves_no_partial_file_and_keeps_old_one(tmp_path):
    target = tmp_path / "fig.png"
    target.write_bytes(b"previous good figure")

    class Broken:
        def savefig(self, path, **kw):
            with open(path, "wb") as fh:
                fh.write(b"half a fi")
            raise OSError(28, "No space left on device")

    with pytest.raises(figures.ExportError, match="No space left"):
        figures.save(Broken(), target)
    assert target.read_bytes() == b"previous good figure"
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(figures.ExportError, match="permission denied"):
            figures.save(_figure(), ro / "fig.png")
    finally:
        ro.chmod(0o700)


def test_save_arrays_and_grid(tmp_path):
    path = figures.save_arrays({"a": np.ones((2, 3)), "labels": np.arange(4)}, tmp_path / "x.npz")
    with np.load(path) as data:
        assert data["a"].shape == (2, 3) and list(data["labels"]) == [0, 1, 2, 3]
    with pytest.raises(figures.ExportError):
        figures.save_arrays({"a": np.ones(2)}, tmp_path / "x.txt")
    grid = figures.image_grid(np.stack([np.full((2, 2), i, np.float32) for i in range(5)]), ncols=3, pad=1)
    assert grid.shape == (5, 8)
    assert grid[0, 0] == 0 and grid[0, 3] == 1 and grid[3, 0] == 3 and np.isnan(grid[0, 2])
