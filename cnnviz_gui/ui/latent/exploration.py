"""What the Latent tab shows, as one Qt-free value replaced as a whole at every change.

The panel never mutates an :class:`Exploration`: each step (recognised, encoded, projected, pinned, decoded…)
makes a new one with :meth:`Exploration.but`, so a half-updated state cannot be drawn and "start over" is
``Exploration()``. The latent space itself lives in the compute process under ``space``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from cnnviz_gui.core.latent.generation import GenerationResult
from cnnviz_gui.core.latent.ops import EncodedDataset
from cnnviz_gui.core.latent.projection import Projection
from cnnviz_gui.core.latent.recognition import Recognition
from cnnviz_gui.core.latent.space import GridResult, Interpolation, LatentStats
from cnnviz_gui.core.latent.traversal import Traversal


@dataclass(frozen=True)
class Exploration:
    """The latent space being explored (``space``: its id in the compute process) and what was computed."""

    space: str | None = None
    recognition: Recognition | None = None
    convention: str = "0..1"
    encoded: EncodedDataset | None = None
    projection: Projection | None = None
    shown: np.ndarray | None = None  # the encoded points in the shown plane
    pinned: tuple[float, float] | None = None
    input_z: np.ndarray | None = None
    end_a: np.ndarray | None = None
    end_b: np.ndarray | None = None
    grid: GridResult | None = None
    interpolation: Interpolation | None = None
    generation: GenerationResult | None = None
    decoded: np.ndarray | None = None
    traversal: Traversal | None = None
    traversal_pinned: bool = False  # the traversal moves around the pinned point (else the data's mean)
    slider_z: np.ndarray | None = None  # the point the per-dimension sliders set
    slider_image: np.ndarray | None = None  # its decoded image

    def but(self, **changes) -> Exploration:
        """A copy with ``changes``."""
        return dataclasses.replace(self, **changes)

    @property
    def z(self) -> np.ndarray | None:
        return self.encoded.z if self.encoded is not None else None

    @property
    def labels(self) -> np.ndarray | None:
        return self.encoded.labels if self.encoded is not None else None

    @property
    def stats(self) -> LatentStats | None:
        return self.encoded.stats if self.encoded is not None else None

    def to_shown(self, z: np.ndarray | None) -> tuple[float, float] | None:
        """A latent point (d,) in the shown plane, or None."""
        if z is None or self.projection is None:
            return None
        p = self.projection.transform(np.asarray(z, np.float32)[None])[0]
        return float(p[0]), float(p[1])
