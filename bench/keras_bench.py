"""Sections 3 and 4: model build time and inference throughput against keras.applications.

Runs in a worker process (TensorFlow is imported once, here).  Our side is
``inceptionspec.build_model(name, include_aux=False)``; the reference is
``keras.applications.<Model>(weights=None)``.  Builds alternate A B A B …, each
preceded by ``keras.backend.clear_session()`` and a garbage collection (outside
the timed region), after one discarded warm-up build of each.

Where our build spends its time is measured inside the same timed builds by
wrapping (in this process only) the stages ``build_model`` calls:
``pipeline.load``, ``lower``, ``analyze_graph``, ``compile_graph`` and the
self-check ``check``; "Keras graph construction" is compile_graph minus check.
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from .common import loadavg, log, ratio, summarize

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

STAGE_KEYS = (
    "load",
    "lower",
    "analyze_graph",
    "compile_graph",
    "check",
    "gc",
    "gc:load",
    "gc:lower",
    "gc:analyze_graph",
    "gc:compile_graph",
    "gc:check",
    "gc_full_collections",
)

#: Shipped spec → keras.applications factory name.
REFERENCES = {"inception_v3": "InceptionV3", "inception_resnet_v2": "InceptionResNetV2"}


class StageTimer:
    """Wraps package functions so each call's wall time is added to a per-stage total, and
    clocks the garbage collector: its pauses in total (``gc``) and inside each stage (``gc:STAGE``,
    the innermost wrapped function running when the collection started)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self._undo: list[tuple[Any, str, Any]] = []
        self._stack: list[str] = []
        self._gc_start = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
            return
        elapsed = time.perf_counter() - self._gc_start
        self.totals["gc"] += elapsed
        if info.get("generation") == 2:
            self.totals["gc_full_collections"] += 1
        if self._stack:
            self.totals[f"gc:{self._stack[-1]}"] += elapsed

    def wrap(self, owner: Any, attr: str, stage: str) -> None:
        original = getattr(owner, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            self._stack.append(stage)
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.totals[stage] += time.perf_counter() - start
                self._stack.pop()

        setattr(owner, attr, timed)
        self._undo.append((owner, attr, original))

    def reset(self) -> dict[str, float]:
        out = dict(self.totals)
        self.totals.clear()
        return out

    def restore(self) -> None:
        for owner, attr, original in reversed(self._undo):
            setattr(owner, attr, original)
        self._undo.clear()
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)


def _import_keras() -> tuple[Any, Any, float]:
    start = time.perf_counter()
    import keras

    import inceptionspec
    import inceptionspec.keras as keras_backend

    elapsed = time.perf_counter() - start
    assert keras_backend is not None and inceptionspec is not None
    return keras, keras_backend, elapsed


def _timed_build(make: Callable[[], Any], keras: Any) -> tuple[float, float, Any]:
    """(wall s, process CPU s — all threads, model) of one build after clear_session()."""
    keras.backend.clear_session()
    gc.collect()
    cpu = time.process_time()
    start = time.perf_counter()
    model = make()
    return time.perf_counter() - start, time.process_time() - cpu, model


