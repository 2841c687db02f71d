"""The Layers tree: every layer with type, output shape, parameters and receptive field.

Big graphs stay usable: residual / inception blocks (``LayerInfo.block``) and nested models are collapsible
groups, :meth:`LayerTree.set_filter` hides what does not match a part of a name, a type or a block, and a
conv layer's ``map 0 … map N-1`` rows are made only when the layer is opened (DenseNet121 has tens of
thousands of maps: making them all would stall the window). Selecting a layer or maps drives
:class:`AppState`; the state's selection drives the tree back.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem

from cnnviz_gui.core.models.loading import LayerInfo, ModelInfo
from cnnviz_gui.ui.state import AppState

LAYER_ROLE = Qt.ItemDataRole.UserRole
MAP_ROLE = Qt.ItemDataRole.UserRole + 1
#: the block name of a group row (None on layer and map rows)
BLOCK_ROLE = Qt.ItemDataRole.UserRole + 2
COLUMNS = ["Layer", "Type", "Output", "Params", "Receptive field"]
#: models with more layers than this open with their blocks collapsed
COLLAPSE_BLOCKS_ABOVE = 60


def shape_text(shape) -> str:
    """``28 x 28 x 1``; ``?`` for an unknown shape or axis."""
    if shape is None:
        return "?"
    return " x ".join("?" if s is None else str(s) for s in shape)


_shape_text = shape_text


def layer_tooltip(layer: LayerInfo) -> str:
    """What the layer is, and what feeds it and what it feeds."""
    rf = layer.receptive_field_text()
    tip = f"{layer.name} ({layer.type}), output {shape_text(layer.output_shape)}, {layer.params:,} parameters"
    if rf and rf != "full":
        tip += f"; each output value sees {rf} input pixels"
    if layer.block:
        tip += f"\nblock {layer.block}"
    if layer.inbound:
        tip += "\ninputs: " + ", ".join(layer.inbound)
    if layer.outbound:
        tip += "\noutputs: " + ", ".join(layer.outbound)
    return tip


def group_runs(layers: list[LayerInfo]) -> list[tuple[str | None, list[LayerInfo]]]:
    """Consecutive layers of the same block as one run: ``[(block or None, layers), ...]`` in order."""
    runs: list[tuple[str | None, list[LayerInfo]]] = []
    for layer in layers:
        block = layer.block
        if block and runs and runs[-1][0] == block:
            runs[-1][1].append(layer)
        else:
            runs.append((block, [layer]))
    return runs


def _type_starts(type_name: str) -> list[str]:
    """The type name from each of its words on, lower case: ZeroPadding2D -> zeropadding2d, padding2d."""
    starts = [
        i for i, ch in enumerate(type_name) if ch.isupper() and (i == 0 or not type_name[i - 1].isupper())
    ]
    return [type_name[i:].lower() for i in (starts or [0])]


def matches(layer: LayerInfo, text: str) -> bool:
    """Whether the filter ``text`` (lower case) is part of the layer's name or block, or begins its type or
    a word of it ("add" finds ``Add`` layers but not ``ZeroPadding2D``; "norm" finds ``BatchNormalization``)."""
    return (
        text in layer.name.lower()
        or text in (layer.block or "").lower()
        or any(start.startswith(text) for start in _type_starts(layer.type))
    )


class LayerTree(QTreeWidget):
    """Tree of layers (blocks and nested models as groups; maps under conv layers) of the open model."""

    #: the current row changed: the LayerInfo under it, or the block name (str) of a group row, or None
    current_changed = Signal(object)
    #: the filter was cleared because a layer chosen elsewhere was hidden by it
    filter_cleared = Signal()

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(COLUMNS)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.info: ModelInfo | None = None
        self._layer_items: dict[str, QTreeWidgetItem] = {}
        self._layers: dict[str, LayerInfo] = {}
        self._groups: list[QTreeWidgetItem] = []
        self._unfilled: set[str] = set()  # conv layers whose map rows are not made yet
        self._filter = ""
        self._collapse = False
        self._updating = False
        self.itemSelectionChanged.connect(self._on_selection_changed)
        self.itemExpanded.connect(self._on_item_expanded)
        self.currentItemChanged.connect(lambda cur, _prev: self.current_changed.emit(self.describe(cur)))
        state.model_changed.connect(lambda loaded: self.set_model(loaded.info))
        state.maps_selected.connect(self._on_maps_selected)
        state.layer_selected.connect(self._on_layer_selected)

    # -- building -------------------------------------------------------------------------------------
    def set_model(self, info: ModelInfo | None) -> None:
        """Show ``info``'s layers. Blocks start collapsed in models of more than 60 layers."""
        self._updating = True
        self.setUpdatesEnabled(False)
        try:
            self.clear()
            self._layer_items.clear()
            self._layers.clear()
            self._groups.clear()
            self._unfilled.clear()
            self.info = info
            if info is not None:
                n_layers = sum(1 for _ in info.iter_layers())
                self._collapse = collapse = n_layers > COLLAPSE_BLOCKS_ABOVE
                self.addTopLevelItems(self._make_items(info.layers))
                for item in self._groups:
                    is_model = item.data(0, BLOCK_ROLE) is None
                    item.setExpanded(is_model or not collapse)
                for c in range(1, len(COLUMNS)):
                    self.resizeColumnToContents(c)
                self.setColumnWidth(0, self._name_column_width())
            if self._filter:
                self.set_filter(self._filter)
        finally:
            self.setUpdatesEnabled(True)
            self._updating = False

    def _name_column_width(self) -> int:
        """Wide enough for the longest name at its depth (measured on the texts, not on every row)."""
        metrics = self.fontMetrics()
        widest = 0
        for item in (*self._layer_items.values(), *self._groups):
            depth, parent = 0, item.parent()
            while parent is not None:
                depth, parent = depth + 1, parent.parent()
            widest = max(widest, metrics.horizontalAdvance(item.text(0)) + depth * self.indentation())
        return widest + self.indentation() + 24

    def _make_items(self, layers: list[LayerInfo]) -> list[QTreeWidgetItem]:
        items = []
        for block, run in group_runs(layers):
            if block is None or len(run) < 2:
                items.extend(self._make_layer_item(layer) for layer in run)
                continue
            group = QTreeWidgetItem([block, f"block of {len(run)}", shape_text(run[-1].output_shape), "", ""])
            group.setData(0, BLOCK_ROLE, block)
            font = QFont(group.font(0))
            font.setItalic(True)
            group.setFont(0, font)
            group.setFont(1, font)
            params = sum(layer.params for layer in run)
            group.setText(3, f"{params:,}")
            group.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            fed_by = [n for n in run[0].inbound]
            group.setToolTip(
                0,
                f"block {block}: {len(run)} layers, {params:,} parameters"
                + (f"\ninput from {', '.join(fed_by)}" if fed_by else "")
                + f"\noutput {run[-1].name} ({shape_text(run[-1].output_shape)})",
            )
            group.addChildren([self._make_layer_item(layer) for layer in run])
            self._groups.append(group)
            items.append(group)
        return items

    def _make_layer_item(self, layer: LayerInfo) -> QTreeWidgetItem:
        rf = layer.receptive_field_text()
        item = QTreeWidgetItem(
            [
                layer.name,
                layer.type,
                shape_text(layer.output_shape),
                f"{layer.params:,}",
                "whole input" if rf == "full" else rf,
            ]
        )
        item.setData(0, LAYER_ROLE, layer.name)
        item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        item.setToolTip(0, layer_tooltip(layer))
        self._layer_items.setdefault(layer.name, item)
        self._layers.setdefault(layer.name, layer)
        if layer.children:
            item.addChildren(self._make_items(layer.children))
            self._groups.append(item)  # a nested model: open
        elif layer.is_conv and layer.n_maps:
            self._unfilled.add(layer.name)
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
        return item

    def _fill_maps(self, item: QTreeWidgetItem) -> None:
        """Make the ``map i`` rows of a conv layer (once, when it is opened or its maps are selected)."""
        name = item.data(0, LAYER_ROLE)
        if name not in self._unfilled or self._layer_items.get(name) is not item:
            return
        self._unfilled.discard(name)
        layer = self._layers[name]
        h, w = layer.output_shape[0], layer.output_shape[1]
        rows = []
        for i in range(layer.n_maps):
            m = QTreeWidgetItem([f"map {i}", "feature map", f"{h} x {w}", "", ""])
            m.setData(0, LAYER_ROLE, name)
            m.setData(0, MAP_ROLE, i)
            rows.append(m)
        item.addChildren(rows)
        item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.DontShowIndicatorWhenChildless)

    def _on_item_expanded(self, item: QTreeWidgetItem) -> None:
        self._fill_maps(item)
        if item.childCount() and item.child(0).data(0, MAP_ROLE) is not None:
            # map rows sit one level deeper than their layer: make room for "map 1023"
            needed = self.sizeHintForColumn(0) if item.childCount() < 2048 else 0
            if needed > self.columnWidth(0):
                self.setColumnWidth(0, needed)

    # -- look-ups -------------------------------------------------------------------------------------
    def layer_item(self, name: str) -> QTreeWidgetItem | None:
        return self._layer_items.get(name)

    def layer_info(self, name: str) -> LayerInfo | None:
        return self._layers.get(name)

    def map_item(self, layer: str, i: int) -> QTreeWidgetItem | None:
        """The row of map ``i`` of ``layer`` (made when needed)."""
        item = self._layer_items.get(layer)
        if item is None:
            return None
        self._fill_maps(item)
        child = item.child(i) if 0 <= i < item.childCount() else None
        return child if child is not None and child.data(0, MAP_ROLE) == i else None

    def block_layers(self, block: str) -> list[str]:
        """The names of the layers in the group row of ``block`` (in order)."""
        group = next((g for g in self._groups if g.data(0, BLOCK_ROLE) == block), None)
        if group is None:
            return []
        return [group.child(k).data(0, LAYER_ROLE) for k in range(group.childCount())]

    def group_items(self) -> list[QTreeWidgetItem]:
        """The rows of blocks (not of nested models)."""
        return [g for g in self._groups if g.data(0, BLOCK_ROLE) is not None]

    def describe(self, item: QTreeWidgetItem | None):
        """The LayerInfo of a layer row (or of a map row's layer), the block name of a group row, or None."""
        if item is None:
            return None
        name = item.data(0, LAYER_ROLE)
        if name is not None:
            return self._layers.get(name)
        return item.data(0, BLOCK_ROLE)

    # -- filter ---------------------------------------------------------------------------------------
    def set_filter(self, text: str) -> int:
        """Show only the layers whose name, type or block contains ``text`` (any case), with the groups
        that hold them opened; an empty text shows everything again. Returns how many layers match."""
        was, self._filter = self._filter, text.strip().lower()
        text = self._filter
        if not was and not text:  # nothing hidden before or now
            return len(self._layers)
        self.setUpdatesEnabled(False)
        try:
            count = 0
            for i in range(self.topLevelItemCount()):
                count += self._apply_filter(self.topLevelItem(i), text)
            if was and not text:  # back to the blocks as they were opened, with the selection in view
                for group in self.group_items():
                    group.setExpanded(not self._collapse)
                selected = self.selectedItems()
                if selected:
                    self.scrollToItem(selected[0])
        finally:
            self.setUpdatesEnabled(True)
        return count

    def _apply_filter(self, item: QTreeWidgetItem, text: str) -> int:
        """Hide or show ``item`` and its layer descendants; the number of matching layers below and at it."""
        if item.data(0, MAP_ROLE) is not None:
            return 0
        layer = self.describe(item) if item.data(0, LAYER_ROLE) is not None else None
        own = layer is not None and (not text or matches(layer, text))
        below = 0
        for k in range(item.childCount()):
            below += self._apply_filter(item.child(k), text)
        block = item.data(0, BLOCK_ROLE)
        if block is not None and text and text in block.lower():
            own = True  # the block's name matches: its layers are shown (they hold the name, mostly)
        visible = own or below > 0 or not text
        item.setHidden(not visible)
        if text and below > 0:
            item.setExpanded(True)
        return below + (1 if layer is not None and own else 0)

    def visible_layers(self) -> list[str]:
        """Names of the layer rows not hidden by the filter, in tree order."""
        out = []

        def walk(item):
            if item.isHidden() or item.data(0, MAP_ROLE) is not None:
                return
            if item.data(0, LAYER_ROLE) is not None:
                out.append(item.data(0, LAYER_ROLE))
            for k in range(item.childCount()):
                walk(item.child(k))

        for i in range(self.topLevelItemCount()):
            walk(self.topLevelItem(i))
        return out

    def select_first_visible(self) -> bool:
        """Select the first layer the filter leaves (Enter in the filter box)."""
        names = self.visible_layers()
        if names:
            self.state.select_layer(names[0])
            return True
        return False

    # -- keyboard -------------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter opens or closes a block, a nested model or a layer's maps; arrows move and select."""
        item = self.currentItem()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and item is not None:
            if item.data(0, LAYER_ROLE) is not None and not item.isSelected():
                self._select_items([item], notify=True)
            if item.childCount() or item.data(0, LAYER_ROLE) in self._unfilled:
                item.setExpanded(not item.isExpanded())
            event.accept()
            return
        super().keyPressEvent(event)

    # -- selection ------------------------------------------------------------------------------------
    def _on_selection_changed(self) -> None:
        if self._updating:
            return
        items = self.selectedItems()
        if not items:
            return
        current = self.currentItem() if self.currentItem() in items else items[-1]
        layer = current.data(0, LAYER_ROLE)
        if layer is None:  # a block's row: it describes the block, the layer shown stays
            return
        maps = sorted(
            {
                int(it.data(0, MAP_ROLE))
                for it in items
                if it.data(0, LAYER_ROLE) == layer and it.data(0, MAP_ROLE) is not None
            }
        )
        self.state.select_layer(layer)
        self.state.select_maps(layer, maps)

    def _select_items(self, items: list[QTreeWidgetItem], notify: bool = False) -> None:
        self._updating = not notify
        try:
            self.clearSelection()
            for it in items:
                it.setSelected(True)
            if items:
                self.setCurrentItem(items[0], 0, QItemSelectionModel.SelectionFlag.NoUpdate)
                self.scrollToItem(items[0])  # opens the groups above it
        finally:
            self._updating = False

    def _on_layer_selected(self, name: str) -> None:
        item = self._layer_items.get(name)
        if (
            item is not None
            and not item.isSelected()
            and not any(it.data(0, LAYER_ROLE) == name for it in self.selectedItems())
        ):
            if self._filter and self._hidden(item):  # chosen elsewhere (a link, a session): show it
                self.set_filter("")
                self.filter_cleared.emit()
            self._select_items([item])

    @staticmethod
    def _hidden(item: QTreeWidgetItem) -> bool:
        while item is not None:
            if item.isHidden():
                return True
            item = item.parent()
        return False

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
        self._fill_maps(item)
        children = [item.child(i) for i in range(item.childCount())]
        picked = [
            c for c in children if c.data(0, MAP_ROLE) is not None and int(c.data(0, MAP_ROLE)) in wanted
        ]
        item.setExpanded(True)
        self._select_items(picked)
