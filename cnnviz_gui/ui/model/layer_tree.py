"""The Layers tree: every layer with type, output shape, parameters and receptive field; conv layers
expand into their maps, nested models into their layers. Selecting drives :class:`AppState`."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem

from cnnviz_gui.core.models.loading import LayerInfo, ModelInfo
from cnnviz_gui.ui.state import AppState

LAYER_ROLE = Qt.ItemDataRole.UserRole
MAP_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ["Layer", "Type", "Output", "Params", "Receptive field"]


def _shape_text(shape) -> str:
    if shape is None:
        return "?"
    return " x ".join("?" if s is None else str(s) for s in shape)


class LayerTree(QTreeWidget):
    """Tree of layers (and maps) of the open model."""

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(COLUMNS)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self._layer_items: dict[str, QTreeWidgetItem] = {}
        self._updating = False
        self.itemSelectionChanged.connect(self._on_selection_changed)
        # map rows sit one level deeper than their layer: widen the name column when they appear ("map 10")
        self.itemExpanded.connect(lambda *_: self.resizeColumnToContents(0))
        state.model_changed.connect(lambda loaded: self.set_model(loaded.info))
        state.maps_selected.connect(self._on_maps_selected)
        state.layer_selected.connect(self._on_layer_selected)

    def set_model(self, info: ModelInfo | None) -> None:
        self._updating = True
        try:
            self.clear()
            self._layer_items.clear()
            if info is not None:
                for layer in info.layers:
                    self.addTopLevelItem(self._make_item(layer))
                for item in self._layer_items.values():
                    item.setExpanded(
                        any(item.child(i).data(0, MAP_ROLE) is None for i in range(item.childCount()))
                    )
                for c in range(len(COLUMNS)):
                    self.resizeColumnToContents(c)
        finally:
            self._updating = False

    def _make_item(self, layer: LayerInfo) -> QTreeWidgetItem:
        rf = layer.receptive_field_text()
        item = QTreeWidgetItem(
            [
                layer.name,
                layer.type,
                _shape_text(layer.output_shape),
                f"{layer.params:,}",
                "whole input" if rf == "full" else rf,
            ]
        )
        item.setData(0, LAYER_ROLE, layer.name)
        item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        tip = f"{layer.name} ({layer.type}), output {_shape_text(layer.output_shape)}, {layer.params:,} parameters"
        if rf and rf != "full":
            tip += f"; each output value sees {rf} input pixels"
        item.setToolTip(0, tip)
        self._layer_items[layer.name] = item
        for child in layer.children:
            item.addChild(self._make_item(child))
        if layer.is_conv and layer.n_maps:
            h, w = layer.output_shape[0], layer.output_shape[1]
            for i in range(layer.n_maps):
                m = QTreeWidgetItem([f"map {i}", "feature map", f"{h} x {w}", "", ""])
                m.setData(0, LAYER_ROLE, layer.name)
                m.setData(0, MAP_ROLE, i)
                item.addChild(m)
        return item

    def layer_item(self, name: str) -> QTreeWidgetItem | None:
        return self._layer_items.get(name)

    def _on_selection_changed(self) -> None:
        if self._updating:
            return
        items = self.selectedItems()
        if not items:
            return
        current = self.currentItem() or items[-1]
        layer = current.data(0, LAYER_ROLE)
        maps = sorted(
            {
                int(it.data(0, MAP_ROLE))
                for it in items
                if it.data(0, LAYER_ROLE) == layer and it.data(0, MAP_ROLE) is not None
            }
        )
        self.state.select_layer(layer)
        self.state.select_maps(layer, maps)

    def _select_items(self, items: list[QTreeWidgetItem]) -> None:
        self._updating = True
        try:
            self.clearSelection()
            for it in items:
                it.setSelected(True)
            if items:
                self.setCurrentItem(items[0], 0, QItemSelectionModel.SelectionFlag.NoUpdate)
                self.scrollToItem(items[0])
        finally:
            self._updating = False

    def _on_layer_selected(self, name: str) -> None:
        item = self._layer_items.get(name)
        if (
            item is not None
            and not item.isSelected()
            and not any(it.data(0, LAYER_ROLE) == name for it in self.selectedItems())
        ):
            self._select_items([item])

    def _on_maps_selected(self, layer: str, maps: list) -> None:
        item = self._layer_items.get(layer)
        if item is None:
            return
        wanted = set(maps)
        current = {
            int(it.data(0, MAP_ROLE))
            for it in self.selectedItems()
            if it.data(0, LAYER_ROLE) == layer and it.data(0, MAP_ROLE) is not None
        }
        if current == wanted:
            return
        if not wanted:
            self._select_items([item])
            return
        children = [item.child(i) for i in range(item.childCount())]
        picked = [
            c for c in children if c.data(0, MAP_ROLE) is not None and int(c.data(0, MAP_ROLE)) in wanted
        ]
        item.setExpanded(True)
        self._select_items(picked)
