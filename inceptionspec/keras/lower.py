"""The lowering table: one entry per IR op, building Keras layers."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras

from inceptionspec.ir import Layer
from inceptionspec.keras.layers import (
    AdaptiveAveragePooling2D,
    ConstantPad2D,
    LocalResponseNorm,
    PaddedAveragePooling2D,
    ScaledResidualAdd,
)
from inceptionspec.ops import (
    LRN,
    Act,
    AdaptiveAvgPool,
    AvgPool,
    BatchNorm,
    Concat,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool,
    GlobalMaxPool,
    Identity,
    MaxPool,
    Op,
    ResidualAdd,
    pair,
)

# --- lowering table -------------------------------------------------------------------


@dataclass
class Context:
    seed: int
    #: IR layer name → the Keras layer producing its output (for the self-check).
    produced_by: dict[str, keras.layers.Layer] = field(default_factory=dict)

    def seed_for(self, name: str) -> int:
        digest = hashlib.sha256(f"{self.seed}:{name}".encode()).digest()
        return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


Lowering = Callable[[Any, Layer, list[Any], Context], Any]


def _apply(ctx: Context, layer: Layer, keras_layer: keras.layers.Layer, x: Any) -> Any:
    ctx.produced_by[layer.name] = keras_layer
    return keras_layer(x)


def _explicit_pads(padding: Any, size: tuple[int, int], kernel: Any, strides: Any, ceil: bool) -> tuple[int, ...]:
    """(top, bottom, left, right): explicit padding plus the extra row/column of ceil rounding."""
    ph, pw = (0, 0) if padding == "valid" else pair(padding)
    (kh, kw), (sh, sw) = pair(kernel), pair(strides)
    pads = []
    for n, k, s, p in ((size[0], kh, sh, ph), (size[1], kw, sw, pw)):
        extra = 0
        if ceil:
            out = -(-(n + 2 * p - k) // s) + 1
            if (out - 1) * s >= n + p:
                out -= 1
            extra = max(0, (out - 1) * s + k - (n + 2 * p))
        pads += [p, p + extra]
    return tuple(pads)


def lower_conv(op: Conv, layer: Layer, inputs: list[Any], ctx: Context) -> Any:
    x = inputs[0]
    padding = op.padding
    if padding not in ("same", "valid"):
        ph, pw = pair(padding)
        x = keras.layers.ZeroPadding2D(((ph, ph), (pw, pw)), name=f"{layer.name}.pad")(x)
        padding = "valid"
    conv = keras.layers.Conv2D(
        int(op.filters),
        pair(op.kernel),
        strides=pair(op.strides),
        padding=padding,
        dilation_rate=pair(op.dilation),
        use_bias=bool(op.bias),
        kernel_initializer=keras.initializers.GlorotUniform(seed=ctx.seed_for(layer.name)),
        bias_initializer="zeros",
        name=layer.name,
    )
    return _apply(ctx, layer, conv, x)


def lower_maxpool(op: MaxPool, layer: Layer, inputs: list[Any], ctx: Context) -> Any:
    x = inputs[0]
    strides = pair(op.effective_strides())
    padding = op.padding
    if padding not in ("same", "valid") or op.ceil:
        pads = _explicit_pads(padding, layer.input_shapes[0][:2], op.size, strides, bool(op.ceil))
        if any(pads):
            x = ConstantPad2D(pads, value=-math.inf, name=f"{layer.name}.pad")(x)
        padding = "valid"
    pool = keras.layers.MaxPooling2D(pair(op.size), strides=strides, padding=padding, name=layer.name)
    return _apply(ctx, layer, pool, x)


def lower_avgpool(op: AvgPool, layer: Layer, inputs: list[Any], ctx: Context) -> Any:
    x = inputs[0]
    strides, size = pair(op.effective_strides()), pair(op.size)
    h, w = layer.input_shapes[0][:2]
    stock_same = op.padding == "same" and not op.count_pad
    stock_valid = op.padding == "valid" and not op.ceil
    if stock_same or stock_valid:
        pool = keras.layers.AveragePooling2D(size, strides=strides, padding=op.padding, name=layer.name)
        return _apply(ctx, layer, pool, x)
    if op.padding == "same":  # 'same' geometry, padding counted in the divisor
        pads = []
        for n, k, s in ((h, size[0], strides[0]), (w, size[1], strides[1])):
            total = max((-(-n // s) - 1) * s + k - n, 0)
            pads += [total // 2, total - total // 2]
        counted = tuple(pads)
    else:
        pads = list(_explicit_pads(op.padding, (h, w), size, strides, bool(op.ceil)))
        ph, pw = (0, 0) if op.padding == "valid" else pair(op.padding)
        count = op.count_pad is not False  # explicit padding counts unless told otherwise (PyTorch)
        counted = (ph, ph, pw, pw) if count else (0, 0, 0, 0)
    pool = PaddedAveragePooling2D(size, strides, tuple(pads), counted, name=layer.name)
    return _apply(ctx, layer, pool, x)


def lower_dense(op: Dense, layer: Layer, inputs: list[Any], ctx: Context) -> Any:
    dense = keras.layers.Dense(
        int(op.units),
        activation=None if op.activation == "none" else op.activation,
        use_bias=bool(op.bias),
        kernel_initializer=keras.initializers.GlorotUniform(seed=ctx.seed_for(layer.name)),
        name=layer.name,
    )
    return _apply(ctx, layer, dense, inputs[0])


def _stock(make: Callable[[Any, Layer, Context], keras.layers.Layer], merge: bool = False) -> Lowering:
    """A lowering to one Keras layer; a merge takes its inputs as a list (even one branch)."""

    def lowering(op: Any, layer: Layer, inputs: list[Any], ctx: Context) -> Any:
        return _apply(ctx, layer, make(op, layer, ctx), inputs if merge else inputs[0])

    return lowering


#: One entry per IR op. A test checks every op in ``inceptionspec.ops.OPS`` has one.
LOWERINGS: dict[type[Op], Lowering] = {
    Conv: lower_conv,
    MaxPool: lower_maxpool,
    AvgPool: lower_avgpool,
    Dense: lower_dense,
    BatchNorm: _stock(
        lambda op, layer, ctx: keras.layers.BatchNormalization(
            epsilon=float(op.epsilon),
            momentum=float(op.momentum),
            scale=bool(op.scale),
            center=bool(op.center),
            name=layer.name,
        )
    ),
    Act: _stock(lambda op, layer, ctx: keras.layers.Activation(op.fn, name=layer.name)),
    LRN: _stock(lambda op, layer, ctx: LocalResponseNorm(op.size, op.alpha, op.beta, op.bias, name=layer.name)),
    AdaptiveAvgPool: _stock(lambda op, layer, ctx: AdaptiveAveragePooling2D(pair(op.size), name=layer.name)),
    GlobalAvgPool: _stock(
        lambda op, layer, ctx: keras.layers.GlobalAveragePooling2D(keepdims=bool(op.keepdims), name=layer.name)
    ),
    GlobalMaxPool: _stock(
        lambda op, layer, ctx: keras.layers.GlobalMaxPooling2D(keepdims=bool(op.keepdims), name=layer.name)
    ),
    Dropout: _stock(
        lambda op, layer, ctx: keras.layers.Dropout(float(op.rate), seed=ctx.seed_for(layer.name), name=layer.name)
    ),
    Flatten: _stock(lambda op, layer, ctx: keras.layers.Flatten(name=layer.name)),
    Identity: _stock(lambda op, layer, ctx: keras.layers.Identity(name=layer.name)),
    Concat: _stock(lambda op, layer, ctx: keras.layers.Concatenate(axis=-1, name=layer.name), merge=True),
    ResidualAdd: _stock(lambda op, layer, ctx: ScaledResidualAdd(float(op.scale), name=layer.name), merge=True),
}
