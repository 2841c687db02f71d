"""Training as an operation of the compute process."""

from __future__ import annotations

from cnnviz_gui.core.runtime.jobs import JobContext, op
from cnnviz_gui.core.training.jobs import TrainingRequest


@op("training.run")
def train(ctx: JobContext, request: TrainingRequest):
    """Train what ``request`` asks on its dataset, with progress; Stop keeps the file that was there."""
    from cnnviz_gui.core.training.jobs import run_training

    return run_training(request, progress=ctx.progress, cancelled=ctx.cancelled)