def run_build(config: dict[str, Any]) -> dict[str, Any]:
    start_load = loadavg()
    keras, kb, import_s = _import_keras()
    import inceptionspec.lang.pipeline as pipeline

    log(f"build: keras + inceptionspec.keras imported in {import_s:.1f}s")
    timer = StageTimer()
    timer.wrap(pipeline, "load", "load")
    import inceptionspec.keras.build as stages  # where build_model finds its steps

    timer.wrap(stages, "lower", "lower")
    timer.wrap(stages, "analyze_graph", "analyze_graph")
    timer.wrap(stages, "compile_graph", "compile_graph")
    timer.wrap(stages, "check", "check")
    rows = []
    try:
        for name in config["models"]:
            app = getattr(keras.applications, REFERENCES[name])

            def ours(name: str = name) -> Any:
                return kb.build_model(name, include_aux=False)

            def theirs(app: Any = app) -> Any:
                return app(weights=None)

            warm_a, _, model_a = _timed_build(ours, keras)
            timer.reset()
            warm_b, _, model_b = _timed_build(theirs, keras)
            params = (model_a.count_params(), model_b.count_params())
            layers = (len(model_a.layers), len(model_b.layers))
            kinds_a = Counter(type(layer).__name__ for layer in model_a.layers)
            kinds_b = Counter(type(layer).__name__ for layer in model_b.layers)
            kind_diff = {
                k: {"ours": kinds_a.get(k, 0), "keras": kinds_b.get(k, 0)}
                for k in sorted(set(kinds_a) | set(kinds_b))
                if kinds_a.get(k, 0) != kinds_b.get(k, 0)
            }
            count_start = time.perf_counter()
            model_a.count_params()
            count_params_s = time.perf_counter() - count_start
            del model_a, model_b
            log(f"build: {name}: warm-up ours {warm_a:.2f}s, keras {warm_b:.2f}s")
            a_times, b_times, a_cpu, b_cpu, stages = [], [], [], [], defaultdict(list)
            keras_gc: list[float] = []
            keras_full: list[float] = []
            for i in range(config["build_repeats"]):
                t_a, c_a, model = _timed_build(ours, keras)
                del model
                a_times.append(t_a)
                a_cpu.append(c_a)
                measured = timer.reset()
                for stage in STAGE_KEYS:
                    stages[stage].append(measured.get(stage, 0.0))
                t_b, c_b, model = _timed_build(theirs, keras)
                reference = timer.reset()
                keras_gc.append(reference.get("gc", 0.0))
                keras_full.append(reference.get("gc_full_collections", 0.0))
                del model
                b_times.append(t_b)
                b_cpu.append(c_b)
                log(
                    f"build: {name} {i + 1}/{config['build_repeats']}: ours {t_a:.2f}s (CPU {c_a:.2f}s), "
                    f"keras {t_b:.2f}s (CPU {c_b:.2f}s)"
                )
            construction = [c - k for c, k in zip(stages["compile_graph"], stages["check"], strict=True)]
            accounted = [
                lo + lw + an + cg
                for lo, lw, an, cg in zip(
                    stages["load"], stages["lower"], stages["analyze_graph"], stages["compile_graph"], strict=True
                )
            ]
            breakdown = {
                "load": summarize(stages["load"]),
                "lower": summarize(stages["lower"]),
                "analyze_graph": summarize(stages["analyze_graph"]),
                "keras_construction": summarize(construction),
                "check": summarize(stages["check"]),
                "other": summarize(t - a for t, a in zip(a_times, accounted, strict=True)),
                "gc": summarize(stages["gc"]),
                "gc_in_check": summarize(stages["gc:check"]),
                "gc_in_static": summarize(
                    a + b + c
                    for a, b, c in zip(stages["gc:load"], stages["gc:lower"], stages["gc:analyze_graph"], strict=True)
                ),
                "keras_reference_gc": summarize(keras_gc),
                "gc_full_collections": summarize(stages["gc_full_collections"]),
                "keras_reference_full_collections": summarize(keras_full),
            }
            ours_s, theirs_s = summarize(a_times), summarize(b_times)
            ours_cpu, theirs_cpu = summarize(a_cpu), summarize(b_cpu)
            rows.append(
                {
                    "model": name,
                    "reference": f"keras.applications.{REFERENCES[name]}(weights=None)",
                    "params": {"ours": params[0], "keras": params[1]},
                    "layers": {"ours": layers[0], "keras": layers[1]},
                    "layer_kind_differences": kind_diff,
                    "warmup_s": {"ours": warm_a, "keras": warm_b},
                    "ours_s": ours_s,
                    "keras_s": theirs_s,
                    "ours_cpu_s": ours_cpu,
                    "keras_cpu_s": theirs_cpu,
                    "ratio_median": ratio(ours_s["median"], theirs_s["median"]),
                    "ratio_cpu_median": ratio(ours_cpu["median"], theirs_cpu["median"]),
                    "ratio_min": ratio(ours_s["min"], theirs_s["min"]),
                    # each of our builds against the Keras build right after it: robust to slow drifts in load
                    "ratio_paired_median": statistics.median(a / b for a, b in zip(a_times, b_times, strict=True)),
                    "ratio_without_static_and_check": ratio(
                        ours_s["median"]
                        - breakdown["load"]["median"]
                        - breakdown["lower"]["median"]
                        - breakdown["analyze_graph"]["median"]
                        - breakdown["check"]["median"],
                        theirs_s["median"],
                    ),
                    "breakdown_s": breakdown,
                    "count_params_s": count_params_s,
                }
            )
    finally:
        timer.restore()
    return {
        "import_keras_s": import_s,
        "repeats": config["build_repeats"],
        "models": rows,
        "loadavg": {"start": start_load, "end": loadavg()},
    }


