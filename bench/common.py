"""Shared helpers: statistics, progress lines, timers, the repository root."""

from __future__ import annotations

import gc
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"

#: Set by the orchestrator so that workers print the same clock.
T0_ENV = "INCEPTIONSPEC_BENCH_T0"


def _t0() -> float:
    try:
        return float(os.environ[T0_ENV])
    except (KeyError, ValueError):
        os.environ[T0_ENV] = repr(time.time())
        return float(os.environ[T0_ENV])


def log(message: str) -> None:
    """A progress line on stderr: elapsed wall time since the run started, then the message."""
    elapsed = time.time() - _t0()
    print(f"[bench {elapsed:7.1f}s] {message}", file=sys.stderr, flush=True)


def summarize(samples: Iterable[float]) -> dict[str, Any]:
    """min / median / mean / max / n of a list of samples (seconds, bytes, whatever)."""
    values = [float(v) for v in samples]
    if not values:
        return {"n": 0, "min": None, "median": None, "mean": None, "max": None, "samples": []}
    return {
        "n": len(values),
        "min": min(values),
        "median": statistics.median(values),
        "mean": statistics.fmean(values),
        "max": max(values),
        "samples": values,
    }


def repeat(func: Callable[[], Any], times: int, collect: bool = True) -> list[float]:
    """Wall time (s) of ``func()``, ``times`` times; a full collection runs before each call (not timed)."""
    return repeat_cpu(func, times, collect)[0]


def repeat_cpu(func: Callable[[], Any], times: int, collect: bool = True) -> tuple[list[float], list[float]]:
    """(wall s, this thread's CPU s) of ``func()``, ``times`` times.  CPU time excludes the time the
    thread waited for a core, so it is the steadier number on a busy machine."""
    walls, cpus = [], []
    for _ in range(times):
        if collect:
            gc.collect()
        cpu = time.thread_time()
        start = time.perf_counter()
        func()
        walls.append(time.perf_counter() - start)
        cpus.append(time.thread_time() - cpu)
    return walls, cpus


def loadavg() -> list[float] | None:
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b
