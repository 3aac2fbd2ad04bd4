"""The importer's self-check: the written spec must compute what the source model computes.

Both sides become a sequence of primitive layers in a canonical order (depth first from the outputs,
each merge's inputs in order, the residual shortcut first): the source from its folded units, the
spec from its IR. Each layer is compared by kind, the arguments that change what it computes, and
its output shape, and by which earlier layers it reads. Arguments that cannot change the result are
normalised first (a 1×1 conv's ``same`` or ``valid``, a pool's ceil rounding where it adds nothing,
strides equal to the window). A difference is a bug in the importer — never a silently different model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from inceptionspec.importer.fold import Folded
from inceptionspec.ir import INPUT, Graph
from inceptionspec.ops import Op, Shape, fmt_shape, pair
from inceptionspec.ops.geometry import Window2D

PASS_THROUGH = ("identity", "scale")


@dataclass
class _Node:
    kind: str
    attrs: str
    shape: Shape
    inputs: list[Any]
    label: str


def normal_attrs(op: Op, input_shape: Shape) -> str:
    """The arguments that change what a primitive computes, as canonical text."""
    attrs = op.attrs()
    kind = op.kind
    if kind == "conv":
        for key in ("order", "bn", "norm", "activation"):
            attrs.pop(key, None)
        if attrs["padding"] in (0, [0, 0]):
            attrs["padding"] = "valid"
        one = pair(attrs["kernel"]) == (1, 1) and pair(attrs["strides"]) == (1, 1)
        if one and attrs["padding"] in ("same", "valid"):
            attrs["padding"] = "valid"
        attrs["kernel"], attrs["strides"], attrs["dilation"] = (
            list(pair(attrs[k])) for k in ("kernel", "strides", "dilation")
        )
    elif kind in ("maxpool", "avgpool"):
        size, strides = pair(attrs["size"]), pair(attrs["strides"] if attrs["strides"] is not None else attrs["size"])
        padding = attrs["padding"]
        if padding in (0, [0, 0]):
            padding = "valid"
        attrs.update(size=list(size), strides=list(strides), padding=padding)
        if padding == "same":
            attrs["ceil"] = False
        else:
            hw = (input_shape[0], input_shape[1])
            pads = [Window2D.of(size, strides, padding, ceil=ceil).pads(*hw) for ceil in (True, False)]
            attrs["ceil"] = pads[0] != pads[1]
            attrs["padding"] = "valid" if padding == "valid" else list(pair(padding))
        if kind == "avgpool":
            count = attrs.get("count_pad")
            attrs["count_pad"] = bool(count) if count is not None else padding not in ("same", "valid")
            if padding == "valid":
                attrs["count_pad"] = False
    elif kind == "adaptive_avgpool":
        attrs["size"] = list(pair(attrs["size"]))
    return json.dumps(attrs, sort_keys=True, default=str)


def source_nodes(folded: Folded, shortcut_of: dict[int, int]) -> tuple[dict[Any, _Node], dict[int, Any]]:
    """The source's primitives; and for each unit, the node that holds its output."""
    nodes: dict[Any, _Node] = {}
    output_of: dict[int, Any] = {0: INPUT}
    scales: dict[int, float] = {}
    for unit in folded.units[1:]:
        ins = [output_of[i] for i in unit.inputs]
        if unit.kind in PASS_THROUGH:
            output_of[unit.uid] = ins[0]
            if unit.kind == "scale":
                scales[unit.uid] = float(unit.args["scale"])
            continue
        if unit.kind == "concat":
            nodes[unit.uid] = _Node("concat", "{}", unit.shape, ins, str(unit.layer))
            output_of[unit.uid] = unit.uid
            continue
        if unit.kind == "add":
            short = shortcut_of.get(unit.uid, unit.inputs[0])
            residual = next(i for i in unit.inputs if i != short) if unit.inputs.count(short) == 1 else unit.inputs[1]
            scale = float(unit.args["scale"]) * scales.get(residual, 1.0)
            attrs = json.dumps({"scale": scale}, sort_keys=True)
            reads = [output_of[short], output_of[residual]]
            nodes[unit.uid] = _Node("residual_add", attrs, unit.shape, reads, str(unit.layer))
            output_of[unit.uid] = unit.uid
            continue
        op = unit.op()
        previous = ins[0]
        in_shape = folded.units[unit.inputs[0]].shape
        for index, primitive in enumerate(part.op for part in op.lower()):
            key = (unit.uid, index)
            attrs = normal_attrs(primitive, in_shape)
            nodes[key] = _Node(primitive.kind, attrs, unit.shape, [previous], str(unit.layer))
            previous = key
            in_shape = unit.shape
        output_of[unit.uid] = previous
    return nodes, output_of


def ir_nodes(graph: Graph) -> tuple[dict[Any, _Node], dict[str, str]]:
    """The IR's primitives (identity layers passed through); and where each identity leads."""
    nodes: dict[Any, _Node] = {}
    alias: dict[str, str] = {}
    for layer in graph.layers:
        ins = [alias.get(i, i) for i in layer.inputs]
        if layer.kind == "identity":
            alias[layer.name] = ins[0]
            continue
        attrs = normal_attrs(layer.op, layer.input_shapes[0])
        nodes[layer.name] = _Node(layer.kind, attrs, layer.shape, ins, layer.name)
    return nodes, alias


def canonical(nodes: dict[Any, _Node], outputs: list[Any]) -> list[tuple[str, str, Shape, tuple[int, ...], str]]:
    """Depth first from the outputs, inputs in order: (kind, attrs, shape, input positions, label)."""
    order: list[Any] = []
    position: dict[Any, int] = {INPUT: -1}
    for out in outputs:
        stack: list[tuple[Any, bool]] = [(out, False)]
        while stack:
            key, expanded = stack.pop()
            if key in position:
                continue
            if expanded:
                position[key] = len(order)
                order.append(key)
                continue
            stack.append((key, True))
            for source in reversed(nodes[key].inputs):
                if source not in position:
                    stack.append((source, False))
    rows = []
    for key in order:
        node = nodes[key]
        rows.append((node.kind, node.attrs, tuple(node.shape), tuple(position[i] for i in node.inputs), node.label))
    return rows


class ImportCheckError(RuntimeError):
    """The written spec differs from the source model: a bug in the importer."""


def check(folded: Folded, shortcut_of: dict[int, int], outputs: list[int], graph: Graph) -> int:
    """Raise ImportCheckError at the first layer where the spec's IR and the source differ; the layer count."""
    if tuple(graph.input_shape) != tuple(folded.input_shape):
        raise ImportCheckError(f"input {fmt_shape(graph.input_shape)} instead of {fmt_shape(folded.input_shape)}")
    source, output_of = source_nodes(folded, shortcut_of)
    ir, alias = ir_nodes(graph)
    want = canonical(source, [output_of[o] for o in outputs])
    got = canonical(ir, [alias.get(o.layer, o.layer) for o in graph.outputs])
    for index, (a, b) in enumerate(zip(want, got, strict=False)):
        if a[:4] != b[:4]:
            raise ImportCheckError(
                f"layer {index + 1} differs: the source's {a[4]} is {a[0]} {a[1]} → {fmt_shape(a[2])} reading {a[3]}, "
                f"the spec's {b[4]} is {b[0]} {b[1]} → {fmt_shape(b[2])} reading {b[3]}"
            )
    if len(want) != len(got):
        raise ImportCheckError(f"the source has {len(want)} layers, the spec {len(got)}")
    return len(want)
