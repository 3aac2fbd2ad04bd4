"""`sweep` and `scale` timings: 100 variants of Inception-ResNet-v2 (target: under 3 s), and budget fits.

    python -m bench.explore                      # 3 rounds
    python -m bench.explore --rounds 5

Measured, each as min / median over the rounds:

* ``sweep inception_resnet_v2`` with 100 variants, without ``--measure``, as a user runs it: a
  fresh ``python -m inceptionspec.cli`` process (wall time, and the child's CPU time from
  ``os.wait4``), for two sweeps:
  - ``width × input``: 10 width multipliers × 10 input sizes (each structure expanded once,
    the input swapped);
  - ``width``: 100 width multipliers (every variant a new width);
* the same sweeps in process (``Family`` + ``sweep``, CPU time), without interpreter start-up;
* ``scale`` of the acceptance cases (in process, CPU time; the number of static analyses).

The target is the wall time of the first CLI sweep on an idle machine; the CPU times say what it
is on a busy one (the load average is printed).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WIDTHS10 = [round(0.5 + 0.1 * i, 2) for i in range(10)]
SIZES10 = [[s, s, 3] for s in range(219, 400, 20)]
WIDTHS100 = [round(0.25 + 0.01 * i, 2) for i in range(100)]
SWEEPS = {
    "width × input (10 × 10)": [f"width.multiplier={WIDTHS10}", f"input={SIZES10}"],
    "width (100)": [f"width.multiplier={WIDTHS100}"],
}
SCALES = [
    ("googlenet", {"macs": 600_000_000}, "width"),
    ("googlenet", {"params": 3_000_000}, "width"),
    ("inception_v4", {"macs": 3_000_000_000}, "resolution"),
    ("inception_v4", {"macs": 3_000_000_000}, "compound"),
    ("inception_v4", {"macs": 8_000_000_000}, "depth"),
    ("inception_resnet_v2", {"params": 20_000_000}, "width"),
]


def _child(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one CLI run in a fresh process (output discarded)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "inceptionspec.cli", *args], stdout=subprocess.DEVNULL, env=env, cwd=ROOT
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: inceptionspec {' '.join(args)}")
    return wall, usage.ru_utime + usage.ru_stime


def _cpu(func: Callable[[], object]) -> float:
    gc.collect()
    start = time.thread_time()
    func()
    return time.thread_time() - start


def _fmt(samples: list[float]) -> str:
    return f"{min(samples):6.2f} / {statistics.median(samples):6.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from inceptionspec.analysis.family import Family
    from inceptionspec.analysis.fit import Budget, fit
    from inceptionspec.analysis.sweep import parse_vary, sweep
    from inceptionspec.lang.pipeline import resolve

    print(f"# python -m bench.explore --rounds {args.rounds}")
    print(f"# load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"\n{'sweep inception_resnet_v2, 100 variants':42} {'CLI wall s':>16} {'CLI CPU s':>16} "
        f"{'in-process CPU s':>18}"
    )
    for label, varies in SWEEPS.items():
        cli_args = ["sweep", "inception_resnet_v2", "--format", "json"]
        for vary in varies:
            cli_args += ["--vary", vary]
        _child(cli_args)  # warm-up (bytecode, file cache)
        walls, cpus, inner = [], [], []
        for _ in range(args.rounds):
            wall, cpu = _child(cli_args)
            walls.append(wall)
            cpus.append(cpu)
            parsed = [parse_vary(v, i) for i, v in enumerate(varies)]
            inner.append(_cpu(lambda p=parsed: sweep(Family(resolve("inception_resnet_v2")), p)))
        print(f"{label:42} {_fmt(walls):>16} {_fmt(cpus):>16} {_fmt(inner):>18}")
    print(f"\n{'scale (in process)':58} {'CPU s':>16} {'analyses':>9}  result")
    for name, budget, axis in SCALES:
        samples, result = [], None
        for _ in range(args.rounds):

            def run(n: str = name, b: dict = budget, a: str = axis) -> None:
                nonlocal result
                result = fit(Family(resolve(n)), Budget(**b), a)

            samples.append(_cpu(run))
        assert result is not None
        cost = result.after.cost
        what = ", ".join(f"{k} ≤ {v:,}" for k, v in budget.items())
        print(
            f"{name + ' --by ' + axis + ' (' + what + ')':58} {_fmt(samples):>16} {result.analyses:9}  "
            f"{cost.macs:,} MACs, {cost.params:,} params"
        )


if __name__ == "__main__":
    main()
