"""Requests and results of attribution (plain NumPy and Python values: they cross process boundaries)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

#: method key -> name shown to a person
METHODS = {
    "gradcam": "Grad-CAM",
    "gradcampp": "Grad-CAM++",
    "saliency": "saliency",
    "smoothgrad": "SmoothGrad",
    "ig": "integrated gradients",
    "occlusion": "occlusion",
}
#: methods that work at a layer (class activation maps)
CAM_METHODS = ("gradcam", "gradcampp")
#: methods whose maps have a sign (negative: the region speaks against the class)
SIGNED_METHODS = ("ig", "occlusion")
#: baselines of integrated gradients and fills of occlusion patches
BASELINES = ("black", "blurred", "mean")


class AttributionError(Exception):
    """Attribution cannot be computed as asked; ``message`` says why for a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class AttributionRequest:
    """What to compute. Only the parameters of ``method`` matter; the others are ignored.

    ``class_index``: the target class (one for every input, or one per input); None: the predicted one.
    ``layer``: the layer of the CAM methods (name, or ``outer/inner`` path); None: the last layer with maps
    before the classifier. ``steps``: integrated-gradients path steps. ``baseline``: integrated gradients'
    start image (black, blurred, mean: the input's mean colour) or occlusion's patch fill. ``samples`` and
    ``noise``: SmoothGrad's noisy copies and their standard deviation as a fraction of the input's range.
    ``patch`` and ``stride``: occlusion's square patch (None: about a seventh of the image, half that).
    ``batch_size``: how many images go through the model at once (IG steps, SmoothGrad samples, patches).
    """

    method: str = "gradcam"
    class_index: int | list[int] | None = None
    layer: str | None = None
    steps: int = 64
    baseline: str = "black"
    samples: int = 32
    noise: float = 0.2
    patch: int | None = None
    stride: int | None = None
    batch_size: int = 64
    seed: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> AttributionRequest:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def check(self) -> None:
        """Raise :class:`AttributionError` for a parameter out of range."""
        if self.method not in METHODS:
            raise AttributionError(f"unknown method '{self.method}'; use one of {', '.join(METHODS)}")
        if self.steps < 2:
            raise AttributionError(f"integrated gradients need at least 2 steps, got {self.steps}")
        if self.samples < 1:
            raise AttributionError(f"SmoothGrad needs at least 1 sample, got {self.samples}")
        if not 0.0 <= self.noise <= 5.0:
            raise AttributionError(
                f"the noise level is a fraction of the input's range (0..5), got {self.noise}"
            )
        if self.baseline not in BASELINES:
            raise AttributionError(f"unknown baseline '{self.baseline}'; use one of {', '.join(BASELINES)}")
        for name in ("patch", "stride"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise AttributionError(f"the occlusion {name} must be at least 1 pixel, got {value}")
        if self.batch_size < 1:
            raise AttributionError(f"the batch size must be at least 1, got {self.batch_size}")

    def parameters(self) -> dict:
        """The parameters that matter for this method (for titles, exports and sessions)."""
        keys = {
            "gradcam": ("layer",),
            "gradcampp": ("layer",),
            "saliency": (),
            "smoothgrad": ("samples", "noise", "seed"),
            "ig": ("steps", "baseline"),
            "occlusion": ("patch", "stride", "baseline"),
        }[self.method]
        return {k: getattr(self, k) for k in keys}


@dataclass
class ClassScore:
    """One class of a prediction: its index, probability and score (pre-softmax logit when there is one)."""

    index: int
    probability: float
    score: float


@dataclass
class AttributionResult:
    """Attribution maps of a batch of N inputs for one method.

    ``attribution`` (N, H, W) float32 at input resolution: CAM methods resized (bilinear) from the layer,
    saliency and SmoothGrad the maximum over channels of the absolute gradient, integrated gradients summed
    over channels (each map sums to ``score - baseline_score`` up to the integration error), occlusion the
    mean score drop of the patches covering each pixel. Raw values, never normalised.
    ``layer_map`` (N, h, w): the CAM at the layer's resolution before any resizing or normalisation (CAM
    methods only). ``score`` (N,): the target class's score of the input; ``score_kind`` says whether it is
    the pre-softmax logit or the model's output itself. ``baseline_score`` (N,): integrated gradients' score
    of the baseline. ``probabilities`` (N, K): the model's class probabilities for each input;
    ``class_scores`` (N, K): every class's score (the values ``score`` is taken from).
    ``extras``: method-specific arrays (occlusion: ``patch_scores`` (N, rows, cols), the score with each
    patch occluded; integrated gradients: ``completeness_error`` (N,), relative).
    """

    method: str
    attribution: np.ndarray
    class_index: np.ndarray
    score: np.ndarray
    probabilities: np.ndarray
    class_scores: np.ndarray
    layer_map: np.ndarray | None = None
    baseline_score: np.ndarray | None = None
    layer: str | None = None
    params: dict = field(default_factory=dict)
    score_kind: str = "logit"
    convention: str = "standardised"
    seconds: float = 0.0
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.attribution)

    @property
    def method_name(self) -> str:
        return METHODS.get(self.method, self.method)

    @property
    def signed(self) -> bool:
        return self.method in SIGNED_METHODS

    def item(self, i: int) -> AttributionResult:
        """The result of input ``i`` alone (a batch of one)."""
        sl = slice(i, i + 1)

        def cut(a):
            return None if a is None else a[sl]

        return AttributionResult(
            self.method,
            self.attribution[sl],
            self.class_index[sl],
            self.score[sl],
            self.probabilities[sl],
            self.class_scores[sl],
            cut(self.layer_map),
            cut(self.baseline_score),
            self.layer,
            dict(self.params),
            self.score_kind,
            self.convention,
            self.seconds,
            {k: v[sl] for k, v in self.extras.items()},
        )

    def to_arrays(self, i: int = 0) -> dict[str, np.ndarray]:
        """The arrays of input ``i`` under the names of the export format: ``attribution`` (H, W),
        ``layer_map`` (h, w; CAM methods), ``class_index``, ``score``, ``baseline_score`` (IG)."""
        out = {
            "attribution": self.attribution[i],
            "class_index": np.int64(self.class_index[i]),
            "score": np.float32(self.score[i]),
        }
        if self.layer_map is not None:
            out["layer_map"] = self.layer_map[i]
        if self.baseline_score is not None:
            out["baseline_score"] = np.float32(self.baseline_score[i])
        return out

    def top_classes(self, i: int = 0, k: int = 5) -> list[ClassScore]:
        """The ``k`` most probable classes of input ``i``, most probable first."""
        return top_of(self.probabilities[i], self.class_scores[i], k)


