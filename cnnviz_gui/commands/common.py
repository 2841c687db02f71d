"""What every sub-command shares: the one error exit and a text progress bar on stderr."""

from __future__ import annotations

import sys


def fail(message: str, code: int = 2) -> int:
    """Print ``cnnviz: message`` on stderr (one line for a person, no traceback); return the exit code."""
    print(f"cnnviz: {message}", file=sys.stderr)
    return code


class TextProgress:
    """A one-line text progress bar on stderr."""

    def __init__(self, label: str, width: int = 30, stream=None):
        self.label, self.width = label, width
        self.stream = stream or sys.stderr
        self._last = None

    def __call__(self, fraction: float, text: str = "", *_payload) -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        filled = int(round(fraction * self.width))
        line = f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {fraction * 100:5.1f}% {text}"
        if line != self._last:
            self.stream.write(line[:160].ljust(min(len(self._last or ""), 160)))
            self.stream.flush()
            self._last = line

    def done(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def write_outputs(out: str | None, figure, npz: str | None = None, arrays=None) -> int:
    """Save ``figure()`` to ``out`` and ``arrays()`` to ``npz`` (each only when given), printing each file
    written; returns 0, or the error exit when a file cannot be written. ``figure()`` may write ``out``
    itself (an animation) and return None."""
    from cnnviz_gui.core.figures import ExportError, save, save_arrays

    try:
        if out:
            made = figure()
            if made is not None:
                save(made, out)
            print(f"saved {out}")
        if npz:
            save_arrays(arrays(), npz)
            print(f"saved {npz}")
    except ExportError as err:
        return fail(err.message)
    return 0
