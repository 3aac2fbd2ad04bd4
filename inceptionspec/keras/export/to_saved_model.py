"""TensorFlow SavedModel: a directory with a ``serving_default`` signature (TF Serving, ``tf.saved_model.load``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inceptionspec.keras.export.format import Format, Runner


def load(path: Path) -> Runner:
    import tensorflow as tf

    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    (feed,) = serve.structured_input_signature[1]

    def run(x: np.ndarray) -> dict[str, np.ndarray]:
        return {name: value.numpy() for name, value in serve(**{feed: tf.constant(x)}).items()}

    return run


FORMAT = Format(
    name="saved_model",
    suffix="",
    keras_format="tf_saved_model",
    runtime="tf.saved_model.load",
    requires=(),
    load=load,
)
