"""What a network costs, in one pass over the IR: parameters, multiply-adds and peak activation memory.

The totals are :func:`~inceptionspec.analysis.analyze_graph`'s (a test checks they agree), without
the per-layer records, labels and receptive fields: a sweep or a budget search analyses hundreds of
variants and needs only the totals.

Peak activation memory is counted for one image (batch 1) in the order the IR lists the layers,
which is the order the Keras model runs them: a layer's output is alive from the layer that makes
it to the last layer that reads it (the network's outputs to the end), and the peak is the largest
sum of the values alive while a layer runs — its inputs and its output together. Every output
counts as its own buffer (a framework that runs batch norm or ReLU in place needs less).
"""

from __future__ import annotations

from dataclasses import dataclass

from inceptionspec.ir import INPUT, Graph

#: Bytes of one activation value (float32).
BYTES_PER_VALUE = 4


@dataclass(frozen=True)
class Cost:
    """The totals of one network (the inference model unless its training-only heads were lowered)."""

    params: int
    macs: int
    peak_activations: int
    layers: int
    #: The network's outputs: (name, shape) each.
    outputs: tuple[tuple[str, tuple[int, ...]], ...] = ()

    @property
    def peak_activation_bytes(self) -> int:
        return self.peak_activations * BYTES_PER_VALUE


def _size(shape: tuple[int, ...]) -> int:
    out = 1
    for d in shape:
        out *= d
    return out


def peak_activations(graph: Graph) -> int:
    """The most activation values alive at once while the network runs on one image."""
    layers = graph.layers
    end = len(layers)
    last_use: dict[str, int] = {INPUT: -1}
    for index, layer in enumerate(layers):
        last_use.setdefault(layer.name, index)
        for name in layer.inputs:
            last_use[name] = index
    for output in graph.outputs:
        last_use[output.layer] = end
    dying: dict[int, list[int]] = {}
    for name, index in last_use.items():
        size = _size(graph.input_shape) if name == INPUT else _size(graph.layer(name).shape)
        dying.setdefault(index, []).append(size)
    live = _size(graph.input_shape)
    peak = live
    for index, layer in enumerate(layers):
        live += _size(layer.shape)
        peak = max(peak, live)
        live -= sum(dying.get(index, ()))
    return peak


def cost(graph: Graph) -> Cost:
    """Parameters (as Keras counts them), multiply-adds and peak activations of a lowered network."""
    params = macs = 0
    for layer in graph.layers:
        inputs = list(layer.input_shapes)
        trainable, frozen = layer.op.params(inputs, layer.shape)
        params += trainable + frozen
        macs += layer.op.macs(inputs, layer.shape)
    outputs = tuple((output.name, output.shape) for output in graph.outputs)
    return Cost(params, macs, peak_activations(graph), len(graph.layers), outputs)
