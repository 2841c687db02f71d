"""The Model pane: open a file, recent files, and a summary of the open model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cnnviz_gui.core.models.loading import ModelInfo
from cnnviz_gui.ui.state import AppState


def recent_labels(paths: list[str]) -> list[str]:
    """Labels for recent files: the file name, and for files of the same name the nearest folder that tells
    them apart ("mnist_cnn.keras (project-a/…)"); the full path goes in the tooltip."""
    parts = [Path(p).parts for p in paths]
    labels = []
    for i, pp in enumerate(parts):
        same = [q for j, q in enumerate(parts) if j != i and q[-1] == pp[-1] and q != pp]
        k = 0  # trailing folders shared with another file of this name
        while same and k + 1 < len(pp) and any(q[-2 - k :] == pp[-2 - k :] for q in same):
            k += 1
        if not same or k + 1 >= len(pp):
            labels.append(pp[-1])
        else:
            labels.append(f"{pp[-1]} ({pp[-2 - k]}{'/…' if k else ''})")
    return labels


def array_to_pixmap(image01: np.ndarray, size: int = 84) -> QPixmap:
    """A grey or RGB image in 0..1 as a QPixmap scaled (nearest) to ``size`` pixels."""
    a = np.clip(np.asarray(image01, dtype=np.float32), 0, 1)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    a8 = np.ascontiguousarray((a * 255).astype(np.uint8))
    if a8.ndim == 2:
        img = QImage(a8.data, a8.shape[1], a8.shape[0], a8.strides[0], QImage.Format.Format_Grayscale8)
    else:
        a8 = np.ascontiguousarray(a8[..., :3])
        img = QImage(a8.data, a8.shape[1], a8.shape[0], a8.strides[0], QImage.Format.Format_RGB888)
    smaller = max(a8.shape[:2]) > size  # a photo: smoothed; a digit: its pixels kept
    mode = Qt.TransformationMode.SmoothTransformation if smaller else Qt.TransformationMode.FastTransformation
    return QPixmap.fromImage(img.copy()).scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, mode)


class ModelPanel(QWidget):
    """Summary of the open model, an Open button and the recent files."""

    open_requested = Signal()
    recent_chosen = Signal(str)

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open model…")
        self.open_button.setToolTip(
            "Open a .keras or .h5 file (Ctrl+O); you can also drop a file on the window"
        )
        self.open_button.clicked.connect(self.open_requested)
        row.addWidget(self.open_button)
        row.addStretch(1)
        layout.addLayout(row)

        form = QFormLayout()
        self.name_label = QLabel("—")
        self.file_label = QLabel("—")
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.input_label = QLabel("—")
        self.params_label = QLabel("—")
        self.keras_label = QLabel("—")
        for title, w in (
            ("Name", self.name_label),
            ("File", self.file_label),
            ("Input", self.input_label),
            ("Parameters", self.params_label),
            ("Keras", self.keras_label),
        ):
            form.addRow(title + ":", w)
        layout.addLayout(form)
        self.note_label = QLabel("")
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet("color: #a05000;")
        self.note_label.hide()
        layout.addWidget(self.note_label)

        inrow = QHBoxLayout()
        self.input_image = QLabel()
        self.input_image.setFixedSize(84, 84)
        self.input_image.setStyleSheet("background: black;")
        self.input_caption = QLabel("no input")
        self.input_caption.setWordWrap(True)
        inrow.addWidget(self.input_image)
        inrow.addWidget(self.input_caption, 1)
        layout.addLayout(inrow)

        layout.addWidget(QLabel("Recent files:"))
        self.recent_list = QListWidget()
        self.recent_list.setMaximumHeight(110)
        self.recent_list.itemActivated.connect(lambda item: self.recent_chosen.emit(item.toolTip()))
        layout.addWidget(self.recent_list)
        layout.addStretch(1)

        state.model_changed.connect(lambda loaded: self.show_info(loaded.info))
        state.input_changed.connect(self._on_input_changed)

    def show_info(self, info: ModelInfo | None) -> None:
        if info is None:
            return
        self.name_label.setText(info.name)
        self.file_label.setText(Path(info.path).name)
        self.file_label.setToolTip(info.path)
        shape = " x ".join("?" if s is None else str(s) for s in (info.input_shape or ()))
        self.input_label.setText(shape or "?")
        self.params_label.setText(f"{info.n_params:,}")
        self.keras_label.setText(info.keras_version or "?")
        self.note_label.setText(info.input_note)
        self.note_label.setVisible(bool(info.input_note))

    def set_recent(self, paths: list[str]) -> None:
        self.recent_list.clear()
        for p, label in zip(paths, recent_labels(paths), strict=True):
            self.recent_list.addItem(label)
            self.recent_list.item(self.recent_list.count() - 1).setToolTip(p)

    def _on_input_changed(self, image, label: str) -> None:
        self.input_image.setPixmap(array_to_pixmap(image))
        self.input_caption.setText(f"Current input: {label}" if label else "Current input")
