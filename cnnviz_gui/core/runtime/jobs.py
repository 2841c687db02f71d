"""Jobs of the compute process: the operations it offers, what a running job sees, what it keeps between jobs.

An operation is a plain function registered under a name with :func:`op`::

    @op("activations.forward")
    def forward(ctx: JobContext, model: str, image, convention: str) -> Activations: ...

The GUI asks for it by name with plain parameters (see :mod:`cnnviz_gui.core.runtime.wire`); the function
reports through ``ctx.progress(fraction, text, payload)``, checks ``ctx.cancelled()`` between compiled steps,
finds open models in ``ctx.store`` and returns plain data. Raising :class:`JobCancelled` ends it as stopped.
"""

from __future__ import annotations

import importlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

ProgressFn = Callable[..., None]
CancelledFn = Callable[[], bool]

#: modules whose import registers the app's operations (imported by the compute process at start)
OP_MODULES = (
    "cnnviz_gui.core.runtime.ops",
    "cnnviz_gui.core.models.ops",
    "cnnviz_gui.core.activations.ops",
    "cnnviz_gui.core.attribution.ops",
    "cnnviz_gui.core.oip.ops",
    "cnnviz_gui.core.latent.ops",
    "cnnviz_gui.core.training.ops",
)
OPS: dict[str, Callable[..., Any]] = {}


class JobCancelled(Exception):
    """Raised inside a job to abandon it; it ends as stopped, not as an error."""


@dataclass
class JobError:
    """What a failed job reports: a message for a person, the traceback for the details view and the
    exception rebuilt from plain data (registered types keep their fields, e.g. a refused model's)."""

    message: str
    details: str = ""
    exception: BaseException | None = None


def op(name: str):
    """Register ``fn(ctx, **params)`` as the operation ``name`` of the compute process."""

    def register(fn):
        OPS[name] = fn
        return fn

    return register


def load_ops(extra: tuple[str, ...] = ()) -> dict[str, Callable[..., Any]]:
    """Import every module that registers operations (``extra``: more modules, e.g. test operations)."""
    for module in (*OP_MODULES, *extra):
        importlib.import_module(module)
    return OPS


class StoreError(Exception):
    """A job asked for something the compute process does not hold (a model that is not open)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Store:
    """What the compute process keeps between jobs: open models and other objects by the GUI's ids, and
    recently loaded datasets."""

    models: dict[str, Any] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)
    datasets: OrderedDict = field(default_factory=OrderedDict)
    max_datasets: int = 3

    def model(self, model_id: str):
        """The open model ``model_id`` (a ``LoadedModel``)."""
        try:
            return self.models[model_id]
        except KeyError:
            raise StoreError(f"the model {model_id} is not open in the compute process") from None

    def object(self, key: str):
        try:
            return self.objects[key]
        except KeyError:
            raise StoreError(f"{key} is not open in the compute process") from None

    def dataset(self, key: str):
        """The dataset ``key`` (a source name or path), loaded once and kept among the last few."""
        if key in self.datasets:
            self.datasets.move_to_end(key)
            return self.datasets[key]
        from cnnviz_gui.core.datasets import load_dataset

        ds = load_dataset(key)
        self.datasets[key] = ds
        while len(self.datasets) > self.max_datasets:
            self.datasets.popitem(last=False)
        return ds


@dataclass
class JobContext:
    """What a running operation sees: progress, cancellation, the store, and controls sent while it runs
    (``controls`` holds the latest value of each key, e.g. the OIP map the live view follows)."""

    job_id: int
    progress: ProgressFn
    cancelled: CancelledFn
    store: Store
    controls: dict = field(default_factory=dict)

    def check(self) -> None:
        """Raise :class:`JobCancelled` when the job was stopped or superseded."""
        if self.cancelled():
            raise JobCancelled()
