"""The ops: one class each, carrying its arguments, shape rule and cost rule.

An op class is a pydantic model of its arguments (what a user writes after
``- conv:``) plus the rules every backend shares:

* ``lower(name)`` — the primitive layers it becomes in the IR (a conv with batch
  norm and ReLU becomes three: conv, bn, act); most ops are already primitive;
* ``infer(inputs)`` — the output shape, or :class:`ShapeError` with the numbers;
* ``params(inputs, out)`` — (trainable, non-trainable), counted as Keras counts;
* ``macs(inputs, out)`` — multiply-accumulates (convolutions and dense layers);
* ``window(inputs)`` — kernel, stride and dilation along H and W, for the
  receptive field.

Adding an op: write its class here and add it to :data:`OPS` (and, for the Keras
compiler, one entry in its lowering table).  Nothing else dispatches on kinds.
"""

from __future__ import annotations

from inceptionspec.ops.base import (
    Activation,
    Filters,
    Kernel,
    NonNegInt,
    Norm,
    Op,
    Padding,
    PadPair,
    Pair,
    ParamRef,
    PosInt,
    Prob,
    Shape,
    ShapeError,
    Size,
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

__all__ = [
    "Act",
    "Activation",
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
    "NonNegInt",
    "Norm",
    "OPS",
    "Op",
    "PadPair",
    "Padding",
    "Pair",
    "ParamRef",
    "PosInt",
    "Prob",
    "ResidualAdd",
    "Shape",
    "ShapeError",
    "Size",
    "USER_OPS",
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
