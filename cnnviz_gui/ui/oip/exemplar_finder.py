"""Dataset exemplars for the OIP atlas: the "Show dataset exemplars" check box, how many per map, and the
``exemplars.find`` job that finds them in the compute process.

The finder is given a target (the model, layer and maps of the shown OIP result, the dataset and the input
convention); while the check box is ticked it asks for what is missing — once per target and number per map
(the compute process keeps the dataset pass, so asking again for more per map is cheap). Stop ends the pass;
a newer target supersedes a pending one silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QCheckBox, QSpinBox

KIND = "oip-exemplars"


@dataclass(frozen=True)
class ExemplarTarget:
    """What the exemplars are found for: a model open in the compute process, a layer, its maps, a dataset
    (source key) and the input convention the result used."""

    model: str
    layer: str
    maps: tuple[int, ...]
    dataset: str
    convention: str


class ExemplarFinder(QObject):
    """Owns the exemplar options and job; the panel redraws on :attr:`changed`."""

    #: exemplars arrived, or the options changed: the atlas and the map's view redraw
    changed = Signal()
    #: a sentence for the atlas summary (progress, an error, a stop)
    message = Signal(str)
    #: a search for exemplars started (True) or ended (False)
    busy = Signal(bool)
    #: the exemplars arrived (the ExemplarResult)
    found = Signal(object)

    def __init__(self, bridge, parent=None):
        super().__init__(parent)
        self.bridge = bridge
        self.check = QCheckBox("Show dataset exemplars")
        self.check.setToolTip(
            "Beside each OIP, the patches of the reference dataset's images that drive the map hardest (the "
            "receptive field around the map's strongest response); one pass over the dataset, kept for later"
        )
        self.per_map = QSpinBox(minimum=1, maximum=8, value=3)
        self.per_map.setSuffix(" per map")
        self.per_map.setToolTip("How many dataset patches follow each OIP")
        self.result = None  # the ExemplarResult of the target, once found
        self.target: ExemplarTarget | None = None
        self.job = None
        self.check.toggled.connect(self._on_options)
        self.per_map.valueChanged.connect(self._on_options)

    @property
    def running(self) -> bool:
        return self.job is not None and not self.job.ended

    @property
    def wanted(self) -> bool:
        return self.check.isChecked()

    @property
    def shown(self):
        """The exemplars to draw: found and asked for (else None)."""
        return self.result if self.wanted else None

    def set_target(self, target: ExemplarTarget | None) -> None:
        """A new result (or none): drop the old exemplars and, when they are wanted, find the new ones."""
        self.bridge.cancel_kind(KIND)  # a pass for the previous result delivers nothing
        if self.job is not None:
            self.job = None
            self.busy.emit(False)
        shown = self.shown is not None
        self.target, self.result = target, None
        if target is not None and self.wanted:
            self.find()
        elif shown:
            self.changed.emit()  # the patches of the previous result disappear

    def stop(self) -> None:
        if self.running:
            self.bridge.stop(self.job)

    def find(self) -> None:
        """Ask the compute process for the target's exemplars (progress as :attr:`message`)."""
        t = self.target
        if t is None:
            self.message.emit("Run a search first: the exemplars are shown beside its OIPs.")
            return
        self.message.emit(f"Finding the dataset exemplars of {t.layer} in {t.dataset}…")
        params = {"model": t.model, "layer": t.layer, "dataset": t.dataset, "convention": t.convention}
        params.update(maps=list(t.maps), top=self.per_map.value())
        self.job = self.bridge.request(
            "exemplars.find",
            params,
            kind=KIND,
            label=f"Dataset exemplars of {t.layer}",
            on_result=self._on_result,
            on_error=self._on_error,
            on_progress=self._on_progress,
            on_stopped=self._on_stopped,
        )
        self.busy.emit(True)

    def _on_options(self, *_) -> None:
        have = self.result is not None and self.result.top >= self.per_map.value()
        if self.wanted and self.target is not None and not have:
            self.find()
        else:
            self.changed.emit()

    def _on_progress(self, fraction: float, text: str, _payload) -> None:
        self.message.emit(f"Finding dataset exemplars: {text} ({fraction * 100:.0f}%)")

    def _on_result(self, found) -> None:
        self.busy.emit(False)
        if self.target is None or found.layer != self.target.layer:
            return
        self.result = found
        kept = " (the dataset pass was kept from before)" if found.cached else ""
        self.message.emit(f"{found.top} per map from {found.dataset} in {found.seconds:.1f} s{kept}.")
        self.changed.emit()
        self.found.emit(found)

    def _on_stopped(self, _partial) -> None:
        self.busy.emit(False)
        self.check.blockSignals(True)
        self.check.setChecked(self.result is not None)  # nothing to show: say so by the check box
        self.check.blockSignals(False)
        self.changed.emit()
        self.message.emit("Finding dataset exemplars was stopped.")

    def _on_error(self, err) -> None:
        self.busy.emit(False)
        self.message.emit(f"No dataset exemplars: {err.message}")

    # -- sessions -----------------------------------------------------------------------------------------
    def session_state(self) -> dict:
        return {"show_exemplars": self.wanted, "exemplars_per_map": self.per_map.value()}

    def restore_session(self, state: dict) -> None:
        value = state.get("exemplars_per_map")
        if isinstance(value, int) and not isinstance(value, bool):
            self.per_map.setValue(value)
        if isinstance(state.get("show_exemplars"), bool):
            self.check.setChecked(state["show_exemplars"])
