"""The application state shared by all views: open model, selected layer and maps, current input.

Views are handed the state and subscribe to its signals (as napari views subscribe to their models);
they never talk to each other directly.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from cnnviz_gui.core.models.loading import LoadedModel, ModelInfo


class AppState(QObject):
    #: a new model is open (LoadedModel); views rebuild themselves
    model_changed = Signal(object)
    #: the selected layer's name ("" for none)
    layer_selected = Signal(str)
    #: (layer name, list of selected map indices)
    maps_selected = Signal(str, list)
    #: the current input changed: (image in 0..1 as float32 (H, W, C), description)
    input_changed = Signal(object, str)
    #: the model's input convention changed ("standardised", "0..1", "0..255")
    convention_changed = Signal(str)
    #: the Input pane's dataset changed (a ``core.datasets.Dataset``)
    dataset_changed = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.loaded: LoadedModel | None = None
        self.layer: str = ""
        self.maps: list[int] = []
        self.input_image: np.ndarray | None = None
        self.input_label: str = ""
        self.convention: str = "standardised"
        self.dataset = None

    @property
    def info(self) -> ModelInfo | None:
        return self.loaded.info if self.loaded is not None else None

    def set_model(self, loaded: LoadedModel, convention: str | None = None) -> None:
        self.loaded = loaded
        self.layer, self.maps = "", []
        if convention:
            self.convention = convention
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

    def set_input(self, image01: np.ndarray, label: str = "") -> None:
        self.input_image = np.asarray(image01, dtype=np.float32)
        self.input_label = label
        self.input_changed.emit(self.input_image, label)

    def set_convention(self, convention: str) -> None:
        if convention != self.convention:
            self.convention = convention
            self.convention_changed.emit(convention)

    def set_dataset(self, dataset) -> None:
        self.dataset = dataset
        self.dataset_changed.emit(dataset)
