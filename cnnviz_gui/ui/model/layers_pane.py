"""The Layers dock: a filter box, the layer tree and a details line saying what feeds the current layer and
what it feeds, each a link that jumps there (what goes into an ``Add`` or a ``Concatenate``)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QSizePolicy, QVBoxLayout, QWidget

from cnnviz_gui.core.models.loading import LayerInfo
from cnnviz_gui.ui.model.layer_tree import LayerTree, shape_text
from cnnviz_gui.ui.state import AppState

LINK_PREFIX = "layer:"


#: names listed per line of the details (the rest counted; all are in the row's tooltip)
MAX_LINKS = 6


def layer_links(names: list[str], known) -> str:
    """Names as links (``layer:<name>``) where ``known(name)`` (a layer of the tree), else plain text; after
    MAX_LINKS names, how many more."""
    parts = []
    for name in names[:MAX_LINKS]:
        text = html.escape(name)
        parts.append(f'<a href="{LINK_PREFIX}{text}">{text}</a>' if known(name) else f"{text} (its input)")
    if len(names) > MAX_LINKS:
        parts.append(f"and {len(names) - MAX_LINKS} more")
    return ", ".join(parts)


class FilterBox(QLineEdit):
    """The filter's text box; Down and Enter move into the tree."""

    def __init__(self, tree: LayerTree, parent=None):
        super().__init__(parent)
        self.tree = tree

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.tree.select_first_visible():
                self.tree.setFocus()
            return
        if event.key() == Qt.Key.Key_Down:
            self.tree.setFocus()
            return
        super().keyPressEvent(event)


class LayersPane(QWidget):
    """Filter box, tree, and the current layer's inputs and outputs."""

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.tree = LayerTree(state)
        self.filter_box = FilterBox(self.tree)
        self.filter_box.setPlaceholderText("Filter layers: name, type or block")
        self.filter_box.setClearButtonEnabled(True)
        self.filter_box.setToolTip(
            "Show only the layers whose name, type or block contains this text (Ctrl+F). "
            "Enter selects the first one; the arrow keys then move through them."
        )
        self.count_label = QLabel("")
        self.count_label.setStyleSheet("color: #666")
        self.details = QLabel("")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.details.setFixedHeight(self.details.fontMetrics().lineSpacing() * 5 + 6)
        self.details.setToolTip("What feeds the layer and what it feeds: click a name to go there")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.filter_box, 1)
        row.addWidget(self.count_label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(3)
        lay.addLayout(row)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.details)

        self.filter_box.textChanged.connect(self._on_filter_changed)
        self.tree.filter_cleared.connect(self._on_filter_cleared)
        self.tree.current_changed.connect(self.show_details)
        self.details.linkActivated.connect(self._on_link)
        state.model_changed.connect(lambda *_: self._on_filter_changed(self.filter_box.text()))
        state.layer_selected.connect(lambda name: self.show_details(self.tree.layer_info(name)))

    def focus_filter(self) -> None:
        """Put the cursor in the filter box (Ctrl+F), its text selected."""
        self.filter_box.setFocus()
        self.filter_box.selectAll()

    def _on_filter_changed(self, text: str) -> None:
        count = self.tree.set_filter(text)
        info = self.tree.info
        total = sum(1 for _ in info.iter_layers()) if info is not None else 0
        if info is None:
            self.count_label.setText("")
        elif text.strip():
            self.count_label.setText(f"{count} of {total}")
        else:
            self.count_label.setText(f"{total} layers")

    def _on_filter_cleared(self) -> None:
        blocked = self.filter_box.blockSignals(True)
        self.filter_box.clear()
        self.filter_box.blockSignals(blocked)
        self._on_filter_changed("")

    def _on_link(self, href: str) -> None:
        if href.startswith(LINK_PREFIX):
            name = href[len(LINK_PREFIX) :]
            self.state.select_layer(name)
            self.tree.setFocus()

    def show_details(self, what) -> None:
        """The details of a layer (LayerInfo) or a block (its name); empty for None."""
        known = self.tree.layer_item
        if isinstance(what, LayerInfo):
            head = (
                f"<b>{html.escape(what.name)}</b> ({html.escape(what.type)}) {shape_text(what.output_shape)}"
            )
            if what.block:
                head += f" · block {html.escape(what.block)}"
            lines = [head]
            if what.inbound:
                lines.append("inputs: " + layer_links(what.inbound, known))
            if what.outbound:
                lines.append("outputs: " + layer_links(what.outbound, known))
            elif what.inbound:
                lines.append("outputs: none (an output of its model)")
            self.details.setText("<br>".join(lines))
        elif isinstance(what, str):
            members = self.tree.block_layers(what)
            text = f"<b>block {html.escape(what)}</b>: {len(members)} layers"
            if members:
                first, last = self.tree.layer_info(members[0]), self.tree.layer_info(members[-1])
                if first is not None and first.inbound:
                    text += "<br>input from " + layer_links(first.inbound, known)
                if last is not None:
                    text += "<br>output " + layer_links([last.name], known)
            self.details.setText(text)
        else:
            self.details.setText("")
