"""What the benchmarks share: a fresh process per benchmark, the real window on the real compute process,
waiting in the Qt event loop, the app's log lines, percentiles.

Each window benchmark runs in a process of its own (:func:`run_fresh`): its GUI process then holds what the
app's does (no TensorFlow, no other benchmark's windows), and the figures do not depend on the order in which
``make bench`` runs the modules. A module does it in three lines::

    def measure() -> dict:
        return run_fresh(__file__)          # runs measure_here() in a new process, returns its rows

    if __name__ == "__main__":
        main(measure_here)                  # --rows: print them for run_fresh; otherwise print a table
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
for folder in (str(HERE), str(TESTS)):  # long_session, compute_test_ops; the compute process inherits it
    if folder not in sys.path:
        sys.path.insert(0, folder)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROWS_MARK = "cnnviz-bench-rows "
Rows = dict[str, tuple[float, str, str]]


# -- a process per benchmark ---------------------------------------------------------------------------------
def run_fresh(script: str | Path, *args: str, timeout: float = 1800, env: dict | None = None) -> Rows:
    """Run ``script --rows *args`` in a new Python process; its rows (what its ``measure_here`` returned).

    Its progress lines (``bench: ...`` on stderr) are shown as they come; a failure raises with the tail of
    what it wrote on stderr.
    """
    process = subprocess.Popen(
        [sys.executable, str(Path(script).resolve()), "--rows", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, **(env or {})}, cwd=TESTS.parent,
    )  # fmt: skip
    tail: list[str] = []

    def relay() -> None:
        for line in process.stderr:
            if line.startswith("bench: "):
                print(line, end="", file=sys.stderr, flush=True)
            tail.append(line)
            del tail[:-60]

    out: list[str] = []
    readers = [threading.Thread(target=relay, daemon=True),
               threading.Thread(target=lambda: out.extend(process.stdout), daemon=True)]  # fmt: skip
    for reader in readers:
        reader.start()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        tail.append(f"(killed after {timeout:.0f} s)\n")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for reader in readers:
            reader.join(5)
    for line in reversed(out):
        if line.startswith(ROWS_MARK):
            return {k: tuple(v) for k, v in json.loads(line[len(ROWS_MARK) :]).items()}
    raise RuntimeError(
        f"{Path(script).name} {' '.join(args)} gave no figures (exit status {process.returncode}):\n"
        f"{''.join(tail)[-3000:]}"
    )


def main(measure_here: Callable[[], Rows]) -> None:
    """``--rows``: print the rows for :func:`run_fresh`; otherwise print them as a table. Either way the
    user's folders and settings are replaced by a temporary folder first."""
    isolate_user_folders()
    rows = measure_here()
    if "--rows" in sys.argv[1:]:
        print(ROWS_MARK + json.dumps(rows), flush=True)
        return
    for name, (value, unit, target) in rows.items():
        print(f"{name:62} {value:10.3g} {unit:5} {target}")


def say(text: str) -> None:
    """A progress line on stderr (``make bench`` shows it while the benchmark runs)."""
    print(f"bench: {text}", file=sys.stderr, flush=True)


def isolate_user_folders() -> str:
    """Point HOME, the XDG folders and QSettings at a new temporary folder: never the person's settings."""
    home = tempfile.mkdtemp(prefix="cnnviz-bench-home-")
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.environ["HOME"] = home
    for key, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"), ("XDG_STATE_HOME", "state")):
        os.environ[key] = os.path.join(home, sub)
    from PySide6.QtCore import QSettings

    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, os.path.join(home, "config"))
    return home


# -- figures -------------------------------------------------------------------------------------------------
def pct(values, q: float) -> float:
    """Percentile ``q`` of ``values`` (nan for none)."""
    values = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.percentile(values, q)) if values else float("nan")


def median(values) -> float:
    return pct(values, 50)


