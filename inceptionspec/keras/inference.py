"""The model to serve, and the targets to train with: heads in, heads out."""

from __future__ import annotations

from typing import Any

import keras

from inceptionspec.keras.layers import TrainingOnly


def training_only_heads(model: keras.Model) -> list[str]:
    """The outputs of ``model`` that belong to training-only (auxiliary) heads."""
    outputs = model.output if isinstance(model.output, dict) else {}
    return [name for name, tensor in outputs.items() if isinstance(tensor._keras_history.operation, TrainingOnly)]


def inference_model(model: keras.Model) -> keras.Model:
    """``model`` without its training-only heads: the model to save and serve.

    Works on a model from :func:`~inceptionspec.build_model` and on one loaded from a ``.keras``
    file (the heads are marked in the model itself). The layers are shared, not copied, so the
    weights are exactly the trained ones; a model without training-only heads is returned as is."""
    dropped = training_only_heads(model)
    if not dropped:
        return model
    kept = {name: tensor for name, tensor in model.output.items() if name not in dropped}
    return keras.Model(model.inputs, kept, name=model.name)


def targets(model: keras.Model, labels: Any) -> dict[str, Any]:
    """One target per output of ``model``, all ``labels``: what ``fit`` needs for a model with
    auxiliary heads, which are trained on the same labels as the main head
    (``model.fit(images, inceptionspec.targets(model, labels))``)."""
    names = list(model.output) if isinstance(model.output, dict) else [model.output_names[0]]
    return {name: labels for name in names}
