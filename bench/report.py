"""Targets and the markdown report of a run (bench/results/latest.md)."""

from __future__ import annotations

import statistics
from typing import Any

CLI_RATIO_TARGET = 0.08  # issue 12: validate/summary of every shipped spec
ANALYZE_IRV2_TARGET_MS = 20.0
FLATNESS_TARGET = 1.5  # the benchmark's own reading of "µs/layer stays flat": max/min over the series
BUILD_RATIO_TARGET = 1.05
INFERENCE_RATIO_TARGET = 0.97


def _ms(seconds: float | None, digits: int = 1) -> str:
    return "–" if seconds is None else f"{seconds * 1e3:.{digits}f}"


def _s(seconds: float | None, digits: int = 2) -> str:
    return "–" if seconds is None else f"{seconds:.{digits}f}"


def _pair(stats: dict[str, Any] | None, fmt: Any = _s) -> str:
    if not stats or stats.get("min") is None:
        return "–"
    return f"{fmt(stats['min'])} / {fmt(stats['median'])}"


def _count(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def _x(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# --- targets --------------------------------------------------------------------------


def targets(doc: dict[str, Any]) -> list[dict[str, Any]]:
    res = doc["results"]
    out: list[dict[str, Any]] = []

    def add(name: str, value: float | None, target: str, ok: bool | None, note: str = "") -> None:
        out.append({"name": name, "value": value, "target": target, "met": ok, "note": note})

    proc = res.get("process")
    if proc and "error" not in proc:
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for case in proc["cases"]:
            if case["spec"] is not None:
                groups.setdefault((case["launcher"], case["env"]), []).append(case)
        for (launcher, env), cases in groups.items():
            worst = max(cases, key=lambda c: c["ratio_to_import_keras"] or 0)
            worst_cpu = max(cases, key=lambda c: c["cpu_ratio_to_import_keras"] or 0)
            worst_min = max(cases, key=lambda c: c["ratio_to_import_keras_min"] or 0)
            typical = statistics.median(c["ratio_to_import_keras"] or 0 for c in cases)
            value = worst["ratio_to_import_keras"]
            add(
                f"CLI wall ÷ `import keras` wall [{launcher}, {env}] (worst spec, medians)",
                value,
                f"≤ {CLI_RATIO_TARGET}",
                None if value is None else value <= CLI_RATIO_TARGET,
                f"worst: {worst['command']} {worst['spec']}; median over specs {typical:.3f}; worst by mins "
                f"{_x(worst_min['ratio_to_import_keras_min'])}; worst CPU-time ratio "
                f"{_x(worst_cpu['cpu_ratio_to_import_keras'])} ({worst_cpu['command']} {worst_cpu['spec']})",
            )
        profiles = proc.get("import_profiles", {})
        if profiles:
            tf = any(p["imports_tensorflow"] or p["imports_keras"] for p in profiles.values())
            add("static CLI path imports TensorFlow/Keras", None, "never", not tf, "from -X importtime")
    mem = res.get("memory")
    if mem and "error" not in mem:
        source = proc if mem.get("from") == "process" else mem
        if source and "error" not in source:
            cli = [c for c in source["cases"] if c["spec"] is not None and c["max_rss_mib"]["n"]]
            keras = [c for c in source["cases"] if c["command"] == "import keras" and c["max_rss_mib"]["n"]]
            if cli and keras:
                worst = max(cli, key=lambda c: c["max_rss_mib"]["median"])
                add(
                    "peak RSS of validate/summary (worst spec), MiB",
                    worst["max_rss_mib"]["median"],
                    "(no target)",
                    None,
                    f"{worst['key']}; `import keras`: {keras[0]['max_rss_mib']['median']:.0f} MiB",
                )
    ana = res.get("analysis")
    if ana and "error" not in ana:
        for row in ana["specs"]:
            if row["spec"] == "inception_resnet_v2":
                for kind, key in (("wall", "analyze_s"), ("thread CPU", "analyze_cpu_s")):
                    value = row[key]["median"] * 1e3
                    add(
                        f"analyze(inception_resnet_v2) on a loaded spec, median {kind} ms",
                        value,
                        f"≤ {ANALYZE_IRV2_TARGET_MS:g} ms",
                        value <= ANALYZE_IRV2_TARGET_MS,
                        f"min {row[key]['min'] * 1e3:.1f} ms",
                    )
        series = ana.get("scaling") or []
        if len(series) > 1:
            big, prev = series[-1], series[-2]
            for what in ("analyze", "load"):
                value = big[f"{what}_cpu_us_per_layer"] / prev[f"{what}_cpu_us_per_layer"]
                add(
                    f"{what}: CPU µs/layer at ×{big['repeat']} ÷ at ×{prev['repeat']}",
                    value,
                    f"≤ {FLATNESS_TARGET} (flat)",
                    value <= FLATNESS_TARGET,
                    "CPU "
                    + ", ".join(f"{r[f'{what}_cpu_us_per_layer']:.1f}" for r in series)
                    + "; wall "
                    + ", ".join(f"{r[f'{what}_us_per_layer']:.1f}" for r in series)
                    + " µs/layer over ×"
                    + ", ×".join(str(r["repeat"]) for r in series),
                )
    build = res.get("build")
    if build and "error" not in build:
        for row in build["models"]:
            value = row["ratio_median"]
            add(
                f"build_model({row['model']}) ÷ keras.applications build (medians)",
                value,
                f"≤ {BUILD_RATIO_TARGET}",
                value <= BUILD_RATIO_TARGET,
                f"paired {_x(row.get('ratio_paired_median'))}; CPU-time ratio {_x(row.get('ratio_cpu_median'))}; "
                f"min/min {row['ratio_min']:.3f}; "
                f"Keras part only {row['ratio_without_static_and_check']:.3f}",
            )
    inf = res.get("inference")
    if inf and "error" not in inf:
        for row in inf["models"]:
            value = row["ratio_median"]
            add(
                f"inference img/s {row['model']} ÷ keras.applications (medians, batch {row['batch']})",
                value,
                f"≥ {INFERENCE_RATIO_TARGET}",
                value >= INFERENCE_RATIO_TARGET,
                f"paired {_x(row.get('ratio_paired_median'))}; best/best {row['ratio_best']:.3f}; "
                f"CPU s per batch keras ÷ ours {_x(row.get('ratio_cpu_median'))}",
            )
    return out


def targets_table(items: list[dict[str, Any]]) -> str:
    rows = []
    for t in items:
        status = {True: "met", False: "**missed**", None: "–"}[t["met"]]
        value = "–" if t["value"] is None else f"{t['value']:.3f}"
        rows.append([t["name"], value, t["target"], status, t["note"]])
    return _table(["measure", "value", "target", "status", "note"], rows)


# --- sections -------------------------------------------------------------------------


def _machine(doc: dict[str, Any]) -> str:
    m = doc["meta"]
    v = m["versions"]
    busy = ""
    la = m.get("loadavg_start")
    if la and m.get("cores") and max(la[0], (m.get("loadavg_end") or [0])[0]) > 0.5 * m["cores"]:
        busy = (
            f"\n\n> **The machine was busy**: load average {la[0]:.2f} at the start, "
            f"{(m.get('loadavg_end') or [0])[0]:.2f} at the end, on {m['cores']} cores. "
            "Absolute times are inflated and noisy; ratios of alternated measurements are more robust."
        )
    lines = [
        f"- date: {m['date']} · host {m['hostname']}",
        f"- CPU: {m['cpu']} · {m['cores']} cores ({m['usable_cores']} usable) · {m['memory_gib']} GiB RAM",
        f"- OS: {m['os']}",
        f"- Python {m['python']} · TensorFlow {v.get('tensorflow')} · Keras {v.get('keras')} · "
        f"inceptionspec {v.get('inceptionspec')} · pydantic {v.get('pydantic')} · numpy {v.get('numpy')}",
        f"- git: {m['git_commit'] or '?'}{' (uncommitted changes)' if m['git_dirty'] else ''}",
        f"- environment: {m['env'] or '{}'}; inceptionspec/__pycache__ present: {m['inceptionspec_bytecode_cached']}",
        f"- mode: {doc['config']['mode']}; sections: {', '.join(doc['config']['sections'])}; "
        f"duration {m['duration_s']:.0f} s ("
        + ", ".join(f"{k} {v:.0f} s" for k, v in m["section_durations_s"].items())
        + ")",
        f"- load average at start / end: {m['loadavg_start']} / {m['loadavg_end']}",
        "",
        "Reproduce:",
        "",
        "```sh",
        m["command"],
        "```",
    ]
    return "\n".join(lines) + busy


def _process(proc: dict[str, Any]) -> str:
    cases = proc["cases"]
    columns = sorted(
        {(c["launcher"], c["env"]) for c in cases if c["spec"] is not None}, key=lambda k: (k[0] != "module", k)
    )
    rows = []
    keyed = {(c["command"], c["spec"], c["launcher"], c["env"]): c for c in cases}
    for command in ("validate", "summary"):
        for spec in dict.fromkeys(c["spec"] for c in cases if c["spec"] is not None):
            row = [f"`{command}`", spec]
            for launcher, env in columns:
                c = keyed.get((command, spec, launcher, env))
                row.append(f"{_pair(c['wall_s'])} ({_x(c['ratio_to_import_keras'], 2)})" if c else "–")
            rows.append(row)
    for command in dict.fromkeys(c["command"] for c in cases if c["spec"] is None):
        row = [f"`{command}`" if command.startswith("python") else f'`python -c "{command}"`', "(reference)"]
        for launcher, env in columns:
            c = keyed.get((command, None, "python -c", env)) if launcher == "module" else None
            row.append(f"{_pair(c['wall_s'])} ({_x(c['ratio_to_import_keras'], 2)})" if c else "")
        rows.append(row)
    header = ["command", "spec"] + [f"{launcher}, {env}" for launcher, env in columns]
    errors = [f"- {c['key']}: {c['errors'][0]}" for c in cases if c["errors"]]
    text = [
        f"Wall time of the whole process in seconds, min / median of {proc['repeats']} runs (after warm-up runs "
        "per launcher, environment and command; cases run round-robin); in parentheses the median ÷ the median "
        'of `python -c "import keras"`. '
        "`module` = `python -m inceptionspec.cli`; `script (PATH)` = "
        f"`{proc['launchers'].get('script (PATH)', '–')}`"
        + (
            " (a pyenv shim: a bash script that execs `pyenv exec`)"
            if proc.get("script_on_path_is_python") is False
            else ""
        )
        + "; env `as-is` = the calling environment, `pyc` = cached bytecode (see README).",
        "",
        _table(header, rows),
    ]
    cpu_rows = []
    for c in cases:
        if c["launcher"] in ("module", "python -c"):
            cpu_rows.append([c["key"], _pair(c["cpu_s"]), _x(c["cpu_ratio_to_import_keras"], 2)])
    text += ["", "CPU time (user + system) of the child, s, min / median — less sensitive to a busy machine:", ""]
    text.append(_table(["case", "CPU s", "÷ import keras CPU"], cpu_rows))
    for env, prof in proc.get("import_profiles", {}).items():
        text += [
            "",
            f"Imports of `{prof['command']}` [{env}] (`-X importtime`, one run): {prof['import_total_ms']:.0f} ms "
            f"of imports in a {prof['wall_s']:.2f} s process; TensorFlow imported: {prof['imports_tensorflow']}, "
            f"Keras imported: {prof['imports_keras']}.",
            "",
            _table(
                ["top-level package", "self ms (sum)"],
                [[k, f"{v:.1f}"] for k, v in list(prof["by_package_ms"].items())[:10]],
            ),
            "",
            _table(
                ["inceptionspec module", "self ms", "cumulative ms"],
                [
                    [r["module"], f"{r['self_ms']:.1f}", f"{r['cumulative_ms']:.1f}"]
                    for r in prof["inceptionspec_modules_ms"][:10]
                ],
            ),
        ]
    if errors:
        text += ["", "Errors:", *errors]
    return "\n".join(text)


def _memory(doc: dict[str, Any]) -> str:
    mem = doc["results"]["memory"]
    source = doc["results"]["process"] if mem.get("from") == "process" else mem
    rows = []
    for c in source["cases"]:
        if c["launcher"] in ("module", "python -c") and c["env"] == "as-is" and c["command"] != "python -c pass":
            rows.append(
                [
                    c["key"],
                    f"{c['max_rss_mib']['min']:.1f} / {c['max_rss_mib']['median']:.1f}"
                    if c["max_rss_mib"]["n"]
                    else "–",
                ]
            )
    return (
        "Peak resident memory (ru_maxrss of each child from `os.wait4`), MiB, "
        f"min / median of {source['repeats']} runs:\n\n" + _table(["case", "max RSS MiB"], rows)
    )


def _analysis(ana: dict[str, Any]) -> str:
    rows = [
        [
            r["spec"],
            r["layers"],
            _pair(r["load_s"], _ms),
            _pair(r["analyze_s"], _ms),
            _pair(r["lower_s"], _ms),
            _pair(r["analyze_graph_s"], _ms),
            _pair(r["load_cpu_s"], _ms),
            _pair(r["analyze_cpu_s"], _ms),
            f"{r['analyze_us_per_layer']:.1f}",
            f"{r['load_us_per_layer']:.1f}",
        ]
        for r in ana["specs"]
    ]
    n_load = ana["specs"][0]["load_s"]["n"] if ana["specs"] else 0
    n_an = ana["specs"][0]["analyze_s"]["n"] if ana["specs"] else 0
    text = [
        f"In-process, ms, min / median ({n_load} loads, {n_an} analyses per spec); `analyze` = `lower` + "
        f"`analyze_graph` on an already loaded spec; wall time unless marked CPU (this thread's CPU time, which "
        f"excludes waiting for a core); µs/layer from wall medians. TensorFlow imported in this process: "
        f"{ana['tensorflow_imported']}; `import inceptionspec` took {ana['import_inceptionspec_s'] * 1e3:.0f} ms.",
        "",
        _table(
            [
                "spec",
                "layers",
                "load ms",
                "analyze ms",
                "lower ms",
                "analyze_graph ms",
                "load CPU ms",
                "analyze CPU ms",
                "analyze µs/layer",
                "load µs/layer",
            ],
            rows,
        ),
    ]
    series = ana.get("scaling") or []
    if series:
        srows = [
            [
                f"×{r['repeat']}",
                r["layers"],
                _pair(r["load_s"], _ms),
                _pair(r["analyze_s"], _ms),
                f"{r['load_us_per_layer']:.1f} ({r['load_cpu_us_per_layer']:.1f})",
                f"{r['analyze_us_per_layer']:.1f} ({r['analyze_cpu_us_per_layer']:.1f})",
                _x(r.get("load_marginal_us_per_layer"), 1),
                _x(r.get("analyze_marginal_us_per_layer"), 1),
            ]
            for r in series
        ]
        text += [
            "",
            "Scaling: one Inception-A-like block (7 conv+BN+ReLU, an average pool, a concat) with `repeat: N`, "
            "plus a global pool and a dense head (the template is in latest.json). Marginal = added time ÷ added "
            "layers from the previous row.",
            "",
            _table(
                [
                    "repeat",
                    "layers",
                    "load ms",
                    "analyze ms",
                    "load µs/layer (CPU)",
                    "analyze µs/layer (CPU)",
                    "load marginal µs/layer",
                    "analyze marginal µs/layer",
                ],
                srows,
            ),
        ]
    return "\n".join(text)


def _build(build: dict[str, Any]) -> str:
    rows, parts, kinds = [], [], []
    for r in build["models"]:
        diff = r.get("layer_kind_differences") or {}
        kinds.append(
            f"- {r['model']}: {r['layers']['ours']} Keras layers in ours, {r['layers']['keras']} in "
            "keras.applications; "
            + (
                "layer kinds differ: " + ", ".join(f"{k} {v['ours']} vs {v['keras']}" for k, v in diff.items())
                if diff
                else "the same layer kinds, the same number of each"
            )
        )
        rows.append(
            [
                r["model"],
                f"{r['params']['ours']:,} / {r['params']['keras']:,}",
                _pair(r["ours_s"]),
                _pair(r["keras_s"]),
                f"{_pair(r.get('ours_cpu_s'))} vs {_pair(r.get('keras_cpu_s'))}",
                _x(r["ratio_median"]),
                _x(r.get("ratio_cpu_median")),
                _x(r["ratio_min"]),
                _x(r.get("ratio_paired_median")),
                _x(r["ratio_without_static_and_check"]),
            ]
        )
        b = r["breakdown_s"]
        parts.append(
            [
                r["model"],
                _pair(b["load"], _ms),
                _pair(b["lower"], _ms),
                _pair(b["analyze_graph"], _ms),
                _pair(b["keras_construction"], _ms),
                _pair(b["check"], _ms),
                _pair(b["other"], _ms),
                _ms(r["count_params_s"]),
                f"{_pair(b.get('gc'), _ms)} ({_pair(b.get('gc_in_check'), _ms)}); "
                f"{_pair(b.get('gc_full_collections'), _count)} full",
                f"{_pair(b.get('keras_reference_gc'), _ms)}; "
                f"{_pair(b.get('keras_reference_full_collections'), _count)} full",
            ]
        )
    return "\n".join(
        [
            f"Seconds, min / median of {build['repeats']} builds each, alternating ours / Keras with "
            "`keras.backend.clear_session()` before each (after one warm-up build each). "
            f"`import keras` + `inceptionspec.keras` in this worker: {build['import_keras_s']:.1f} s.",
            "",
            _table(
                [
                    "model",
                    "params ours / keras",
                    "build_model s",
                    "keras.applications s",
                    "CPU s ours vs keras",
                    "ratio (medians)",
                    "CPU ratio (medians)",
                    "ratio (mins)",
                    "ratio (paired, median)",
                    "ratio, Keras part only",
                ],
                rows,
            ),
            "",
            "Where `build_model(name, include_aux=False)` spends its time, ms, min / median over the same builds "
            '("Keras part only" above = build minus load, lower, analyze_graph and the self-check). GC pauses '
            "(from `gc.callbacks`) are included in the stage they interrupt; a full collection lands wherever "
            "the allocation count crosses the threshold, so a stage can carry one that the whole build caused:",
            "",
            _table(
                [
                    "model",
                    "load (YAML → Spec)",
                    "lower (IR)",
                    "analyze_graph",
                    "Keras graph construction",
                    "self-check",
                    "other",
                    "count_params() alone",
                    "GC pauses, whole build (in self-check)",
                    "GC pauses, keras.applications build",
                ],
                parts,
            ),
            "",
            *kinds,
        ]
    )


def _inference(inf: dict[str, Any]) -> str:
    rows = []
    for r in inf["models"]:
        ours, keras = r["images_per_s"]["ours"], r["images_per_s"]["keras"]
        rows.append(
            [
                r["model"],
                f"{r['batch']}×{r['image_size']}×{r['image_size']}×3",
                f"{ours['median']:.2f} (best {ours['best']:.2f})",
                f"{keras['median']:.2f} (best {keras['best']:.2f})",
                _x(r["ratio_median"]),
                _x(r["ratio_best"]),
                _x(r.get("ratio_paired_median")),
                f"{_pair(r['cpu_seconds_per_batch']['ours'])} vs {_pair(r['cpu_seconds_per_batch']['keras'])}",
                _x(r.get("ratio_cpu_median")),
                f"{r['max_abs_output_diff']:.1e}",
            ]
        )
    t = inf.get("tf_threads", {})
    return "\n".join(
        [
            f"`model(x, training=False)` inside `tf.function`, fixed random batch, {inf['repeats']} samples per model "
            f"of {inf['models'][0]['iterations_per_sample'] if inf['models'] else '?'} batch(es) each, "
            "alternating which model goes first, after warm-up; our model carries the Keras model's weights "
            "(`transfer_weights`). TF threads intra/inter-op: "
            f"{t.get('intra_op')}/{t.get('inter_op')} (0 = TF's default).",
            "",
            _table(
                [
                    "model",
                    "batch",
                    "ours img/s median",
                    "keras img/s median",
                    "ratio (medians)",
                    "ratio (best)",
                    "ratio (paired, median)",
                    "CPU s/batch ours vs keras",
                    "CPU ratio keras ÷ ours",
                    "max |Δ output|",
                ],
                rows,
            ),
        ]
    )


def markdown(doc: dict[str, Any]) -> str:
    res = doc["results"]
    parts = ["# inceptionspec benchmark", "", _machine(doc), "", "## Targets", "", targets_table(doc["targets"])]
    sections = [
        ("process", "1. CLI process wall time vs `import keras`", _process),
        ("analysis", "2. Static analysis in-process", _analysis),
        ("build", "3. Model build", _build),
        ("inference", "4. Inference throughput", _inference),
    ]
    for key, title, render in sections:
        if key in res:
            parts += ["", f"## {title}", ""]
            parts.append(f"Failed:\n\n```\n{res[key]['error']}\n```" if "error" in res[key] else render(res[key]))
    if "memory" in res:
        parts += ["", "## 5. Peak memory", ""]
        parts.append(f"Failed:\n\n```\n{res['memory']['error']}\n```" if "error" in res["memory"] else _memory(doc))
    return "\n".join(parts) + "\n"
