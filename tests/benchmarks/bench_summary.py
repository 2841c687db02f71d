"""One table of every benchmark: runs ``measure()`` of each ``bench_*.py`` module here and prints the rows.

Convention (see README.md in this folder): a benchmark module exposes ``measure() -> dict`` mapping a row
name to ``(value, unit, target)`` (target a short text such as ``"< 1.5"`` or ``""``). A module without
``measure()`` is run with pytest in a subprocess and what it prints is kept below the table. ``make bench``
runs this file; it writes ``docs/performance.md`` with the machine the figures come from. Run one module
alone with ``python tests/benchmarks/bench_summary.py bench_memory``.
"""

from __future__ import annotations

import datetime
import importlib
import math
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def bench_modules(only: list[str] | None = None) -> list[str]:
    names = sorted(p.stem for p in HERE.glob("bench_*.py") if p.stem != "bench_summary")
    return [n for n in names if not only or n in only]


def machine() -> dict[str, str]:
    """CPU model, cores, memory, load, Python and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        ram = f"{kb / 2**20:.0f} GiB"
    except (OSError, IndexError, ValueError):
        pass
    info = {
        "CPU": cpu,
        "cores": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        "memory": ram,
        "OS": platform.platform(),
        "Python": platform.python_version(),
    }
    if hasattr(os, "getloadavg"):
        info["load average at start (1/5/15 min)"] = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    for module in ("tensorflow", "keras", "PySide6", "pyqtgraph", "numpy"):
        try:
            info[module] = importlib.import_module(module).__version__
        except Exception:  # a missing library is reported, not fatal
            info[module] = "not installed"
    return info


def run_with_pytest(name: str) -> str:
    """Run a pytest-style benchmark module in a subprocess; return what it printed (pytest's lines dropped)."""
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "-p", "no:warnings",
         "-o", "python_files=bench_*.py",
         str(HERE / f"{name}.py")],
        capture_output=True, text=True, cwd=REPO, timeout=1800,
    )  # fmt: skip
    keep = []
    for line in res.stdout.splitlines():
        if line.startswith(("====", "----", "platform ", "rootdir", "plugins", "collected", "PySide6 ")):
            continue
        if line.strip() and set(line.strip()) <= set(".sFE") or "warnings summary" in line or "Docs:" in line:
            continue
        keep.append(line)
    text = "\n".join(keep).strip()
    return text if res.returncode == 0 else f"{text}\n(pytest exit status {res.returncode})"


printed: dict[str, str] = {}


def collect(only: list[str] | None = None) -> tuple[list[tuple[str, str, tuple]], list[str]]:
    """Run every module's ``measure()``; returns (module, row name, (value, unit, target)) and failures."""
    rows, failures = [], []
    for name in bench_modules(only):
        module = importlib.import_module(name)
        fn = getattr(module, "measure", None)
        if fn is None:
            printed[name] = run_with_pytest(name)
            continue
        start = time.perf_counter()
        try:
            result = fn()
        except Exception:
            failures.append(f"{name}: {traceback.format_exc().strip().splitlines()[-1]}")
            continue
        print(f"{name}: {time.perf_counter() - start:.0f} s", file=sys.stderr)
        rows += [(name, row, value) for row, value in result.items()]
    return rows, failures


def _value_text(value) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def table(rows) -> str:
    lines = [f"{'measurement':58} {'value':>10} {'unit':5} target", "-" * 86]
    for _module, name, (value, unit, target) in rows:
        lines.append(f"{name:58} {_value_text(value):>10} {unit:5} {target}")
    return "\n".join(lines)


def markdown(rows, info: dict[str, str], failures: list[str]) -> str:
    out = [
        "# Performance",
        "",
        "Written by `make bench` (`tests/benchmarks/bench_summary.py`); each row comes from the `measure()` of",
        "a `tests/benchmarks/bench_*.py` module. Re-run it to refresh this page.",
        "",
        f"Measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on:",
        "",
    ]
    out += [f"- {k}: {v}" for k, v in info.items()]
    out += ["", "| measurement | value | unit | target | module |", "|---|---:|---|---|---|"]
    for module, name, (value, unit, target) in rows:
        out.append(f"| {name.strip()} | {_value_text(value)} | {unit} | {target} | {module} |")
    if failures:
        out += ["", "Benchmarks that failed:", ""] + [f"- {f}" for f in failures]
    for name, text in printed.items():
        out += ["", f"## {name} (printed)", "", "```", text, "```"]
    return "\n".join(out) + "\n"


def run(only: list[str] | None = None, write: Path | None = REPO / "docs" / "performance.md") -> str:
    info = machine()
    rows, failures = collect(only)
    text = table(rows)
    print(text)
    for name, output in printed.items():
        print(f"\n{name}:\n{output}")
    for f in failures:
        print(f"FAILED {f}")
    if write is not None and not only:
        write.parent.mkdir(parents=True, exist_ok=True)
        write.write_text(markdown(rows, info, failures))
        print(f"wrote {write}")
    return text


if __name__ == "__main__":
    run(sys.argv[1:] or None)
