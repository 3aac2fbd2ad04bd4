"""The ops: one class each, carrying its arguments, shape rule and cost rule."""

from __future__ import annotations

import functools
import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from inceptionspec.lang.node import Node
from inceptionspec.ops.base import (
    Activation,
    Filters,
    Kernel,
    Norm,
    Op,
    Padding,
    ParamRef,
    PosInt,
    Prob,
    Shape,
    ShapeError,
    _single,
    _spatial,
    fmt_padding,
    fmt_pair,
    fmt_shape,
    fmt_window,
    pair,
)
from inceptionspec.ops.geometry import _spatial_out

# --- the ops ----------------------------------------------------------------------


class BatchNorm(Op):
    kind: ClassVar[str] = "bn"
    summary: ClassVar[str] = "Batch normalisation over the channel axis."

    epsilon: Annotated[float, Field(gt=0, le=1)] | ParamRef = Field(1e-3, description="Added to the variance.")
    momentum: Annotated[float, Field(ge=0, le=1)] | ParamRef = Field(
        0.99, description="Momentum of the moving mean and variance (Keras' convention: 0.99 keeps 99 %)."
    )
    scale: bool | ParamRef = Field(True, description="Learn gamma (Keras `scale`).")
    center: bool | ParamRef = Field(True, description="Learn beta (Keras `center`).")

    def params(self, inputs: list[Shape], out: Shape) -> tuple[int, int]:
        c = out[-1]
        return c * (int(self.scale) + int(self.center)), 2 * c


class Act(Op):
    kind: ClassVar[str] = "act"
    shorthand: ClassVar[str | None] = "fn"
    summary: ClassVar[str] = "An activation function on its own."

    fn: Activation = Field("relu", description="The activation function.")

    def describe(self) -> str:
        return str(self.fn)


class BNSettings(Node):
    """Batch-norm settings inside a conv (`conv: {norm: bn, bn: {...}}`)."""

    epsilon: Annotated[float, Field(gt=0, le=1)] | ParamRef = Field(1e-3, description="Added to the variance.")
    momentum: Annotated[float, Field(ge=0, le=1)] | ParamRef = Field(
        0.99, description="Momentum of the moving mean and variance (Keras' convention: 0.99 keeps 99 %)."
    )
    scale: bool | ParamRef = Field(True, description="Learn gamma (Keras `scale`).")
    center: bool | ParamRef = Field(True, description="Learn beta (Keras `center`).")


