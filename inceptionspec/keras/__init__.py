"""Stage 6 — compile the IR into a Keras 3 functional model.

This is the only module of the package that imports keras.  Each IR op has one
entry in :data:`LOWERINGS`; stock Keras layers are used wherever one exists,
and the few that do not exist (local response normalisation, the scaled
residual add, padding with -inf for Caffe's ceil pooling, average pooling with
PyTorch's divisor, adaptive average pooling) are small layers written with
``keras.ops`` and registered as serializable.  No Lambda layers, no direct
TensorFlow calls.

Layer names come from the IR; initializers and dropout seeds are derived from
(seed, layer name), so the same spec and seed give the same weights in any
process.  Every build is checked against the static analysis.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # the user's choice wins

# ruff: isort: split

from inceptionspec.keras.build import BuildError, build_model, check, compile_graph
from inceptionspec.keras.inference import inference_model, targets, training_only_heads
from inceptionspec.keras.layers import CUSTOM_OBJECTS, PACKAGE
from inceptionspec.keras.training import compile_for_training
from inceptionspec.keras.weights import (
    KERAS_APPLICATIONS,
    TransferError,
    TransferReport,
    load_weights_source,
    transfer_weights,
)

__all__ = [
    "CUSTOM_OBJECTS",
    "KERAS_APPLICATIONS",
    "PACKAGE",
    "BuildError",
    "TransferError",
    "TransferReport",
    "build_model",
    "check",
    "compile_for_training",
    "compile_graph",
    "inference_model",
    "load_weights_source",
    "targets",
    "training_only_heads",
    "transfer_weights",
]
