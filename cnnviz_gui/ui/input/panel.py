"""The Input pane: a dataset sample, a digit drawn on the canvas, or an image file; and the model's input
convention (value range), guessed when a model opens and editable.

Drawing: every stroke segment turns the canvas into the 28x28 MNIST-style digit the model sees (shown
beside the canvas) and makes it the current input; the Activations tab follows live.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cnnviz_gui.core.photos import PhotoError, photo_for_model
from cnnviz_gui.core.preprocess import (
    CONVENTIONS,
    ImageInputError,
    digit_from_image,
    digit_from_ink,
)
from cnnviz_gui.ui.bridge import ComputeBridge
from cnnviz_gui.ui.input.canvas import DrawingCanvas
from cnnviz_gui.ui.input.dataset_browser import DatasetBrowser
from cnnviz_gui.ui.state import AppState
from cnnviz_gui.ui.widgets.image_widgets import ImagePreview

CONVENTION_TIPS = {
    "standardised": "each image shifted and scaled to mean 0 and standard deviation 1",
    "0..1": "pixel values from 0 (black) to 1 (white)",
    "0..255": "raw pixel values from 0 to 255",
    "caffe": "RGB turned to BGR, 0..255 minus the ImageNet mean (VGG, ResNet in keras.applications)",
    "-1..1": "pixel values from -1 to 1 (MobileNet, Inception, Xception in keras.applications)",
    "torch": "0..1, then the ImageNet mean and standard deviation per channel (DenseNet)",
}


class DrawPanel(QWidget):
    """The drawing canvas with its tools and the 28x28 preview of what the model sees."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.canvas = DrawingCanvas(size=252)
        self.preview = ImagePreview(84, caption="the 28x28 digit the model sees")
        self.digit = np.zeros((28, 28), np.float32)
        self.last_convert_ms = 0.0

        self.pen_button = QPushButton("Pen", checkable=True, checked=True)
        self.eraser_button = QPushButton("Eraser", checkable=True)
        group = QButtonGroup(self)
        group.setExclusive(True)
        group.addButton(self.pen_button)
        group.addButton(self.eraser_button)
        self.brush_spin = QSpinBox()
        self.brush_spin.setRange(4, 48)
        self.brush_spin.setValue(int(self.canvas.brush))
        self.brush_spin.setSuffix(" px")
        self.brush_spin.setToolTip("Brush size on the canvas")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Take back the last stroke (Ctrl+Z)")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Erase the whole drawing")

        side = QVBoxLayout()
        for widget in (self.pen_button, self.eraser_button, QLabel("Brush"), self.brush_spin):
            side.addWidget(widget)
        side.addWidget(self.undo_button)
        side.addWidget(self.clear_button)
        side.addStretch(1)
        side.addWidget(QLabel("Model sees:"))
        side.addWidget(self.preview)
        row = QHBoxLayout()
        row.addWidget(self.canvas)
        row.addLayout(side)
        hint = QLabel(
            "Draw a digit: the maps and predictions follow every stroke. The model sees it cropped to the "
            "ink, scaled into a 20x20 box and centred by mass in 28x28, as MNIST digits were made. "
            "The right button erases."
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #666")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(row)
        lay.addWidget(hint)
        lay.addStretch(1)

        self.eraser_button.toggled.connect(self.canvas.set_eraser)
        self.brush_spin.valueChanged.connect(self.canvas.set_brush)
        self.undo_button.clicked.connect(self.canvas.undo)
        self.clear_button.clicked.connect(self.canvas.clear)
        QShortcut(QKeySequence.StandardKey.Undo, self, self.canvas.undo)

    def convert(self) -> np.ndarray:
        """The canvas as the 28x28 digit in 0..1 (crop, 20x20 box, centre of mass); updates the preview."""
        t = time.perf_counter()
        self.digit = digit_from_ink(self.canvas.ink())
        self.last_convert_ms = (time.perf_counter() - t) * 1000
        self.preview.set_image(self.digit)
        return self.digit


class ImageFilePanel(QWidget):
    """Open a photo or scan of any size; it is fitted to the model's input (centre crop or pad) and shown
    exactly as the model gets it before it goes in."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.open_button = QPushButton("Open image…")
        self.open_button.setToolTip("A PNG, JPEG or BMP of any size (you can also drop it on the window)")
        self.fit_box = QComboBox()
        self.fit_box.addItem("centre crop", "crop")
        self.fit_box.addItem("pad (whole image)", "pad")
        self.fit_box.setToolTip(
            "How a photo of another shape becomes the model's input: scaled to cover it and the centre kept "
            "(as ImageNet models were evaluated), or scaled to fit inside it with black bars"
        )
        self.invert_box = QComboBox()
        self.invert_box.addItems(["invert if light background", "never invert", "always invert"])
        self.invert_box.setToolTip(
            "MNIST digits are light on black: a dark digit on white paper is inverted for 1-channel models"
        )
        self.mnist_box = QCheckBox("Centre like MNIST")
        self.mnist_box.setChecked(True)
        self.mnist_box.setToolTip(
            "For 28x28 grey models: treat the picture as one digit and prepare it the way MNIST digits were "
            "made (crop to the ink, scale into a 20x20 box, centre by mass). Off: the whole picture is "
            "fitted to the model's input."
        )
        self.path_label = QLabel("PNG, JPEG or BMP of any size; it is fitted to the model's input.")
        self.path_label.setWordWrap(True)
        self.preview = ImagePreview(168, caption="the image exactly as the model gets it")
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: #666")
        self.path: str | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addWidget(self.fit_box, 1)
        lay.addLayout(row)
        row2 = QHBoxLayout()
        row2.addWidget(self.invert_box, 1)
        row2.addWidget(self.mnist_box)
        lay.addLayout(row2)
        lay.addWidget(self.path_label)
        lay.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(self.caption)
        lay.addStretch(1)

    @property
    def invert(self) -> bool | None:
        return (None, False, True)[self.invert_box.currentIndex()]

    @property
    def fit(self) -> str:
        return self.fit_box.currentData()

    def set_fit(self, mode: str) -> None:
        i = self.fit_box.findData(mode)
        if i >= 0:
            self.fit_box.setCurrentIndex(i)

    def configure(self, input_shape: tuple) -> None:
        """Show the controls that apply to the model's input: MNIST centring for 28x28 grey models, the
        inversion for grey models, the fit when the picture is not centred like a digit."""
        grey = input_shape[-1] == 1
        digit = tuple(input_shape) == (28, 28, 1)
        self.mnist_box.setVisible(digit)
        self.invert_box.setVisible(grey)
        self.fit_box.setVisible(not (digit and self.mnist_box.isChecked()))


class InputPanel(QWidget):
    """The Input dock: dataset browser, drawing canvas, image file; the input convention below."""

    title = "Input"

    def __init__(self, state: AppState, bridge: ComputeBridge, parent=None):
        super().__init__(parent)
        self.state = state
        self.bridge = bridge
        self.browser = DatasetBrowser(state, bridge)
        self.draw = DrawPanel()
        self.image_panel = ImageFilePanel()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.browser, "Dataset")
        self.tabs.addTab(self.draw, "Draw")
        self.tabs.addTab(self.image_panel, "Image file")

        self.convention_box = QComboBox()
        for c in CONVENTIONS:
            self.convention_box.addItem(c, c)
            self.convention_box.setItemData(
                self.convention_box.count() - 1, CONVENTION_TIPS[c], Qt.ItemDataRole.ToolTipRole
            )
        self.convention_box.setToolTip("The value range the model expects; used for every forward pass")
        self.convention_note = QLabel("")
        self.convention_note.setWordWrap(True)
        self.convention_note.setStyleSheet("color: #666")
        conv = QHBoxLayout()
        conv.addWidget(QLabel("Input range"))
        conv.addWidget(self.convention_box, 1)
        self.current_label = QLabel("No input yet")
        self.current_label.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.tabs, 1)
        lay.addLayout(conv)
        lay.addWidget(self.convention_note)
        lay.addWidget(self.current_label)

        self.browser.sample_chosen.connect(self._on_sample_chosen)
        self.draw.canvas.ink_changed.connect(self._on_ink_changed)
        self.draw.canvas.stroke_finished.connect(self._on_stroke_finished)
        self.image_panel.open_button.clicked.connect(self._open_image_dialog)
        self.image_panel.invert_box.currentIndexChanged.connect(self._reload_image)
        self.image_panel.mnist_box.toggled.connect(self._reload_image)
        self.image_panel.fit_box.currentIndexChanged.connect(self._reload_image)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.convention_box.currentIndexChanged.connect(self._on_convention_chosen)
        state.model_changed.connect(self._on_model_changed)
        state.input_changed.connect(lambda image, label: self.current_label.setText(f"Input: {label}"))
        state.convention_changed.connect(self._show_convention)
        self._show_convention(state.convention)

    def _on_tab_changed(self, *_) -> None:
        """The visible page's input becomes the current input again (a drawing, a sample, an image)."""
        page = self.tabs.currentWidget()
        if page is self.draw and not self.draw.canvas.is_empty():
            self._on_ink_changed()
        elif page is self.browser and self.browser.dataset is not None:
            self.browser.select(self.browser.index)
        elif page is self.image_panel:
            self._reload_image()

    # -- sessions ---------------------------------------------------------------------------------------
    def session_state(self) -> dict:
        return {
            "page": self.tabs.tabText(self.tabs.currentIndex()),
            "brush": self.draw.brush_spin.value(),
            "fit": self.image_panel.fit,
        }

    def restore_session(self, state: dict) -> None:
        """The shown page (without replacing the session's input) and the brush size."""
        pages = [self.tabs.tabText(i) for i in range(self.tabs.count())]
        if state.get("page") in pages:
            blocked = self.tabs.blockSignals(True)
            self.tabs.setCurrentIndex(pages.index(state["page"]))
            self.tabs.blockSignals(blocked)
        if isinstance(state.get("brush"), int) and not isinstance(state["brush"], bool):
            self.draw.brush_spin.setValue(state["brush"])
        if isinstance(state.get("fit"), str):
            blocked = self.image_panel.fit_box.blockSignals(True)
            self.image_panel.set_fit(state["fit"])
            self.image_panel.fit_box.blockSignals(blocked)

    # -- dataset ----------------------------------------------------------------------------------------
    def select_sample(self, index: int) -> None:
        """Make dataset sample ``index`` the current input (the bundled sample when no dataset is open)."""
        self.browser.ensure_dataset(lambda: self.browser.select(index))

    def show_image_file(self, path: str) -> bool:
        """Use an image file as the input (e.g. dropped on the window): the Image page shows it."""
        self.tabs.setCurrentWidget(self.image_panel)
        return self.load_image(path)

    def _on_sample_chosen(self, image, label: str) -> None:
        self.state.set_input(image, label)

    # -- drawing ------------------------------------------------------------------------------------------
    def _on_ink_changed(self) -> None:
        digit = self.draw.convert()
        self.state.set_input(digit[..., None], "a drawing", settled=not self.draw.canvas.drawing)

    def _on_stroke_finished(self) -> None:
        if self.tabs.currentWidget() is self.draw:
            self.state.settle_input()

    # -- image file ---------------------------------------------------------------------------------------
    def _open_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open an image", "", "Images (*.png *.jpg *.jpeg *.bmp);;All files (*)"
        )
        if path:
            self.load_image(path)

    def _input_image_shape(self) -> tuple:
        info = self.state.info
        shape = info.input_shape if info is not None else None
        if shape is not None and len(shape) == 3 and shape[-1] in (1, 3):
            return tuple(shape)
        if shape is not None and len(shape) == 1 and shape[0] is not None:
            side = int(round(np.sqrt(shape[0])))
            if side * side == shape[0]:
                return (side, side, 1)  # an MLP on flattened square images
        return (28, 28, 1)

    def load_image(self, path: str) -> bool:
        """Use an image file as input; a file that cannot be used is explained below the button."""
        panel = self.image_panel
        shape = self._input_image_shape()
        panel.configure(shape)
        try:
            if shape == (28, 28, 1) and panel.mnist_box.isChecked():
                image = digit_from_image(path, invert=panel.invert)
                how = "the digit cropped to its ink and centred like MNIST"
            else:
                image, (pw, ph), flipped = photo_for_model(path, shape, panel.fit, panel.invert)
                fitted = "its centre" if panel.fit == "crop" else "all of it, with black bars"
                how = f"{fitted} of the {pw}x{ph} picture" + (", inverted" if flipped else "")
        except (ImageInputError, PhotoError) as err:
            panel.path_label.setText(f"<span style='color:#b00020'>{err.message}</span>")
            return False
        h, w, c = image.shape
        panel.path = str(path)
        panel.path_label.setText(Path(path).name)
        panel.preview.set_image(image)
        panel.caption.setText(f"The model gets {w}x{h} {'RGB' if c == 3 else 'grey'}: {how}.")
        self.state.set_input(image, f"image {Path(path).name}")
        return True

    def _reload_image(self, *_) -> None:
        if self.image_panel.path:
            self.load_image(self.image_panel.path)

    # -- convention ---------------------------------------------------------------------------------------
    def _on_model_changed(self, loaded) -> None:
        """The model's guessed convention (chosen by the state already) and why; the image again in its shape."""
        guess = loaded.guess
        self.convention_note.setText(f"Guessed {guess.convention}: {guess.reason}.")
        self.image_panel.configure(self._input_image_shape())
        if self.image_panel.path and self.tabs.currentWidget() is self.image_panel:
            self._reload_image()

    def _on_convention_chosen(self, i: int) -> None:
        self.state.set_convention(self.convention_box.itemData(i))

    def _show_convention(self, convention: str) -> None:
        i = self.convention_box.findData(convention)
        if i >= 0 and i != self.convention_box.currentIndex():
            self.convention_box.blockSignals(True)
            self.convention_box.setCurrentIndex(i)
            self.convention_box.blockSignals(False)
