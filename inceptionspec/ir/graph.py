"""The IR's data: primitive layers, the written units they came from, blocks and outputs."""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from inceptionspec.core.errors import Loc
from inceptionspec.core.names import SpecPath
from inceptionspec.lang.expanded import ExpandedSpec
from inceptionspec.lang.models import ResidualArgs
from inceptionspec.lang.tree import Tree
from inceptionspec.ops import Op, Shape, residual_add

INPUT = "input"

#: Roles of a merge unit's layers (an op unit's are ``main``, ``bn``, ``act``).
CONCAT, PROJECTION, ADD, ACT = "concat", "projection", "add", "act"


@dataclass(frozen=True)
class Layer:
    """A primitive layer: one op, one output. ``name`` is its spec path, dotted."""

    path: SpecPath
    op: Op
    inputs: tuple[str, ...]
    shape: Shape
    input_shapes: tuple[Shape, ...]
    block: str
    loc: Loc
    #: The written op or merge this layer is part of, and its part in it.
    unit: SpecPath
    role: str
    head: str | None = None
    name: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.path.dotted)

    @property
    def kind(self) -> str:
        return self.op.kind

    @property
    def backend_name(self) -> str:
        """The name on every backend (``inception_3a__3x3__conv``)."""
        return self.path.backend


@dataclass(frozen=True)
class Unit:
    """What the spec writes as one thing: an op (a conv with its batch norm and activation)
    or a block's merge (concat, or projection + scaled add + activation).

    ``op`` is the written op (None for a merge); ``residual`` a residual merge's settings.
    ``written`` and ``parts`` are what the diff compares (:meth:`Op.written`, :meth:`Op.parts`)."""

    path: SpecPath
    kind: str
    layers: tuple[str, ...]
    roles: tuple[str, ...]
    block: str
    loc: Loc
    op: Op | None = None
    residual: ResidualArgs | None = None
    head: str | None = None

    @property
    def name(self) -> str:
        return self.path.dotted

    def layer(self, role: str) -> str | None:
        """The layer playing ``role`` (``bn``, ``act``, ``concat`` …), or None."""
        for layer, its_role in zip(self.layers, self.roles, strict=True):
            if its_role == role:
                return layer
        return None

    @cached_property
    def label(self) -> str:
        if self.op is not None:
            return self.op.describe()
        if self.residual is None:
            return "concat"
        activation = "" if self.residual.activation == "none" else f" {self.residual.activation}"
        return residual_add(self.residual.scale).describe() + activation

    @cached_property
    def written(self) -> Mapping[str, Any]:
        if self.op is not None:
            return self.op.written()
        return {} if self.residual is None else self.residual.model_dump()

    @cached_property
    def parts(self) -> Mapping[str, str]:
        return {} if self.op is None else self.op.parts()


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
    units: tuple[Unit, ...]
    spec: ExpandedSpec = field(repr=False, compare=False)
    #: The expanded spec as the lowering walked it (the renderer walks it too).
    tree: Tree = field(repr=False, compare=False)

    def layer(self, name: str) -> Layer:
        return self._layers[name]

    def unit(self, path: SpecPath | str) -> Unit:
        """The unit at a spec path (``inception_3a.3x3.conv``, ``inception_3a.merge``)."""
        return self._units[path if isinstance(path, SpecPath) else SpecPath.parse(path)]

    def unit_of(self, layer: str) -> Unit:
        """The unit a layer belongs to."""
        return self._units[self._layers[layer].unit]

    def block(self, name: str) -> Block:
        return self._blocks[name]

    def block_units(self, name: str) -> tuple[Unit, ...]:
        """The units of a top-level block, in order."""
        return self._block_units.get(name, ())

    def block_signature(self, name: str) -> Hashable:
        """What makes two blocks copies of each other: stage or head, and per layer its path
        inside the block, op, arguments, input and output shapes. Render collapses consecutive
        copies; the diff pairs a renamed block with its twin."""
        block = self._blocks[name]
        root = SpecPath((name,))
        return (
            block.head is None,
            tuple(
                (
                    (layer := self._layers[n]).path.relative_to(root).dotted,
                    layer.kind,
                    self._attrs_text(layer.op),
                    layer.input_shapes,
                    layer.shape,
                )
                for n in block.layers
            ),
        )

    @cached_property
    def _layers(self) -> dict[str, Layer]:
        return {layer.name: layer for layer in self.layers}

    @cached_property
    def _units(self) -> dict[SpecPath, Unit]:
        return {unit.path: unit for unit in self.units}

    @cached_property
    def _blocks(self) -> dict[str, Block]:
        return {block.name: block for block in self.blocks}

    @cached_property
    def _block_units(self) -> dict[str, tuple[Unit, ...]]:
        out: dict[str, list[Unit]] = {}
        for unit in self.units:
            out.setdefault(unit.block, []).append(unit)
        return {name: tuple(units) for name, units in out.items()}

    def _attrs_text(self, op: Op) -> str:
        # Keyed by identity: the graph holds its ops, and primitives are shared values (ops.catalog).
        cache = self._attrs_cache
        text = cache.get(id(op))
        if text is None:
            text = cache[id(op)] = json.dumps(op.attrs(), sort_keys=True, default=str)
        return text

    @cached_property
    def _attrs_cache(self) -> dict[int, str]:
        return {}
