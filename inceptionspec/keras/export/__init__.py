"""Export: a compiled model as an artifact that runs without inceptionspec (or Keras).

:data:`FORMATS` is the table of formats; adding one is a module like ``to_onnx`` and one entry.
:func:`export_model` writes an artifact and, unless told not to, checks it: loads it in its own
runtime, runs random inputs through it and through the Keras model, and reports the worst relative
error (:func:`inceptionspec.keras.parity.relative_error`), which must not exceed
:data:`CHECK_TOLERANCE`.

The formats are written by Keras' ``Model.export`` from a TensorFlow-backend model (the
converters, tf2onnx and the TFLite converter, trace TensorFlow graphs); the ``inceptionspec
export`` command therefore runs on TensorFlow whatever ``KERAS_BACKEND`` says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from inceptionspec.ir import Graph
from inceptionspec.keras.export import to_litert, to_onnx, to_saved_model
from inceptionspec.keras.export.format import INSTALL, ExportError, Format, MissingDependency, Runner
from inceptionspec.keras.fold import FoldReport, fold_batch_norm
from inceptionspec.keras.inference import inference_model
from inceptionspec.keras.parity import as_outputs, worst_relative_error

#: Every export format, by the name ``--format`` takes.
FORMATS: dict[str, Format] = {f.name: f for f in (to_onnx.FORMAT, to_saved_model.FORMAT, to_litert.FORMAT)}

#: The worst relative error an artifact may show against its Keras model.
CHECK_TOLERANCE = 1e-4

__all__ = [
    "CHECK_TOLERANCE",
    "FORMATS",
    "INSTALL",
    "Check",
    "ExportError",
    "ExportReport",
    "Format",
    "MissingDependency",
    "Runner",
    "check_artifact",
    "compare_models",
    "export_model",
    "get_format",
    "with_heads",
]


def get_format(name: str) -> Format:
    """The format called ``name``; an :class:`ExportError` listing the formats otherwise."""
    if name not in FORMATS:
        raise ExportError(f"unknown format `{name}`; formats: {', '.join(FORMATS)}")
    return FORMATS[name]


def with_heads(model: keras.Model, heads: list[str] | None = None) -> keras.Model:
    """``model`` with outputs as ``{head: tensor}`` (a single output is called ``output``), keeping
    only ``heads`` when given. The layers and weights are shared, not copied."""
    outputs = model.output if isinstance(model.output, dict) else {"output": model.output}
    if isinstance(model.output, list | tuple):
        outputs = {f"output_{i}": t for i, t in enumerate(model.output)}
    if heads is not None:
        unknown = [h for h in heads if h not in outputs]
        if unknown:
            raise ExportError(f"model `{model.name}` has no head {', '.join(unknown)}; heads: {', '.join(outputs)}")
        outputs = {h: outputs[h] for h in heads}
    if len(model.inputs) != 1:
        raise ExportError(f"model `{model.name}` has {len(model.inputs)} inputs; export takes one image input")
    return keras.Model(model.inputs[0], outputs, name=model.name)


@dataclass
class Check:
    """An artifact's outputs against the Keras model's on the same random batch."""

    runtime: str
    batch: int
    errors: dict[str, float]
    tolerance: float = CHECK_TOLERANCE

    @property
    def worst(self) -> float:
        return max(self.errors.values(), default=0.0)

    @property
    def passed(self) -> bool:
        return self.worst <= self.tolerance

    def __str__(self) -> str:
        heads = ", ".join(f"{k} {v:.1e}" for k, v in self.errors.items())
        verdict = "ok" if self.passed else f"FAILED: above {self.tolerance:.0e}"
        return (
            f"check: {self.runtime} against the Keras model on a random batch of {self.batch}: "
            f"worst relative error {self.worst:.1e} ({heads}) — {verdict}"
        )


@dataclass
class ExportReport:
    path: Path
    format: Format
    fold: FoldReport | None = None
    check: Check | None = None
    heads: list[str] = field(default_factory=list)


def random_batch(model: keras.Model, batch: int, seed: int = 0) -> np.ndarray:
    """Standard-normal images (what a normalised input looks like), the same for every run."""
    return np.random.default_rng(seed).normal(0.0, 1.0, (batch, *model.inputs[0].shape[1:])).astype("float32")


def compare_models(reference: keras.Model, other: keras.Model | Runner, label: str, batch: int = 2) -> Check:
    """``other`` (a model or a loaded artifact) against ``reference`` on one random batch."""
    x = random_batch(reference, batch)
    expected = as_outputs(reference(x, training=False))
    got = other(x, training=False) if isinstance(other, keras.Model) else other(x)
    return Check(label, batch, worst_relative_error(expected, as_outputs(got)))


def check_artifact(fmt: Format, path: Path, reference: keras.Model, batch: int | None = None) -> Check:
    """Run the artifact at ``path`` in its own runtime against ``reference`` (a Keras model with the
    same heads). A dynamic batch is checked at 2, so the batch dimension really is free."""
    return compare_models(reference, fmt.load(Path(path)), fmt.runtime, batch or 2)


def export_model(
    model: keras.Model,
    path: str | Path,
    format: str = "onnx",
    batch: int | None = None,
    fold_bn: bool = False,
    check: bool = True,
    heads: list[str] | None = None,
    graph: Graph | None = None,
) -> ExportReport:
    """Write ``model`` as a ``format`` artifact at ``path`` and (``check``) verify it.

    Training-only heads are left out (:func:`~inceptionspec.inference_model`); ``heads`` keeps only
    those outputs. ``fold_bn`` folds every conv → batch-norm pair first; the check compares the
    artifact with the unfolded model, so it covers the fold too. ``graph``, the IR ``model`` was
    compiled from, tells the fold which batch norm belongs to which conv."""
    fmt = get_format(format)
    fmt.require()
    if keras.backend.backend() != "tensorflow":
        raise ExportError(
            f"export traces the model with TensorFlow, and this process runs Keras on {keras.backend.backend()}; "
            "save the model (model.save('m.keras')) and run `inceptionspec export m.keras`, which uses TensorFlow"
        )
    if batch is not None and batch < 1:
        raise ExportError(f"--batch must be at least 1, not {batch}")
    path = Path(path)
    reference = with_heads(inference_model(model), heads)
    exported, fold = fold_batch_norm(reference, graph) if fold_bn else (reference, None)
    fmt.write(exported, path, batch)
    report = ExportReport(path, fmt, fold, heads=list(reference.output))
    if check:
        report.check = check_artifact(fmt, path, reference, batch)
    return report
