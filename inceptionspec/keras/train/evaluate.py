"""`evaluate` and `predict`: a trained model (a ``.keras`` file or a run directory) on images.

Beside the model file, a run directory has ``classes.json`` (the class names, in the order of the
outputs) and ``spec.yaml`` (whose ``preprocessing`` the images go through, as in training).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from inceptionspec.core.errors import UsageError
from inceptionspec.data.arrays import Arrays
from inceptionspec.data.errors import DataBudget, shown
from inceptionspec.data.folders import ImageFolder
from inceptionspec.keras.inference import inference_model
from inceptionspec.keras.layers import CUSTOM_OBJECTS
from inceptionspec.keras.train import pipeline
from inceptionspec.lang.models import Spec
from inceptionspec.lang.training import Preprocessing

#: Bytes of classes.json read at most.
MAX_CLASSES_BYTES = 16 << 20


@dataclass
class Served:
    """A model to run, with what it needs: the class names, the preprocessing, the batch size."""

    model: keras.Model
    path: Path
    classes: list[str]
    preprocessing: Preprocessing | None
    batch_size: int
    notes: list[str]

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(d) for d in self.model.input_shape[1:])  # type: ignore[return-value]

    def probabilities(self, source: pipeline.Source) -> np.ndarray:
        """The main head's class probabilities for every image of ``source``, in order."""
        dataset = pipeline.plain_dataset(source, self.batch_size, self.preprocessing).map(lambda x, y: x)
        out = self.model.predict(dataset, verbose=0)
        return np.asarray(next(iter(out.values())) if isinstance(out, dict) else out)


def find_model(target: Path) -> Path:
    """RUN_DIR → its model.keras (best.keras while the run is unfinished); a file as it is."""
    if target.is_dir():
        for name in ("model.keras", "best.keras"):
            if (target / name).is_file():
                return target / name
        raise UsageError(f"{shown(target)}: no model.keras or best.keras (not a run directory?)")
    if not target.is_file():
        raise UsageError(f"{shown(target)}: no such file or run directory")
    if target.suffix != ".keras":
        raise UsageError(f"{shown(target)}: expected a .keras model file or a run directory")
    return target


def load_served(target: Path, spec: Spec | None = None, batch_size: int | None = None) -> Served:
    """The model at ``target`` (safe mode), its class names and preprocessing."""
    from inceptionspec.lang.pipeline import load

    path = find_model(target)
    model = inference_model(keras.saving.load_model(path, safe_mode=True, custom_objects=CUSTOM_OBJECTS))
    notes = []
    if spec is None and (path.parent / "spec.yaml").is_file():
        spec = load(path.parent / "spec.yaml")
    if spec is None:
        notes.append(
            f"no spec.yaml beside {shown(path)}: pixels scaled to 0–1 (give --spec for the spec's preprocessing)"
        )
    units = int(
        next(iter(model.output.values())).shape[-1] if isinstance(model.output, dict) else model.output.shape[-1]
    )
    classes = _classes(path.parent / "classes.json", units) or [str(i) for i in range(units)]
    training = spec.training if spec is not None else None
    batch = batch_size or (training.batch_size if training is not None else 32)
    return Served(model, path, classes, spec.preprocessing if spec else None, batch, notes)


def _classes(path: Path, units: int) -> list[str] | None:
    if not path.is_file():
        return None
    if path.stat().st_size > MAX_CLASSES_BYTES:
        raise UsageError(f"{shown(path)}: larger than {MAX_CLASSES_BYTES >> 20} MiB")
    try:
        names = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{shown(path)}: not JSON ({exc})") from None
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)) or len(names) != units:
        raise UsageError(f"{shown(path)}: expected a list of {units} class names (the model has {units} outputs)")
    return names


def source_of(
    data: ImageFolder | Arrays, served: Served, budget: DataBudget, skip_bad: bool, say: Any
) -> pipeline.Source:
    if isinstance(data, Arrays):
        return pipeline.load_arrays(data.x, data.y, served.shape)
    return pipeline.load_folder(data, served.shape, budget, skip_bad, say)


def evaluate(served: Served, source: pipeline.Source) -> dict[str, Any]:
    """Loss (the main head's cross-entropy), top-1, top-5 (more than 5 classes), per-class accuracy."""
    probs = served.probabilities(source)
    labels = source.labels
    one_hot = np.eye(len(served.classes), dtype="float32")[labels]
    loss = float(keras.losses.CategoricalCrossentropy()(one_hot, probs))
    predicted = probs.argmax(axis=1)
    correct = predicted == labels
    result: dict[str, Any] = {"loss": loss, "accuracy": float(correct.mean()) if len(labels) else 0.0}
    if len(served.classes) > 5:
        top5 = np.argsort(-probs, axis=1, kind="stable")[:, :5]
        result["top5_accuracy"] = float((top5 == labels[:, None]).any(axis=1).mean())
    result["per_class"] = {served.classes[c]: float(correct[labels == c].mean()) for c in sorted(set(labels.tolist()))}
    result["count"] = int(len(labels))
    return result


def predict(served: Served, source: pipeline.Source, images: list[str], top: int) -> list[dict[str, Any]]:
    """The ``top`` classes of each image, best first."""
    probs = served.probabilities(source)
    out = []
    for name, row in zip(images, probs, strict=True):
        best = np.argsort(-row, kind="stable")[:top]
        out.append({"image": name, "top": [{"class": served.classes[i], "probability": float(row[i])} for i in best]})
    return out
