"""LiteRT (TensorFlow Lite): one ``.tflite`` flatbuffer, run by the LiteRT interpreter (``ai-edge-litert``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inceptionspec.keras.export.format import Format, Runner


def load(path: Path) -> Runner:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    (signature,) = interpreter.get_signature_list()
    (feed,) = interpreter.get_signature_list()[signature]["inputs"]
    runner = interpreter.get_signature_runner(signature)

    def run(x: np.ndarray) -> dict[str, np.ndarray]:
        # The runner resizes the input (the batch is dynamic) and copies the outputs out.
        return {name: np.array(value) for name, value in runner(**{feed: x}).items()}

    return run


FORMAT = Format(
    name="litert",
    suffix=".tflite",
    keras_format="litert",
    runtime="the LiteRT interpreter",
    requires=("ai_edge_litert",),
    load=load,
)
