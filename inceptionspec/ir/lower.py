"""Lowering: the expanded spec → the IR graph, shapes inferred, located shape errors.

Walks the spec's tree (:mod:`inceptionspec.lang.tree`) once, in order. Each op becomes
its primitive parts (``Op.lower``) and each inline block its branches plus a merge; every
primitive layer records the *unit* it came from (the written op, or the block's merge at
``block.merge``) and its role there. Shape errors are collected, all of them (capped):
a layer whose input already failed is skipped silently, as its error would only repeat.
"""

from __future__ import annotations

from typing import Any

from inceptionspec.core.budget import Budget
from inceptionspec.core.errors import UNKNOWN_LOC, Collector, Loc, SpecError, did_you_mean
from inceptionspec.core.names import SpecPath
from inceptionspec.ir.graph import ACT, ADD, CONCAT, INPUT, PROJECTION, Block, Graph, Layer, Output, Unit
from inceptionspec.lang.expanded import ExpandedSpec
from inceptionspec.lang.tree import BlockNode, ItemNode, OpNode, tree, walk
from inceptionspec.ops import Op, Shape, ShapeError, activation, concat, fmt_shape, projection, residual_add


class _Lowering:
    def __init__(self, spec: ExpandedSpec, include_aux: bool, budget: Budget) -> None:
        self.spec = spec
        self.include_aux = include_aux
        self.budget = budget
        self.layers: list[Layer] = []
        self.units: list[Unit] = []
        #: Output shape per layer name; None: its shape could not be inferred (an error is collected).
        self.shapes: dict[str, Shape | None] = {}
        self.blocks: list[Block] = []
        self.block_outputs: dict[str, str] = {}
        self.errors = Collector()
        self.fallback = spec.loc or UNKNOWN_LOC

    def input_changed(self, loc: Loc) -> list[str]:
        """A note when the input shape was written in another file than ``loc``'s (``--set input=...``,
        a child spec's ``input``): a smaller input is the usual cause of a window that does not fit."""
        where = self.spec.field_loc("input")
        if where is None or where.file in (loc.file, *_KNOBS) or where == self.spec.loc:
            return []
        source = where.file.strip("<>") if where.file.startswith("<--set") else str(where)
        return [f"changed at {source}: `input: {list(self.spec.input or ())}`"]

    # Layers and units -----------------------------------------------------------------
    def add(
        self,
        path: SpecPath,
        op: Op,
        inputs: list[str],
        block: str,
        loc: Loc,
        head: str | None,
        unit: SpecPath,
        role: str,
        origin: ItemNode | None = None,
        labels: list[str] | None = None,
    ) -> str:
        """Add a layer; a shape error is collected at ``loc``, its inputs named by ``labels`` (a concat's
        branches), with notes on the arguments of ``origin``'s ops an override or a child spec changed."""
        name = path.dotted
        if name in self.shapes:
            raise SpecError.at(loc, f"two layers are named `{name}`", "rename a block, branch or layer")
        in_shapes = [self.shapes[i] for i in inputs]
        shape: Shape | None = None
        if all(s is not None for s in in_shapes):
            try:
                shape = op.infer(in_shapes)  # type: ignore[arg-type]
                if any(d < 1 for d in shape):
                    raise ShapeError(f"output shape {fmt_shape(shape)} is empty")
            except ShapeError as exc:
                for note in changes(origin, loc) + self.input_changed(loc):
                    loc = loc.with_via(note)
                self.errors.add(loc, f"{name}: {exc.naming(labels) if labels else exc}")
                shape = None
        self.shapes[name] = shape
        if shape is not None:
            layer = Layer(path, op, tuple(inputs), shape, tuple(in_shapes), block, loc, unit, role, head)  # type: ignore[arg-type]
            self.layers.append(layer)
        if len(self.shapes) > self.budget.max_layers + 1:  # the input counts one
            raise SpecError.at(loc, f"the network has more than {self.budget.max_layers} layers")
        return name

    def unit(self, path: SpecPath, kind: str, first: int, op: Op | None = None, residual: Any = None) -> None:
        """Record the layers added since index ``first`` of :attr:`layers` as one unit."""
        members = self.layers[first:]
        if members:
            head = members[0]
            names = tuple(m.name for m in members)
            roles = tuple(m.role for m in members)
            self.units.append(Unit(path, kind, names, roles, head.block, head.loc, op, residual, head.head))

    def lower_op(self, node: OpNode, x: str, block: str, head: str | None) -> str:
        op = node.op
        loc = op.loc or self.fallback
        first = len(self.layers)
        for part in op.lower():
            path = node.path if part.name is None else node.path / part.name
            x = self.add(path, part.op, [x], block, loc, head, node.path, part.role, node)
        self.unit(node.path, op.kind, first, op=op)
        return x

    def lower_items(self, nodes: tuple[ItemNode, ...], x: str, block: str | None, head: str | None) -> str:
        for node in nodes:
            top = block or node.path.name
            start, first = x, len(self.layers)
            if isinstance(node, OpNode):
                x = self.lower_op(node, x, top, head)
                kind = node.op.kind
            else:
                x = self.lower_block(node, x, top, head)
                kind = node.kind
            if block is None:
                self.record(node.path.name, kind, start, x, node.loc, head, first)
        return x

    def record(self, name: str, kind: str, start: str, end: str, loc: Loc | None, head: str | None, first: int) -> None:
        layers = tuple(layer.name for layer in self.layers[first:])
        self.blocks.append(Block(name, kind, layers, start, end, loc or self.fallback, head))
        self.block_outputs[name] = end

    def lower_block(self, node: BlockNode, x: str, block: str, head: str | None) -> str:
        if node.is_sequence:
            return self.lower_items(node.items, x, block, head)
        outs = [self.lower_items(branch.items, x, block, head) for branch in node.branches]
        loc = node.loc or self.fallback
        path, unit = node.path, node.merge_path
        first = len(self.layers)

        def merge(name: str, op: Op, inputs: list[str], role: str) -> str:
            labels = [f"`{b.path.name}`" for b in node.branches] if name == CONCAT else None
            return self.add(path / name, op, inputs, block, loc, head, unit, role, node, labels)

        residual = node.residual
        if residual is None:
            out = merge(CONCAT, concat(), outs, CONCAT)
            self.unit(unit, "concat", first)
            return out
        merged = outs[0] if len(outs) == 1 else merge(CONCAT, concat(), outs, CONCAT)
        if residual.projection:
            channels = self.shapes[x]
            if channels is not None:
                merged = merge(PROJECTION, projection(channels[-1], residual.projection_bias), [merged], PROJECTION)
        out = merge(ADD, residual_add(residual.scale), [x, merged], ADD)
        if residual.activation != "none":
            out = merge(residual.activation, activation(residual.activation), [out], ACT)
        self.unit(unit, "residual", first, residual=residual)
        return out

    # Heads and outputs ---------------------------------------------------------------------
    def tap(self, name: str, loc: Loc) -> str:
        if name in self.block_outputs:
            return self.block_outputs[name]
        if name in self.shapes and name != INPUT:
            return name
        raise SpecError.at(
            loc,
            f"unknown block or layer `{name}`",
            did_you_mean(name, list(self.block_outputs) + [layer.name for layer in self.layers], self.budget),
        )

    def run(self) -> Graph:
        spec = self.spec
        nodes = tree(spec)
        shape = tuple(spec.input or ())
        self.shapes[INPUT] = shape
        x = self.lower_items(nodes.stages, INPUT, None, None)
        outputs = []
        stage_blocks = list(self.block_outputs)
        for head in nodes.heads:
            if head.training_only and not self.include_aux:
                continue
            tap_name = head.tap or (stage_blocks[-1] if stage_blocks else None)
            start = self.tap(tap_name, head.tap_loc or head.loc or self.fallback) if tap_name else x
            first = len(self.layers)
            end = self.lower_items(head.items, start, head.name, head.name)
            layers = tuple(layer.name for layer in self.layers[first:])
            self.blocks.append(Block(head.name, "head", layers, start, end, head.loc or self.fallback, head.name))
            end_shape = self.shapes[end]
            if end_shape is not None:
                outputs.append(Output(head.name, end, end_shape, head.loss_weight, head.training_only, tap_name or ""))
        self.errors.raise_if_any()
        if not outputs:
            end_shape = self.shapes[x]
            assert end_shape is not None
            outputs.append(Output("output", x, end_shape, 1.0, False, stage_blocks[-1] if stage_blocks else INPUT))
        return Graph(
            spec.name, shape, tuple(self.layers), tuple(self.blocks), tuple(outputs), tuple(self.units), spec, nodes
        )