class Conv(Op):
    kind: ClassVar[str] = "conv"
    summary: ClassVar[str] = "2-D convolution, optionally followed by batch norm and an activation."
    width_scaled: ClassVar[tuple[str, ...]] = ("filters",)

    filters: Filters = Field(description="Output channels (scaled by the width multiplier).")
    kernel: Kernel = Field(description="Kernel size: an int, or [h, w] for 1×7 / 7×1.")
    strides: Kernel = Field(1, description="Stride: an int, or [h, w].")
    dilation: Kernel = Field(1, description="Dilation rate: an int, or [h, w] (not together with strides > 1).")
    padding: Padding = Field(
        "valid",
        description="`same` (Keras), `valid`, or explicit symmetric amounts: an int or [h, w] (Caffe/PyTorch).",
    )
    bias: bool | ParamRef = Field(True, description="Whether the conv has a bias (usually false before batch norm).")
    norm: Norm = Field("none", description="`bn` adds batch normalisation.")
    bn: BNSettings = Field(default_factory=BNSettings, description="Batch-norm settings when `norm: bn`.")
    activation: Activation = Field(
        "none", description="Applied after the conv (and its batch norm, with `order: norm_act`)."
    )
    order: Literal["norm_act", "act_norm"] | ParamRef = Field(
        "norm_act", description="`norm_act`: conv → BN → act (usual); `act_norm`: conv → act → BN."
    )

    def lower(self) -> list[tuple[str, Op]]:
        if self.norm == "none" and self.activation == "none":
            return [("", self)]
        conv = self.model_copy(update={"norm": "none", "activation": "none", "bn": _default_bn()})
        steps: list[tuple[str, Op]] = [("", conv)]
        norm = act = None
        if self.norm == "bn":
            bn = self.bn
            norm = (".bn", batch_norm(float(bn.epsilon), float(bn.momentum), bool(bn.scale), bool(bn.center)))
        if self.activation != "none":
            act = (f".{self.activation}", activation(str(self.activation)))
        tail = [norm, act] if self.order == "norm_act" else [act, norm]
        steps.extend(step for step in tail if step is not None)
        return steps

    def infer(self, inputs: list[Shape]) -> Shape:
        shape = _spatial(self, inputs)
        if max(pair(self.strides)) > 1 and max(pair(self.dilation)) > 1:
            raise ShapeError("a conv cannot have both strides > 1 and dilation > 1")
        oh, ow = _spatial_out(self, shape, self.kernel, self.strides, self.padding, False, self.dilation)
        return oh, ow, int(self.filters)

    def params(self, inputs: list[Shape], out: Shape) -> tuple[int, int]:
        kh, kw = pair(self.kernel)
        weights = kh * kw * inputs[0][-1] * out[-1]
        return weights + (out[-1] if self.bias else 0), 0

    def macs(self, inputs: list[Shape], out: Shape) -> int:
        kh, kw = pair(self.kernel)
        return out[0] * out[1] * out[2] * kh * kw * inputs[0][-1]

    def window(self, inputs: list[Shape]) -> tuple[int, int, int, int]:
        (kh, kw), (dh, dw), (sh, sw) = pair(self.kernel), pair(self.dilation), pair(self.strides)
        return dh * (kh - 1) + 1, dw * (kw - 1) + 1, sh, sw

    def describe(self) -> str:
        return f"{fmt_window(self.kernel, self.strides)}{fmt_padding(self.padding)} conv {self.filters}"


class _Pool(Op):
    size: Kernel = Field(description="Window size: an int or [h, w].")
    strides: Kernel | None = Field(None, description="Defaults to the window size (as Keras).")
    padding: Padding = Field("valid", description="`same`, `valid`, or explicit symmetric amounts: an int or [h, w].")
    ceil: bool | ParamRef = Field(False, description="Round the output size up, as Caffe and PyTorch's ceil_mode.")

    def effective_strides(self) -> Any:
        return self.size if self.strides is None else self.strides

    def infer(self, inputs: list[Shape]) -> Shape:
        shape = _spatial(self, inputs)
        if self.ceil and self.padding == "same":
            raise ShapeError("`ceil` rounding only applies to `valid` or explicit padding")
        if self.padding not in ("same", "valid"):
            (kh, kw), (ph, pw) = pair(self.size), pair(self.padding)
            if 2 * ph > kh or 2 * pw > kw:
                raise ShapeError(f"padding {fmt_pair(self.padding)} is more than half the {fmt_pair(self.size)} window")
        oh, ow = _spatial_out(self, shape, self.size, self.effective_strides(), self.padding, bool(self.ceil))
        return oh, ow, shape[2]

    def window(self, inputs: list[Shape]) -> tuple[int, int, int, int]:
        (kh, kw), (sh, sw) = pair(self.size), pair(self.effective_strides())
        return kh, kw, sh, sw

    def describe(self) -> str:
        ceil = " ceil" if self.ceil else ""
        return f"{fmt_window(self.size, self.effective_strides())}{fmt_padding(self.padding)}{ceil} {self.kind}"


class MaxPool(_Pool):
    kind: ClassVar[str] = "maxpool"
    summary: ClassVar[str] = "Max pooling."


class AvgPool(_Pool):
    kind: ClassVar[str] = "avgpool"
    summary: ClassVar[str] = "Average pooling."

    count_pad: bool | None | ParamRef = Field(
        None,
        description="Whether padded zeros count in the average. Default: not with `same` (Keras), "
        "yes with explicit padding (PyTorch's count_include_pad).",
    )


