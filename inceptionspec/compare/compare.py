"""Comparing two analysed sides into Change records."""

from __future__ import annotations

from typing import Any

from inceptionspec.analysis import Analysis
from inceptionspec.compare.align import _align, _merged, alignment_work
from inceptionspec.compare.network import _Network, _network, _relative, _same_value
from inceptionspec.compare.records import (
    ADDED,
    CHANGED,
    COST,
    REMOVED,
    RENAMED,
    SHAPE,
    BlockDiff,
    Change,
    Count,
    Diff,
    Side,
    Totals,
    _listed,
)
from inceptionspec.core.budget import Budget
from inceptionspec.core.errors import Loc
from inceptionspec.ir import INPUT
from inceptionspec.ops import Shape, fmt_shape

# --- comparison --------------------------------------------------------------------------


def compare(a: Side, b: Side, include_aux: bool = True, budget: Budget | None = None) -> Diff:
    """The diff of two analysed sides; its work counts against ``budget.max_diff_work``."""
    loc = b.analysis.graph.spec.loc or Loc(b.source, 1, 1)
    return _Comparison(_network(a.analysis), _network(b.analysis), budget or Budget(), loc).run(a, b, include_aux)


class _Comparison:
    def __init__(self, a: _Network, b: _Network, budget: Budget, loc: Loc) -> None:
        self.a, self.b = a, b
        self.budget, self.loc = budget, loc
        self.spend(a.blocks, b.blocks)
        self.block_pairs = _align(a.block_signatures(), b.block_signatures())
        self.block_order = _merged(list(a.blocks), list(b.blocks), self.block_pairs)
        self.layer_pairs: dict[str, str] = {}
        self.layer_order: dict[str, list[tuple[str | None, str | None]]] = {}
        for a_block, b_block in self.block_pairs.items():
            a_rel = {_relative(layer.name, a_block): layer for layer in a.block_layers[a_block]}
            b_rel = {_relative(layer.name, b_block): layer for layer in b.block_layers[b_block]}
            self.spend(a_rel, b_rel)
            pairs = _align({n: x.signature() for n, x in a_rel.items()}, {n: x.signature() for n, x in b_rel.items()})
            self.layer_pairs.update({a_rel[x].name: b_rel[y].name for x, y in pairs.items()})
            order = _merged(list(a_rel), list(b_rel), pairs)
            self.layer_order[b_block] = [
                (a_rel[x].name if x is not None else None, b_rel[y].name if y is not None else None) for x, y in order
            ]

    def spend(self, a: dict[str, Any], b: dict[str, Any]) -> None:
        self.budget.spend("max_diff_work", alignment_work(len(a), len(b)), self.loc)

    def run(self, a: Side, b: Side, include_aux: bool) -> Diff:
        changes: list[Change] = []
        if a.analysis.input_shape != b.analysis.input_shape:
            old, new = list(a.analysis.input_shape), list(b.analysis.input_shape)
            changes.append(Change("network", "input", SHAPE, "input_shape", old, new))
        blocks = [d for d in (self.block(x, y) for x, y in self.block_order) if d is not None]
        for block in blocks:
            changes.extend(block.changes)
        changes.extend(self.outputs())
        return Diff(a, b, include_aux, tuple(changes), tuple(blocks), self.totals(a.analysis, b.analysis))

    # Blocks ---------------------------------------------------------------------------

    def block(self, a_name: str | None, b_name: str | None) -> BlockDiff | None:
        a_block, b_block = self.a.blocks.get(a_name or ""), self.b.blocks.get(b_name or "")
        a_stats, b_stats = self.a.block_stats.get(a_name or ""), self.b.block_stats.get(b_name or "")
        input_shape = (
            self.a.shape_of(a_block.input) if a_block else None,
            self.b.shape_of(b_block.input) if b_block else None,
        )
        output_shape = (a_stats.output_shape if a_stats else None, b_stats.output_shape if b_stats else None)
        params = Count(a_stats.params if a_stats else None, b_stats.params if b_stats else None)
        macs = Count(a_stats.macs if a_stats else None, b_stats.macs if b_stats else None)
        if a_block is None or b_block is None:
            block = b_block or a_block
            assert block is not None
            label = f"{block.kind}, {fmt_shape(output_shape[1] or output_shape[0] or ())}"
            change = _presence("block", block.name, label, a_block is None, block.name)
            return BlockDiff(
                block.name, a_name, change.kind, block.kind, input_shape, output_shape, params, macs, (change,)
            )
        name = b_block.name
        changes: list[Change] = []
        if a_block.name != name:
            changes.append(Change("block", name, RENAMED, "name", a_block.name, name, name))
        if a_block.head is None and self.name_of(self.a, a_block.input) != self.name_of(self.b, b_block.input):
            old, new = self.name_of(self.a, a_block.input, translate=False), self.name_of(self.b, b_block.input)
            changes.append(Change("block", name, CHANGED, "input", old, new, name))
        if input_shape[0] != input_shape[1]:
            changes.append(Change("block", name, SHAPE, "input_shape", *map(_listed, input_shape), name))
        for x, y in self.layer_order[name]:
            changes.extend(self.layer(x, y, a_block, b_block))
        if output_shape[0] != output_shape[1]:
            changes.append(Change("block", name, SHAPE, "output_shape", *map(_listed, output_shape), name))
        for field, count in (("params", params), ("macs", macs)):
            if count.delta:
                changes.append(Change("block", name, COST, field, count.a, count.b, name))
        if not changes:
            return None
        status = RENAMED if a_block.name != name else CHANGED
        return BlockDiff(
            name, a_block.name, status, b_block.kind, input_shape, output_shape, params, macs, tuple(changes)
        )

    def name_of(self, net: _Network, ir_layer: str, block_input: str = "", translate: bool = True) -> str:
        """An IR layer as a name comparable across A and B: ``input``, ``<block input>`` (what a
        block reads is compared once, at the block), the block whose output it is, or the layer it
        belongs to.  A's names are translated to B's, so that renames alone are not rewiring."""
        if ir_layer == INPUT:
            return INPUT
        if ir_layer == block_input:
            return "<block input>"
        block = net.block_of_output.get(ir_layer)
        name, pairs = (block, self.block_pairs) if block else (net.owner.get(ir_layer, ir_layer), self.layer_pairs)
        return pairs.get(name, f"<removed {name}>") if translate and net is self.a else name

    # Layers ---------------------------------------------------------------------------

    def layer(self, a_name: str | None, b_name: str | None, a_block: Any, b_block: Any) -> list[Change]:
        block = b_block.name
        if a_name is None or b_name is None:
            side, name = (self.b, b_name) if a_name is None else (self.a, a_name)
            layer = side.layers[name or ""]
            return [_presence("layer", layer.name, layer.label, a_name is None, block, layer.kind)]
        a, b = self.a.layers[a_name], self.b.layers[b_name]

        def change(kind: str, field: str, old: Any, new: Any) -> Change:
            return Change("layer", b_name, kind, field, old, new, block, b.kind)

        out: list[Change] = []
        if _relative(a_name, a_block.name) != _relative(b_name, block):
            out.append(change(RENAMED, "name", a_name, b_name))
        if a.kind != b.kind:
            out.append(change(CHANGED, "op", a.kind, b.kind))
        else:
            # A part on one side only (a conv that gains batch norm) is one change, its settings in
            # the label; a part on both sides compares setting by setting (`bn.momentum`).
            alone = [part for part in [*b.parts, *a.parts] if (part in a.parts) != (part in b.parts)]
            for part in dict.fromkeys(alone):
                if part in b.parts:
                    out.append(change(ADDED, part, None, b.parts[part]))
                else:
                    out.append(change(REMOVED, part, a.parts[part], None))
            # An argument on one side only means nothing on the other (a conv's `order` without an
            # activation): only arguments both sides have are compared.
            out.extend(
                change(CHANGED, field, a.attrs[field], b.attrs[field])
                for field in b.attrs
                if field in a.attrs and not _same_value(a.attrs[field], b.attrs[field])
            )
        wiring_a = [self.name_of(self.a, i, a_block.input) for i in a.inputs]
        if wiring_a != [self.name_of(self.b, i, b_block.input) for i in b.inputs]:
            old_inputs = [self.a.owner.get(i, i) for i in a.inputs]
            new_inputs = [self.b.owner.get(i, i) for i in b.inputs]
            out.append(change(CHANGED, "inputs", old_inputs, new_inputs))
        if a.shape != b.shape:
            out.append(change(SHAPE, "output_shape", list(a.shape), list(b.shape)))
        out.extend(
            change(COST, field, old, new)
            for field, old, new in (("params", a.params, b.params), ("macs", a.macs, b.macs))
            if old != new
        )
        return out

    # Outputs and totals ------------------------------------------------------------------

    def outputs(self) -> list[Change]:
        a_outputs = {o.name: o for o in self.a.graph.outputs}
        b_outputs = {o.name: o for o in self.b.graph.outputs}
        pairs = {name: self.block_pairs.get(name, name) for name in a_outputs}
        pairs = {x: y for x, y in pairs.items() if y in b_outputs}
        out: list[Change] = []
        for x, y in _merged(list(a_outputs), list(b_outputs), pairs):
            if x is None or y is None:
                outputs, name = (b_outputs, y) if x is None else (a_outputs, x)
                output = outputs[name or ""]
                label = _output_label(output.shape, output.tap, output.loss_weight, output.training_only)
                out.append(_presence("output", output.name, label, x is None))
                continue
            a, b = a_outputs[x], b_outputs[y]
            if x != y:
                out.append(Change("output", y, RENAMED, "name", x, y))
            tap = self.block_pairs.get(a.tap) or self.layer_pairs.get(a.tap) or a.tap
            if tap != b.tap:
                out.append(Change("output", y, CHANGED, "from", a.tap, b.tap))
            for field in ("loss_weight", "training_only"):
                if getattr(a, field) != getattr(b, field):
                    out.append(Change("output", y, CHANGED, field, getattr(a, field), getattr(b, field)))
            if a.shape != b.shape:
                out.append(Change("output", y, SHAPE, "output_shape", list(a.shape), list(b.shape)))
        return out

    @staticmethod
    def totals(a: Analysis, b: Analysis) -> Totals:
        return Totals(
            params=Count(a.total_params, b.total_params),
            trainable_params=Count(a.trainable_params, b.trainable_params),
            non_trainable_params=Count(a.non_trainable_params, b.non_trainable_params),
            macs=Count(a.macs, b.macs),
            activations=Count(a.activations, b.activations),
            layers=Count(len(a.layers), len(b.layers)),
        )


def _presence(
    entity: str, name: str, label: str, added: bool, block: str | None = None, op: str | None = None
) -> Change:
    """An added or a removed thing; its label is ``new`` or ``old``."""
    if added:
        return Change(entity, name, ADDED, None, None, label, block, op)
    return Change(entity, name, REMOVED, None, label, None, block, op)


def _output_label(shape: Shape, tap: str, loss_weight: float, training_only: bool) -> str:
    words = [fmt_shape(shape), f"from {tap}", f"loss weight {loss_weight:g}"]
    return ", ".join(words + (["training only"] if training_only else []))
