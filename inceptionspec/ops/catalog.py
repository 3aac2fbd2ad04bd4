"""The ops: one class each, carrying its arguments, shape rule and cost rule.

Arguments are declared with their concrete types (what an op holds after expansion); the
language's models that also accept ``$param`` are generated from these (``lang/params.py``).
Checks that involve several arguments are pydantic model validators: they run on the
expanded spec, where every argument is known, whichever ``defaults`` supplied it.
"""

from __future__ import annotations

import functools
import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from inceptionspec.lang.node import Node
from inceptionspec.ops.base import (
    Activation,
    Filters,
    Kernel,
    Norm,
    Op,
    Padding,
    Part,
    PosInt,
    Prob,
    Shape,
    ShapeError,
    WeightShapes,
    _single,
    _spatial,
    fmt_padding,
    fmt_pair,
    fmt_shape,
    fmt_window,
    pair,
)
from inceptionspec.ops.geometry import Window2D

Epsilon = Annotated[float, Field(gt=0, le=1)]
Momentum = Annotated[float, Field(ge=0, le=1)]

# --- the ops ----------------------------------------------------------------------


class BatchNorm(Op):
    kind: ClassVar[str] = "bn"
    summary: ClassVar[str] = "Batch normalisation over the channel axis."
    non_trainable: ClassVar[frozenset[str]] = frozenset({"moving_mean", "moving_variance"})

    epsilon: Epsilon = Field(1e-3, description="Added to the variance.")
    momentum: Momentum = Field(
        0.99, description="Momentum of the moving mean and variance (Keras' convention: 0.99 keeps 99 %)."
    )
    scale: bool = Field(True, description="Learn gamma (Keras `scale`).")
    center: bool = Field(True, description="Learn beta (Keras `center`).")

    def weight_shapes(self, inputs: list[Shape], out: Shape) -> WeightShapes:
        c = (out[-1],)
        shapes = {"gamma": c} if self.scale else {}
        if self.center:
            shapes["beta"] = c
        return {**shapes, "moving_mean": c, "moving_variance": c}


class Act(Op):
    kind: ClassVar[str] = "act"
    shorthand: ClassVar[str | None] = "fn"
    summary: ClassVar[str] = "An activation function on its own."

    fn: Activation = Field("relu", description="The activation function.")

    def describe(self) -> str:
        return self.fn


