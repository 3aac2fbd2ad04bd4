"""Resolve once, expand many: what a sweep saves over loading every variant from scratch.

    python -m bench.sweep                 # googlenet, inception_v3, inception_resnet_v2; 20 widths
    python -m bench.sweep --specs googlenet --widths 50 --rounds 7

For each spec, N width multipliers (0.25, 0.30, …) are expanded two ways, alternated round by
round so that a change in the machine's load hits both alike:

* ``load``: ``load(name, overrides={"width.multiplier": w})`` for each width — reads the files,
  resolves ``extends``, validates what was written, expands, validates the expanded spec;
* ``expand``: ``resolve(name)`` once, then ``resolved.expand(width=w)`` for each width — only the
  expansion and the expanded spec's validation per width.

Reported: CPU time (thread time, so waiting for a core does not count) per variant, min and
median over the rounds, and the ratio. Also ``load(name)`` alone per shipped spec (min/median).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable


def _cpu_ms(func: Callable[[], object]) -> float:
    gc.collect()
    start = time.thread_time()
    func()
    return (time.thread_time() - start) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", default="googlenet,inception_v3,inception_resnet_v2")
    parser.add_argument("--widths", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from inceptionspec import load, resolve
    from inceptionspec.lang.library import shipped

    print(f"# python -m bench.sweep --specs {args.specs} --widths {args.widths} --rounds {args.rounds}")
    print(f"{'spec':24} {'load each (ms/variant)':>24} {'resolve + expand':>20} {'ratio':>6}")
    widths = [0.25 + 0.05 * i for i in range(args.widths)]
    for name in args.specs.split(","):
        ways: dict[str, Callable[[], object]] = {
            "load": lambda n=name: [load(n, overrides={"width.multiplier": w}) for w in widths],
            "expand": lambda n=name: [r.expand(width=w) for r in [resolve(n)] for w in widths],
        }
        samples: dict[str, list[float]] = {way: [] for way in ways}
        for func in ways.values():
            func()  # warm-up
        for _ in range(args.rounds):
            for way, func in ways.items():
                samples[way].append(_cpu_ms(func) / len(widths))
        load_ms, expand_ms = (min(samples[w]) for w in ("load", "expand"))
        med = {w: statistics.median(s) for w, s in samples.items()}
        print(
            f"{name:24} {load_ms:9.2f} / {med['load']:6.2f} med {expand_ms:8.2f} / {med['expand']:6.2f} med "
            f"{expand_ms / load_ms:6.2f}"
        )

    print(f"\n{'spec':34} {'load (ms, min / median)':>24}")
    for name in shipped():
        load(name)
        times = [_cpu_ms(lambda n=name: load(n)) for _ in range(args.rounds * 3)]
        print(f"{name:34} {min(times):10.2f} / {statistics.median(times):6.2f}")


if __name__ == "__main__":
    main()
