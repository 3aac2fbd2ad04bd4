"""The op base class, argument types and the formatting of windows and shapes."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StringConstraints

from inceptionspec.lang.node import Node

Shape = tuple[int, ...]

# --- argument types ---------------------------------------------------------------

ParamRef = Annotated[str, StringConstraints(pattern=r"^\$[A-Za-z_][A-Za-z0-9_]*$")]
"""A template parameter (``$n3x3``); only meaningful inside a template."""

PosInt = Annotated[int, Field(ge=1, le=1_000_000_000)]
NonNegInt = Annotated[int, Field(ge=0, le=1_000_000)]
Size = Annotated[int, Field(ge=1, le=100_000)]
Pair = Annotated[list[Size | ParamRef], Field(min_length=2, max_length=2)]
PadPair = Annotated[list[NonNegInt | ParamRef], Field(min_length=2, max_length=2)]
Prob = Annotated[float, Field(ge=0.0, lt=1.0)]

Filters = PosInt | ParamRef
Kernel = Size | Pair | ParamRef
Padding = Literal["same", "valid"] | NonNegInt | PadPair | ParamRef
Activation = (
    Literal["none", "relu", "relu6", "sigmoid", "tanh", "softmax", "gelu", "silu", "elu", "selu", "softplus"] | ParamRef
)
Norm = Literal["none", "bn"] | ParamRef


def pair(value: Any) -> tuple[int, int]:
    """An int or [h, w] as (h, w)."""
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def fmt_pair(value: Any, sep: str = "×") -> str:
    h, w = pair(value)
    return f"{h}{sep}{w}"


def fmt_window(kernel: Any, strides: Any) -> str:
    """``3×3/2``, ``1×7``: a kernel with its stride when it is not 1."""
    sh, sw = pair(strides)
    stride = "" if (sh, sw) == (1, 1) else "/" + (str(sh) if sh == sw else fmt_pair(strides))
    return fmt_pair(kernel) + stride


def fmt_padding(padding: Any) -> str:
    if padding == "same":
        return ""
    return " V" if padding == "valid" else f" p{fmt_pair(padding, ',')}"


def fmt_shape(shape: Shape) -> str:
    return "×".join(str(d) for d in shape)


class ShapeError(Exception):
    """A shape rule failed; the message names the sizes involved."""


# --- the base class ---------------------------------------------------------------


class Op(Node):
    """An op's arguments; subclasses set ``kind`` and override the rules they need."""

    kind: ClassVar[str]
    #: The field a bare scalar fills (``dropout: 0.4``), or None.
    shorthand: ClassVar[str | None] = None
    #: Shown in the language reference.
    summary: ClassVar[str] = ""
    #: Ops users cannot write (merges are made by blocks).
    internal: ClassVar[bool] = False
    #: Arguments the width multiplier scales (`width:`), e.g. a conv's ``filters``.
    width_scaled: ClassVar[tuple[str, ...]] = ()

    name: str | None = Field(None, description="Layer name; generated from the op kind when omitted.")

    # Rules -------------------------------------------------------------------
    def lower(self) -> list[tuple[str, Op]]:
        """The primitive ops this op becomes: (name suffix, op); '' keeps the op's own name."""
        return [("", self)]

    def infer(self, inputs: list[Shape]) -> Shape:
        return _single(self, inputs)

    def params(self, inputs: list[Shape], out: Shape) -> tuple[int, int]:
        return 0, 0

    def macs(self, inputs: list[Shape], out: Shape) -> int:
        return 0

    def window(self, inputs: list[Shape]) -> tuple[int, int, int, int]:
        """(kernel_h, kernel_w, stride_h, stride_w) as seen by the receptive field."""
        return 1, 1, 1, 1

    def describe(self) -> str:
        """A short label (``3×3/2 conv 64``) for tables and pictures."""
        return self.kind

    def attrs(self) -> dict[str, Any]:
        return self.model_dump(exclude={"name"})


def _single(op: Op, inputs: list[Shape]) -> Shape:
    if len(inputs) != 1:
        raise ShapeError(f"{op.kind} takes one input, got {len(inputs)}")
    return inputs[0]


def _spatial(op: Op, inputs: list[Shape]) -> Shape:
    shape = _single(op, inputs)
    if len(shape) != 3:
        raise ShapeError(f"{op.kind} needs a H×W×C feature map, got a flat vector of {fmt_shape(shape)}")
    return shape
