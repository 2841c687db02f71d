"""The main window's files: open a model, session or image (dialog, path, drop) and export the active view.

A mixin of :class:`~cnnviz_gui.ui.main_window.MainWindow` (it uses the window's ``opener``, ``sessions``,
``input_panel``, ``tabs``, ``notices`` and ``show_message``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from cnnviz_gui.core import figures
from cnnviz_gui.core.datasets import IMAGE_SUFFIXES
from cnnviz_gui.core.models.loading import MODEL_SUFFIXES
from cnnviz_gui.core.session import SESSION_SUFFIX

MODEL_FILTER = "Keras models (*.keras *.h5 *.hdf5);;All files (*)"
EXPORT_FILTER = "PNG image (*.png);;SVG image (*.svg);;PDF document (*.pdf);;Raw arrays (*.npz)"


class WindowFiles:
    """Files in (models, sessions, images; dialogs and drag and drop) and figures out (Export)."""

    last_export: Path | None = None

    # -- in -------------------------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        recent = self.opener.recent_files()
        start = str(Path(recent[0]).parent) if recent else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open Keras model", start, MODEL_FILTER)
        if path:
            self.open_model_file(path)

    def open_model_file(self, path: str, allow_unsafe: bool = False, then=None, otherwise=None) -> None:
        self.opener.open(path, allow_unsafe, then, otherwise)

    def open_path(self, path: str) -> None:
        """Open a session file (``*.cnnviz.json``), an image (the input) or a model."""
        if str(path).endswith(SESSION_SUFFIX):
            self.sessions.open(path)
        elif Path(path).suffix.lower() in IMAGE_SUFFIXES:
            self.input_panel.show_image_file(path)
        else:
            self.open_model_file(path)

    def recent_files(self) -> list[str]:
        return self.opener.recent_files()

    def dragEnterEvent(self, event) -> None:
        path = _dropped_path(event)
        known = (*MODEL_SUFFIXES, *IMAGE_SUFFIXES)
        if path and (
            Path(path).suffix.lower() in known or path.endswith(SESSION_SUFFIX) or Path(path).is_dir()
        ):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        if path := _dropped_path(event):
            event.acceptProposedAction()
            self.open_path(path)

    # -- out ------------------------------------------------------------------------------------------------
    def active_view(self) -> QWidget | None:
        return self.tabs.currentWidget()

    def export_dialog(self) -> None:
        title = getattr(self.active_view(), "title", "view")
        default = str(Path.home() / f"cnnviz-{title.lower().replace(' ', '-')}.png")
        path, _ = QFileDialog.getSaveFileName(self, f"Export {title}", default, EXPORT_FILTER)
        if path:
            self.export_active_view(path)

    def export_active_view(self, path: str) -> Path | None:
        """Export the active view as a figure (.png/.svg/.pdf) or its raw arrays (.npz)."""
        view = self.active_view()
        title = getattr(view, "title", "This view")
        arrays = Path(path).suffix.lower() == ".npz"
        try:
            content = getattr(view, "export_arrays" if arrays else "export_figure", lambda: None)()
            if not content:
                what = "arrays to export" if arrays else "nothing to export"
                self.show_message("Nothing to export", f"{title} has {what} yet.")
                return None
            written = figures.save_arrays(content, path) if arrays else figures.save(content, path)
        except figures.ExportError as err:
            self.show_message("Export failed", err.message)
            return None
        self.last_export = written
        self.notices.status(f"Exported {title} to {written}", 8000)
        return written


def _dropped_path(event) -> str | None:
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    return next((url.toLocalFile() for url in urls if url.isLocalFile()), None)
