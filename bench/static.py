"""Section 2: in-process static analysis — ``load`` and ``analyze`` per shipped spec, and a scaling series.

Runs in a worker process that never imports TensorFlow.  ``analyze(spec)`` is
timed on an already loaded spec; it is also split into its two stages,
``lower`` (IR and shape inference) and ``analyze_graph`` (counts).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import loadavg, log, repeat_cpu, summarize

#: An Inception-A-like block (Inception v3's mixed0..2), shape-preserving in H×W, with BN + ReLU
#: on every conv; ``repeat: N`` unrolls N copies.
SCALING_TEMPLATE = """\
version: 1
name: scaling_{n}
title: Inception-A block repeated {n} times (benchmark)
input: [35, 35, 256]
classes: 10

defaults:
  conv: {{padding: same, bias: false, norm: bn, bn: {{epsilon: 0.001, momentum: 0.99, scale: false}}, activation: relu}}

templates:
  inception_a:
    params: [pool_proj]
    branches:
      branch1x1: [conv: {{filters: 64, kernel: 1}}]
      branch5x5:
        - conv: {{filters: 48, kernel: 1}}
        - conv: {{filters: 64, kernel: 5}}
      branch3x3dbl:
        - conv: {{filters: 64, kernel: 1}}
        - conv: {{filters: 96, kernel: 3}}
        - conv: {{filters: 96, kernel: 3}}
      branch_pool: [avgpool: {{size: 3, strides: 1, padding: same}}, conv: {{filters: $pool_proj, kernel: 1}}]

stages:
  - mixed: {{inception_a: [32], repeat: {n}}}

heads:
  main:
    layers:
      - global_avgpool:
      - dense: {{name: predictions, units: $classes, activation: softmax}}
"""


def scaling_spec(n: int) -> str:
    return SCALING_TEMPLATE.format(n=n)


def _per_spec(name: str, load_repeats: int, analyze_repeats: int) -> dict[str, Any]:
    from inceptionspec import analyze, load
    from inceptionspec.analysis import analyze_graph
    from inceptionspec.ir import lower

    first = time.perf_counter()
    spec = load(name)
    first_load = time.perf_counter() - first
    analysis = analyze(spec)
    graph = lower(spec)
    out: dict[str, Any] = {
        "spec": name,
        "layers": len(analysis.layers),
        "params": analysis.total_params,
        "first_load_s": first_load,
    }
    for key, func, times in (
        ("load", lambda: load(name), load_repeats),
        ("analyze", lambda: analyze(spec), analyze_repeats),
        ("lower", lambda: lower(spec), analyze_repeats),
        ("analyze_graph", lambda: analyze_graph(graph), analyze_repeats),
    ):
        wall, cpu = repeat_cpu(func, times)
        out[f"{key}_s"], out[f"{key}_cpu_s"] = summarize(wall), summarize(cpu)
    out["analyze_us_per_layer"] = out["analyze_s"]["median"] / out["layers"] * 1e6
    out["load_us_per_layer"] = out["load_s"]["median"] / out["layers"] * 1e6
    return out


def _scaling(sizes: list[int], repeats: int, tmp: Path) -> list[dict[str, Any]]:
    from inceptionspec import analyze, load
    from inceptionspec.core.budget import Budget

    rows = []
    for n in sizes:
        path = tmp / f"scaling_{n}.yaml"
        path.write_text(scaling_spec(n), encoding="utf-8")
        budget = Budget()
        spec = load(path, None, budget)
        layers = len(analyze(spec).layers)
        reps = max(3, repeats if n <= 10 else repeats // 2)
        load_wall, load_cpu = repeat_cpu(lambda p=path: load(p, None, Budget()), reps)
        analyze_wall, analyze_cpu = repeat_cpu(lambda s=spec: analyze(s), reps)
        load_s, analyze_s = summarize(load_wall), summarize(analyze_wall)
        load_cpu_s, analyze_cpu_s = summarize(load_cpu), summarize(analyze_cpu)
        rows.append(
            {
                "repeat": n,
                "layers": layers,
                "load_s": load_s,
                "analyze_s": analyze_s,
                "load_cpu_s": load_cpu_s,
                "analyze_cpu_s": analyze_cpu_s,
                "analyze_cpu_us_per_layer": analyze_cpu_s["median"] / layers * 1e6,
                "load_cpu_us_per_layer": load_cpu_s["median"] / layers * 1e6,
                "load_us_per_layer": load_s["median"] / layers * 1e6,
                "analyze_us_per_layer": analyze_s["median"] / layers * 1e6,
                "analyze_us_per_layer_min": analyze_s["min"] / layers * 1e6,
                "load_us_per_layer_min": load_s["min"] / layers * 1e6,
            }
        )
        log(
            f"analysis: scaling ×{n}: {layers} layers, load {load_s['median'] * 1e3:.1f} ms, "
            f"analyze {analyze_s['median'] * 1e3:.1f} ms"
        )
    # Marginal cost per added layer between consecutive sizes: flat if it matches the average.
    for a, b in zip(rows, rows[1:], strict=False):
        dl = b["layers"] - a["layers"]
        b["analyze_marginal_us_per_layer"] = (b["analyze_s"]["median"] - a["analyze_s"]["median"]) / dl * 1e6
        b["load_marginal_us_per_layer"] = (b["load_s"]["median"] - a["load_s"]["median"]) / dl * 1e6
    return rows


def run(config: dict[str, Any]) -> dict[str, Any]:
    start = loadavg()
    t = time.perf_counter()
    import inceptionspec  # noqa: F401
    from inceptionspec.lang.library import shipped

    import_s = time.perf_counter() - t
    names = list(shipped()) if config["analysis_specs"] == "all" else list(config["analysis_specs"])
    per_spec = []
    for name in names:
        row = _per_spec(name, config["load_repeats"], config["analyze_repeats"])
        per_spec.append(row)
        log(
            f"analysis: {name}: {row['layers']} layers, load {row['load_s']['median'] * 1e3:.1f} ms, "
            f"analyze {row['analyze_s']['median'] * 1e3:.1f} ms"
        )
    with tempfile.TemporaryDirectory(prefix="inceptionspec-bench-") as tmp:
        scaling = _scaling(config["scaling_sizes"], config["scaling_repeats"], Path(tmp))
    return {
        "import_inceptionspec_s": import_s,
        "tensorflow_imported": "tensorflow" in sys.modules,
        "specs": per_spec,
        "scaling": scaling,
        "scaling_template": SCALING_TEMPLATE.format(n="N"),
        "loadavg": {"start": start, "end": loadavg()},
    }
