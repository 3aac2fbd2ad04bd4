"""The IR's data: primitive layers, top-level blocks and outputs of one network."""

from __future__ import annotations

from dataclasses import dataclass, field

from inceptionspec.core.errors import Loc
from inceptionspec.lang.models import Spec
from inceptionspec.ops import Op, Shape

INPUT = "input"


@dataclass(frozen=True)
class Layer:
    name: str
    op: Op
    inputs: tuple[str, ...]
    shape: Shape
    input_shapes: tuple[Shape, ...]
    block: str
    loc: Loc
    head: str | None = None

    @property
    def kind(self) -> str:
        return self.op.kind


@dataclass(frozen=True)
class Block:
    """A top-level unit: a stage item (block or op) or a head."""

    name: str
    kind: str
    layers: tuple[str, ...]
    input: str
    output: str
    loc: Loc
    head: str | None = None


@dataclass(frozen=True)
class Output:
    name: str
    layer: str
    shape: Shape
    loss_weight: float
    training_only: bool
    tap: str


@dataclass(frozen=True)
class Graph:
    name: str
    input_shape: Shape
    layers: tuple[Layer, ...]
    blocks: tuple[Block, ...]
    outputs: tuple[Output, ...]
    spec: Spec = field(repr=False, compare=False)

    def layer(self, name: str) -> Layer:
        return self._index[name]

    @property
    def _index(self) -> dict[str, Layer]:
        cache = self.__dict__.get("_layer_index")
        if cache is None:
            cache = {layer.name: layer for layer in self.layers}
            object.__setattr__(self, "_layer_index", cache)
        return cache
