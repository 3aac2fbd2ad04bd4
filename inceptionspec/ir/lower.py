"""Lowering: the expanded spec → the IR graph, shapes inferred, located shape errors."""

from __future__ import annotations

from inceptionspec.core.budget import Budget
from inceptionspec.core.errors import UNKNOWN_LOC, Collector, Loc, SpecError, did_you_mean
from inceptionspec.ir.graph import INPUT, Block, Graph, Layer, Output
from inceptionspec.lang.models import InlineBlock, ResidualMerge, SequenceBlock, Spec
from inceptionspec.ops import Op, Shape, ShapeError, activation, concat, fmt_shape, projection, residual_add


class _Lowering:
    def __init__(self, spec: Spec, include_aux: bool, budget: Budget) -> None:
        self.spec = spec
        self.include_aux = include_aux
        self.budget = budget
        self.layers: list[Layer] = []
        self.shapes: dict[str, Shape] = {}
        self.blocks: list[Block] = []
        self.block_outputs: dict[str, str] = {}
        self.errors = Collector()
        self.fallback = spec.loc or UNKNOWN_LOC

    def add(self, name: str, op: Op, inputs: list[str], block: str, loc: Loc, head: str | None) -> str:
        if name in self.shapes:
            raise SpecError.at(loc, f"two layers are named `{name}`", "rename a block, branch or layer")
        in_shapes = [self.shapes[i] for i in inputs]
        try:
            shape = op.infer(in_shapes)
        except ShapeError as exc:
            raise SpecError.at(loc, f"{name}: {exc}") from None
        if any(d < 1 for d in shape):
            raise SpecError.at(loc, f"{name}: output shape {fmt_shape(shape)} is empty")
        self.layers.append(Layer(name, op, tuple(inputs), shape, tuple(in_shapes), block, loc, head))
        self.shapes[name] = shape
        if len(self.layers) > self.budget.max_layers:
            raise SpecError.at(loc, f"the network has more than {self.budget.max_layers} layers")
        return name

    def lower_op(self, op: Op, prefix: str, x: str, block: str, head: str | None) -> str:
        loc = op.loc or self.fallback
        base = f"{prefix}{op.name}"
        for suffix, primitive in op.lower():
            x = self.add(base + suffix, primitive, [x], block, loc, head)
        return x

    def lower_items(self, items: list, prefix: str, x: str, block: str | None, head: str | None) -> str:
        for item in items:
            if not isinstance(item, dict):
                op = getattr(item, next(iter(type(item).model_fields)))
                top = block or op.name
                start = x
                first = len(self.layers)
                x = self.lower_op(op, prefix, x, top, head)
                if block is None:
                    self.record(op.name, op.kind, start, x, op.loc, head, first)
            else:
                ((name, body),) = item.items()
                top = block or name
                start = x
                first = len(self.layers)
                x = self.lower_block(body, f"{prefix}{name}.", x, top, head)
                if block is None:
                    label = body.kind or ("block" if isinstance(body, InlineBlock) else "sequence")
                    self.record(name, label, start, x, body.loc, head, first)
        return x

    def record(self, name: str, kind: str, start: str, end: str, loc: Loc | None, head: str | None, first: int) -> None:
        layers = tuple(layer.name for layer in self.layers[first:])
        self.blocks.append(Block(name, kind, layers, start, end, loc or self.fallback, head))
        self.block_outputs[name] = end

    def lower_block(self, body: InlineBlock | SequenceBlock, prefix: str, x: str, block: str, head: str | None) -> str:
        if isinstance(body, SequenceBlock):
            return self.lower_items(body.layers, prefix, x, block, head)
        outs = []
        for bname, branch in body.branches.items():
            items = branch if isinstance(branch, list) else branch.layers
            outs.append(self.lower_items(items, f"{prefix}{bname}.", x, block, head))
        loc = body.loc or self.fallback
        name = prefix.rstrip(".")
        if isinstance(body.merge, ResidualMerge):
            residual = body.merge.residual
            merged = outs[0] if len(outs) == 1 else self.add(f"{name}.concat", concat(), outs, block, loc, head)
            if residual.projection:
                channels = self.shapes[x][-1]
                proj = projection(channels, bool(residual.projection_bias))
                merged = self.add(f"{name}.projection", proj, [merged], block, loc, head)
            out = self.add(f"{name}.add", residual_add(float(residual.scale)), [x, merged], block, loc, head)
            if residual.activation != "none":
                out = self.add(
                    f"{name}.{residual.activation}", activation(str(residual.activation)), [out], block, loc, head
                )
            return out
        return self.add(f"{name}.concat", concat(), outs, block, loc, head)

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
        shape = tuple(spec.input or ())
        self.shapes[INPUT] = shape
        x = self.lower_items(spec.stages or [], "", INPUT, None, None)
        outputs = []
        stage_blocks = list(self.block_outputs)
        for head_name, head in spec.heads.items():
            if head.training_only and not self.include_aux:
                continue
            tap_name = head.tap or (stage_blocks[-1] if stage_blocks else None)
            start = self.tap(tap_name, head.field_loc("from") or head.loc or self.fallback) if tap_name else x
            first = len(self.layers)
            end = self.lower_items(head.layers, f"{head_name}.", start, head_name, head_name)
            self.blocks.append(
                Block(
                    head_name,
                    "head",
                    tuple(layer.name for layer in self.layers[first:]),
                    start,
                    end,
                    head.loc or self.fallback,
                    head_name,
                )
            )
            outputs.append(
                Output(head_name, end, self.shapes[end], head.loss_weight, head.training_only, tap_name or "")
            )
        if not outputs:
            outputs.append(Output("output", x, self.shapes[x], 1.0, False, stage_blocks[-1] if stage_blocks else INPUT))
        return Graph(spec.name, shape, tuple(self.layers), tuple(self.blocks), tuple(outputs), spec)


def lower(spec: Spec, include_aux: bool = True, budget: Budget | None = None) -> Graph:
    """The IR of an expanded spec. Raises SpecError on shape mistakes."""
    return _Lowering(spec, include_aux, budget or Budget()).run()
