"""The application state shared by all views: open model, selected layer and maps, current input.

Views are handed the state and subscribe to its signals (as napari views subscribe to their models);
they never talk to each other directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from cnnviz_gui.core.models.loading import ModelInfo
from cnnviz_gui.core.preprocess import ConventionGuess


@dataclass
class OpenModel:
    """A model open in the compute process, as the GUI knows it: the id jobs name it by, its description,
    the guessed input convention, and when the compute process started reading its file (wall clock)."""

    id: str
    path: str
    info: ModelInfo
    guess: ConventionGuess
    read_started: float = 0.0


class AppState(QObject):
    #: a new model is open (OpenModel); views rebuild themselves
    model_changed = Signal(object)
    #: the compute process was restarted and the open model reopened in it (OpenModel); views refresh
    model_reopened = Signal(object)
    #: the selected layer's name ("" for none)
    layer_selected = Signal(str)
    #: (layer name, list of selected map indices)
    maps_selected = Signal(str, list)
    #: the current input changed: (image in 0..1 as float32 (H, W, C), description)
    input_changed = Signal(object, str)
    #: the current input stopped changing: after every input except the segments of a stroke being drawn,
    #: and once when that stroke ends (slow work, such as SmoothGrad, waits for this)
    input_settled = Signal()
    #: the model's input convention changed ("standardised", "0..1", "0..255")
    convention_changed = Signal(str)
    #: the Input pane's dataset changed (a ``core.datasets.Dataset``; ``dataset_key`` names its source)
    dataset_changed = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.loaded: OpenModel | None = None
        self.layer: str = ""
        self.maps: list[int] = []
        self.input_image: np.ndarray | None = None
        self.input_label: str = ""
        self.convention: str = "standardised"
        self.dataset = None
        self.dataset_key = ""

    @property
    def info(self) -> ModelInfo | None:
        return self.loaded.info if self.loaded is not None else None

    @property
    def model_id(self) -> str | None:
        return self.loaded.id if self.loaded is not None else None

    def set_model(self, loaded: OpenModel, convention: str | None = None) -> None:
        """A new model: the layer selection is cleared; the convention is the one given or the guess."""
        self.loaded = loaded
        self.layer, self.maps = "", []
        self.set_convention(convention or loaded.guess.convention)
        self.model_changed.emit(loaded)

    def select_layer(self, name: str) -> None:
        if name != self.layer:
            self.layer = name
            self.maps = []
            self.layer_selected.emit(name)

    def select_maps(self, layer: str, maps: list[int]) -> None:
        if layer != self.layer:
            self.select_layer(layer)
        self.maps = list(maps)
        self.maps_selected.emit(layer, list(maps))

    def set_input(self, image01: np.ndarray, label: str = "", settled: bool = True) -> None:
        """A new current input; ``settled=False`` while a stroke is being drawn (:meth:`settle_input` ends it)."""
        self.input_image = np.asarray(image01, dtype=np.float32)
        self.input_label = label
        self.input_changed.emit(self.input_image, label)
        if settled:
            self.input_settled.emit()

    def settle_input(self) -> None:
        """The stroke being drawn ended: the current input is final for now."""
        if self.input_image is not None:
            self.input_settled.emit()

    def set_convention(self, convention: str) -> None:
        if convention != self.convention:
            self.convention = convention
            self.convention_changed.emit(convention)

    def set_dataset(self, dataset, key: str = "") -> None:
        """The Input pane's dataset and the source key the compute process loads it by."""
        self.dataset, self.dataset_key = dataset, key
        self.dataset_changed.emit(dataset)
