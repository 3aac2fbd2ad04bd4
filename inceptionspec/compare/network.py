"""Each side as the layers the spec writes (a conv with BN and ReLU is one), with block signatures."""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inceptionspec.analysis import Analysis, BlockStats
from inceptionspec.ir import INPUT, Block, Graph
from inceptionspec.lang.models import SequenceBlock, Spec
from inceptionspec.ops import Op, Shape

if TYPE_CHECKING:
    pass


# --- the two networks, as layers written in the spec ------------------------------------


@dataclass(frozen=True)
class _Layer:
    """An op as the spec writes it (a conv with its BN and activation) or a merge: the IR layers it became."""

    name: str
    block: str
    kind: str
    attrs: dict[str, Any]
    label: str
    members: tuple[str, ...]
    inputs: tuple[str, ...]
    shape: Shape
    params: int
    macs: int

    def signature(self) -> Hashable:
        return self.kind, _frozen(self.attrs), self.shape


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
        """Per block: stage or head, and every layer's (relative name, op kind, attributes, output shape)."""
        return {
            name: (
                block.head is None,
                tuple((_relative(x.name, name), *x.signature()) for x in self.block_layers[name]),
            )
            for name, block in self.blocks.items()
        }


def _network(analysis: Analysis) -> _Network:
    graph = analysis.graph
    stats = {s.name: s for s in analysis.layers}
    owner: dict[str, str] = {}
    written: dict[str, Op] = {}
    for name, op in _written_ops(graph.spec):
        members = [name + suffix for suffix, _ in op.lower()]
        if all(m in stats and m not in owner for m in members):
            written[name] = op
            owner.update(dict.fromkeys(members, name))
    groups: dict[str, list[str]] = {}
    for ir_layer in graph.layers:
        groups.setdefault(owner.setdefault(ir_layer.name, ir_layer.name), []).append(ir_layer.name)
    layers: dict[str, _Layer] = {}
    for name, members in groups.items():
        first = graph.layer(members[0])
        op = written.get(name, first.op)
        layers[name] = _Layer(
            name,
            first.block,
            op.kind,
            _flat(op.attrs()),
            op.describe(),
            tuple(members),
            first.inputs,
            stats[members[-1]].output_shape,
            sum(stats[m].params for m in members),
            sum(stats[m].macs for m in members),
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


def _written_ops(spec: Spec) -> Iterator[tuple[str, Op]]:
    """Every op of the expanded spec with the IR name of its first layer, walked as ``ir.lower`` walks."""
    yield from _ops_in(spec.stages or [], "")
    for head_name, head in spec.heads.items():
        yield from _ops_in(head.layers, f"{head_name}.")


def _ops_in(items: list[Any], prefix: str) -> Iterator[tuple[str, Op]]:
    for item in items:
        if not isinstance(item, dict):
            op = getattr(item, next(iter(type(item).model_fields)))
            yield f"{prefix}{op.name}", op
            continue
        ((name, body),) = item.items()
        if isinstance(body, SequenceBlock):
            yield from _ops_in(body.layers, f"{prefix}{name}.")
            continue
        for branch_name, branch in body.branches.items():
            yield from _ops_in(branch if isinstance(branch, list) else branch.layers, f"{prefix}{name}.{branch_name}.")


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


def _relative(name: str, block: str) -> str:
    """A layer's name inside its block: ``3x3.conv`` in ``inception_4c``; '' for a one-op block."""
    if name == block:
        return ""
    return name[len(block) + 1 :] if name.startswith(block + ".") else name
