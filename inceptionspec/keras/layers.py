"""Custom Keras layers (written with keras.ops, serializable; no Lambda layers)."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops as K

from inceptionspec.ops.geometry import counted_cells, out_size

# --- custom layers --------------------------------------------------------------------

#: The package name custom layers are registered under (kept: saved models name it).
PACKAGE = "inceptionspec"


@keras.saving.register_keras_serializable(package=PACKAGE)
class LocalResponseNorm(keras.layers.Layer):
    """Caffe's across-channel LRN: x / (bias + alpha/size · Σ x²)^beta over `size` channels."""

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, bias: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.size, self.alpha, self.beta, self.bias = int(size), float(alpha), float(beta), float(bias)

    def call(self, x: Any) -> Any:
        half = self.size // 2
        channels = x.shape[-1]
        squared = K.pad(K.square(x), [[0, 0], [0, 0], [0, 0], [half, half]])
        total = squared[..., 0:channels]
        for i in range(1, self.size):
            total = total + squared[..., i : i + channels]
        return x / K.power(self.bias + (self.alpha / self.size) * total, self.beta)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size, "alpha": self.alpha, "beta": self.beta, "bias": self.bias}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ScaledResidualAdd(keras.layers.Layer):
    """shortcut + scale · residual (Inception-ResNet)."""

    def __init__(self, scale: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs: list[Any]) -> Any:
        shortcut, residual = inputs
        return shortcut + self.scale * residual

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape[0]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ConstantPad2D(keras.layers.Layer):
    """Pads H and W by (top, bottom, left, right) with a constant (-inf before a max pool)."""

    def __init__(self, pads: tuple[int, int, int, int] = (0, 0, 0, 0), value: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.pads = tuple(int(p) for p in pads)
        self.value = float(value)

    def call(self, x: Any) -> Any:
        t, b, left, r = self.pads
        return K.pad(x, [[0, 0], [t, b], [left, r], [0, 0]], constant_values=self.value)

    def compute_output_shape(self, input_shape: Any) -> Any:
        n, h, w, c = input_shape
        t, b, left, r = self.pads
        return n, None if h is None else h + t + b, None if w is None else w + left + r, c

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pads": list(self.pads), "value": self.value}


@keras.saving.register_keras_serializable(package=PACKAGE)
class PaddedAveragePooling2D(keras.layers.Layer):
    """Average pooling with explicit padding and PyTorch's divisor rules.

    Pads with zeros by (top, bottom, left, right), pools the full window, then
    rescales each output by window area / counted cells: cells inside the input
    only (``count_pad`` false) or inside input plus explicit padding (true)."""

    def __init__(
        self,
        pool_size: tuple[int, int] = (3, 3),
        strides: tuple[int, int] = (1, 1),
        pads: tuple[int, int, int, int] = (0, 0, 0, 0),
        counted: tuple[int, int, int, int] = (0, 0, 0, 0),
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.pool_size = tuple(int(v) for v in pool_size)
        self.strides = tuple(int(v) for v in strides)
        self.pads = tuple(int(v) for v in pads)
        self.counted = tuple(int(v) for v in counted)  # padding that counts: top, bottom, left, right

    def build(self, input_shape: Any) -> None:
        _, h, w, _ = input_shape
        (kh, kw), (sh, sw) = self.pool_size, self.strides
        t, b, left, r = self.pads
        ct, cb, cl, cr = self.counted
        rows = counted_cells(h, kh, sh, (t, b), (ct, cb))
        cols = counted_cells(w, kw, sw, (left, r), (cl, cr))
        self._rescale = (kh * kw) / np.outer(rows, cols)[None, :, :, None].astype("float32")

    def call(self, x: Any) -> Any:
        t, b, left, r = self.pads
        x = K.pad(x, [[0, 0], [t, b], [left, r], [0, 0]])
        pooled = K.average_pool(x, self.pool_size, self.strides, padding="valid")
        return pooled * K.convert_to_tensor(self._rescale, dtype=pooled.dtype)

    def compute_output_shape(self, input_shape: Any) -> Any:
        n, h, w, c = input_shape
        (kh, kw), (sh, sw) = self.pool_size, self.strides
        t, b, left, r = self.pads
        return n, out_size(h + t + b, kh, sh, "valid"), out_size(w + left + r, kw, sw, "valid"), c

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "pads": list(self.pads),
            "counted": list(self.counted),
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class AdaptiveAveragePooling2D(keras.layers.Layer):
    """PyTorch's AdaptiveAvgPool2d: window i spans [floor(i·H/out), ceil((i+1)·H/out))."""

    def __init__(self, output_size: tuple[int, int] = (1, 1), **kwargs: Any):
        super().__init__(**kwargs)
        self.output_size = tuple(int(v) for v in output_size)

    def call(self, x: Any) -> Any:
        h, w = x.shape[1], x.shape[2]
        oh, ow = self.output_size
        rows = []
        for i in range(oh):
            h0, h1 = (i * h) // oh, -(-((i + 1) * h) // oh)
            cells = []
            for j in range(ow):
                w0, w1 = (j * w) // ow, -(-((j + 1) * w) // ow)
                cells.append(K.mean(x[:, h0:h1, w0:w1, :], axis=(1, 2), keepdims=True))
            rows.append(K.concatenate(cells, axis=2))
        return K.concatenate(rows, axis=1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape[0], *self.output_size, input_shape[-1]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "output_size": list(self.output_size)}


@keras.saving.register_keras_serializable(package=PACKAGE)
class TrainingOnly(keras.layers.Layer):
    """Marks the output of a training-only (auxiliary) head; passes its input through.

    The mark travels with the model into a ``.keras`` file, so
    :func:`inceptionspec.inference_model` can drop those heads from any model, built or loaded."""

    def call(self, x: Any) -> Any:
        return x

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


CUSTOM_OBJECTS = {
    cls.__name__: cls
    for cls in (
        LocalResponseNorm,
        ScaledResidualAdd,
        ConstantPad2D,
        PaddedAveragePooling2D,
        AdaptiveAveragePooling2D,
        TrainingOnly,
    )
}
