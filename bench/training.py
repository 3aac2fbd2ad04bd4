"""``python -m bench.training``: training throughput of `inceptionspec train` against a hand-written
``model.fit`` of the same compiled model on the same files (bench/train_baseline.py), and the share
of step time spent waiting for input. Target: ratio ≥ 0.95.

Both run as fresh processes, alternated (ours, reference, ours, reference …) on one generated
image folder (PNG/JPEG, 4 classes); images/s counts the training steps of the epochs after the
first (the first traces the step and fills the caches), without validation. The input-wait share
is 1 − (images/s of fit on inceptionspec's pipeline ÷ images/s of fit on one batch kept in memory
and repeated), both measured back to back in the reference's process (same model, same load).
Results: bench/results/training.md and training.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import RESULTS, ROOT, T0_ENV, loadavg, log

#: GoogLeNet for CIFAR at a quarter width: small steps, so that any input cost shows.
SETS = ["classes=4", "width.multiplier=0.25", "templates.aux_classifier.fc.units=32"]


def ours(data: Path, run: Path, epochs: int, batch: int) -> float:
    command = [sys.executable, "-m", "inceptionspec.cli", "train", "examples/googlenet_cifar", "--data", str(data)]
    command += ["--out", str(run), "--epochs", str(epochs), "--batch-size", str(batch), "--val-split", "0", "--quiet"]
    command += sum((["--set", s] for s in SETS), [])
    subprocess.run(command, check=True, cwd=ROOT, capture_output=True)  # noqa: S603
    return float(json.loads((run / "metrics.json").read_text())["images_per_second"])


def reference(data: Path, out: Path, epochs: int, batch: int) -> dict[str, float]:
    command = [sys.executable, "-m", "bench.train_baseline", str(data), str(out), str(epochs), str(batch), *SETS]
    subprocess.run(command, check=True, cwd=ROOT, capture_output=True)  # noqa: S603
    return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.training", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds of 3 epochs on 4 × 100 images")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    import os

    os.environ[T0_ENV] = repr(time.time())
    per_class, epochs, rounds, batch = (100, 3, 2, 32) if args.quick else (200, 4, 3, 32)
    from inceptionspec.data.shapes import write_shapes

    start, load_start = time.time(), loadavg()
    samples: dict[str, list[float]] = {"ours": [], "reference": [], "compute": [], "pipeline": []}
    with tempfile.TemporaryDirectory(prefix="inceptionspec-bench-train-") as tmp:
        data = write_shapes(Path(tmp) / "data", per_class=per_class, size=40)
        for k in range(rounds):
            samples["ours"].append(ours(data, Path(tmp) / f"run-{k}", epochs, batch))
            log(f"round {k + 1}: inceptionspec train {samples['ours'][-1]:.1f} images/s")
            result = reference(data, Path(tmp) / f"ref-{k}.json", epochs, batch)
            samples["reference"].append(result["images_per_second"])
            samples["compute"].append(result["compute_images_per_second"])
            samples["pipeline"].append(result["pipeline_images_per_second"])
            fit, compute = result["images_per_second"], samples["compute"][-1]
            log(
                f"round {k + 1}: model.fit {fit:.1f} images/s, compute only {compute:.1f}, "
                f"our pipeline in the same process {samples['pipeline'][-1]:.1f}"
            )
    ratios = [a / b for a, b in zip(samples["ours"], samples["reference"], strict=True)]
    ratio = statistics.median(ratios)
    # In one process, back to back: our pipeline's steps against steps that read no input at all.
    waits = [max(0.0, 1 - a / b) for a, b in zip(samples["pipeline"], samples["compute"], strict=True)]
    wait = statistics.median(waits)
    command = "python -m bench.training" + (" --quick" if args.quick else "")
    report = {
        "command": command,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": _cpus()},
        "load_average": {"start": load_start, "end": loadavg()},
        "setup": {"images": 4 * per_class, "image_size": 40, "input": [32, 32, 3], "epochs": epochs, "batch": batch,
                  "spec": "examples/googlenet_cifar " + " ".join(f"--set {s}" for s in SETS)},
        "samples": samples,
        "ratios": ratios,
        "ratio_median": ratio,
        "target": 0.95,
        "met": ratio >= 0.95,
        "input_wait_share": wait,
        "duration_seconds": time.time() - start,
    }  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "training.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    (args.out / "training.md").write_text(_markdown(report), encoding="utf-8")
    print(_markdown(report))
    return 0 if report["met"] else 1


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


def _markdown(r: dict) -> str:  # type: ignore[type-arg]
    s = r["samples"]
    rows = "\n".join(
        f"| {i + 1} | {a:.1f} | {b:.1f} | {a / b:.3f} | {d:.1f} | {c:.1f} | {max(0.0, 1 - d / c):.1%} |"
        for i, (a, b, c, d) in enumerate(zip(s["ours"], s["reference"], s["compute"], s["pipeline"], strict=True))
    )
    setup, machine = r["setup"], r["machine"]
    return f"""# Training throughput

- date: {r["date"]} · {machine["platform"]} · Python {machine["python"]} · {machine["cpus"]} CPUs
- load average at start / end: {r["load_average"]["start"]} / {r["load_average"]["end"]}
- setup: {setup["images"]} generated images ({setup["image_size"]}×{setup["image_size"]} PNG/JPEG, 4 classes) → input \
{setup["input"]}, batch {setup["batch"]}, {setup["epochs"]} epochs (the first not counted), no validation; \
`{setup["spec"]}`
- duration {r["duration_seconds"]:.0f} s

Reproduce: `{r["command"]}` (from the repository root)

| round | `inceptionspec train` images/s | hand-written `model.fit` images/s | ratio \
| fit on our pipeline | fit on one batch (compute only) | input wait |
|--:|--:|--:|--:|--:|--:|--:|
{rows}

- **ratio (median): {r["ratio_median"]:.3f}** — target ≥ {r["target"]}: {"met" if r["met"] else "**missed**"}
- **share of step time waiting for input: {r["input_wait_share"]:.1%}** \
(1 − fit on our pipeline ÷ fit on one repeated batch, same process, median)
"""


if __name__ == "__main__":
    sys.exit(main())
