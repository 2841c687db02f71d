"""The Compare tab: what makes a "4" a "4" (filter correlation patterns).

Top: 2–8 pinned inputs, one row of the selected layer's maps per input, all with the same levels.
Bottom: class statistics over the Input pane's dataset (mean activation of every map per class, computed in
the compute process with progress; maps silent for a class marked) and the difference between two classes.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cnnviz_gui.core.activations.maps import maps_of
from cnnviz_gui.ui.activations.class_stats import ClassStatsPanel
from cnnviz_gui.ui.bridge import ComputeBridge
from cnnviz_gui.ui.state import AppState
from cnnviz_gui.ui.widgets.colour_choice import ColourChoice
from cnnviz_gui.ui.widgets.image_widgets import thumbnail
from cnnviz_gui.ui.widgets.map_grid import MapGrid

MAX_PINS = 8
MAX_COLUMNS = 32


def as_tiles(output: np.ndarray) -> np.ndarray:
    """A layer output as tiles (N, H, W): the maps of an image-like output, 1x1 tiles for unit values."""
    maps = maps_of(output)
    return maps if maps is not None else np.asarray(output, np.float32).reshape(-1, 1, 1)


def pinned_rows(outputs: list[np.ndarray]) -> tuple[np.ndarray, int, int]:
    """Stack one layer's outputs of several inputs into tiles for one mosaic: each input starts a new row
    (wrapped after ``MAX_COLUMNS`` maps, or 100 units); returns (tiles, columns, rows per input)."""
    tiles = [as_tiles(o) for o in outputs]
    n, h, w = tiles[0].shape
    ncols = min(n, MAX_COLUMNS if h * w > 1 else 100)
    rows = int(np.ceil(n / ncols))
    if rows > 1:
        rows += 1  # an empty row of tiles separates inputs whose maps need several rows
    out = np.full((len(tiles), rows * ncols, h, w), np.nan, np.float32)
    for k, t in enumerate(tiles):
        out[k, :n] = t
    return out.reshape(-1, h, w), ncols, rows


class CompareView(QWidget):
    """Pinned inputs side by side, class statistics heat map and class difference."""

    title = "Compare"

    def __init__(self, state: AppState, bridge: ComputeBridge, parent=None):
        super().__init__(parent)
        self.state = state
        self.bridge = bridge
        self.pins: list[dict] = []  # {"image", "label", "layers"}

        self.pin_button = QPushButton("Pin current input")
        self.pin_button.setToolTip(f"Add the current input as a row (up to {MAX_PINS})")
        self.unpin_button = QPushButton("Remove")
        self.unpin_button.setToolTip("Remove the selected pinned input")
        self.clear_button = QPushButton("Remove all")
        self.pin_list = QListWidget()
        self.pin_list.setViewMode(QListWidget.ViewMode.IconMode)
        self.pin_list.setFlow(QListWidget.Flow.LeftToRight)
        self.pin_list.setWrapping(False)
        self.pin_list.setFixedHeight(64)
        self.pin_list.setMinimumWidth(120)
        self.pin_list.setMovement(QListWidget.Movement.Static)
        self.colours = ColourChoice("Colour map of the pinned rows and the heat map", initial="jet")
        self.rows_title = QLabel("Pin 2–8 inputs to compare their maps row by row")
        self.rows_title.setStyleSheet("font-weight: bold")
        self.rows_title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.grid = MapGrid()
        self.grid.setMinimumHeight(160)

        bar = QHBoxLayout()
        bar.addWidget(self.pin_button)
        bar.addWidget(self.unpin_button)
        bar.addWidget(self.clear_button)
        bar.addWidget(self.pin_list, 1)
        bar.addWidget(self.colours)
        top = QWidget()
        top_lay = QVBoxLayout(top)
        top_lay.setContentsMargins(0, 0, 0, 0)
        top_lay.addLayout(bar)
        top_lay.addWidget(self.rows_title)
        top_lay.addWidget(self.grid, 1)

        self.stats_panel = ClassStatsPanel(state, bridge)
        self.stats_plot = self.stats_panel.plot

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.stats_panel)
        split.setSizes([350, 450])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(split)

        self.pin_button.clicked.connect(self.pin_current)
        self.unpin_button.clicked.connect(self._unpin_selected)
        self.clear_button.clicked.connect(self.clear_pins)
        self.colours.changed.connect(self._on_cmap)
        self.grid.map_clicked.connect(self._on_tile_clicked)
        self.stats_plot.map_clicked.connect(self._select_map)
        self.grid.describe = self._describe_tile
        state.layer_selected.connect(lambda *_: self._on_layer_changed())
        state.model_changed.connect(self._on_model_changed)
        state.convention_changed.connect(lambda *_: self._recompute_pins())
        state.model_reopened.connect(lambda *_: self._recompute_pins())
        state.dataset_changed.connect(self._apply_pending_classes)  # after the panel filled its boxes
        self.grid.set_colormap(self.cmap)
        self.stats_plot.set_colormap(self.cmap)
        self._update_rows()

    @property
    def cmap(self) -> str:
        return self.colours.name

    # -- pins -------------------------------------------------------------------------------------------
    def pin_current(self) -> bool:
        """Pin the current input; False when there is none or already ``MAX_PINS`` are pinned."""
        if self.state.input_image is None or self.state.loaded is None:
            self.rows_title.setText("Choose an input first (Input pane), then pin it")
            return False
        if len(self.pins) >= MAX_PINS:
            self.rows_title.setText(f"At most {MAX_PINS} inputs can be pinned; remove one first")
            return False
        pin = {
            "image": self.state.input_image.copy(),
            "label": self.state.input_label or "input",
            "layers": None,
        }
        self.pins.append(pin)
        item = QListWidgetItem(thumbnail(pin["image"], 40), f"{len(self.pins)}")
        item.setToolTip(pin["label"])
        self.pin_list.addItem(item)
        self._recompute_pins()
        return True

    def clear_pins(self) -> None:
        self.pins.clear()
        self.pin_list.clear()
        self._update_rows()

    def _unpin_selected(self) -> None:
        row = self.pin_list.currentRow()
        if 0 <= row < len(self.pins):
            del self.pins[row]
            self.pin_list.takeItem(row)
            for k in range(self.pin_list.count()):
                self.pin_list.item(k).setText(str(k + 1))
            self._update_rows()

    def _recompute_pins(self) -> None:
        """One batched forward pass of every pinned input (all layers at once) in the compute process."""
        loaded = self.state.loaded
        if loaded is None or not self.pins:
            self._update_rows()
            return
        images = [p["image"] for p in self.pins]

        def done(outs):
            if len(images) != len(self.pins):
                return  # pins changed meanwhile: a newer request follows
            for k, pin in enumerate(self.pins):
                pin["layers"] = {name: v[k] for name, v in outs.items()}
            self._update_rows()

        params = {"model": loaded.id, "images": images, "convention": self.state.convention}
        self.bridge.request("activations.batch", params, kind="compare-pins", label="Forward pass of pinned inputs",
                            on_result=done)  # fmt: skip

    def _layer_key(self, layers: dict) -> str | None:
        layer = self.state.layer
        if not layer:
            return None
        if layer in layers:
            return layer
        return next((k for k in layers if k.split("/")[-1] == layer), None)

    def pinned_outputs(self) -> tuple[str, list[np.ndarray]] | None:
        """The selected layer's output of every pinned input (None until computed)."""
        if not self.pins or any(p["layers"] is None for p in self.pins):
            return None
        key = self._layer_key(self.pins[0]["layers"])
        if key is None:
            return None
        return key, [p["layers"][key] for p in self.pins]

    def _update_rows(self) -> None:
        cur = self.pinned_outputs()
        if cur is None:
            self.grid.clear(
                "Pin inputs (Input pane, then 'Pin current input') to compare them" if not self.pins else ""
            )
            self.grid.plot.hideAxis("left")
            self.rows_title.setText(
                "Pin 2–8 inputs to compare their maps row by row"
                if not self.pins
                else "Choose a layer in the Layers tree"
            )
            return
        key, outputs = cur
        tiles, ncols, rows = pinned_rows(outputs)
        n = as_tiles(outputs[0]).shape[0]
        per_input = rows * ncols
        names = [str(i % per_input) if i % per_input < n else "" for i in range(len(tiles))]
        self._tile_info = (per_input, n)
        self.grid.set_maps(tiles, per_map=False, ncols=ncols, names=names)
        h = tiles.shape[1] + self.grid.pad
        axis = self.grid.plot.getAxis("left")
        used = int(np.ceil(n / ncols))
        ticks = [((k * rows + used / 2) * h, f"{k + 1}") for k in range(len(outputs))]
        axis.setTicks([ticks, []])
        self.grid.plot.showAxis("left")
        axis.setLabel("pinned input")
        unit = "maps" if maps_of(outputs[0]) is not None else "units"
        lo, hi = self.grid.levels
        self.rows_title.setText(
            f"{key}: {n} {unit} of {len(outputs)} pinned inputs, shared levels {lo:.3g} … {hi:.3g}"
        )

    _tile_info = (1, 1)

    def _describe_tile(self, i: int) -> str:
        per_input, _ = self._tile_info
        k, m = divmod(i, per_input)
        label = self.pins[k]["label"] if k < len(self.pins) else ""
        return f"input {k + 1} ({label}), map {m}"

    def _on_tile_clicked(self, i: int) -> None:
        per_input, n = self._tile_info
        m = i % per_input
        if m < n:
            self._select_map(m)

    def _select_map(self, m: int) -> None:
        cur = self.pinned_outputs()
        layer = self.state.layer
        if layer and (cur is None or maps_of(cur[1][0]) is not None or self.stats_plot.stats is not None):
            self.state.select_maps(layer, [int(m)])

    # -- state ------------------------------------------------------------------------------------------
    def _on_layer_changed(self) -> None:
        self._update_rows()

    def _on_model_changed(self, loaded) -> None:
        for pin in self.pins:  # the previous model's outputs must never be shown with the new one
            pin["layers"] = None
        self._recompute_pins()

    def _on_cmap(self, name: str) -> None:
        self.grid.set_colormap(name)
        self.stats_plot.set_colormap(name)

    # -- sessions and preferences ----------------------------------------------------------------------
    def session_state(self) -> dict:
        classes = self.stats_panel.classes()
        return {
            **self.colours.session_state(),
            "classes": list(classes) if classes is not None else None,
            "per_class": self.stats_panel.per_class.value(),
        }

    def restore_session(self, state: dict) -> None:
        """Colour map (when chosen in the view), the class pair of the difference, samples per class."""
        self.colours.restore_session(state)
        classes = state.get("classes")
        if isinstance(classes, list) and len(classes) == 2 and all(isinstance(c, int) for c in classes):
            self._pending_classes = (classes[0], classes[1])
            self._apply_pending_classes()
        if isinstance(state.get("per_class"), int):
            self.stats_panel.per_class.setValue(state["per_class"])

    _pending_classes: tuple[int, int] | None = None

    def _apply_pending_classes(self, *_) -> None:
        """The session's class pair, as soon as the dataset names that many classes (then forgotten)."""
        n, pair = self.stats_panel.class_a.count(), self._pending_classes
        if pair is not None and all(0 <= c < n for c in pair):
            self.stats_panel.set_classes(*pair)
            self._pending_classes = None

    def apply_preferences(self, prefs) -> None:
        """The default colour map, unless the person chose one in this view."""
        self.colours.apply_preference(prefs.colormap)

    # -- export -----------------------------------------------------------------------------------------
    def export_figure(self):
        cur = self.pinned_outputs()
        stats = self.stats_plot.stats
        if cur is None and stats is None:
            return None
        from cnnviz_gui.core.activations.figures import compare_figure

        rows = None
        if cur is not None:
            rows = (cur[0], [as_tiles(o) for o in cur[1]], [p["label"] for p in self.pins])
        return compare_figure(rows, stats, self.stats_panel.classes(), cmap=self.cmap)

    def export_arrays(self) -> dict | None:
        arrays: dict = {}
        cur = self.pinned_outputs()
        if cur is not None:
            arrays["pinned_layer"] = np.array(cur[0])
            arrays["pinned_activations"] = np.stack(cur[1])
            arrays["pinned_inputs"] = np.stack([p["image"] for p in self.pins])
            arrays["pinned_labels"] = np.array([p["label"] for p in self.pins])
        stats = self.stats_plot.stats
        if stats is not None:
            arrays.update({f"stats_{k}": v for k, v in stats.to_arrays().items()})
            arrays["stats_layer"] = np.array(stats.layer)
            diff = self.stats_plot.difference
            if diff is not None:
                arrays["difference_classes"] = np.array([diff.a, diff.b])
                arrays["difference"] = diff.diff
                arrays["separation"] = diff.separation
        return arrays or None
