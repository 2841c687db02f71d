"""The dataset page of the Input pane: source picker, class filter, step / random, thumbnail strip.

Every source (the bundled MNIST sample, ``keras.datasets``, IDX files, ``.npz``, image folders) loads in
the compute process, which keeps it for the jobs that name it (class statistics, encoding); a failure is
shown as a message while the current dataset stays. Choosing a sample makes it the app's current input.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from cnnviz_gui.core.datasets import BUNDLED, Dataset, DatasetError, dataset_sources
from cnnviz_gui.ui.bridge import ComputeBridge
from cnnviz_gui.ui.state import AppState
from cnnviz_gui.ui.widgets.image_widgets import ImagePreview, thumbnail

STRIP_PAGE = 80
OPEN_FILE = "__open_file__"
OPEN_FOLDER = "__open_folder__"


class DatasetBrowser(QWidget):
    """Browse a dataset; the chosen sample becomes the current input."""

    #: a sample was chosen: (image (H, W, C) in 0..1, description)
    sample_chosen = Signal(object, str)

    def __init__(self, state: AppState, bridge: ComputeBridge, parent=None):
        super().__init__(parent)
        self.state = state
        self.bridge = bridge
        self.dataset: Dataset | None = None
        self.index = 0  # index into the dataset
        self._filtered = np.zeros(0, np.int64)
        self._strip_page = -1
        self._rng = np.random.default_rng()
        self._source_key = ""
        self._loading = ""
        self._then: list = []

        self.source_box = QComboBox()
        self.source_box.setToolTip("Where the samples come from")
        self.source_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source_box.setMinimumContentsLength(16)  # long entries do not widen the dock
        for key, label in dataset_sources():
            self.source_box.addItem(label, key)
        self.source_box.addItem("Open a dataset file (IDX, .npz)…", OPEN_FILE)
        self.source_box.addItem("Open an image folder (with or without class sub-folders)…", OPEN_FOLDER)
        self.class_box = QComboBox()
        self.class_box.setToolTip("Class filter: show only the samples of one class")
        self.spin = QSpinBox()
        self.spin.setToolTip("Sample index in the dataset")
        self.spin.setKeyboardTracking(False)
        self.prev_button = QPushButton("◀")
        self.prev_button.setToolTip("Previous sample (of the chosen class)")
        self.next_button = QPushButton("▶")
        self.next_button.setToolTip("Next sample (of the chosen class)")
        self.random_button = QPushButton("Random")
        self.random_button.setToolTip("A random sample (of the chosen class)")
        for b in (self.prev_button, self.next_button):
            b.setFixedWidth(32)
        self.preview = ImagePreview(112, caption="the chosen sample")
        self.info_label = QLabel("")
        self.info_label.setWordWrap(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020")
        self.message.setVisible(False)
        self.strip = QListWidget()
        self.strip.setViewMode(QListWidget.ViewMode.IconMode)
        self.strip.setFlow(QListWidget.Flow.LeftToRight)
        self.strip.setWrapping(True)
        self.strip.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.strip.setIconSize(QSize(40, 40))
        self.strip.setGridSize(QSize(46, 46))
        self.strip.setMinimumHeight(100)
        self.strip.setMovement(QListWidget.Movement.Static)
        self.strip.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.strip.setToolTip("Samples of the chosen class, 80 at a time; click one to use it")

        row1 = QHBoxLayout()
        row1.addWidget(QLabel("Source"))
        row1.addWidget(self.source_box, 1)
        row2 = QHBoxLayout()
        row2.addWidget(self.class_box, 1)
        row2.addWidget(self.prev_button)
        row2.addWidget(self.spin)
        row2.addWidget(self.next_button)
        row2.addWidget(self.random_button)
        row3 = QHBoxLayout()
        row3.addWidget(self.preview)
        row3.addWidget(self.info_label, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(row1)
        lay.addWidget(self.message)
        lay.addLayout(row2)
        lay.addLayout(row3)
        lay.addWidget(self.strip, 1)

        self.source_box.activated.connect(self._on_source_activated)
        self.class_box.currentIndexChanged.connect(self._on_class_changed)
        self.spin.valueChanged.connect(self.select)
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.random_button.clicked.connect(self.random)
        self.strip.itemClicked.connect(lambda item: self.select(int(item.data(Qt.ItemDataRole.UserRole))))

    # -- datasets ----------------------------------------------------------------------------------------
    def ensure_dataset(self, then=None) -> None:
        """Call ``then()`` once there is a dataset: the bundled MNIST sample when none was loaded yet."""
        if self.dataset is not None:
            if then is not None:
                then()
            return
        if then is not None:
            self._then.append(then)
        if not self._loading:
            self.load_source(BUNDLED, select_first=False)

    def set_dataset(self, ds: Dataset, key: str = "") -> None:
        self.dataset = ds
        self._source_key = key
        self.message.setVisible(False)
        i = self.source_box.findData(key)
        if i < 0:
            self.source_box.insertItem(self.source_box.findData(OPEN_FILE), ds.name, key)
            i = self.source_box.findData(key)
        self.source_box.setCurrentIndex(i)
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItem(f"all classes ({len(ds)})", -1)
        counts = np.bincount(ds.y, minlength=len(ds.class_names))
        for c, name in enumerate(ds.class_names):
            self.class_box.addItem(f"{name} ({counts[c]})", c)
        self.class_box.blockSignals(False)
        self.spin.blockSignals(True)
        self.spin.setRange(0, max(len(ds) - 1, 0))
        self.spin.setSuffix(f" / {len(ds) - 1}")
        self.spin.blockSignals(False)
        self._filtered = np.arange(len(ds))
        self._strip_page = -1
        self.state.set_dataset(ds, key)

    def load_source(self, key: str, kind: str = "dataset", select_first: bool = True) -> None:
        """Load a named source or a path in the compute process; on failure the current dataset stays."""
        self.info_label.setText(f"loading {key}…")
        self._loading = key

        def stopped(_partial):
            self._loading = ""

        def failed(err):
            self._loading = ""
            exc = err.exception
            self.show_error(exc.message if isinstance(exc, DatasetError) else err.message)
            i = self.source_box.findData(self._source_key)
            self.source_box.setCurrentIndex(max(i, 0))
            self._update_info()

        def loaded(ds):
            self._loading = ""
            self.set_dataset(ds, key)
            waiting, self._then = self._then, []
            if select_first and not waiting:
                self.select(0)
            for then in waiting:
                then()

        self.bridge.request("datasets.load", {"key": key}, kind=kind, label=f"Loading {key}", on_result=loaded,
                            on_error=failed, on_stopped=stopped)  # fmt: skip

    def show_error(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(True)

    def _on_source_activated(self, i: int) -> None:
        key = self.source_box.itemData(i)
        if key in (OPEN_FILE, OPEN_FOLDER):
            path = self._ask_path(folder=key == OPEN_FOLDER)
            if not path:
                i = self.source_box.findData(self._source_key)
                self.source_box.setCurrentIndex(max(i, 0))
                return
            key = path
        if key != self._source_key:
            self.load_source(key)

    def _ask_path(self, folder: bool) -> str:
        if folder:
            return QFileDialog.getExistingDirectory(
                self, "Open an image folder: its images, or one sub-folder of images per class"
            )
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a dataset", "", "Datasets (*.npz *.gz *idx*-ubyte *idx*);;All files (*)"
        )
        return path

    # -- browsing ------------------------------------------------------------------------------------------
    @property
    def class_filter(self) -> int:
        value = self.class_box.currentData()
        return -1 if value is None else int(value)

    def set_class_filter(self, c: int) -> None:
        i = self.class_box.findData(c)
        if i >= 0:
            self.class_box.setCurrentIndex(i)

    def _on_class_changed(self, *_) -> None:
        ds = self.dataset
        if ds is None:
            return
        c = self.class_filter
        self._filtered = np.arange(len(ds)) if c < 0 else np.flatnonzero(ds.y == c)
        self._strip_page = -1
        if len(self._filtered):
            self.select(int(self._filtered[0]))

    def _position(self) -> int:
        """Position of the current sample in the filtered list (the nearest one when filtered out)."""
        pos = int(np.searchsorted(self._filtered, self.index))
        return min(pos, len(self._filtered) - 1)

    def step(self, delta: int) -> None:
        if not len(self._filtered):
            return
        pos = self._position()
        if pos < len(self._filtered) and self._filtered[pos] != self.index and delta > 0:
            delta -= 1  # the current sample is not in the filter: the next one is at ``pos``
        self.select(int(self._filtered[(pos + delta) % len(self._filtered)]))

    def random(self) -> None:
        if len(self._filtered):
            self.select(int(self._rng.choice(self._filtered)))

    def select(self, index: int) -> None:
        """Make sample ``index`` the current input (once the bundled sample is here, when none was yet)."""
        ds = self.dataset
        if ds is None:
            self.ensure_dataset(lambda: self.select(index))
            return
        if not 0 <= index < len(ds):
            return
        self.index = int(index)
        if self.spin.value() != index:
            self.spin.blockSignals(True)
            self.spin.setValue(index)
            self.spin.blockSignals(False)
        image = ds.image(index)
        self.preview.set_image(image)
        self._update_strip()
        self._update_info()
        self.sample_chosen.emit(image, self.describe(index))

    def describe(self, index: int) -> str:
        ds = self.dataset
        return f"{ds.name} sample #{index} (label {ds.class_names[int(ds.y[index])]})"

    def _update_info(self) -> None:
        ds = self.dataset
        if ds is None:
            return
        label = ds.class_names[int(ds.y[self.index])]
        h, w, c = ds.x.shape[1:]
        self.info_label.setText(
            f"<b>#{self.index}</b>, label <b>{label}</b><br>{ds.name}<br>{len(ds)} images of {h}x{w}x{c}"
        )

    def _update_strip(self) -> None:
        ds = self.dataset
        pos = self._position()
        page = pos // STRIP_PAGE
        if page != self._strip_page:
            self._strip_page = page
            self.strip.clear()
            for k in self._filtered[page * STRIP_PAGE : (page + 1) * STRIP_PAGE]:
                item = QListWidgetItem(thumbnail(ds.image(k), 40), "")
                item.setData(Qt.ItemDataRole.UserRole, int(k))
                item.setToolTip(f"#{k}: {ds.class_names[int(ds.y[k])]}")
                self.strip.addItem(item)
        for row in range(self.strip.count()):
            item = self.strip.item(row)
            if int(item.data(Qt.ItemDataRole.UserRole)) == self.index:
                self.strip.setCurrentItem(item)
                self.strip.scrollToItem(item)
                break
