"""Help menu dialogs: keyboard shortcuts, the user guide, About."""

from __future__ import annotations

import platform
from pathlib import Path

import pyqtgraph
import PySide6
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QAction, QImage, QKeySequence, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from cnnviz_gui import __version__
from cnnviz_gui.core.resources import user_guide_path


def menu_actions(menu_bar) -> list[tuple[str, QAction]]:
    """Every action in the menus as (``"File > Open model…"``, action), submenus walked, in menu order."""
    out: list[tuple[str, QAction]] = []

    def walk(menu: QMenu, prefix: str) -> None:
        menu.aboutToShow.emit()  # menus filled on demand (recent files) fill themselves now
        for action in menu.actions():
            if action.isSeparator():
                continue
            text = action.text().replace("&", "")
            if action.menu() is not None:
                walk(action.menu(), f"{prefix}{text} > ")
            else:
                out.append((prefix + text, action))

    for top in menu_bar.actions():
        if top.menu() is not None:
            walk(top.menu(), top.text().replace("&", "") + " > ")
    return out


class ShortcutsDialog(QDialog):
    """A table of every menu action that has a keyboard shortcut (and the other frequent actions)."""

    def __init__(self, menu_bar, parent: QWidget | None = None, extra: list[tuple[str, str]] | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = [
            (name, action.shortcut().toString(QKeySequence.SequenceFormat.NativeText))
            for name, action in menu_actions(menu_bar)
            if not action.shortcut().isEmpty()
        ]
        rows += list(extra or [])
        self.rows = rows
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Action", "Shortcut"])
        for r, (name, keys) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(name))
            self.table.setItem(r, 1, QTableWidgetItem(keys))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setAlternatingRowColors(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, min(900, 90 + 30 * len(rows)))  # every row visible without scrolling

    def shortcut_of(self, name: str) -> str | None:
        return next((keys for n, keys in self.rows if n == name), None)


class GuideBrowser(QTextBrowser):
    """A text browser that shows screenshots no wider than :attr:`max_image_width` (scaled smoothly)."""

    max_image_width = 820

    def loadResource(self, kind, url):
        data = super().loadResource(kind, url)
        if kind != QTextDocument.ResourceType.ImageResource.value or data is None:
            return data
        image = data if isinstance(data, QImage) else QImage.fromData(data)
        if image.isNull() or image.width() <= self.max_image_width:
            return data
        return image.scaledToWidth(self.max_image_width, Qt.TransformationMode.SmoothTransformation)


class UserGuideDialog(QDialog):
    """``docs/user-guide.md`` rendered with its images (non-modal, so it can stay open beside the app)."""

    def __init__(self, parent: QWidget | None = None, path: Path | None = None):
        super().__init__(parent)
        self.setWindowTitle("cnnviz user guide")
        self.browser = GuideBrowser()
        self.browser.setOpenExternalLinks(True)
        path = path or user_guide_path()
        if path is not None and path.is_file():
            self.browser.setSearchPaths([str(path.parent)])
            self.browser.setSource(QUrl.fromLocalFile(str(path)), QTextDocument.ResourceType.MarkdownResource)
        else:
            self.browser.setMarkdown(
                "# User guide not found\n\nThe file `docs/user-guide.md` is not part of this installation."
            )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(900, 760)


class AboutDialog(QDialog):
    """Versions of cnnviz, the libraries and the device; TensorFlow's part is filled in by the compute process."""

    def __init__(self, parent: QWidget | None = None, device: str = ""):
        super().__init__(parent)
        self.setWindowTitle("About cnnviz")
        title = QLabel(
            f"<h2>cnnviz {__version__}</h2><p>Look inside trained Keras networks: activation maps, "
            "original input patterns (OIPs) and latent spaces.</p>"
        )
        title.setWordWrap(True)
        self.form = QFormLayout()
        self.labels: dict[str, QLabel] = {}
        self.set_versions(
            {
                "cnnviz": __version__,
                "Python": platform.python_version(),
                "Qt": qVersion(),
                "PySide6": PySide6.__version__,
                "pyqtgraph": pyqtgraph.__version__,
                "TensorFlow": "asking the compute process…",
                "Keras": "asking the compute process…",
                "Device": device or "asking the compute process…",
            }
        )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(self.form)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)

    def set_versions(self, versions: dict[str, str]) -> None:
        for key, value in versions.items():
            if key not in self.labels:
                label = QLabel()
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                self.labels[key] = label
                self.form.addRow(f"{key}:", label)
            self.labels[key].setText(str(value))

    def text(self) -> str:
        return "\n".join(f"{k}: {v.text()}" for k, v in self.labels.items())
