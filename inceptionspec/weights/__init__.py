"""Pretrained weights from PyTorch checkpoints, without a framework: read, map, check.

``checkpoint`` reads tensor names, shapes and values (``.safetensors`` with the safetensors
package, ``.pth`` with ``torch.load(weights_only=True)`` in ``torch_file``); ``layouts`` holds
the data that maps a library's tensor names onto a spec (one YAML file per layout);
``units`` lists a spec's weights from its IR; ``plan`` pairs the two and checks every shape;
``sources`` tells ``--weights-from`` values apart. ``inceptionspec.keras.checkpoint`` puts the
planned values into a Keras model.
"""

from __future__ import annotations

from inceptionspec.weights.checkpoint import Checkpoint, CheckpointFileError, open_checkpoint
from inceptionspec.weights.layouts import Layout, layouts, recognise
from inceptionspec.weights.plan import CheckpointError, LoadPlan, plan_checkpoint
from inceptionspec.weights.report import LoadReport, Skipped
from inceptionspec.weights.sources import WeightsSource, prepare_source, source_kind

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "CheckpointFileError",
    "Layout",
    "LoadPlan",
    "LoadReport",
    "Skipped",
    "WeightsSource",
    "layouts",
    "open_checkpoint",
    "plan_checkpoint",
    "prepare_source",
    "recognise",
    "source_kind",
]
