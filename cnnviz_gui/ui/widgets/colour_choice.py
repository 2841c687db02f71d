"""A "Colours" combo box that follows the default colour-map preference until the person picks one."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from cnnviz_gui.ui.widgets.map_grid import COLORMAPS


class ColourChoice(QWidget):
    """ "Colours [viridis]": the default colour map preference applies until the person picks one here.

    Sessions store the name and whether it was picked (``colormap``, ``colormap_chosen``); a restored pick
    keeps the preference from overriding it.
    """

    #: the colour map to draw with changed (its name)
    changed = Signal(str)

    def __init__(self, tooltip: str, initial: str | None = None, parent=None):
        super().__init__(parent)
        self.box = QComboBox()
        self.box.addItems(COLORMAPS)
        if initial is not None:
            self.box.setCurrentText(initial)
        self.box.setToolTip(tooltip)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        lay.addWidget(QLabel("Colours"))
        lay.addWidget(self.box)
        self.chosen = False  # the person picked one: the preference no longer applies
        self.box.activated.connect(self._on_activated)
        self.box.currentTextChanged.connect(self.changed.emit)

    @property
    def name(self) -> str:
        return self.box.currentText()

    def _on_activated(self, *_) -> None:
        self.chosen = True

    def apply_preference(self, name: str) -> None:
        if not self.chosen and self.box.findText(name) >= 0:
            self.box.setCurrentText(name)

    def session_state(self) -> dict:
        return {"colormap": self.name, "colormap_chosen": self.chosen}

    def restore_session(self, state: dict) -> None:
        """The colour map when it was chosen in the view (else the preference stays)."""
        if state.get("colormap_chosen") is True and self.box.findText(str(state.get("colormap"))) >= 0:
            self.box.setCurrentText(state["colormap"])
            self.chosen = True
