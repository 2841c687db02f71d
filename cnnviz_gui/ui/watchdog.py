"""A GUI-thread watchdog: measures how long the event loop stops answering.

A :class:`QTimer` on the GUI thread stamps the time every ``interval_ms`` (the heartbeat). A plain Python
thread checks the stamp a few times per heartbeat; the longest time between two beats is the longest stall
of the event loop. Stalls longer than ``threshold_ms`` are logged (with what the app was doing, if a
``label`` was set) and kept in :attr:`stalls`. Tests use it to fail on a frozen GUI; the app can run it with
``CNNVIZ_WATCHDOG=1`` to log stalls in the field.

A stall can also come from outside: on a machine busy with other programs the OS may simply not run this
process. On Linux the watchdog reads, at every beat, how long each Python thread (any may hold the GIL the GUI
thread needs) waited in the OS run queue (``/proc/thread-self/schedstat``: runnable, but no core free). That wait is not this app's
doing: :attr:`Stall.own_ms` is the gap less that wait, and :attr:`max_stall_ms` is the longest own stall.
Elsewhere it falls back to process CPU time: a gap during which the process got under 60% of a core counts
as starved. :attr:`max_gap_ms` counts everything.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Qt, QTimer

log = logging.getLogger(__name__)


@dataclass
class Stall:
    """One stall of the GUI thread: when it started (monotonic seconds), how long, and what was running."""

    start: float
    duration_ms: float
    label: str = ""
    cpu_fraction: float = 1.0
    starved: bool = False
    #: the part of the gap not explained by waiting for a free core (ms)
    own_ms: float = 0.0
    #: run-queue wait of this process's Python threads during the gap (ms); None where not measurable
    waited_ms: float | None = None
    #: where the other threads were when the observer noticed the stall (innermost frames last)
    stacks: dict[str, str] = field(default_factory=dict)


class GuiWatchdog(QObject):
    """Heartbeat on the GUI thread, observer on a Python thread; reports the longest stall.

    Use as a context manager or call :meth:`start` / :meth:`stop`. :meth:`reset` starts a new measurement
    (for example after a known start-up phase).
    """

    def __init__(
        self,
        interval_ms: int = 10,
        threshold_ms: float = 100.0,
        starved_below: float = 0.6,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.threshold_ms = threshold_ms
        self.starved_below = starved_below
        self.label = ""
        self.stalls: list[Stall] = []
        self._lock = threading.Lock()
        self._last_beat = time.perf_counter()
        self._last_cpu = time.process_time()
        self._waits: dict[int, float] = {}
        self._tids: list[int] = []
        self._schedstat = sys.platform.startswith("linux")
        self._max_gap = 0.0
        self._max_raw_gap = 0.0
        self._beats = 0
        self._reported = 0.0
        self._pending_stacks: dict[str, str] = {}
        self._gui_ident = threading.get_ident()
        self._gui_tid = threading.get_native_id()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)

    # -- GUI thread ---------------------------------------------------------------------------------------
    def _run_queue_wait(self) -> float | None:
        """Seconds our Python threads have waited for a free core since the last call (Linux).

        Any Python thread may hold the GIL the GUI thread waits for, so every one counts (capped at the
        gap by the caller) but the observer; threads that wait for the GIL itself sleep and add nothing.
        """
        if not self._schedstat:
            return None
        if not self._tids or self._beats % 50 == 0:
            # not the observer: it wakes every few ms and waits for a core while others run, which would
            # be counted on top of the GUI thread's own wait; it holds the GIL only for microseconds
            observer = self._thread.native_id if self._thread is not None else None
            self._tids = [t.native_id for t in threading.enumerate() if t.native_id not in (None, observer)]
            if self._gui_tid not in self._tids:
                self._tids.append(self._gui_tid)
        total = 0.0
        for tid in self._tids:
            try:
                with open(f"/proc/self/task/{tid}/schedstat") as fh:
                    waited = int(fh.read().split()[1]) / 1e9
            except (OSError, IndexError, ValueError):
                if tid == self._gui_tid:
                    self._schedstat = False
                    return None
                continue
            total += waited - self._waits.get(tid, waited)
            self._waits[tid] = waited
        return total

    def _beat(self) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        waited = self._run_queue_wait()
        with self._lock:
            gap = now - self._last_beat
            fraction = (cpu - self._last_cpu) / gap if gap > 0 else 1.0
            self._last_beat, self._last_cpu = now, cpu
            self._beats += 1
            self._max_raw_gap = max(self._max_raw_gap, gap)
            if waited is not None:
                own = max(gap - min(waited, gap), 0.0)
                starved = own < gap / 2
            else:
                starved = gap * 1000 > 2 * self.interval_ms and fraction < self.starved_below
                own = 0.0 if starved else gap
            self._max_gap = max(self._max_gap, own)
            if gap * 1000 > self.threshold_ms:
                stall = Stall(
                    now - gap,
                    gap * 1000,
                    self.label,
                    fraction,
                    starved,
                    own * 1000,
                    None if waited is None else waited * 1000,
                    self._pending_stacks,
                )
                self.stalls.append(stall)
            self._pending_stacks = {}
        if gap * 1000 > self.threshold_ms:
            log.warning(
                "GUI thread stalled %.0f ms (%.0f ms of it this app's, process CPU %.0f%%)%s",
                stall.duration_ms,
                stall.own_ms,
                fraction * 100,
                f" during {stall.label}" if stall.label else "",
            )

    # -- observer thread ------------------------------------------------------------------------------------
    def _observe(self) -> None:
        """Log a stall while it is happening (the GUI thread cannot), once per threshold crossed."""
        period = max(self.interval_ms / 1000 / 2, 0.002)
        while not self._stop.wait(period):
            with self._lock:
                gap = time.perf_counter() - self._last_beat
                report = gap * 1000 > self.threshold_ms and self._reported != self._last_beat
                if report:
                    self._reported = self._last_beat
            if report:
                stacks = self._other_stacks()
                with self._lock:
                    self._pending_stacks = stacks
                log.info("GUI thread not answering for %.0f ms so far %s", gap * 1000, self.label)

    def _other_stacks(self, depth: int = 8) -> dict[str, str]:
        """The innermost frames of every other thread (the GUI thread is named "GUI")."""
        names = {t.ident: t.name for t in threading.enumerate()}
        out = {}
        for ident, frame in sys._current_frames().items():
            if ident == threading.get_ident():
                continue
            name = "GUI" if ident == self._gui_ident else names.get(ident, str(ident))
            out[name] = "".join(traceback.format_stack(frame)[-depth:])
        return out

    # -- control ----------------------------------------------------------------------------------------------
    def start(self) -> GuiWatchdog:
        self.reset()
        self._stop.clear()
        self._timer.start()
        self._thread = threading.Thread(target=self._observe, name="cnnviz-watchdog", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._timer.stop()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None

    def reset(self) -> None:
        """Forget what was measured so far; the next gap counts from now."""
        self._run_queue_wait()  # new baseline of the run-queue waits
        with self._lock:
            self._last_beat, self._last_cpu = time.perf_counter(), time.process_time()
            self._max_gap = self._max_raw_gap = 0.0
            self._beats = 0
            self.stalls = []

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    @property
    def beats(self) -> int:
        return self._beats

    @property
    def max_stall_ms(self) -> float:
        """The longest gap between two heartbeats (ms), less the time the OS gave our threads no core."""
        with self._lock:
            return self._max_gap * 1000

    @property
    def max_gap_ms(self) -> float:
        """The longest gap between two heartbeats (ms), whatever caused it."""
        with self._lock:
            return self._max_raw_gap * 1000

    def report(self) -> str:
        """One line for test failures and logs."""
        starved = [s for s in self.stalls if s.starved]
        return (
            f"max stall {self.max_stall_ms:.0f} ms (max gap {self.max_gap_ms:.0f} ms, {self.beats} beats); "
            f"stalls over {self.threshold_ms:.0f} ms: "
            + ", ".join(
                f"{s.duration_ms:.0f} ms (own {s.own_ms:.0f} ms, cpu {s.cpu_fraction:.2f}) {s.label}".strip()
                for s in self.stalls
            )
            + (f" ({len(starved)} starved by other programs)" if starved else "")
            + "".join(
                f"\n--- {s.duration_ms:.0f} ms stall, {name} thread was at:\n{stack}"
                for s in self.stalls
                if s.own_ms > self.threshold_ms
                for name, stack in s.stacks.items()
            )
        )

    def __enter__(self) -> GuiWatchdog:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