class BNSettings(Node):
    """Batch-norm settings inside a conv (`conv: {norm: bn, bn: {...}}`)."""

    epsilon: Epsilon = Field(1e-3, description="Added to the variance.")
    momentum: Momentum = Field(
        0.99, description="Momentum of the moving mean and variance (Keras' convention: 0.99 keeps 99 %)."
    )
    scale: bool = Field(True, description="Learn gamma (Keras `scale`).")
    center: bool = Field(True, description="Learn beta (Keras `center`).")

    def label(self) -> str:
        """``batch norm (momentum 0.9, epsilon 0.001)``; ``no gamma`` / ``no beta`` when not learnt."""
        words = [f"momentum {self.momentum:g}", f"epsilon {self.epsilon:g}"]
        words += (["no gamma"] if not self.scale else []) + (["no beta"] if not self.center else [])
        return f"batch norm ({', '.join(words)})"


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
    bias: bool = Field(True, description="Whether the conv has a bias (usually false before batch norm).")
    norm: Norm = Field("none", description="`bn` adds batch normalisation.")
    bn: BNSettings = Field(default_factory=BNSettings, description="Batch-norm settings when `norm: bn`.")
    activation: Activation = Field(
        "none", description="Applied after the conv (and its batch norm, with `order: norm_act`)."
    )
    order: Literal["norm_act", "act_norm"] = Field(
        "norm_act", description="`norm_act`: conv → BN → act (usual); `act_norm`: conv → act → BN."
    )

    @model_validator(mode="after")
    def _stride_or_dilation(self) -> Conv:
        if max(pair(self.strides)) > 1 and max(pair(self.dilation)) > 1:
            raise ValueError("a conv cannot have both strides > 1 and dilation > 1")
        return self

    def lower(self) -> list[Part]:
        if self.norm == "none" and self.activation == "none":
            return [Part("main", self)]
        conv = _primitive_conv(
            self.name,
            self.filters,
            _key(self.kernel),
            _key(self.strides),
            _key(self.dilation),
            _key(self.padding),
            self.bias,
        )
        norm = act = None
        if self.norm == "bn":
            bn = self.bn
            norm = Part("bn", batch_norm(bn.epsilon, bn.momentum, bn.scale, bn.center), "bn")
        if self.activation != "none":
            act = Part("act", activation(self.activation), self.activation)
        tail = [norm, act] if self.order == "norm_act" else [act, norm]
        return [Part("main", conv), *(part for part in tail if part is not None)]

    def geometry(self) -> Window2D:
        return Window2D.of(self.kernel, self.strides, self.padding, self.dilation)

    def infer(self, inputs: list[Shape]) -> Shape:
        h, w, _ = _spatial(self, inputs)
        oh, ow = self.geometry().out(h, w, lambda: f"{fmt_window(self.kernel, self.strides)} {self.kind}")
        return oh, ow, self.filters

    def weight_shapes(self, inputs: list[Shape], out: Shape) -> WeightShapes:
        kh, kw = pair(self.kernel)
        shapes: WeightShapes = {"kernel": (kh, kw, inputs[0][-1], out[-1])}
        return {**shapes, "bias": (out[-1],)} if self.bias else shapes

    def macs(self, inputs: list[Shape], out: Shape) -> int:
        kh, kw = pair(self.kernel)
        return out[0] * out[1] * out[2] * kh * kw * inputs[0][-1]

    def window(self, inputs: list[Shape]) -> tuple[int, int, int, int]:
        geometry = self.geometry()
        return (*geometry.extent, *geometry.strides)

    def describe(self) -> str:
        return f"{fmt_window(self.kernel, self.strides)}{fmt_padding(self.padding)} conv {self.filters}"

    def written(self) -> dict[str, Any]:
        out = self.attrs()
        del out["norm"]
        if self.norm == "none":
            del out["bn"]
        if self.norm == "none" or self.activation == "none":
            del out["order"]  # only meaningful with both
        return out

    def parts(self) -> dict[str, str]:
        if self.norm == "none":
            return {}
        after = self.order == "act_norm" and self.activation != "none"
        return {"bn": self.bn.label() + (", after the activation" if after else "")}


class _Pool(Op):
    size: Kernel = Field(description="Window size: an int or [h, w].")
    strides: Kernel | None = Field(None, description="Defaults to the window size (as Keras).")
    padding: Padding = Field("valid", description="`same`, `valid`, or explicit symmetric amounts: an int or [h, w].")
    ceil: bool = Field(False, description="Round the output size up, as Caffe and PyTorch's ceil_mode.")

    @model_validator(mode="after")
    def _padding_fits(self) -> _Pool:
        if self.ceil and self.padding == "same":
            raise ValueError("`ceil` rounding only applies to `valid` or explicit padding")
        if self.padding not in ("same", "valid"):
            (kh, kw), (ph, pw) = pair(self.size), pair(self.padding)
            if 2 * ph > kh or 2 * pw > kw:
                raise ValueError(f"padding {fmt_pair(self.padding)} is more than half the {fmt_pair(self.size)} window")
        return self

    def effective_strides(self) -> Any:
        return self.size if self.strides is None else self.strides

    def geometry(self) -> Window2D:
        return Window2D.of(self.size, self.effective_strides(), self.padding, ceil=self.ceil)

    def infer(self, inputs: list[Shape]) -> Shape:
        h, w, c = _spatial(self, inputs)
        oh, ow = self.geometry().out(h, w, lambda: f"{fmt_window(self.size, self.effective_strides())} {self.kind}")
        return oh, ow, c

    def window(self, inputs: list[Shape]) -> tuple[int, int, int, int]:
        geometry = self.geometry()
        return (*geometry.kernel, *geometry.strides)

    def describe(self) -> str:
        ceil = " ceil" if self.ceil else ""
        return f"{fmt_window(self.size, self.effective_strides())}{fmt_padding(self.padding)}{ceil} {self.kind}"


