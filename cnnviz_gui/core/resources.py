"""Find bundled resources in a source checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path


def resources_dir() -> Path:
    """Directory holding ``data/``, ``models/`` and ``icons/``.

    In a checkout (or editable install) this is the top-level ``resources/``; in an installed wheel the
    same tree is shipped as ``cnnviz_gui/_resources``.
    """
    here = Path(__file__).resolve().parent.parent
    installed = here / "_resources"
    if installed.is_dir():
        return installed
    checkout = here.parent / "resources"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError("cnnviz resources not found; the installation is incomplete")


def resource_path(*parts: str) -> Path:
    """Path of one bundled resource, e.g. ``resource_path("models", "mnist_cnn.keras")``."""
    return resources_dir().joinpath(*parts)


def default_model_path() -> Path:
    return resource_path("models", "mnist_cnn.keras")


def mnist_sample_path() -> Path:
    return resource_path("data", "mnist_10k.npz")


def user_guide_path() -> Path | None:
    """``docs/user-guide.md``: in a checkout, or shipped with the resources (wheel, standalone build)."""
    candidates = [Path(__file__).resolve().parent.parent.parent / "docs" / "user-guide.md"]
    try:
        candidates.insert(0, resources_dir() / "docs" / "user-guide.md")
    except FileNotFoundError:
        pass
    return next((p for p in candidates if p.is_file()), None)
