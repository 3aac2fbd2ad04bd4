"""The ops: one class each, carrying its arguments, shape rule and cost rule.

An op class is a pydantic model of its arguments (what a user writes after
``- conv:``) plus the rules every backend shares:

* ``lower()`` — the primitive layers it becomes in the IR, each with its role (a conv
  with batch norm and ReLU becomes three: ``main``, ``bn``, ``act``); most ops are one;
* ``infer(inputs)`` — the output shape, or :class:`ShapeError` with the numbers;
* ``weight_shapes(inputs, out)`` — its weights' shapes as Keras lays them out
  (``{"kernel": (kh, kw, cin, cout), "bias": (cout,)}``); ``params`` counts them;
* ``macs(inputs, out)`` — multiply-accumulates (convolutions and dense layers);
* ``window(inputs)`` — kernel, stride and dilation along H and W, for the
  receptive field.

Adding an op: write its class here and add it to :data:`OPS` (and, for the Keras
compiler, one entry in its lowering table).  Nothing else dispatches on kinds.
"""

from __future__ import annotations

from inceptionspec.ops.base import (
    Activation,
    ActivationName,
    Filters,
    Kernel,
    Name,
    NonNegInt,
    Norm,
    Op,
    Padding,
    PadPair,
    Pair,
    Part,
    PosInt,
    Prob,
    Shape,
    ShapeError,
    Size,
    WeightShapes,
    Window,
    fmt_padding,
    fmt_pair,
    fmt_shape,
    fmt_window,
    pair,
)
from inceptionspec.ops.catalog import (
    LRN,
    OPS,
    USER_OPS,
    Act,
    AdaptiveAvgPool,
    AvgPool,
    BatchNorm,
    BNSettings,
    Concat,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool,
    GlobalMaxPool,
    Identity,
    MaxPool,
    ResidualAdd,
    activation,
    batch_norm,
    concat,
    projection,
    residual_add,
)
from inceptionspec.ops.geometry import Window2D

__all__ = [
    "Act",
    "Activation",
    "ActivationName",
    "AdaptiveAvgPool",
    "AvgPool",
    "BNSettings",
    "BatchNorm",
    "Concat",
    "Conv",
    "Dense",
    "Dropout",
    "Filters",
    "Flatten",
    "GlobalAvgPool",
    "GlobalMaxPool",
    "Identity",
    "Kernel",
    "LRN",
    "MaxPool",
    "Name",
    "NonNegInt",
    "Norm",
    "OPS",
    "Op",
    "PadPair",
    "Padding",
    "Pair",
    "Part",
    "PosInt",
    "Prob",
    "ResidualAdd",
    "Shape",
    "ShapeError",
    "Size",
    "USER_OPS",
    "WeightShapes",
    "Window",
    "Window2D",
    "activation",
    "batch_norm",
    "concat",
    "fmt_padding",
    "fmt_pair",
    "fmt_shape",
    "fmt_window",
    "pair",
    "projection",
    "residual_add",
]
