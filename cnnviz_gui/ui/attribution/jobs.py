"""The Attribution tab's slow jobs (a slow method's map, the methods side by side, the sanity check): one
progress bar and one Stop button for all of them; a newer job of the same purpose supersedes the older one."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QProgressBar, QPushButton

from cnnviz_gui.ui.bridge import ComputeBridge, Job


def kind_of(key: str) -> str:
    """The bridge's ``kind`` of the tab's jobs for ``key`` ("map", "compare", "sanity")."""
    return f"attribution-{key}"


class SlowJobs:
    """Requests with progress and Stop, one running per key; ``key in jobs`` says whether one runs."""

    def __init__(self, bridge: ComputeBridge, progress: QProgressBar, stop_button: QPushButton,
                 say: Callable[[str], None], on_error: Callable[[object], None]):  # fmt: skip
        self.bridge, self.progress, self.stop_button = bridge, progress, stop_button
        self.say, self.on_error = say, on_error
        self.running: dict[str, Job] = {}
        stop_button.clicked.connect(self.stop)

    def __contains__(self, key: str) -> bool:
        return key in self.running

    def __bool__(self) -> bool:
        return bool(self.running)

    def request(self, key: str, op: str, params: dict, label: str, on_result: Callable) -> None:
        """Run ``op`` for ``key`` (superseding the previous job of that key); ``on_result(result)`` when done."""

        def done(result) -> None:
            self._ended(key)
            on_result(result)

        def failed(err) -> None:
            self._ended(key)
            self.on_error(err)

        job = self.bridge.request(op, params, kind=kind_of(key), label=label, on_result=done,
                                  on_progress=self._on_progress, on_stopped=lambda _: self._stopped(key),
                                  on_error=failed)  # fmt: skip
        if job.ended:  # it ran inside request() (in-process compute) and has delivered already
            return
        self.running[key] = job
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.stop_button.setEnabled(True)
        self.say(f"{label}…")

    def cancel(self, key: str) -> None:
        """Supersede the job of ``key`` (its input or settings are no longer current: it delivers nothing)."""
        if key in self.running:
            self.bridge.cancel_kind(kind_of(key))
            self._ended(key)

    def cancel_all(self) -> None:
        for key in list(self.running):
            self.cancel(key)

    def stop(self) -> None:
        """The person's Stop: every slow job of the tab ends (its partial work is dropped)."""
        for job in list(self.running.values()):
            self.bridge.stop(job)

    def _ended(self, key: str) -> None:
        self.running.pop(key, None)
        if not self.running:
            self.progress.setVisible(False)
            self.stop_button.setEnabled(False)

    def _stopped(self, key: str) -> None:
        self._ended(key)
        self.say("Stopped; press Compute (or the panel's button) to start again")

    def _on_progress(self, fraction: float, text: str, payload=None) -> None:
        self.progress.setValue(int(round(1000 * float(fraction))))
        if text:
            self.say(text)
