"""The OIP search as an operation of the compute process."""

from __future__ import annotations

from dataclasses import replace

from cnnviz_gui.core.oip.types import OipRequest
from cnnviz_gui.core.runtime.jobs import JobContext, op


class _LiveRequest:
    """The request as the engine reads it while running: ``focus`` follows the GUI's latest control."""

    def __init__(self, request: OipRequest, controls: dict):
        self._request, self._controls = request, controls

    def __getattr__(self, name):
        if name == "focus" and "focus" in self._controls:
            return int(self._controls["focus"])
        return getattr(self._request, name)


@op("oip.run")
def run(ctx: JobContext, model: str, request: OipRequest):
    """Batched gradient ascent for ``request``; live frames as progress payloads; Stop keeps the partial
    result (``stopped`` set). Control ``focus`` (a position in ``request.maps``, -1: the best so far) picks
    the map the live frames show. A reference dataset given by its source key (the Input pane's) is taken
    from the store, so the dataset pass of the quality read-out is the one ``exemplars.find`` reuses."""
    from cnnviz_gui.core.oip.engine import run_oip

    if isinstance(request.dataset, str) and request.dataset:
        from cnnviz_gui.core.datasets import DatasetError

        try:
            request = replace(request, dataset=ctx.store.dataset(request.dataset))
        except DatasetError as err:
            raise DatasetError(
                f"The reference dataset could not be loaded: {err.message} Choose another one under "
                "'Reference data' (or none) and start again."
            ) from err
    return run_oip(ctx.store.model(model), _LiveRequest(request, ctx.controls), ctx.progress, ctx.cancelled)
