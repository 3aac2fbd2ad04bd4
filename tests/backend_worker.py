"""One Keras backend's side of the cross-backend tests (run as a script: KERAS_BACKEND is fixed per process).

    KERAS_BACKEND=jax python tests/backend_worker.py WORKDIR SIZE SPEC... [--train]

For every spec (SIZE ``tiny``: the smallest input among a few, width 1/8, 10 classes; ``full``: as
shipped): build it with seed 7 and record the digest of its initial weights; give its batch norms
random statistics (NumPy-drawn, so the same on every backend); predict a fixed batch; save
``SPEC.BACKEND.keras`` and the outputs. Then load every other backend's ``.keras`` file found in
WORKDIR (safe mode), predict the same batch, and also copy its weights into a fresh build with
``transfer_weights``: report the worst relative error of each against that backend's own outputs,
and of this backend's outputs against every other backend's. With ``--train``, finally one SGD
step on the model (gradients through every layer). Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

import inceptionspec
from inceptionspec.lang.library import shipped

SEED = 7
TINY_INPUTS = (32, 75, 96, 160, 224)
TINY = {"width": {"multiplier": 0.125}, "classes": 10}


def overrides(spec: str, size: str) -> dict | None:
    """The smallest input (and width 1/8) at which the spec's geometry still fits."""
    if size == "full":
        return None
    channels = inceptionspec.load(spec).input[-1]
    for side in TINY_INPUTS:
        edits = {**TINY, "input": [side, side, channels]}
        try:
            inceptionspec.analyze(inceptionspec.load(spec, edits))
        except inceptionspec.SpecError:
            continue
        return edits
    raise SystemExit(f"{spec}: no tiny input fits")


def run(workdir: Path, size: str, specs: list[str], train: bool = False) -> dict:
    """This process's backend's part (see the module's docstring)."""
    import keras

    from inceptionspec.keras import build_model, transfer_weights
    from inceptionspec.keras.parity import as_outputs, randomize_batch_norm, weights_digest, worst_relative_error

    backend = keras.backend.backend()
    report: dict = {"backend": backend, "specs": {}}
    for spec in specs:
        stem = Path(spec).stem if spec.endswith(".yaml") else spec.replace("/", "-")  # examples/x → examples-x
        loaded = inceptionspec.load(spec, overrides(spec, size))
        started = time.perf_counter()
        model = build_model(loaded, seed=SEED)
        entry: dict = {"build_s": time.perf_counter() - started, "digest": weights_digest(model)}
        randomize_batch_norm(model, SEED)
        x = np.random.default_rng(SEED).normal(0, 1, (2, *loaded.input)).astype("float32")
        outputs = as_outputs(model.predict(x, verbose=0))
        np.savez(workdir / f"{stem}.{backend}.npz", **outputs)
        model.save(workdir / f"{stem}.{backend}.keras")
        entry["vs_backend"] = {}
        entry["loaded"] = {}
        for other in sorted(workdir.glob(f"{stem}.*.npz")):
            other_backend = other.name.split(".")[-2]
            if other_backend == backend:
                continue
            theirs = dict(np.load(other))
            entry["vs_backend"][other_backend] = max(worst_relative_error(theirs, outputs).values())
            file = workdir / f"{stem}.{other_backend}.keras"
            reloaded = keras.saving.load_model(file, safe_mode=True)
            fresh = build_model(loaded, seed=SEED + 1)
            transfer_weights(reloaded, fresh)
            entry["loaded"][other_backend] = {
                "load_model": max(worst_relative_error(theirs, as_outputs(reloaded.predict(x, verbose=0))).values()),
                "transfer_weights": max(worst_relative_error(theirs, as_outputs(fresh.predict(x, verbose=0))).values()),
            }
        if train:
            # One SGD step through every layer (custom ones included) under the backend's compiler.
            model.compile(optimizer="sgd", loss="categorical_crossentropy")
            labels = np.eye(loaded.classes, dtype="float32")[np.arange(len(x)) % loaded.classes]
            loss = model.train_on_batch(x, {name: labels for name in model.output})
            entry["train_loss"] = float(np.sum(loss))
        report["specs"][spec] = entry
    return report


if __name__ == "__main__":
    args = sys.argv[1:]
    train = "--train" in args
    workdir, size, *names = [a for a in args if a != "--train"]
    if names == ["all"]:
        names = sorted(shipped())
    print(json.dumps(run(Path(workdir), size, names, train)))
