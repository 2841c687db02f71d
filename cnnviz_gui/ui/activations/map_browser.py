"""A layer's maps at any scale: 2048 maps of 7x7 or 64 of 112x112, both readable.

The maps are ordered (by index, or by mean or maximum activation, most active first), optionally cut to the
top N, and shown a page at a time in one :class:`MapGrid` mosaic (one ``setImage`` per update). "Fit" pages
hold as many tiles as the view shows at least :data:`MIN_TILE_PIXELS` on screen; the wheel zooms and a drag
pans inside a page. Tiles are labelled with their map index, hover reads out values, a click picks the map.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from cnnviz_gui.ui.widgets.map_grid import MapGrid, nice_levels

#: how small a tile may be drawn on screen (pixels on its longer side) before "fit" starts a new page
MIN_TILE_PIXELS = 28
SORTS = {"index": "map index", "mean": "mean activation", "max": "max activation"}
SORT_LABELS = {"index": "by index", "mean": "by mean", "max": "by max"}
TOPS = (0, 16, 64, 256)
PAGE_SIZES = (0, 64, 256, 1024, -1)  # 0: fit the view, -1: every map on one page


def map_order(maps: np.ndarray, sort: str = "index", top: int = 0) -> np.ndarray:
    """The indices of the maps (N, H, W) to show, in order: by index, or by ``mean`` / ``max`` activation
    (highest first, ties by index); ``top`` > 0 keeps the ``top`` most active (by the sort's measure, by the
    mean when sorted by index) in the chosen order."""
    n = len(maps)
    flat = np.asarray(maps, dtype=np.float32).reshape(n, -1)
    measure = flat.max(axis=1) if sort == "max" else flat.mean(axis=1)
    measure = np.where(np.isfinite(measure), measure, -np.inf)
    by_activity = np.lexsort((np.arange(n), -measure))
    if top and top < n:
        chosen = by_activity[:top]
        return chosen if sort != "index" else np.sort(chosen)
    return by_activity if sort != "index" else np.arange(n)


def fit_page_size(view_w: float, view_h: float, tile_h: int, tile_w: int) -> int:
    """How many tiles of (tile_h, tile_w) the view shows with each at least MIN_TILE_PIXELS on screen (or at
    its own size when smaller maps would need magnifying less)."""
    side = max(MIN_TILE_PIXELS, 1)
    scale = side / max(tile_h, tile_w)
    cols = max(1, int(view_w // (tile_w * scale)))
    rows = max(1, int(view_h // (tile_h * scale)))
    return cols * rows


class MapBrowser(QWidget):
    """Sort, top N and pages of a layer's maps above one :class:`MapGrid`; clicks name the map index."""

    #: a map was clicked: its index in the layer
    map_clicked = Signal(int)
    #: the order, top N or page changed (the person's choice): views that export follow it
    view_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.grid = MapGrid()
        self.sort_box = QComboBox()
        for key, text in SORT_LABELS.items():
            self.sort_box.addItem(text, key)
        self.sort_box.setToolTip("Order of the maps: by index, or most active first (mean or maximum value)")
        self.top_box = QComboBox()
        for n in TOPS:
            self.top_box.addItem("all maps" if n == 0 else f"top {n}", n)
        self.top_box.setToolTip("Show only the N most active maps for this input")
        self.page_size_box = QComboBox()
        for n in PAGE_SIZES:
            self.page_size_box.addItem({0: "fit", -1: "all"}.get(n, f"{n}/page"), n)
        self.page_size_box.setToolTip(
            "Maps per page; 'fit': as many as the view shows readably (wheel zooms, drag pans)"
        )
        self.prev_button = QPushButton("◀")
        self.next_button = QPushButton("▶")
        for b, tip in ((self.prev_button, "Previous page of maps"), (self.next_button, "Next page of maps")):
            b.setFixedWidth(30)
            b.setToolTip(tip)
        self.page_label = QLabel("")
        self.page_label.setToolTip("The page of maps shown")
        self.fit_button = QPushButton("Fit")
        self.fit_button.setToolTip("Undo zoom and pan: the whole page in view")
        for box in (self.sort_box, self.top_box, self.page_size_box):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("Show"))
        bar.addWidget(self.top_box)
        bar.addWidget(self.sort_box)
        bar.addStretch(1)
        bar.addWidget(self.page_size_box)
        bar.addWidget(self.prev_button)
        bar.addWidget(self.page_label)
        bar.addWidget(self.next_button)
        bar.addWidget(self.fit_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(bar)
        lay.addWidget(self.grid, 1)

        self.maps: np.ndarray | None = None
        self.order = np.zeros(0, np.int64)
        self.page = 0
        self.per_map = False
        self._highlight: int | None = None
        self.grid.describe = lambda k: f"map {self.index_at(k)}"
        self.grid.map_clicked.connect(lambda k: self.map_clicked.emit(self.index_at(k)))
        self.grid.plot.getViewBox().sigResized.connect(self._on_view_resized)
        self.sort_box.currentIndexChanged.connect(lambda *_: self._changed(first_page=True))
        self.top_box.currentIndexChanged.connect(lambda *_: self._changed(first_page=True))
        self.page_size_box.currentIndexChanged.connect(lambda *_: self._changed(first_page=False))
        self.prev_button.clicked.connect(lambda: self.set_page(self.page - 1))
        self.next_button.clicked.connect(lambda: self.set_page(self.page + 1))
        self.fit_button.clicked.connect(lambda: self.grid.plot.autoRange(padding=0.01))

    # -- choices --------------------------------------------------------------------------------------
    @property
    def sort(self) -> str:
        return self.sort_box.currentData()

    @property
    def top(self) -> int:
        return int(self.top_box.currentData())

    def set_sort(self, sort: str) -> None:
        i = self.sort_box.findData(sort)
        if i >= 0:
            self.sort_box.setCurrentIndex(i)

    def set_top(self, n: int) -> None:
        i = self.top_box.findData(n)
        if i >= 0:
            self.top_box.setCurrentIndex(i)

    def set_page_size(self, n: int) -> None:
        i = self.page_size_box.findData(n)
        if i >= 0:
            self.page_size_box.setCurrentIndex(i)

    def page_size(self) -> int:
        """Maps on one page for the current layer and view size."""
        chosen = int(self.page_size_box.currentData())
        if self.maps is None or chosen == -1:
            return max(len(self.order), 1)
        if chosen > 0:
            return chosen
        rect = self.grid.plot.getViewBox().sceneBoundingRect()
        h, w = self.maps.shape[1:]
        pad = 1 if max(h, w) < 8 else 2
        return fit_page_size(max(rect.width(), 200.0), max(rect.height(), 150.0), h + pad, w + pad)

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.order) // self.page_size()))

    def page_indices(self) -> np.ndarray:
        """The map indices on the current page, in their order."""
        size = self.page_size()
        return self.order[self.page * size : (self.page + 1) * size]

    def index_at(self, k: int) -> int:
        """The map index of tile ``k`` of the page."""
        return int(self.page_indices()[k])

    def session_state(self) -> dict:
        return {"sort": self.sort, "top": self.top, "page_size": int(self.page_size_box.currentData())}

    def restore_session(self, state: dict) -> None:
        if isinstance(state.get("sort"), str):
            self.set_sort(state["sort"])
        for key, setter in (("top", self.set_top), ("page_size", self.set_page_size)):
            if isinstance(state.get(key), int) and not isinstance(state[key], bool):
                setter(state[key])

    def description(self) -> str:
        """What is shown, for titles: "top 64 by mean activation" or ""."""
        parts = []
        if self.top:
            parts.append(f"top {self.top}")
        if self.sort != "index":
            parts.append(f"by {SORTS[self.sort]}")
        return " ".join(parts)

    # -- content --------------------------------------------------------------------------------------
    def set_maps(self, maps: np.ndarray, per_map: bool = False) -> None:
        """Show a layer's maps (N, H, W) in the chosen order, the current page; levels are shared by the
        whole layer (not by the page) unless ``per_map``. Same layer, new input: pixels and, when the order
        changed, labels are replaced; the page stays."""
        maps = np.asarray(maps, dtype=np.float32)
        if self.maps is None or maps.shape != self.maps.shape:
            self.page = 0
        self.maps, self.per_map = maps, per_map
        self.order = map_order(maps, self.sort, self.top)
        self.page = min(self.page, self.pages - 1)
        self._draw()

    def clear(self, message: str = "") -> None:
        self.maps = None
        self.order = np.zeros(0, np.int64)
        self.page = 0
        self.grid.clear(message)
        self._update_controls()

    def set_page(self, page: int) -> None:
        if self.maps is None:
            return
        page = max(0, min(int(page), self.pages - 1))
        if page != self.page:
            self.page = page
            self._draw()
            self.view_changed.emit()

    def show_map(self, index: int | None) -> None:
        """Outline map ``index`` (turning to its page; with a top N that leaves it out, nothing)."""
        self._highlight = index
        if self.maps is None or index is None:
            self.grid.set_highlight(None)
            return
        where = np.flatnonzero(self.order == index)
        if not len(where):
            self.grid.set_highlight(None)
            return
        page = int(where[0]) // self.page_size()
        if page != self.page:
            self.page = page
            self._draw()
        self._outline()

    def _outline(self) -> None:
        idx = self.page_indices()
        where = np.flatnonzero(idx == self._highlight) if self._highlight is not None else []
        self.grid.set_highlight(int(where[0]) if len(where) else None)

    def _draw(self) -> None:
        maps = self.maps
        idx = self.page_indices()
        levels = None
        if not self.per_map:
            finite = maps[np.isfinite(maps)] if np.isnan(maps).any() else maps
            levels = nice_levels(float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        shown = maps if len(idx) == len(maps) and self.sort == "index" else maps[idx]
        self._last_size = self.page_size()
        self.grid.set_maps(shown, per_map=self.per_map, levels=levels, names=[str(int(i)) for i in idx])
        self._outline()
        self._update_controls()

    def _update_controls(self) -> None:
        n_pages = self.pages if self.maps is not None else 1
        idx = self.page_indices() if self.maps is not None else []
        many = n_pages > 1
        self.prev_button.setEnabled(many and self.page > 0)
        self.next_button.setEnabled(many and self.page < n_pages - 1)
        if self.maps is None:
            text = ""
        elif many:
            text = f"{self.page + 1}/{n_pages}"
        else:
            text = f"{len(self.order)} of {len(self.maps)}" if self.top else "1/1"
        if self.page_label.text() != text:
            self.page_label.setText(text)
            if self.maps is not None and len(idx):
                self.page_label.setToolTip(
                    f"page {self.page + 1} of {n_pages}: {len(idx)} of the {len(self.order)} maps shown"
                )

    def _changed(self, first_page: bool) -> None:
        if self.maps is None:
            return
        if first_page:
            self.page = 0
        self.set_maps(self.maps, self.per_map)
        self.view_changed.emit()

    def _on_view_resized(self, *_) -> None:
        """ "Fit" pages follow the view's size: keep the first map of the page in view."""
        if self.maps is None or int(self.page_size_box.currentData()) != 0:
            return
        first = self.page * self._last_size if self._last_size else 0
        size = self.page_size()
        if size != self._last_size:
            self._last_size = size
            self.page = min(first // size, self.pages - 1)
            self._draw()

    _last_size = 0
