"""ONNX: one ``.onnx`` file, converted by tf2onnx and run by ONNX Runtime."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inceptionspec.keras.export.format import Format, Runner


def load(path: Path) -> Runner:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (feed,) = [i.name for i in session.get_inputs()]
    names = [o.name for o in session.get_outputs()]

    def run(x: np.ndarray) -> dict[str, np.ndarray]:
        return dict(zip(names, session.run(names, {feed: x}), strict=True))

    return run


FORMAT = Format(
    name="onnx",
    suffix=".onnx",
    keras_format="onnx",
    runtime="ONNX Runtime",
    requires=("tf2onnx", "onnx", "onnxruntime"),
    load=load,
)
