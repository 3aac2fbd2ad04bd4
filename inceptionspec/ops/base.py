"""The op base class, argument types and the formatting of windows and shapes.

Argument types are *concrete*: what an op holds after expansion (an int, a pair, a
literal). The language widens every argument with ``| $param`` for template bodies
(``lang/params.py`` generates those models from these), so nothing after expansion
sees a parameter reference. Shared types are ``TypeAliasType`` so pydantic builds each
once per validator instead of once per use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, StringConstraints
from typing_extensions import TypeAliasType

from inceptionspec.core.names import MAX_NAME_LENGTH, NAME_PATTERN
from inceptionspec.lang.node import Node

Shape = tuple[int, ...]

# --- argument types ---------------------------------------------------------------

Name = TypeAliasType("Name", Annotated[str, StringConstraints(pattern=NAME_PATTERN, max_length=MAX_NAME_LENGTH)])
"""A block, branch, layer, head or template name: one part of a spec path (``core.names``)."""

PosInt = TypeAliasType("PosInt", Annotated[int, Field(ge=1, le=1_000_000_000)])
NonNegInt = TypeAliasType("NonNegInt", Annotated[int, Field(ge=0, le=1_000_000)])
Size = TypeAliasType("Size", Annotated[int, Field(ge=1, le=100_000)])
Pair = TypeAliasType("Pair", Annotated[list[Size], Field(min_length=2, max_length=2)])
PadPair = TypeAliasType("PadPair", Annotated[list[NonNegInt], Field(min_length=2, max_length=2)])
Prob = TypeAliasType("Prob", Annotated[float, Field(ge=0.0, lt=1.0)])

Filters = PosInt
Kernel = TypeAliasType("Kernel", Size | Pair)
Padding = TypeAliasType("Padding", Literal["same", "valid"] | NonNegInt | PadPair)
ActivationName = Literal[
    "none", "relu", "relu6", "sigmoid", "tanh", "softmax", "gelu", "silu", "elu", "selu", "softplus"
]
Activation = TypeAliasType("Activation", ActivationName)
Norm = Literal["none", "bn"]

#: An int or [h, w], as an op holds a window argument.
Window = int | list[int] | tuple[int, int]


def pair(value: Window) -> tuple[int, int]:
    """An int or [h, w] as (h, w)."""
    if isinstance(value, int):
        return value, value
    h, w = value
    return h, w


def fmt_pair(value: Window, sep: str = "×") -> str:
    h, w = pair(value)
    return f"{h}{sep}{w}"


def fmt_window(kernel: Window, strides: Window) -> str:
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
    """A shape rule failed; the message names the sizes involved.

    ``listed``: the message's text before a list of the input shapes (a concat's), so that a caller
    that knows where each input comes from can name it (:meth:`naming`)."""

    def __init__(self, message: str, listed: tuple[str, list[Shape]] | None = None) -> None:
        super().__init__(message)
        self.listed = listed

    def naming(self, labels: list[str]) -> str:
        """The message with each listed input shape preceded by its label (``conv 16×16×128``)."""
        if self.listed is None or len(labels) != len(self.listed[1]):
            return str(self)
        text, shapes = self.listed
        return text + ", ".join(f"{label} {fmt_shape(s)}" for label, s in zip(labels, shapes, strict=True))


# --- the base class ---------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One primitive layer a written op becomes: its role in the op (``main``, ``bn``, ``act``),
    the primitive op, and its name under the op's path (None: the op's own path)."""

    role: str
    op: Op
    name: str | None = None


#: Weight name → shape, in the order and layout Keras creates them (channels last).
WeightShapes = dict[str, tuple[int, ...]]


class Op(Node):
    """An op's arguments; subclasses set ``kind`` and override the rules they need."""

    kind: ClassVar[str]
    #: The field a bare scalar fills (``dropout: 0.4``), or None.
    shorthand: ClassVar[str | None] = None
    #: Shown in the language reference.
    summary: ClassVar[str] = ""
    #: Ops users cannot write (merges are made by blocks).
    internal: ClassVar[bool] = False
    #: Weights that are state, not learnt (batch norm's moving statistics).
    non_trainable: ClassVar[frozenset[str]] = frozenset()
    #: Arguments the width multiplier scales (`width:`), e.g. a conv's ``filters``.
    width_scaled: ClassVar[tuple[str, ...]] = ()

    name: Name | None = Field(None, description="Layer name; generated from the op kind when omitted.")

    # Rules -------------------------------------------------------------------
    def lower(self) -> list[Part]:
        """The primitive layers this op becomes, in order; most ops are one ``main`` part."""
        return [Part("main", self)]

    def infer(self, inputs: list[Shape]) -> Shape:
        return _single(self, inputs)

    def weight_shapes(self, inputs: list[Shape], out: Shape) -> WeightShapes:
        """The weights this (primitive) op has, as Keras lays them out; checkpoint loading,
        export and the Keras self-check all read this."""
        return {}

    def params(self, inputs: list[Shape], out: Shape) -> tuple[int, int]:
        """(trainable, non-trainable) parameters, counted from :meth:`weight_shapes`."""
        trainable = frozen = 0
        for name, shape in self.weight_shapes(inputs, out).items():
            if name in self.non_trainable:
                frozen += math.prod(shape)
            else:
                trainable += math.prod(shape)
        return trainable, frozen

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

    def written(self) -> dict[str, Any]:
        """The arguments as the diff compares them: those that mean something here (a conv's
        ``bn`` settings only when it has batch norm). A nested mapping is an optional part's
        settings, present only when the part is (see :meth:`parts`)."""
        return self.attrs()

    def parts(self) -> dict[str, str]:
        """Optional parts this op has, each with a label: ``{"bn": "batch norm (momentum 0.9, …)"}``."""
        return {}


def _single(op: Op, inputs: list[Shape]) -> Shape:
    if len(inputs) != 1:
        raise ShapeError(f"{op.kind} takes one input, got {len(inputs)}")
    return inputs[0]


def _spatial(op: Op, inputs: list[Shape]) -> Shape:
    shape = _single(op, inputs)
    if len(shape) != 3:
        raise ShapeError(f"{op.kind} needs a H×W×C feature map, got a flat vector of {fmt_shape(shape)}")
    return shape
