"""OIP search settings, presets, requests and results (plain data; no TensorFlow).

:data:`PRESETS` holds "Seed (articles)" (the articles' strategy 0, the default), "Precursor", "Strategy 1"
and "Smooth". :class:`OipResult` carries per map: final image, loss curve, snapshots, converged, reacts,
steps used and (optionally) whether the bundled data activates the map.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from cnnviz_gui.core.oip import start_images as oip_init


@dataclass
class OipSettings:
    """Everything that defines an OIP search (see :data:`PRESETS`)."""

    steps: int = 600
    epsilon: float = 0.01
    init: str = "multiscale"  # or "fourier"
    grids: tuple[int, ...] = oip_init.DEFAULT_GRIDS
    factors: tuple[float, ...] = oip_init.DEFAULT_FACTORS
    fourier_decay: float = 1.0
    restarts: int = 1  # independent starts per map; the best final loss is kept
    precursor_starts: int = 0  # K long-scale starts per map tried first (0: no precursor)
    precursor_steps: int = 10
    precursor_factors: tuple[float, ...] = (0.5, 0.5, 0.0, 0.0)
    stages: tuple[int, ...] = ()  # strategy 1: steps per stage; stage k adds grid k (replaces ``steps``)
    redirect_steps: int = 0  # ReLU-gradient redirection during the first steps (beyond the articles)
    jitter: int = 0  # random shift (pixels) inside the gradient computation
    tv_weight: float = 0.0  # total-variation penalty
    optimizer: str = "normalised"  # or "adam"
    conv_threshold: float = 1e-4  # |relative loss change| per step
    conv_successive: int = 4  # ... in this many successive steps
    early_stop: bool = False
    give_up_after: int = 10  # zero loss and gradient in more steps than this: "does not react"
    snapshots: int = 8
    seed: int = 0

    @property
    def total_steps(self) -> int:
        return int(sum(self.stages)) if self.stages else int(self.steps)

    def validate(self) -> None:
        if self.total_steps < 1:
            raise ValueError("the number of steps must be at least 1")
        if not self.epsilon > 0:
            raise ValueError(f"epsilon must be positive, got {self.epsilon}")
        if len(self.grids) != len(self.factors):
            raise ValueError(f"{len(self.grids)} grid sizes but {len(self.factors)} amplitude factors")
        if self.init not in ("multiscale", "fourier"):
            raise ValueError(f"unknown initial image kind '{self.init}' (multiscale or fourier)")
        if self.optimizer not in ("normalised", "adam"):
            raise ValueError(f"unknown optimizer '{self.optimizer}' (normalised or adam)")
        if self.restarts < 1 or self.precursor_starts < 0:
            raise ValueError("restarts must be at least 1 and precursor starts not negative")

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, OipSettings] = {
    "Seed (articles)": OipSettings(),
    "Precursor": OipSettings(precursor_starts=32, precursor_steps=10, redirect_steps=100),
    "Strategy 1": OipSettings(stages=(20, 40, 80, 400)),
    "Smooth": OipSettings(jitter=1, tv_weight=0.05, redirect_steps=100),
}


def preset(name: str, **overrides) -> OipSettings:
    """A copy of preset ``name`` with ``overrides`` applied."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset '{name}'; presets: {', '.join(PRESETS)}")
    return replace(PRESETS[name], **overrides)


def log_spaced_steps(steps: int, count: int = 8) -> list[int]:
    """The articles' reporting steps: 0, n, 2n, 4n, ... and the last step (600 -> 0, 9, 18, ..., 288, 599)."""
    if steps <= 1 or count <= 1:
        return [0]
    n = max(1, steps // 2 ** max(count - 2, 0))
    out = [0] + [n * 2**j for j in range(max(count - 2, 0))] + [steps - 1]
    return sorted({s for s in out if 0 <= s < steps})


def parse_maps(spec: str, n_units: int) -> list[int]:
    """Parse a map selection like ``0-127``, ``3,7,120``, ``all`` into sorted unique indices."""
    spec = (spec or "").strip().lower()
    if spec in ("", "all", "*"):
        return list(range(n_units))
    out: set[int] = set()
    for part in spec.replace(" ", "").split(","):
        if not part:
            continue
        try:
            if "-" in part[1:]:
                a, b = part.split("-", 1) if not part.startswith("-") else ("-" + part[1:].split("-")[0], "")
                lo, hi = int(a), int(b)
                out.update(range(min(lo, hi), max(lo, hi) + 1))
            else:
                out.add(int(part))
        except ValueError as err:
            raise ValueError(f"cannot read the map selection '{spec}': use e.g. 0-127 or 3,7,120") from err
    bad = sorted(i for i in out if not 0 <= i < n_units)
    if bad:
        raise ValueError(f"map {bad[0]} does not exist: the layer has maps 0 to {n_units - 1}")
    return sorted(out)


@dataclass
class OipRequest:
    layer: str
    maps: list[int]
    settings: OipSettings = field(default_factory=OipSettings)
    with_data_active: bool = False
    progress_hz: float = 30.0
    #: which selected map (position in ``maps``) the live frames show, -1: the highest loss so far;
    #: may be changed while the search runs
    focus: int = -1
    #: the value range the model expects; the optimised image stays standardised and is mapped to this
    #: range on its way into the model ("standardised", "0..1" or "0..255")
    convention: str = "standardised"


@dataclass
class OipFrame:
    """A live frame for the UI (small copies only)."""

    step: int
    steps: int
    phase: str
    map_index: int
    image: np.ndarray  # (H, W) of the focused map's current image
    curve: np.ndarray  # its loss curve so far
    rel_change: float
    losses: np.ndarray  # current loss of every selected map (best restart)
    initial: np.ndarray | None = None  # (H, W) its start image
    snapshots: np.ndarray | None = None  # (k, H, W) its snapshots reached so far
    snapshot_steps: tuple[int, ...] = ()


@dataclass
class OipResult:
    layer: str
    kind: str
    maps: np.ndarray
    settings: OipSettings
    images: np.ndarray  # (M, H, W, C) final images
    initial: np.ndarray  # (M, H, W, C) start images of the main run (after the precursor choice)
    losses: np.ndarray  # (M,) final loss
    curves: np.ndarray  # (M, steps) loss per step (nan after an early stop)
    snapshot_steps: np.ndarray  # (S,)
    snapshots: np.ndarray  # (M, S, H, W, C) images after those steps
    rel_change: np.ndarray  # (M,) |relative loss change| of the last step
    converged: np.ndarray  # (M,) bool: criterion met in the last successive steps (or stopped on it)
    converged_step: np.ndarray  # (M,) first step at which it was met (-1: never)
    reacts: np.ndarray  # (M,) bool: final loss > 0
    steps_used: np.ndarray  # (M,)
    data_active: np.ndarray | None  # (M,) bool or None when not computed
    device: str
    seconds: float
    stopped: bool = False
    convention: str = "standardised"  # the input convention the model saw the images in

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            "images": self.images,
            "losses": self.losses,
            "reacts": self.reacts,
            "converged": self.converged,
            "maps": self.maps,
            "initial": self.initial,
            "curves": self.curves,
            "snapshot_steps": self.snapshot_steps,
            "snapshots": self.snapshots,
            "steps_used": self.steps_used,
            "converged_step": self.converged_step,
            "layer": np.array(self.layer),
            "convention": np.array(self.convention),
        }
        if self.data_active is not None:
            arrays["data_active"] = self.data_active
        return arrays


# -- the compiled step ---------------------------------------------------------------------------------------
