"""OIP search settings, presets, requests and results (plain data; no TensorFlow).

:data:`PRESETS` holds "Seed (articles)" (the articles' strategy 0, the default for grey models), "Lucid"
(Fourier 1/f parameterisation, decorrelated colour, transformation robustness, Adam; the default for RGB
models, see :func:`default_preset`), "Precursor", "Strategy 1" and "Smooth"; :data:`PRESET_DESCRIPTIONS`
says in one sentence what each does. :class:`OipResult` carries per map: final images (display values 0..1)
and what the model received, loss curve, snapshots, converged, reacts, steps used, the quality read-outs and
(optionally) whether the data activates the map.
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
    optimizer: str = "normalised"  # or "adam" (``epsilon`` is then its learning rate)
    #: what is optimised: "pixel" (a standardised image, the articles') or "fourier" (a 1/f-scaled spectrum
    #: with decorrelated colour and a sigmoid into display values, Lucid's)
    param: str = "pixel"
    #: random pad/jitter/scale/rotation of the image inside every step (Lucid's transformation robustness)
    transforms: bool = False
    #: "mean": mean activation of the map; "centre": the map's single neuron at its centre (dense units and
    #: class logits are their own value either way)
    objective: str = "mean"
    diversity: int = 1  # K images per map, pushed apart by a Gram-matrix similarity penalty
    diversity_weight: float = 1.0  # weight of that penalty relative to the images' mean objective
    #: the articles' criterion: |relative loss change| per step below this in ``conv_successive`` steps
    conv_threshold: float = 2e-4
    conv_successive: int = 4  # ... in this many successive steps
    #: shrink a map's step (times ``decay_factor``) each time its loss falls (the fixed step rocking across
    #: ReLU kinks); not in the articles, off in Seed mode
    step_decay: bool = False
    decay_factor: float = 0.5
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
        if self.param not in ("pixel", "fourier"):
            raise ValueError(f"unknown parameterisation '{self.param}' (pixel or fourier)")
        if self.objective not in ("mean", "centre"):
            raise ValueError(f"unknown objective '{self.objective}' (mean or centre)")
        if not 1 <= self.diversity <= 16:
            raise ValueError(f"diversity must be between 1 and 16 images per map, got {self.diversity}")
        if not 0 < self.decay_factor < 1:
            raise ValueError(f"the step decay factor must lie between 0 and 1, got {self.decay_factor}")

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, OipSettings] = {
    "Seed (articles)": OipSettings(),
    "Lucid": OipSettings(
        steps=512,
        epsilon=0.05,
        init="fourier",
        param="fourier",
        optimizer="adam",
        transforms=True,
        redirect_steps=64,
    ),
    "Precursor": OipSettings(precursor_starts=32, precursor_steps=10, redirect_steps=100),
    "Strategy 1": OipSettings(stages=(20, 40, 80, 400)),
    "Smooth": OipSettings(jitter=1, tv_weight=0.05, redirect_steps=100),
}

#: one sentence per preset, for the form
PRESET_DESCRIPTIONS: dict[str, str] = {
    "Seed (articles)": "The articles' algorithm: multi-scale noise start, unit-RMS gradient, x += 0.01 g, "
    "re-standardise; 600 steps. Default for grey models.",
    "Lucid": "Fourier 1/f image with decorrelated colour and a sigmoid, random jitter/scale/rotation in "
    "every step, Adam 0.05, 512 steps (Olah et al. 2017): patterns that read on real RGB networks. "
    "Default for RGB models.",
    "Precursor": "Best of 32 long-scale starts, ReLU-gradient redirection for the first 100 steps: nearly "
    "every map reacts.",
    "Strategy 1": "Long scales first, shorter scales added in stages of 20/40/80/400 steps.",
    "Smooth": "Seed plus 1-pixel jitter and a total-variation penalty.",
}


def default_preset(channels: int | None) -> str:
    """The preset a model starts with: "Lucid" for RGB (3-channel) inputs, "Seed (articles)" otherwise."""
    return "Lucid" if channels == 3 else "Seed (articles)"


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
    #: the value range the model expects (one of ``core.preprocess.CONVENTIONS``); the optimised image is
    #: mapped to this range on its way into the model
    convention: str = "standardised"
    #: the dataset the data-active check and the quality read-out "relative to the best image" use: a name
    #: or path for ``core.datasets.load_dataset`` (or, in-process, a ``Dataset``); None: the bundled MNIST
    #: sample. Setting it computes the read-out even without ``with_data_active``.
    dataset: object = None


@dataclass
class OipFrame:
    """A live frame for the UI (small copies only). Images are display values in 0..1; grey images drop
    their channel axis: (H, W) for grey, (H, W, 3) for RGB."""

    step: int
    steps: int
    phase: str
    map_index: int
    image: np.ndarray  # (H, W) or (H, W, 3) of the focused map's current (first) image
    curve: np.ndarray  # its loss curve so far
    rel_change: float
    losses: np.ndarray  # current loss of every selected map (best restart)
    initial: np.ndarray | None = None  # (H, W[, 3]) its start image
    snapshots: np.ndarray | None = None  # (k, H, W[, 3]) its snapshots reached so far
    snapshot_steps: tuple[int, ...] = ()
    images: np.ndarray | None = None  # (K, H, W, C): all K images of the focused map (diversity K)


@dataclass
class OipResult:
    """The outcome of one search. Images are display values in 0..1 (RGB models: 3 channels);
    ``model_inputs`` are the same images exactly as the model received them (its input convention). With
    diversity K > 1, ``images`` and ``model_inputs`` are (M, K, H, W, C); ``initial`` and ``snapshots`` are
    those of the first of the K images."""

    layer: str
    kind: str
    maps: np.ndarray
    settings: OipSettings
    images: np.ndarray  # (M, H, W, C) or (M, K, H, W, C) final images, display values 0..1
    initial: np.ndarray  # (M, H, W, C) start images of the main run (after the precursor choice)
    losses: np.ndarray  # (M,) final objective (the mean over the K images), without transformations
    curves: np.ndarray  # (M, steps) loss per step (nan after an early stop; under the random transformations)
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
    model_inputs: np.ndarray | None = None  # like ``images``: what the model received
    image_losses: np.ndarray | None = None  # (M, K) objective of each image
    #: (M,) share of the objective kept when the image moves by 4 pixels (mean of the four directions)
    shift_kept: np.ndarray | None = None
    #: (M,) objective / the highest objective of any image of the dataset (None: not computed)
    vs_best_exemplar: np.ndarray | None = None
    reference_dataset: str = ""  # the dataset of data_active and vs_best_exemplar

    @property
    def diversity(self) -> int:
        return int(self.images.shape[1]) if self.images.ndim == 5 else 1

    @property
    def channels(self) -> int:
        return int(self.images.shape[-1])

    def image_sets(self) -> np.ndarray:
        """Final images as (M, K, H, W, C) whatever the diversity."""
        return self.images if self.images.ndim == 5 else self.images[:, None]

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            "images": self.images,
            "model_inputs": self.model_inputs,
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
            "image_losses": self.image_losses,
            "shift_kept": self.shift_kept,
            "vs_best_exemplar": self.vs_best_exemplar,
            "layer": np.array(self.layer),
            "convention": np.array(self.convention),
            "objective": np.array(self.settings.objective),
            "diversity": np.array(self.diversity),
        }
        if self.data_active is not None:
            arrays["data_active"] = self.data_active
        return {k: v for k, v in arrays.items() if v is not None}