def run_inference(config: dict[str, Any]) -> dict[str, Any]:
    start_load = loadavg()
    keras, kb, import_s = _import_keras()
    import numpy as np
    import tensorflow as tf

    batch, size = config["batch"], config["image_size"]
    rng = np.random.default_rng(0)
    x = tf.constant(rng.uniform(-1.0, 1.0, size=(batch, size, size, 3)).astype("float32"))
    rows = []
    for name in config["models"]:
        keras.backend.clear_session()
        gc.collect()
        reference = getattr(keras.applications, REFERENCES[name])(weights=None)
        ours = kb.build_model(name, include_aux=False)
        report = kb.transfer_weights(reference, ours)
        log(f"inference: {name}: {report}")

        def compiled(model: Any) -> Callable[[Any], Any]:
            return tf.function(lambda t: model(t, training=False), reduce_retracing=True)

        def first_output(value: Any) -> Any:
            return next(iter(value.values())) if isinstance(value, dict) else value

        fns = {"ours": compiled(ours), "keras": compiled(reference)}
        outputs = {}
        warm = {}
        for side, fn in fns.items():
            start = time.perf_counter()
            for _ in range(config["inference_warmup"]):
                outputs[side] = first_output(fn(x)).numpy()
            warm[side] = time.perf_counter() - start
        max_abs_diff = float(np.max(np.abs(outputs["ours"] - outputs["keras"])))
        log(
            f"inference: {name}: warm-up ours {warm['ours']:.1f}s, keras {warm['keras']:.1f}s, "
            f"max |Δ output| {max_abs_diff:.2e}"
        )
        times: dict[str, list[float]] = {"ours": [], "keras": []}
        cpu_times: dict[str, list[float]] = {"ours": [], "keras": []}
        iters = config["inference_iters"]
        for i in range(config["inference_repeats"]):
            order = ("ours", "keras") if i % 2 == 0 else ("keras", "ours")
            for side in order:
                fn = fns[side]
                gc.collect()
                cpu = time.process_time()
                start = time.perf_counter()
                for _ in range(iters):
                    first_output(fn(x)).numpy()
                times[side].append((time.perf_counter() - start) / iters)
                cpu_times[side].append((time.process_time() - cpu) / iters)
            log(
                f"inference: {name} {i + 1}/{config['inference_repeats']}: "
                f"ours {batch / times['ours'][-1]:.1f} img/s, keras {batch / times['keras'][-1]:.1f} img/s"
            )
        per_batch = {side: summarize(v) for side, v in times.items()}
        throughput = {side: {"median": batch / s["median"], "best": batch / s["min"]} for side, s in per_batch.items()}
        rows.append(
            {
                "model": name,
                "reference": f"keras.applications.{REFERENCES[name]}",
                "batch": batch,
                "image_size": size,
                "iterations_per_sample": iters,
                "transfer": str(report),
                "max_abs_output_diff": max_abs_diff,
                "seconds_per_batch": per_batch,
                "images_per_s": throughput,
                "cpu_seconds_per_batch": {side: summarize(v) for side, v in cpu_times.items()},
                "ratio_median": ratio(throughput["ours"]["median"], throughput["keras"]["median"]),
                # CPU seconds per batch, keras ÷ ours: > 1 when ours needs less CPU for the same work.
                "ratio_cpu_median": ratio(
                    summarize(cpu_times["keras"])["median"], summarize(cpu_times["ours"])["median"]
                ),
                "ratio_best": ratio(throughput["ours"]["best"], throughput["keras"]["best"]),
                "ratio_paired_median": statistics.median(
                    b / a for a, b in zip(times["ours"], times["keras"], strict=True)
                ),
                "warmup_s": warm,
            }
        )
        del fns, ours, reference
    return {
        "import_keras_s": import_s,
        "repeats": config["inference_repeats"],
        "tf_threads": {
            "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
        },
        "models": rows,
        "loadavg": {"start": start_load, "end": loadavg()},
    }


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run `python -m bench`")
