"""Operations on models in the compute process: open (and guess the input convention), close."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from cnnviz_gui.core.models.loading import ModelInfo
from cnnviz_gui.core.preprocess import ConventionGuess
from cnnviz_gui.core.runtime.jobs import JobContext, op

log = logging.getLogger(__name__)


@dataclass
class OpenedModel:
    """What the GUI gets for an opened model: its description, the guessed input convention, and when the
    compute process started reading the file (wall clock, for the "opened"/"first maps" log lines)."""

    model_id: str
    info: ModelInfo
    convention: ConventionGuess
    read_started: float
    open_seconds: float


@op("models.open")
def open_model(ctx: JobContext, model_id: str, path: str, allow_unsafe: bool = False) -> OpenedModel:
    """Load ``path`` (safe mode unless the person agreed for this file), describe it, guess its convention.

    Nothing is traced or run here: the first view's read-out is compiled when it is asked for.
    """
    from cnnviz_gui.core.models.loading import open_model as load

    read_started, started = time.time(), time.perf_counter()
    loaded = load(path, allow_unsafe=allow_unsafe)  # guesses the input convention too
    conv = loaded.info.input_convention or {"convention": "standardised", "reason": "no guess"}
    guess = ConventionGuess(conv["convention"], conv["reason"])
    ctx.store.models[model_id] = loaded
    return OpenedModel(model_id, loaded.info, guess, read_started, time.perf_counter() - started)


@op("models.close")
def close_models(ctx: JobContext, keep: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Forget every open model except ``keep`` and free their memory; returns the ids closed."""
    from cnnviz_gui.core.runtime.memory import release_unused

    closed = [m for m in ctx.store.models if m not in keep]
    for model_id in closed:
        del ctx.store.models[model_id]
    for key in [k for k, v in ctx.store.objects.items() if getattr(v, "model_id", None) in closed]:
        del ctx.store.objects[key]
    if closed:
        release_unused()
    return closed
