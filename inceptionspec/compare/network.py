"""Each side as the units the spec writes (a conv with BN and ReLU is one), from the IR's unit index."""

from __future__ import annotations

import json
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from inceptionspec.analysis import Analysis, BlockStats
from inceptionspec.core.names import SpecPath
from inceptionspec.ir import INPUT, Block, Graph
from inceptionspec.ops import Shape

# --- the two networks, as units written in the spec -------------------------------------


@dataclass(frozen=True)
class _Layer:
    """A unit of the IR (an op as the spec writes it, or a block's merge) with its numbers."""

    name: str
    block: str
    kind: str
    attrs: dict[str, Any]
    #: Optional parts present (``bn``), each with its label.
    parts: dict[str, str]
    label: str
    members: tuple[str, ...]
    inputs: tuple[str, ...]
    shape: Shape
    params: int
    macs: int

    def signature(self) -> Hashable:
        return self.kind, _frozen(self.attrs), tuple(self.parts), self.shape


@dataclass(frozen=True)
class _Network:
    """One side, indexed for comparison."""

    analysis: Analysis
    layers: dict[str, _Layer]
    owner: dict[str, str]
    blocks: dict[str, Block]
    block_stats: dict[str, BlockStats]
    block_layers: dict[str, tuple[_Layer, ...]]
    block_of_output: dict[str, str]

    @property
    def graph(self) -> Graph:
        return self.analysis.graph

    def shape_of(self, ir_layer: str) -> Shape:
        return self.graph.input_shape if ir_layer == INPUT else self.graph.layer(ir_layer).shape

    def block_signatures(self) -> dict[str, Hashable]:
        return {name: self.graph.block_signature(name) for name in self.blocks}


def _network(analysis: Analysis) -> _Network:
    graph = analysis.graph
    stats = {s.name: s for s in analysis.layers}
    owner = {layer: unit.name for unit in graph.units for layer in unit.layers}
    layers: dict[str, _Layer] = {}
    for unit in graph.units:
        members = set(unit.layers)
        inputs = [i for m in unit.layers for i in graph.layer(m).inputs if i not in members]
        layers[unit.name] = _Layer(
            unit.name,
            unit.block,
            unit.kind,
            _flat(dict(unit.written)),
            dict(unit.parts),
            unit.label,
            unit.layers,
            tuple(dict.fromkeys(inputs)),
            stats[unit.layers[-1]].output_shape,
            sum(stats[m].params for m in unit.layers),
            sum(stats[m].macs for m in unit.layers),
        )
    block_layers: dict[str, list[_Layer]] = {block.name: [] for block in graph.blocks}
    for layer in layers.values():
        block_layers[layer.block].append(layer)
    return _Network(
        analysis,
        layers,
        owner,
        {block.name: block for block in graph.blocks},
        {stats.name: stats for stats in analysis.blocks},
        {name: tuple(members) for name, members in block_layers.items()},
        {block.output: block.name for block in graph.blocks},
    )


def _flat(attrs: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested settings as dotted fields: ``{"bn": {"momentum": 0.9}}`` → ``{"bn.momentum": 0.9}``."""
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = list(value) if isinstance(value, tuple) else value
    return out


def _frozen(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


_SCALARS = (str, int, float, bool, type(None))


def _same_value(a: Any, b: Any) -> bool:
    """Equal as written: ``1``, ``1.0`` and ``true`` differ (a scalar pair of one type is compared
    directly, anything else as JSON)."""
    if type(a) is type(b) and type(a) in _SCALARS:
        return a == b
    return _frozen(a) == _frozen(b)


def _relative(name: str, block: str) -> str:
    """A unit's name inside its block: ``3x3.conv`` in ``inception_4c``; '' for a one-op block."""
    path, root = SpecPath.parse(name), SpecPath.parse(block)
    return path.relative_to(root).dotted if path.is_within(root) else name
