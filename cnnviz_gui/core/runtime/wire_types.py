"""The one list of what may cross between the GUI and the compute process, besides plain values.

Dataclasses listed here travel as their fields and are rebuilt on the other side; exceptions listed here are
rebuilt with their message and the named fields (everything else arrives as ``RemoteError``). Every module
imported here is free of TensorFlow and Qt at import time (the GUI process imports this list).
"""

from __future__ import annotations

from cnnviz_gui.core.activations.exemplars import ExemplarError, ExemplarResult
from cnnviz_gui.core.activations.predictions import LabelsError, Prediction, Predictions
from cnnviz_gui.core.activations.probe import Activations, ProbeError
from cnnviz_gui.core.activations.statistics import ClassStats
from cnnviz_gui.core.attribution.types import (
    AttributionError,
    AttributionRequest,
    AttributionResult,
    ClassScore,
    LiveAttribution,
    SanityResult,
)
from cnnviz_gui.core.datasets import Dataset, DatasetError
from cnnviz_gui.core.latent.generation import GeneratedSet, GenerationResult
from cnnviz_gui.core.latent.ops import EncodedDataset, OpenedSpace
from cnnviz_gui.core.latent.prior_fit import PriorFit
from cnnviz_gui.core.latent.recognition import LatentError, Recognition
from cnnviz_gui.core.latent.space import Encoded, GridResult, Interpolation, LatentStats, Projection
from cnnviz_gui.core.latent.traversal import Traversal
from cnnviz_gui.core.models.archive import ArchiveSummary
from cnnviz_gui.core.models.loading import LayerInfo, ModelInfo, ModelLoadError
from cnnviz_gui.core.models.ops import OpenedModel
from cnnviz_gui.core.oip.target import OipTargetError
from cnnviz_gui.core.oip.types import OipFrame, OipRequest, OipResult, OipSettings
from cnnviz_gui.core.preprocess import ConventionGuess, ImageInputError
from cnnviz_gui.core.runtime.jobs import StoreError
from cnnviz_gui.core.runtime.wire import wire_error, wire_type
from cnnviz_gui.core.training.jobs import TrainingOutcome, TrainingRequest

TYPES = (
    ModelInfo, LayerInfo, ArchiveSummary, ConventionGuess, OpenedModel,
    Activations, ClassStats, Dataset, Prediction, Predictions, ExemplarResult,
    AttributionRequest, AttributionResult, ClassScore, LiveAttribution, SanityResult,
    OipSettings, OipRequest, OipFrame, OipResult,
    Recognition, Projection, LatentStats, Encoded, GridResult, Interpolation, GeneratedSet, GenerationResult,
    OpenedSpace, EncodedDataset, PriorFit, Traversal,
    TrainingRequest, TrainingOutcome,
)  # fmt: skip
for _cls in TYPES:
    wire_type(_cls)

wire_error(ModelLoadError, "kind", "needs_consent", "unsafe_layers", "summary")
for _cls in (
    DatasetError,
    ExemplarError,
    LatentError,
    OipTargetError,
    ProbeError,
    ImageInputError,
    StoreError,
    LabelsError,
):
    wire_error(_cls)
wire_error(AttributionError)
