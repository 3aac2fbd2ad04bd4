"""``python -m bench``: inceptionspec's benchmark — CLI start-up, static analysis, model build,
inference and memory, side by side with Keras on the machine it runs on.

See bench/README.md.  Results go to bench/results/latest.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import RESULTS, ROOT, T0_ENV, loadavg, log

SECTIONS = ("process", "analysis", "build", "inference", "memory")

TF_NOISE = (
    "All log messages before absl::InitializeLog",
    "cudart_stub.cc",
    "cpu_feature_guard.cc",
    "To enable the following instructions",
    "oneDNN custom operations",
    "TF_ENABLE_ONEDNN_OPTS",
    "Unable to register cu",
    "computation placer already registered",
)

QUICK: dict[str, Any] = {
    "process_specs": ["inception_resnet_v2"],  # the largest shipped spec: the CLI's worst case
    "process_repeats": 3,
    "process_envs": ["as-is", "pyc"],
    "script_envs": [],
    "script_specs": [],
    "memory_repeats": 2,
    "analysis_specs": "all",
    "load_repeats": 3,
    "analyze_repeats": 5,
    "scaling_sizes": [1, 10, 100],
    "scaling_repeats": 3,
    "models": ["inception_v3"],
    "build_repeats": 2,
    "batch": 8,
    "image_size": 299,
    "inference_warmup": 2,
    "inference_iters": 1,
    "inference_repeats": 3,
}

FULL: dict[str, Any] = {
    **QUICK,
    "process_specs": "all",  # every shipped spec
    "process_repeats": 5,
    "script_envs": ["as-is"],
    # The console script runs the same code as `python -m`; what differs is the launcher, so two
    # specs show it (every spec × every launcher would add ~40% to the run).
    "script_specs": ["googlenet", "inception_resnet_v2"],
    "memory_repeats": 3,
    "load_repeats": 10,
    "analyze_repeats": 20,
    "scaling_repeats": 10,
    "models": ["inception_v3", "inception_resnet_v2"],
    "build_repeats": 5,
    "inference_iters": 1,
    "inference_repeats": 8,
}


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, specs and models (~2-3 min)")
    parser.add_argument(
        "--only",
        type=_csv,
        default=list(SECTIONS),
        metavar="LIST",
        help=f"comma-separated subset of {','.join(SECTIONS)}",
    )
    parser.add_argument(
        "--specs", type=_csv, help="shipped specs of the process/memory section (default: all; quick: 1)"
    )
    parser.add_argument("--models", type=_csv, help="inception_v3,inception_resnet_v2 for build/inference")
    parser.add_argument("--repeats", type=int, help="override every repeat count (process, analysis, build, inference)")
    parser.add_argument("--batch", type=int, help="inference batch size (default 8)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="directory of latest.md / latest.json")
    parser.add_argument(
        "--rerender", action="store_true", help="measure nothing: rewrite latest.md (and the targets) from latest.json"
    )
    args = parser.parse_args(argv)
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    return args


def make_config(args: argparse.Namespace) -> dict[str, Any]:
    from inceptionspec.lang.library import shipped

    config = dict(QUICK if args.quick else FULL)
    if config["process_specs"] == "all":
        config["process_specs"] = list(shipped())
    if args.specs:
        config["process_specs"] = args.specs
    if config["script_envs"]:
        chosen = [s for s in config["script_specs"] if s in config["process_specs"]]
        config["script_specs"] = chosen or config["process_specs"][:2]
    if args.models:
        config["models"] = args.models
    if args.batch:
        config["batch"] = args.batch
    if args.repeats:
        for key in ("process_repeats", "memory_repeats", "load_repeats", "analyze_repeats", "scaling_repeats"):
            config[key] = args.repeats
        config["build_repeats"] = config["inference_repeats"] = args.repeats
    config["mode"] = "quick" if args.quick else "full"
    config["sections"] = [s for s in SECTIONS if s in args.only]
    return config


def run_worker(section: str, config: dict[str, Any]) -> dict[str, Any]:
    """Run one in-process section in a fresh interpreter; its progress lines go straight to stderr."""
    with tempfile.TemporaryDirectory(prefix="inceptionspec-bench-") as tmp:
        cfg, out = Path(tmp) / "config.json", Path(tmp) / "out.json"
        cfg.write_text(json.dumps(config), encoding="utf-8")
        proc = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "bench.worker", section, str(cfg), str(out)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
        assert proc.stderr is not None
        for line in proc.stderr:  # the worker's progress lines, without TensorFlow's start-up chatter
            if not any(noise in line for noise in TF_NOISE):
                sys.stderr.write(line)
                sys.stderr.flush()
        proc.wait()
        if out.is_file():
            return json.loads(out.read_text(encoding="utf-8"))
        return {"error": f"worker for {section} exited with status {proc.returncode} and wrote no result"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    import os

    os.environ[T0_ENV] = repr(time.time())
    args = parse_args(argv)
    from . import report

    if args.rerender:
        document = json.loads((args.out / "latest.json").read_text(encoding="utf-8"))
        document["targets"] = report.targets(document)
        (args.out / "latest.json").write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        (args.out / "latest.md").write_text(report.markdown(document), encoding="utf-8")
        print(report.targets_table(document["targets"]))
        return 0
    config = make_config(args)

    from . import machine, process

    started = time.perf_counter()
    meta = machine.describe(argv)
    log(f"{config['mode']} run of {', '.join(config['sections'])} on {meta['cpu']} ({meta['cores']} cores)")
    if meta["loadavg_start"] and meta["cores"] and meta["loadavg_start"][0] > 0.5 * meta["cores"]:
        log(f"note: the machine is busy (load average {meta['loadavg_start'][0]:.2f}); timings will be noisy")
    results: dict[str, Any] = {}
    durations: dict[str, float] = {}
    for section in config["sections"]:
        t = time.perf_counter()
        log(f"== {section} ==")
        try:
            if section == "process":
                results["process"] = process.run(config)
            elif section == "memory":
                if "process" in results and "error" not in results["process"]:
                    results["memory"] = {"from": "process", "repeats": results["process"]["repeats"]}
                else:
                    results["memory"] = {"from": "memory", **process.run(config, memory_only=True)}
            else:
                results[section] = run_worker(section, config)
        except Exception as exc:  # one broken section must not lose the others
            import traceback

            results[section] = {"error": traceback.format_exc(limit=6)}
            log(f"{section} failed: {exc}")
        durations[section] = time.perf_counter() - t
        log(f"{section} finished in {durations[section]:.0f}s")
    meta["loadavg_end"] = loadavg()
    meta["duration_s"] = time.perf_counter() - started
    meta["section_durations_s"] = durations
    document = {"meta": meta, "config": config, "results": results}
    document["targets"] = report.targets(document)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    (args.out / "latest.md").write_text(report.markdown(document), encoding="utf-8")
    log(f"wrote {args.out / 'latest.md'} and latest.json in {meta['duration_s']:.0f}s")
    print(report.targets_table(document["targets"]))
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
