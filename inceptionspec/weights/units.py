"""The spec side of a weight mapping: units, their weights and shapes, read from the IR's index.

A *unit* is what the spec writes as one thing (:class:`inceptionspec.ir.Unit`): an op, named by
its spec path (``inception_3a.3x3.conv``), or a block's merge (``block35_1.merge``). The IR
indexes each unit's primitive layers by *role*: an op's ``main`` layer (its conv, dense or batch
norm) and ``bn``; a residual merge's ``projection``. A checkpoint module fills one unit, each of
its tensors one (role, weight) there; the weights and their Keras shapes are the ops' own
(:meth:`inceptionspec.ops.Op.weight_shapes`), so nothing is derived here again.
"""

from __future__ import annotations

from dataclasses import dataclass

from inceptionspec.ir import Graph, Layer
from inceptionspec.ops.base import WeightShapes

#: Layers that pass their input through unchanged in shape (between a flatten and its dense layer).
PASS_THROUGH = ("dropout", "identity", "act")


@dataclass(frozen=True)
class WeightUnit:
    """A unit with weights: its spec path and its layers that hold weights, by role."""

    path: str
    parts: dict[str, Layer]  # role (main, bn, projection) → the IR layer

    @property
    def first(self) -> Layer:
        """The layer a problem with the unit is reported at (its conv or dense layer)."""
        return next(iter(self.parts.values()))


def weight_shapes(layer: Layer) -> WeightShapes:
    """The Keras weights of one primitive layer, in Keras' order, with their shapes (the op's rule)."""
    return layer.op.weight_shapes(list(layer.input_shapes), layer.shape)


def units(graph: Graph) -> dict[str, WeightUnit]:
    """Every unit with weights, by spec path, in graph order."""
    out: dict[str, WeightUnit] = {}
    for unit in graph.units:
        parts = {
            role: layer
            for name, role in zip(unit.layers, unit.roles, strict=True)
            if weight_shapes(layer := graph.layer(name))
        }
        if parts:
            out[unit.name] = WeightUnit(unit.name, parts)
    return out


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