def load_average() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def process_cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system, all threads) a process has used so far, from /proc (nan elsewhere)."""
    if not pid:
        return float("nan")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


# -- the Qt event loop ---------------------------------------------------------------------------------------
def qapp():
    from PySide6.QtWidgets import QApplication

    from cnnviz_gui.ui.app import configure_pyqtgraph

    app = QApplication.instance() or QApplication([])
    configure_pyqtgraph()
    return app


def wait_until(predicate: Callable[[], bool], timeout: float = 120.0, poll_s: float = 0.002) -> float:
    """Run the Qt event loop until ``predicate()``; seconds waited. TimeoutError after ``timeout``."""
    app = qapp()
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"condition not met within {timeout:.0f} s")
        app.processEvents()
        if poll_s:
            time.sleep(poll_s)
    return time.perf_counter() - start


class Waiter:
    """A callback that ends a Qt event loop: ``w = Waiter(); request(..., on_result=w); w.wait()``.

    The loop sleeps between events as the app's does, so the figure has no polling interval in it and no
    busy GUI thread competing with the compute process for the cores.
    """

    def __init__(self):
        from PySide6.QtCore import QEventLoop, QTimer

        self.values: list = []
        self.loop = QEventLoop()
        self.timer = QTimer()
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.loop.quit)

    def __call__(self, value=None) -> None:
        self.values.append(value)
        self.loop.quit()

    def wait(self, timeout: float = 60.0):
        """The first value given to the callback (waiting for it in the event loop)."""
        if not self.values:
            self.timer.start(int(timeout * 1000))
            self.loop.exec()
            self.timer.stop()
        if not self.values:
            raise TimeoutError(f"no callback within {timeout:.0f} s")
        return self.values[0]


def spin(seconds: float) -> None:
    """Run the Qt event loop for ``seconds``."""
    end = time.perf_counter() + seconds
    with contextlib.suppress(TimeoutError):
        wait_until(lambda: time.perf_counter() > end, timeout=seconds + 1)


# -- the real window ------------------------------------------------------------------------------------------
@contextlib.contextmanager
def real_window(spare: bool = False, extra_ops: tuple[str, ...] = (), start_tensorflow: bool = True,
                size: tuple[int, int] = (1280, 820), spare_delay_s: float | None = None) -> Iterator:  # fmt: skip
    """The app's main window on a real compute process (``create_bridge``), shown offscreen.

    ``spare``: with the spare compute process, started ``spare_delay_s`` after the app went idle (the app's
    default when None).
    Message boxes and questions are recorded in ``window.messages`` instead of shown. With
    ``start_tensorflow`` TensorFlow is imported in the compute process before the window is handed over
    (``runtime.start``, sticky, as ``MainWindow.start`` asks for it). Closed (compute process ended) after.
    """
    from PySide6.QtWidgets import QApplication

    from cnnviz_gui.ui.app import create_bridge
    from cnnviz_gui.ui.main_window import MainWindow
    from cnnviz_gui.ui.state import AppState

    app = qapp()
    bridge = create_bridge(spare=spare, extra_ops=extra_ops)
    if spare_delay_s is not None:
        bridge.spare_delay_s = spare_delay_s
    window = MainWindow(AppState(), bridge)
    window.messages = []
    window.show_message_box = lambda parent, title, text, details="": window.messages.append((title, text))
    window.ask_consent = lambda parent, err: False
    window.ask_question = lambda parent, title, text: False
    window.resize(*size)
    window.show()
    app.processEvents()
    try:
        if start_tensorflow:
            started = []
            window.bridge.request("runtime.start", {}, kind="startup", label="Loading TensorFlow",
                                  sticky="runtime", on_result=started.append)  # fmt: skip
            wait_until(lambda: bool(started), timeout=300)
        yield window
    finally:
        window.close()
        window.deleteLater()
        QApplication.instance().processEvents()


def shot(widget, name: str) -> None:
    """With ``CNNVIZ_BENCH_SHOTS=<folder>``, save what ``widget`` shows now as ``<folder>/<name>.png`` (to
    look at what a benchmark measured)."""
    folder = os.environ.get("CNNVIZ_BENCH_SHOTS")
    if folder:
        qapp().processEvents()
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / f"{name}.png"))


def compute_pid(window) -> int | None:
    """The process id of the window's compute process now.

    (The bridge's own ``pid`` comes from the process's "ready" event, which a spare process sent before it
    took over: after a restart onto the spare it still names the dead process.)
    """
    return getattr(window.bridge.backend, "pid", None)


def rss_both(window) -> tuple[float, float]:
    """Resident memory (MB) of the GUI process (this one) and of the window's compute process."""
    from cnnviz_gui.core.runtime.diagnostics import rss_mb

    pid = compute_pid(window)
    return rss_mb(), (rss_mb(pid) if pid else float("nan"))


class AppLog(logging.Handler):
    """Collects the app's INFO log records (``opened NAME in X.X s``, ``first maps of NAME in X.X s``)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def __enter__(self) -> AppLog:
        logger = logging.getLogger("cnnviz_gui")
        self._level = logger.level
        logger.setLevel(logging.INFO)
        logger.addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        logger = logging.getLogger("cnnviz_gui")
        logger.removeHandler(self)
        logger.setLevel(self._level)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def seconds(self, starts: str, name: str | None = None) -> list[float]:
        """The seconds of every ``<starts> NAME in X s`` line so far (unrounded: the record's argument)."""
        out = []
        for r in self.records:
            if r.msg.startswith(starts) and isinstance(r.args, tuple) and len(r.args) == 2:
                if name is None or r.args[0] == name:
                    out.append(float(r.args[1]))
        return out

    def lines(self, starts: str) -> list[str]:
        return [r.getMessage() for r in self.records if r.msg.startswith(starts)]
