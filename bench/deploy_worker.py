"""``python -m bench.deploy_worker TASK CONFIG.json OUT.json``: one measurement in a fresh interpreter.

The Keras backend is fixed per process (``KERAS_BACKEND``), so the orchestrator (``bench/deploy.py``)
starts one worker per backend and task:

- ``prepare`` (TensorFlow): builds each model with random batch-norm statistics, saves it as
  ``.keras`` plain and BN-folded, and exports ONNX and LiteRT from both (each export checked).
- ``startup`` (any backend): import, first build, first call, steady calls, second build of one
  model — where a backend's start-up time goes. With ``keras_initializers`` the model is built
  with Keras' own seeded initializers instead of ours (the cause of JAX's slow first build).
- ``keras`` (any backend): images/s of ``predict_on_batch`` for each model, batch and fold.
- ``runtimes`` (no Keras): images/s of ONNX Runtime and the LiteRT interpreter on the same files.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .common import summarize

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _images(shape: list[int], batch: int) -> np.ndarray:
    return np.random.default_rng(0).normal(size=(batch, *shape)).astype("float32")


def _throughput(call: Callable[[np.ndarray], Any], x: np.ndarray, warmup: int, repeats: int) -> dict[str, Any]:
    """images/s of ``call(x)``: ``warmup`` untimed calls, then ``repeats`` timed ones."""
    for _ in range(warmup):
        call(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call(x)
        times.append(time.perf_counter() - start)
    stats = summarize(times)
    return {"seconds": stats, "images_per_s": len(x) / stats["min"], "images_per_s_median": len(x) / stats["median"]}


def prepare(config: dict[str, Any]) -> dict[str, Any]:
    import inceptionspec
    from inceptionspec.keras.export import export_model
    from inceptionspec.keras.fold import fold_batch_norm
    from inceptionspec.keras.parity import randomize_batch_norm

    out = Path(config["dir"])
    result: dict[str, Any] = {}
    for name in config["models"]:
        model = inceptionspec.build_model(name, include_aux=False, seed=0)
        randomize_batch_norm(model, 0)  # so that folding changes real numbers
        folded, report = fold_batch_norm(model)
        model.save(out / f"{name}.keras")
        folded.save(out / f"{name}.folded.keras")
        entry: dict[str, Any] = {"input": list(model.inputs[0].shape[1:]), "folded_pairs": len(report.pairs)}
        for fmt, suffix in (("onnx", ".onnx"), ("litert", ".tflite")):
            for fold in (False, True):
                path = out / f"{name}{'.folded' if fold else ''}{suffix}"
                started = time.perf_counter()
                exported = export_model(model, path, fmt, fold_bn=fold)
                entry[f"{fmt}{'.folded' if fold else ''}"] = {
                    "export_s": time.perf_counter() - started,
                    "check_worst": exported.check.worst if exported.check else None,
                }
        result[name] = entry
    return result


def _use_keras_initializers() -> None:
    """Build with Keras' seeded initializers (drawn by the backend's RNG) instead of ours."""
    import keras

    import inceptionspec.keras.lower as lower

    lower.GlorotUniform = lambda seed: keras.initializers.GlorotUniform(seed=seed)
    lower.Constant = lambda value: keras.initializers.Constant(value)
    lower.batch_norm_initializers = dict


def startup(config: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    import keras

    import inceptionspec.keras

    result: dict[str, Any] = {"import_s": time.perf_counter() - started, "backend": keras.backend.backend()}
    if config.get("keras_initializers"):
        _use_keras_initializers()
    name = config["model"]
    started = time.perf_counter()
    model = inceptionspec.keras.build_model(name, include_aux=False, seed=0)
    result["first_build_s"] = time.perf_counter() - started
    x = _images(list(model.inputs[0].shape[1:]), 1)
    started = time.perf_counter()
    model.predict_on_batch(x)
    result["first_call_s"] = time.perf_counter() - started
    result["steady"] = _throughput(model.predict_on_batch, x, 1, config["repeats"])
    started = time.perf_counter()
    inceptionspec.keras.build_model(name, include_aux=False, seed=1)
    result["second_build_s"] = time.perf_counter() - started
    return result


def keras_throughput(config: dict[str, Any]) -> dict[str, Any]:
    import keras

    import inceptionspec.keras  # noqa: F401  (registers the custom layers and initializers)

    result: dict[str, Any] = {"backend": keras.backend.backend()}
    folder = Path(config["dir"])
    for name in config["models"]:
        for fold in (False, True):
            model = keras.saving.load_model(folder / f"{name}{'.folded' if fold else ''}.keras", safe_mode=True)
            shape = list(model.inputs[0].shape[1:])
            for batch in config["batches"]:
                key = f"{name}|{batch}|{'folded' if fold else 'plain'}"
                result[key] = _throughput(model.predict_on_batch, _images(shape, batch), 2, config["repeats"])
    return result


def runtimes_throughput(config: dict[str, Any]) -> dict[str, Any]:
    import onnxruntime
    from ai_edge_litert.interpreter import Interpreter

    folder = Path(config["dir"])
    threads = os.cpu_count() or 1
    result: dict[str, Any] = {"litert_threads": threads}
    for name in config["models"]:
        shape = config["inputs"][name]
        for fold in (False, True):
            stem = folder / f"{name}{'.folded' if fold else ''}"
            session = onnxruntime.InferenceSession(f"{stem}.onnx", providers=["CPUExecutionProvider"])
            runner = Interpreter(model_path=f"{stem}.tflite", num_threads=threads).get_signature_runner()
            for batch in config["batches"]:
                x = _images(shape, batch)
                tag = f"{name}|{batch}|{'folded' if fold else 'plain'}"
                result[f"onnxruntime|{tag}"] = _throughput(
                    lambda x, s=session: s.run(None, {"input": x}), x, 2, config["repeats"]
                )
                result[f"litert|{tag}"] = _throughput(lambda x, r=runner: r(input=x), x, 2, config["repeats"])
    return result


TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "prepare": prepare,
    "startup": startup,
    "keras": keras_throughput,
    "runtimes": runtimes_throughput,
}


def main(argv: list[str]) -> int:
    task, config_path, out_path = argv
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    try:
        result = TASKS[task](config)
    except Exception:
        result = {"error": traceback.format_exc(limit=8)}
        print(result["error"], file=sys.stderr)
    Path(out_path).write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
