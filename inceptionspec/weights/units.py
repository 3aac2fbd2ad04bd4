"""The spec side of a weight mapping: units, their weights and shapes, from the IR alone.

A *unit* is an op as written in the spec, named by its spec path (``inception_3a.3x3.conv``);
its primitive layers in the IR are the *main* one (the conv or dense layer, same path) and its
batch norm (``….bn``). Every weight a Keras model holds is (primitive layer, role): ``kernel``,
``bias``, ``gamma``, ``beta``, ``moving_mean``, ``moving_variance``, with the shapes Keras gives
them, computed here from the IR without importing a framework.
"""

from __future__ import annotations

from dataclasses import dataclass

from inceptionspec.core.names import SpecPath
from inceptionspec.ir import Graph, Layer
from inceptionspec.ops import pair
from inceptionspec.weights.layouts import BN, MAIN

#: Layers that pass their input through unchanged in shape (between a flatten and its dense layer).
PASS_THROUGH = ("dropout", "identity", "act")


@dataclass(frozen=True)
class Unit:
    path: str
    parts: dict[str, Layer]  # MAIN / BN → the IR layer


def weight_shapes(layer: Layer) -> dict[str, tuple[int, ...]]:
    """The Keras weights of one primitive layer, in Keras' order, with their shapes."""
    op = layer.op
    if hasattr(op, "weight_shapes"):  # the ops' own rule, where the IR has it (branch ir-core)
        return {role: tuple(shape) for role, shape in op.weight_shapes(list(layer.input_shapes), layer.shape).items()}
    if layer.kind == "conv":
        kh, kw = pair(op.kernel)
        filters = int(op.filters)
        shapes = {"kernel": (kh, kw, layer.input_shapes[0][-1], filters)}
        return shapes | ({"bias": (filters,)} if op.bias else {})
    if layer.kind == "dense":
        units = int(op.units)
        return {"kernel": (layer.input_shapes[0][0], units)} | ({"bias": (units,)} if op.bias else {})
    if layer.kind == "bn":
        channels = (layer.shape[-1],)
        shapes = {"gamma": channels} if op.scale else {}
        shapes |= {"beta": channels} if op.center else {}
        return shapes | {"moving_mean": channels, "moving_variance": channels}
    return {}


def units(graph: Graph) -> dict[str, Unit]:
    """Every unit with weights, by spec path, in graph order."""
    out: dict[str, dict[str, Layer]] = {}
    for layer in graph.layers:
        if layer.kind in ("conv", "dense"):
            out.setdefault(layer.name, {})[MAIN] = layer
        elif layer.kind == "bn":
            path = SpecPath.parse(layer.name)
            owner = path.parent.dotted
            if path.name == "bn" and owner in out and MAIN in out[owner]:
                out[owner][BN] = layer
            else:  # a batch norm written as an op of its own
                out.setdefault(layer.name, {})[BN] = layer
    return {path: Unit(path, parts) for path, parts in out.items()}


def flattened_map(graph: Graph, dense: Layer) -> tuple[int, int, int] | None:
    """The H×W×C map a dense layer reads through a flatten (H·W > 1), or None.

    PyTorch flattens channels-first (C, H, W) and Keras channels-last (H, W, C): such a dense
    layer's input rows must be reordered when its weights move."""
    source = _producer(graph, dense.inputs[0])
    while source is not None and source.kind in PASS_THROUGH:
        source = _producer(graph, source.inputs[0])
    if source is None or source.kind != "flatten":
        return None
    shape = source.input_shapes[0]
    if len(shape) != 3 or shape[0] * shape[1] == 1:
        return None
    return shape[0], shape[1], shape[2]


def _producer(graph: Graph, name: str) -> Layer | None:
    try:
        return graph.layer(name)
    except KeyError:  # the network's input
        return None


def training_only_heads(graph: Graph) -> set[str]:
    return {o.name for o in graph.outputs if o.training_only}
