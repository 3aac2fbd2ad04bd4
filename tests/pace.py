"""Time limits that mean the same on a slower or a busier machine.

The hostile-input promise is "under 2 s" per command on the machine the limits were set on: the
project's 2-core development machine, where validating a trivial spec takes ``REFERENCE_TRIVIAL_CPU``
seconds of CPU (Python's start-up and our imports: almost all of it). The tests first time that
trivial run where they are: its CPU time against the reference says how much slower this machine's
cores are (never taken below 1: a faster machine keeps the reference limits), and its wall / CPU
time how busy the machine is right now. CPU limits scale with the first (and with the second up to
1.5: a busy machine's shared caches slow CPU time too), wall limits with both.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

#: CPU seconds (user + system) of `validate` on a one-layer spec on the development machine
#: (Intel Xeon, 2 cores, Python 3.11: 0.34–0.37 s at load 5, a little less idle).
REFERENCE_TRIVIAL_CPU = 0.33


@dataclass(frozen=True)
class Pace:
    speed: float  # ≥ 1: this machine's CPU time for the trivial run ÷ the reference machine's
    contention: float  # ≥ 1: wall ÷ CPU time of the trivial run now

    @classmethod
    def from_trivial_runs(cls, runs: list[tuple[float, float]]) -> Pace:
        """From (wall, cpu) seconds of a few trivial runs."""
        cpu = statistics.median(c for _, c in runs)
        contention = statistics.median(w / max(c, 1e-3) for w, c in runs)
        return cls(speed=max(1.0, cpu / REFERENCE_TRIVIAL_CPU), contention=max(1.0, contention))

    def cpu_limit(self, seconds: float) -> float:
        return seconds * self.speed * min(self.contention, 1.5)

    def wall_limit(self, seconds: float) -> float:
        return seconds * self.speed * self.contention

    def slower(self, other: Pace) -> Pace:
        return Pace(max(self.speed, other.speed), max(self.contention, other.contention))

    def __str__(self) -> str:
        return f"cores {self.speed:.2f}× slower than the reference, load slowdown {self.contention:.2f}"