class MaxPool(_Pool):
    kind: ClassVar[str] = "maxpool"
    summary: ClassVar[str] = "Max pooling."


class AvgPool(_Pool):
    kind: ClassVar[str] = "avgpool"
    summary: ClassVar[str] = "Average pooling."

    count_pad: bool | None = Field(
        None,
        description="Whether padded zeros count in the average. Default: not with `same` (Keras), "
        "yes with explicit padding (PyTorch's count_include_pad).",
    )

    @property
    def counts_padding(self) -> bool:
        """Whether padding cells count in the divisor, the default resolved."""
        if self.count_pad is None:
            return self.padding not in ("same", "valid")
        return self.count_pad


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
        return widest_adaptive_window(h, oh), widest_adaptive_window(w, ow), max(1, h // oh), max(1, w // ow)


def widest_adaptive_window(n: int, out: int) -> int:
    """The widest of PyTorch's adaptive pooling windows [floor(i·n/out), ceil((i+1)·n/out)), in
    closed form (a loop over the output cells costs 100,000 steps per layer at the size bound).

    Window i is ceil(f + n/out) wide, f = (i·n mod out)/out; i·n mod out takes every multiple of
    g = gcd(n, out) below out, so the widest has f = (out - g)/out."""
    return -(-(n + out - math.gcd(n, out)) // out)


class _GlobalPool(Op):
    keepdims: bool = Field(False, description="Keep a 1×1×C map instead of a vector of C.")

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

    size: Annotated[int, Field(ge=1, le=99)] = Field(5, description="Channels in the window (odd).")
    alpha: Annotated[float, Field(gt=0)] = Field(1e-4, description="Caffe's alpha (divided by size).")
    beta: Annotated[float, Field(gt=0)] = Field(0.75, description="The exponent.")
    bias: Annotated[float, Field(gt=0)] = Field(1.0, description="Caffe's k.")

    def infer(self, inputs: list[Shape]) -> Shape:
        shape = _spatial(self, inputs)
        if self.size % 2 == 0:
            raise ShapeError(f"LRN size must be odd, got {self.size}")
        return shape


class Dropout(Op):
    kind: ClassVar[str] = "dropout"
    shorthand: ClassVar[str | None] = "rate"
    summary: ClassVar[str] = "Dropout with the given drop rate (0.4 drops 40%)."

    rate: Prob = Field(description="The fraction of units dropped in training.")


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

    units: PosInt = Field(description="Output units; `$classes` for a classifier.")
    bias: bool = Field(True, description="Whether the layer has a bias.")
    activation: Activation = Field("none", description="Applied after the layer (`softmax` for a classifier).")

    def infer(self, inputs: list[Shape]) -> Shape:
        shape = _single(self, inputs)
        if len(shape) != 1:
            raise ShapeError(
                f"dense needs a flat vector but gets a {fmt_shape(shape)} feature map: "
                "add `flatten` or `global_avgpool` before it"
            )
        return (self.units,)

    def weight_shapes(self, inputs: list[Shape], out: Shape) -> WeightShapes:
        shapes: WeightShapes = {"kernel": (inputs[0][0], out[0])}
        return {**shapes, "bias": (out[0],)} if self.bias else shapes

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
            text = "concatenated branches disagree on H×W: "
            raise ShapeError(text + ", ".join(fmt_shape(s) for s in inputs), listed=(text, list(inputs)))
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


def _key(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _value(key: Any) -> Any:
    return list(key) if isinstance(key, tuple) else key


@functools.lru_cache(maxsize=4096)  # bounded: sweeps make many distinct convs
def _primitive_conv(
    name: str | None, filters: int, kernel: Any, strides: Any, dilation: Any, padding: Any, bias: bool
) -> Conv:
    """The bare conv of a conv with batch norm or an activation (arguments hashable: pairs as tuples)."""
    return Conv.model_construct(
        name=name,
        filters=filters,
        kernel=_value(kernel),
        strides=_value(strides),
        dilation=_value(dilation),
        padding=_value(padding),
        bias=bias,
        bn=_default_bn(),
    )


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
