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

#: The part name of the padding layer a lowering adds before a layer (``stem__pad``).
PAD = "pad"


def _apply(ctx: Context, layer: Layer, keras_layer: keras.layers.Layer, x: Any) -> Any:
    ctx.produced_by[layer.name] = keras_layer
    return keras_layer(x)


def _pad_name(layer: Layer) -> str:
    """Explicit padding is a Keras layer of its own, named as a part of the IR layer it serves."""
    return (layer.path / PAD).backend


def lower_conv(op: Conv, layer: Layer, inputs: list[Any], ctx: Context) -> Any:
    x = inputs[0]
    geometry = op.geometry()
    padding = geometry.padding
    if not isinstance(padding, str):
        t, b, left, r = geometry.pads(*layer.input_shapes[0][:2])
        x = keras.layers.ZeroPadding2D(((t, b), (left, r)), name=_pad_name(layer))(x)
        padding = "valid"
    conv = keras.layers.Conv2D(
        op.filters,
        geometry.kernel,
        strides=geometry.strides,
        padding=padding,
        dilation_rate=geometry.dilation,
        use_bias=op.bias,
        kernel_initializer=keras.initializers.GlorotUniform(seed=ctx.seed_for(layer.name)),
        bias_initializer="zeros",
        name=layer.backend_name,
    )
    return _apply(ctx, layer, conv, x)


def lower_maxpool(op: MaxPool, layer: Layer, inputs: list[Any], ctx: Context) -> Any:
    x = inputs[0]
    geometry = op.geometry()
    padding = geometry.padding
    if not isinstance(padding, str) or geometry.ceil:
        pads = geometry.pads(*layer.input_shapes[0][:2])
        if any(pads):
            x = ConstantPad2D(pads, value=-math.inf, name=_pad_name(layer))(x)
        padding = "valid"
    pool = keras.layers.MaxPooling2D(
        geometry.kernel, strides=geometry.strides, padding=padding, name=layer.backend_name
    )
    return _apply(ctx, layer, pool, x)


def lower_avgpool(op: AvgPool, layer: Layer, inputs: list[Any], ctx: Context) -> Any:
    x = inputs[0]
    geometry = op.geometry()
    h, w = layer.input_shapes[0][:2]
    counts = op.counts_padding
    if (geometry.padding == "same" and not counts) or (geometry.padding == "valid" and not geometry.ceil):
        pool = keras.layers.AveragePooling2D(
            geometry.kernel, strides=geometry.strides, padding=geometry.padding, name=layer.backend_name
        )
        return _apply(ctx, layer, pool, x)
    pool = PaddedAveragePooling2D(
        geometry.kernel,
        geometry.strides,
        geometry.pads(h, w),
        geometry.counted(h, w, counts),
        name=layer.backend_name,
    )
    return _apply(ctx, layer, pool, x)


def lower_dense(op: Dense, layer: Layer, inputs: list[Any], ctx: Context) -> Any:
    dense = keras.layers.Dense(
        op.units,
        activation=None if op.activation == "none" else op.activation,
        use_bias=op.bias,
        kernel_initializer=keras.initializers.GlorotUniform(seed=ctx.seed_for(layer.name)),
        name=layer.backend_name,
    )
    return _apply(ctx, layer, dense, inputs[0])


def _stock(make: Callable[[Any, str, Layer, Context], keras.layers.Layer], merge: bool = False) -> Lowering:
    """A lowering to one Keras layer, named by the layer's backend name; a merge takes its
    inputs as a list (even one branch)."""

    def lowering(op: Any, layer: Layer, inputs: list[Any], ctx: Context) -> Any:
        return _apply(ctx, layer, make(op, layer.backend_name, layer, ctx), inputs if merge else inputs[0])

    return lowering


#: One entry per IR op. A test checks every op in ``inceptionspec.ops.OPS`` has one.
LOWERINGS: dict[type[Op], Lowering] = {
    Conv: lower_conv,
    MaxPool: lower_maxpool,
    AvgPool: lower_avgpool,
    Dense: lower_dense,
    BatchNorm: _stock(
        lambda op, name, layer, ctx: keras.layers.BatchNormalization(
            epsilon=op.epsilon, momentum=op.momentum, scale=op.scale, center=op.center, name=name
        )
    ),
    Act: _stock(lambda op, name, layer, ctx: keras.layers.Activation(op.fn, name=name)),
    LRN: _stock(lambda op, name, layer, ctx: LocalResponseNorm(op.size, op.alpha, op.beta, op.bias, name=name)),
    AdaptiveAvgPool: _stock(lambda op, name, layer, ctx: AdaptiveAveragePooling2D(pair(op.size), name=name)),
    GlobalAvgPool: _stock(
        lambda op, name, layer, ctx: keras.layers.GlobalAveragePooling2D(keepdims=op.keepdims, name=name)
    ),
    GlobalMaxPool: _stock(
        lambda op, name, layer, ctx: keras.layers.GlobalMaxPooling2D(keepdims=op.keepdims, name=name)
    ),
    Dropout: _stock(
        lambda op, name, layer, ctx: keras.layers.Dropout(op.rate, seed=ctx.seed_for(layer.name), name=name)
    ),
    Flatten: _stock(lambda op, name, layer, ctx: keras.layers.Flatten(name=name)),
    Identity: _stock(lambda op, name, layer, ctx: keras.layers.Identity(name=name)),
    Concat: _stock(lambda op, name, layer, ctx: keras.layers.Concatenate(axis=-1, name=name), merge=True),
    ResidualAdd: _stock(lambda op, name, layer, ctx: ScaledResidualAdd(op.scale, name=name), merge=True),
}
