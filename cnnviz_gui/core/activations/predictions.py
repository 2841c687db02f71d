"""Class predictions: top-k classes with names, from a labels file or the built-in ImageNet names.

Probabilities come from the model's output; a softmax is applied only when the output layer gives logits
(:func:`cnnviz_gui.core.activations.probe.class_probabilities`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnviz_gui.core.resources import resource_path

IMAGENET_CLASSES = 1000
MAX_LABELS_BYTES = 16 * 1024 * 1024


class LabelsError(Exception):
    """A labels file that cannot be used; ``message`` says why for a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


_imagenet: list[str] | None = None


def imagenet_class_names() -> list[str]:
    """The 1000 ImageNet class names, index order (bundled: ``resources/data/imagenet_classes.txt``)."""
    global _imagenet
    if _imagenet is None:
        text = resource_path("data", "imagenet_classes.txt").read_text(encoding="utf-8")
        _imagenet = [line.strip() for line in text.splitlines() if line.strip()]
    return list(_imagenet)


def load_labels(path: str | os.PathLike) -> list[str]:
    """Class names from a file: ``.txt`` one name a line (blank lines at the end ignored), ``.json`` a list
    of names, or a dict index -> name (``{"0": "cat"}``; a list value such as Keras' ``["n0144", "tench"]``
    gives its last item). Raises :class:`LabelsError`."""
    p = Path(path)
    if not p.is_file():
        raise LabelsError(f"The labels file {p} does not exist.")
    if p.stat().st_size > MAX_LABELS_BYTES:
        raise LabelsError(f"{p.name} is too large for a labels file ({p.stat().st_size:,} bytes).")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise LabelsError(f"{p.name} cannot be read as UTF-8 text: {err}.") from err
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError as err:
            raise LabelsError(f"{p.name} is not valid JSON: {err}.") from err
        names = _names_from_json(data, p.name)
    else:
        names = [line.strip() for line in text.rstrip("\n").split("\n")]
        names = [n.rstrip("\r") for n in names]
    if not names or not any(names):
        raise LabelsError(f"{p.name} holds no class names.")
    return names


def _names_from_json(data, name: str) -> list[str]:
    if isinstance(data, list):
        return [_one_name(v) for v in data]
    if isinstance(data, dict):
        try:
            pairs = {int(k): _one_name(v) for k, v in data.items()}
        except (TypeError, ValueError) as err:
            raise LabelsError(
                f"{name}: the keys of a labels dict must be class indices ('0', '1', ...)."
            ) from err
        if not pairs or min(pairs) < 0:
            raise LabelsError(f"{name}: the class indices must start at 0.")
        n = max(pairs) + 1
        return [pairs.get(i, str(i)) for i in range(n)]
    raise LabelsError(f"{name} must hold a list of names or a dict index -> name.")


def _one_name(value) -> str:
    if isinstance(value, list | tuple) and value:
        return str(value[-1])
    return str(value)


def class_names_for(
    n_classes: int, labels: list[str] | None = None, source: str = ""
) -> tuple[list[str], str]:
    """Names for ``n_classes`` outputs and where they come from: the given labels (their count must match),
    the ImageNet names for 1000 outputs, else the class indices."""
    if labels is not None:
        if len(labels) != n_classes:
            raise LabelsError(
                f"{source or 'the labels'} holds {len(labels)} class names but the model has {n_classes} outputs."
            )
        return list(labels), source or "labels"
    if n_classes == IMAGENET_CLASSES:
        return imagenet_class_names(), "ImageNet (built in)"
    return [str(i) for i in range(n_classes)], "class indices"


@dataclass
class Prediction:
    """One class of the top-k: its index, name and probability."""

    index: int
    name: str
    probability: float

    def to_dict(self) -> dict:
        return {"class": self.index, "name": self.name, "probability": self.probability}


@dataclass
class Predictions:
    """The top-k classes for one input, most probable first (plain data)."""

    top: list[Prediction]
    n_classes: int
    from_logits: bool
    names_from: str
    probabilities: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def to_list(self) -> list[dict]:
        """The JSON of ``cnnviz predict --json``: ``[{"class": int, "name": str, "probability": float}]``."""
        return [p.to_dict() for p in self.top]


def top_k(probabilities: np.ndarray, k: int = 5, class_names: list[str] | None = None) -> list[Prediction]:
    """The ``k`` most probable classes, most probable first (ties: the lower index first)."""
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    k = max(0, min(int(k), len(p)))
    order = np.lexsort((np.arange(len(p)), -p))[:k]
    names = class_names or [str(i) for i in range(len(p))]
    return [Prediction(int(i), str(names[i]), float(p[i])) for i in order]


def predict(
    loaded,
    image01: np.ndarray,
    convention: str,
    top: int = 5,
    labels: list[str] | None = None,
    labels_source: str = "",
) -> Predictions:
    """Top-``top`` classes of one image (H, W, C) in 0..1; only the model's output is read out.

    Raises :class:`LabelsError` when the labels do not match the output, ``ValueError`` when the output is no
    class vector.
    """
    from cnnviz_gui.core.activations.probe import forward

    acts = forward(loaded, image01, convention, layers=[])
    if acts.probabilities is None:
        shape = None if acts.output_name is None else acts.layers[acts.output_name].shape
        raise ValueError(f"the model's output {shape} is not a vector of class scores")
    n = len(acts.probabilities)
    names, source = class_names_for(n, labels, labels_source)
    return Predictions(top_k(acts.probabilities, top, names), n, acts.from_logits, source, acts.probabilities)