class AdaptiveAvgPool(Op):
    kind: ClassVar[str] = "adaptive_avgpool"
    shorthand: ClassVar[str | None] = "size"
    summary: ClassVar[str] = "Average pooling to a fixed output size, as PyTorch's AdaptiveAvgPool2d."

    size: Kernel = Field(description="The output size: an int or [h, w].")

    def infer(self, inputs: list[Shape]) -> Shape:
        h, w, c = _spatial(self, inputs)
        oh, ow = pair(self.size)
        if oh > h or ow > w:
            raise ShapeError(f"adaptive average pool to {oh}×{ow} on a smaller {h}×{w} input")
        return oh, ow, c

    def window(self, inputs: list[Shape]) -> tuple[int, int, int, int]:
        # PyTorch's windows: [floor(i·n/out), ceil((i+1)·n/out)); the widest one and the mean step.
        h, w, _ = inputs[0]
        oh, ow = pair(self.size)

        def widest(n: int, out: int) -> int:
            return max(-(-((i + 1) * n) // out) - (i * n) // out for i in range(out))

        return widest(h, oh), widest(w, ow), max(1, h // oh), max(1, w // ow)


class _GlobalPool(Op):
    keepdims: bool | ParamRef = Field(False, description="Keep a 1×1×C map instead of a vector of C.")

    def infer(self, inputs: list[Shape]) -> Shape:
        h, w, c = _spatial(self, inputs)
        return (1, 1, c) if self.keepdims else (c,)

    def window(self, inputs: list[Shape]) -> tuple[int, int, int, int]:
        h, w, _ = inputs[0]
        return h, w, 1, 1


class GlobalAvgPool(_GlobalPool):
    kind: ClassVar[str] = "global_avgpool"
    summary: ClassVar[str] = "Global average pooling (H×W×C → C)."


class GlobalMaxPool(_GlobalPool):
    kind: ClassVar[str] = "global_maxpool"
    summary: ClassVar[str] = "Global max pooling (H×W×C → C)."


class LRN(Op):
    kind: ClassVar[str] = "lrn"
    summary: ClassVar[str] = "Local response normalisation across channels, with Caffe's parameters."

    size: Annotated[int, Field(ge=1, le=99)] | ParamRef = Field(5, description="Channels in the window (odd).")
    alpha: Annotated[float, Field(gt=0)] | ParamRef = Field(1e-4, description="Caffe's alpha (divided by size).")
    beta: Annotated[float, Field(gt=0)] | ParamRef = Field(0.75, description="The exponent.")
    bias: Annotated[float, Field(gt=0)] | ParamRef = Field(1.0, description="Caffe's k.")

    def infer(self, inputs: list[Shape]) -> Shape:
        shape = _spatial(self, inputs)
        if int(self.size) % 2 == 0:
            raise ShapeError(f"LRN size must be odd, got {self.size}")
        return shape


class Dropout(Op):
    kind: ClassVar[str] = "dropout"
    shorthand: ClassVar[str | None] = "rate"
    summary: ClassVar[str] = "Dropout with the given drop rate (0.4 drops 40%)."

    rate: Prob | ParamRef = Field(description="The fraction of units dropped in training.")


class Flatten(Op):
    kind: ClassVar[str] = "flatten"
    summary: ClassVar[str] = "H×W×C → H·W·C."

    def infer(self, inputs: list[Shape]) -> Shape:
        shape = _single(self, inputs)
        return (math.prod(shape),)

    def window(self, inputs: list[Shape]) -> tuple[int, int, int, int]:
        shape = inputs[0]
        return (shape[0], shape[1], 1, 1) if len(shape) == 3 else (1, 1, 1, 1)


class Dense(Op):
    kind: ClassVar[str] = "dense"
    shorthand: ClassVar[str | None] = "units"
    summary: ClassVar[str] = "A fully connected layer on a flat vector."

    units: PosInt | ParamRef = Field(description="Output units; `$classes` for a classifier.")
    bias: bool | ParamRef = Field(True, description="Whether the layer has a bias.")
    activation: Activation = Field("none", description="Applied after the layer (`softmax` for a classifier).")

    def infer(self, inputs: list[Shape]) -> Shape:
        shape = _single(self, inputs)
        if len(shape) != 1:
            raise ShapeError(
                f"dense needs a flat vector but gets a {fmt_shape(shape)} feature map: "
                "add `flatten` or `global_avgpool` before it"
            )
        return (int(self.units),)

    def params(self, inputs: list[Shape], out: Shape) -> tuple[int, int]:
        return inputs[0][0] * out[0] + (out[0] if self.bias else 0), 0

    def macs(self, inputs: list[Shape], out: Shape) -> int:
        return inputs[0][0] * out[0]

    def describe(self) -> str:
        act = "" if self.activation == "none" else f" {self.activation}"
        return f"dense {self.units}{act}"


class Identity(Op):
    kind: ClassVar[str] = "identity"
    summary: ClassVar[str] = "Passes its input through (a shortcut branch)."


# --- merges (made by blocks, not written as items) --------------------------------


class Concat(Op):
    kind: ClassVar[str] = "concat"
    internal: ClassVar[bool] = True

    def infer(self, inputs: list[Shape]) -> Shape:
        ranks = {len(s) for s in inputs}
        if ranks == {1}:
            return (sum(s[0] for s in inputs),)
        if ranks != {3} or len({s[:2] for s in inputs}) != 1:
            raise ShapeError("concatenated branches disagree on H×W: " + ", ".join(fmt_shape(s) for s in inputs))
        return inputs[0][0], inputs[0][1], sum(s[2] for s in inputs)


class ResidualAdd(Op):
    """``shortcut + scale · residual`` (Inception-ResNet)."""

    kind: ClassVar[str] = "residual_add"
    internal: ClassVar[bool] = True

    scale: float = 1.0

    def infer(self, inputs: list[Shape]) -> Shape:
        if len(inputs) != 2 or inputs[0] != inputs[1]:
            raise ShapeError(
                "residual add: shortcut " + fmt_shape(inputs[0]) + " and residual " + fmt_shape(inputs[-1]) + " differ"
            )
        return inputs[0]

    def describe(self) -> str:
        return "add" if self.scale == 1.0 else f"add ×{self.scale:g}"


# Primitives made while lowering are shared values (never mutated), built once without
# re-validation: lowering runs per layer and must stay cheap.


@functools.cache
def batch_norm(epsilon: float, momentum: float, scale: bool, center: bool) -> BatchNorm:
    return BatchNorm.model_construct(epsilon=epsilon, momentum=momentum, scale=scale, center=center)


@functools.cache
def activation(fn: str) -> Act:
    return Act.model_construct(fn=fn)


@functools.cache
def concat() -> Concat:
    return Concat.model_construct()


@functools.cache
def residual_add(scale: float) -> ResidualAdd:
    return ResidualAdd.model_construct(scale=scale)


@functools.cache
def projection(filters: int, bias: bool) -> Conv:
    """The linear 1×1 conv of a residual merge, back to the block's input channels."""
    return Conv.model_construct(filters=filters, kernel=1, padding="same", bias=bias)


@functools.cache
def _default_bn() -> BNSettings:
    return BNSettings.model_construct()


#: Every op, by kind. Item and defaults models, the schema and the docs are built from this.
OPS: dict[str, type[Op]] = {
    cls.kind: cls
    for cls in (
        Conv,
        MaxPool,
        AvgPool,
        AdaptiveAvgPool,
        GlobalAvgPool,
        GlobalMaxPool,
        LRN,
        BatchNorm,
        Act,
        Dropout,
        Flatten,
        Dense,
        Identity,
        Concat,
        ResidualAdd,
    )
}

#: The ops a spec can write as items.
USER_OPS: dict[str, type[Op]] = {k: v for k, v in OPS.items() if not v.internal}