def top_of(probabilities: np.ndarray, scores: np.ndarray, k: int = 5) -> list[ClassScore]:
    """The ``k`` most probable classes of one prediction as :class:`ClassScore` rows."""
    p = np.asarray(probabilities)
    order = np.argsort(-p, kind="stable")[:k]
    return [ClassScore(int(c), float(p[c]), float(scores[c])) for c in order]


@dataclass
class LiveAttribution:
    """What the view needs after a stroke: a map ready to overlay and the classes to switch the target.

    ``display`` (H, W) float32 in 0..1 (signed methods: -1..1), normalised by ``contrast``; ``result`` the
    full :class:`AttributionResult` of the one input; ``top`` the most probable classes.
    """

    display: np.ndarray
    result: AttributionResult
    top: list[ClassScore]


@dataclass
class SanityResult:
    """Cascading randomisation of the model's weights, top layer first (Adebayo et al. 2018).

    ``original`` (H, W): the map of the trained model. ``maps`` (S, H, W): the map after step s, where steps
    randomise more and more layers from the output down (``steps[s]`` names the layers added at step s).
    ``similarity`` (S,): Spearman rank correlation of each map with the original (0 when a map became
    constant). ``randomized_similarity``: the same for the map with every listed layer randomised (the last
    step). ``explanation``: a sentence for the view saying what the numbers mean; ``verdict``: what they say
    about this method on this input.
    """

    method: str
    original: np.ndarray
    maps: np.ndarray
    steps: list[list[str]]
    similarity: np.ndarray
    randomized_similarity: float
    class_index: int
    layer: str | None
    explanation: str
    verdict: str
    constant: list[bool] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def labels(self) -> list[str]:
        """Short labels of the cascade steps: the top-most layer randomised at that step, cumulatively."""
        out = []
        for names in self.steps:
            out.append(f"+{names[0]}" if len(names) == 1 else f"+{names[0]}…({len(names)})")
        return out
