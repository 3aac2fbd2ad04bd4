"""``python -m bench.deploy``: the compiled model on every Keras backend and in every export format.

Measures, on the machine it runs on and in one run:

- start-up per Keras backend (TensorFlow, JAX, PyTorch where installed): import, first build,
  first call, steady call at batch 1 and a second build of GoogLeNet, each backend in a fresh
  process; also with Keras' own seeded initializers in place of ours, which is what made JAX's
  first build slow (one XLA compilation per new weight shape);
- inference throughput (images/s) at batch 1 and 8 of GoogLeNet and Inception v4 under Keras on
  each backend, ONNX Runtime and the LiteRT interpreter, each with and without batch-norm folding,
  as ratios to Keras on TensorFlow (unfolded) at the same model and batch.

Every model has random batch-norm statistics (so folding changes real numbers) and the same weights
in every runtime. Workers run in rounds (every runtime once per round) and the best round counts,
so that a load spike on a shared machine hits one sample, not one runtime. Results go to
``bench/results/deploy.md`` and ``deploy.json`` with the machine's description and the command.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .common import RESULTS, ROOT, loadavg, log
from .machine import _version, describe

BACKENDS = [b for b in ("tensorflow", "jax", "torch") if importlib.util.find_spec(b) is not None]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.deploy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="GoogLeNet only, 1 round, 3 repeats")
    parser.add_argument("--models", default="googlenet,inception_v4")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per measurement")
    parser.add_argument("--startup-model", default="googlenet")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.models, args.rounds, args.repeats = "googlenet", 1, 3
    return args


def run_worker(task: str, config: dict[str, Any], backend: str = "tensorflow") -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        config_path, out_path = Path(tmp) / "config.json", Path(tmp) / "out.json"
        config_path.write_text(json.dumps(config), encoding="utf-8")
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        done = subprocess.run(  # noqa: S603 (our own worker module)
            [sys.executable, "-m", "bench.deploy_worker", task, str(config_path), str(out_path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if not out_path.exists():
            return {"error": done.stderr[-2000:]}
        return json.loads(out_path.read_text(encoding="utf-8"))


def measure(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    batches = [int(b) for b in args.batches.split(",")]
    results: dict[str, Any] = {"backends": BACKENDS, "models": models, "batches": batches}

    log(f"prepare: build {', '.join(models)} with random BN statistics; save .keras; export ONNX and LiteRT")
    prepared = run_worker("prepare", {"dir": str(folder), "models": models})
    results["prepare"] = prepared
    if "error" in prepared:
        return results

    results["startup"] = {}
    for backend in BACKENDS:
        for keras_init in (False, True):
            label = f"{backend}{' (Keras initializers)' if keras_init else ''}"
            log(f"startup: {label}")
            config = {"model": args.startup_model, "repeats": args.repeats, "keras_initializers": keras_init}
            results["startup"][label] = run_worker("startup", config, backend)

    common = {"dir": str(folder), "models": models, "batches": batches, "repeats": args.repeats}
    inputs = {name: prepared[name]["input"] for name in models}
    results["rounds"] = []
    for i in range(args.rounds):
        round_: dict[str, Any] = {"loadavg": loadavg()}
        for backend in BACKENDS:
            log(f"round {i + 1}/{args.rounds}: Keras on {backend}")
            round_[f"keras-{backend}"] = run_worker("keras", common, backend)
        log(f"round {i + 1}/{args.rounds}: ONNX Runtime and LiteRT")
        round_["runtimes"] = run_worker("runtimes", {**common, "inputs": inputs})
        results["rounds"].append(round_)
    results["throughput"] = best_throughput(results["rounds"], models, batches)
    return results


def best_throughput(rounds: list[dict[str, Any]], models: list[str], batches: list[int]) -> dict[str, Any]:
    """``{runtime|fold: {model|batch: best images/s over the rounds}}``."""
    best: dict[str, dict[str, float]] = {}

    def offer(runtime: str, key: str, value: float) -> None:
        row = best.setdefault(runtime, {})
        row[key] = max(row.get(key, 0.0), value)

    for round_ in rounds:
        for worker, measured in round_.items():
            if not isinstance(measured, dict) or "error" in measured:
                continue
            for key, value in measured.items():
                if not isinstance(value, dict) or "images_per_s" not in value:
                    continue
                parts = key.split("|")
                runtime = worker if worker.startswith("keras-") else parts.pop(0)
                name, batch, fold = parts
                offer(f"{runtime}|{fold}", f"{name}|{batch}", value["images_per_s"])
    return best


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def render(results: dict[str, Any], machine: dict[str, Any]) -> str:
    lines = ["# Backends and export formats", "", f"`{machine['command']}`", ""]
    lines += [
        f"{machine['date']} · {machine['cpu']} · {machine['usable_cores']} usable cores · "
        f"load average at start {machine['loadavg_start']} · commit {str(machine['git_commit'])[:10]}"
        f"{' (dirty)' if machine['git_dirty'] else ''}",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if v),
        *([f"PYTHONPATH={machine['env']['PYTHONPATH']}", ""] if machine["env"].get("PYTHONPATH") else [""]),
        f"## Start-up per Keras backend ({results.get('startup_model', 'googlenet')}, fresh process each)",
        "",
        "| backend | import s | first build s | first call s (batch 1) | steady ms (batch 1, min) | second build s |",
        "|---|---|---|---|---|---|",
    ]
    for label, row in results.get("startup", {}).items():
        if "error" in row:
            lines.append(f"| {label} | failed: {row['error'].strip().splitlines()[-1][:90]} | | | | |")
            continue
        steady = row["steady"]["seconds"]["min"] * 1000
        lines.append(
            f"| {label} | {_fmt(row['import_s'])} | {_fmt(row['first_build_s'])} | {_fmt(row['first_call_s'])} | "
            f"{_fmt(steady, 1)} | {_fmt(row['second_build_s'])} |"
        )
    models, batches = results["models"], results["batches"]
    throughput = results.get("throughput", {})
    reference = throughput.get("keras-tensorflow|plain", {})
    columns = [f"{m}|{b}" for m in models for b in batches]
    lines += [
        "",
        "## Inference throughput (images/s, best of the rounds; × = ratio to Keras on TensorFlow, unfolded)",
        "",
        "| runtime | BN | " + " | ".join(f"{m} b{b}" for m in models for b in batches) + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    for runtime in sorted(throughput, key=lambda r: (not r.startswith("keras-tensorflow"), r)):
        name, fold = runtime.split("|")
        cells = []
        for column in columns:
            value, ref = throughput[runtime].get(column), reference.get(column)
            cells.append("—" if value is None else f"{value:.1f} ({value / ref:.2f}×)" if ref else f"{value:.1f}")
        lines.append(f"| {name} | {fold} | " + " | ".join(cells) + " |")
    lines += ["", "## Export (from the TensorFlow build; check = worst relative error against Keras)", ""]
    lines += ["| model | format | export s | check |", "|---|---|---|---|"]
    for name in models:
        entry = results.get("prepare", {}).get(name, {})
        for key, value in entry.items():
            if isinstance(value, dict):
                lines.append(f"| {name} | {key} | {_fmt(value['export_s'], 1)} | {value['check_worst']:.1e} |")
    failures = [
        f"{w} (round {i + 1}): {m['error'].strip().splitlines()[-1][:120]}"
        for i, r in enumerate(results.get("rounds", []))
        for w, m in r.items()
        if isinstance(m, dict) and "error" in m
    ]
    if failures:
        lines += ["", "## Failures", "", *[f"- {f}" for f in failures]]
    lines += ["", f"Load average per round: {[r.get('loadavg') for r in results.get('rounds', [])]}", ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    machine = describe(argv)
    machine["command"] = machine["command"].replace(" -m bench", " -m bench.deploy", 1)
    for dist in ("jax", "torch", "tf2onnx", "onnxruntime", "ai-edge-litert"):
        machine["versions"][dist] = _version(dist)
    if os.environ.get("PYTHONPATH"):
        machine["env"]["PYTHONPATH"] = os.environ["PYTHONPATH"]
    with tempfile.TemporaryDirectory() as tmp:
        results = measure(args, Path(tmp))
    results["startup_model"] = args.startup_model
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "deploy.json").write_text(json.dumps({"machine": machine, **results}, indent=1), encoding="utf-8")
    text = render(results, machine)
    (args.out / "deploy.md").write_text(text, encoding="utf-8")
    print(text)
    return 1 if "error" in results.get("prepare", {}) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
