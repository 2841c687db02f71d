"""What every central view offers the main window (File > Export… asks the active view)."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class ExportableView(Protocol):
    """A central tab. ``export_figure`` returns a matplotlib Figure fit for a paper (or None when there is
    nothing to export yet); ``export_arrays`` returns the raw arrays for an ``.npz`` (or None)."""

    title: str

    def export_figure(self) -> Any: ...

    def export_arrays(self) -> dict | None: ...
