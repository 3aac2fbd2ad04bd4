"""One entry for every ``--weights-from`` source: Keras applications and files, PyTorch checkpoints.

:func:`load_into` is what ``build``, ``train`` and ``export`` call: it fills a built model from a
source string (or one prepared by :func:`inceptionspec.weights.prepare_source`, which checks a
checkpoint before Keras is imported) and returns a :class:`~inceptionspec.weights.LoadReport`.
``partial`` works for every source: layers that find no weights of their shape keep their own.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import keras
import numpy as np

from inceptionspec.core.errors import UsageError
from inceptionspec.core.names import spec_path
from inceptionspec.keras.checkpoint import apply_plan, graph_for
from inceptionspec.keras.weights import load_weights_source, transfer_weights
from inceptionspec.lang.models import Spec
from inceptionspec.weights import LoadReport, Skipped, WeightsSource, prepare_source
from inceptionspec.weights.sources import CHECKPOINT, KERAS_WEIGHTS


class WeightsSourceError(UsageError):
    """A Keras source that cannot be read or does not fit the model (exit 2)."""


def load_into(
    model: keras.Model,
    source: str | WeightsSource,
    spec: Spec | str | Path | None = None,
    partial: bool = False,
    layout: str | None = None,
) -> LoadReport:
    """Fill ``model`` (built from ``spec``) with the weights of ``source``; what was loaded and skipped.

    ``source``: ``keras:InceptionV3`` (``@none`` for random weights), a ``.keras`` model, a
    ``.weights.h5`` file, a ``.safetensors`` / ``.pth`` checkpoint, or a prepared source."""
    if not isinstance(source, WeightsSource):
        graph = graph_for(model, spec) if _is_checkpoint(source) else None
        source = prepare_source(source, graph, layout, partial)  # type: ignore[arg-type]
    if source.kind == CHECKPOINT:
        assert source.plan is not None
        return apply_plan(model, source.plan)
    try:
        if source.kind == KERAS_WEIGHTS:
            return _load_weights_file(model, source.text, partial)
        report = transfer_weights(load_weights_source(source.text), model, partial=partial)
    except (ValueError, OSError) as exc:
        raise WeightsSourceError(f"--weights-from {source.text}: {exc}") from None
    skipped = [Skipped(spec_path(name), why) for name, why in report.mismatched]  # Keras names → spec paths
    notes = [f"{len(report.skipped)} layers the source lacks kept their initial weights"] if report.skipped else []
    return LoadReport(source.text, len(report.pairs), report.tensors, report.values, None, skipped, [], notes)


def _kernel(layer: keras.layers.Layer) -> bool:
    return any(v.name == "kernel" for v in layer.weights)


def _is_checkpoint(text: str) -> bool:
    from inceptionspec.weights.sources import source_kind

    return source_kind(text) == CHECKPOINT


def _load_weights_file(model: keras.Model, path: str, partial: bool) -> LoadReport:
    """A .weights.h5 file (same structure); with ``partial``, Keras skips the layers whose shapes differ."""
    # Keras only warns with a count and one example; a conv or dense layer whose (random) kernel did
    # not change is one it skipped.
    kernels = {} if not partial else {layer.name: layer.kernel.numpy() for layer in model.layers if _kernel(layer)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.load_weights(path, skip_mismatch=partial)
    skipped: list[Skipped] = []
    if partial and any("could not be loaded" in str(w.message) for w in caught):
        skipped = [
            Skipped(spec_path(layer.name), "its weights differ in shape from the file's")
            for layer in model.layers
            if layer.name in kernels and np.array_equal(layer.kernel.numpy(), kernels[layer.name])
        ]
    names = {s.layer for s in skipped}
    loaded = [layer for layer in model.layers if layer.weights and spec_path(layer.name) not in names]
    tensors = sum(len(layer.weights) for layer in loaded)
    values = sum(int(np.prod(w.shape)) for layer in loaded for w in layer.weights)
    return LoadReport(path, len(loaded), tensors, values, None, skipped)