#: Pseudo-files of the scaling knobs (`--width`, `--input-size`): not edits a user wrote.
_KNOBS = ("<width>", "<depth>", "<input_size>", "<knobs>", "<unknown>", "<spec>")
#: Notes on changed arguments one shape error carries, at most.
MAX_CHANGE_NOTES = 4


def changes(origin: ItemNode | None, loc: Loc) -> list[str]:
    """Notes on the arguments of ``origin``'s ops (all of them, for a block) that were written in another
    file than ``loc``'s: an override (``--set``, ``overrides:``) or an ``extends`` child changed them, so
    the error at the template or parent line may be theirs."""
    if origin is None:
        return []
    notes: list[str] = []
    for node in walk((origin,)):
        if not isinstance(node, OpNode):
            continue
        for field, where in (node.op._value_locs or {}).items():
            if where.file in (loc.file, *_KNOBS) or field == "name":
                continue
            source = where.file.strip("<>") if where.file.startswith("<--set") else str(where)
            value = getattr(node.op, field, None)
            shown = f": {value}" if isinstance(value, (int, float, str, list, tuple)) else ""
            note = f"changed at {source}: `{field}{shown}` of `{node.path.dotted}`"
            if note not in notes:
                notes.append(note)
    if len(notes) > MAX_CHANGE_NOTES:
        notes[MAX_CHANGE_NOTES:] = [f"… and {len(notes) - MAX_CHANGE_NOTES} more changed arguments"]
    return notes


def lower(spec: ExpandedSpec, include_aux: bool = True, budget: Budget | None = None) -> Graph:
    """The IR of an expanded spec. Raises SpecError with every shape mistake found."""
    return _Lowering(spec, include_aux, budget or Budget()).run()
