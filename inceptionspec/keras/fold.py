"""Batch-norm folding: every conv → batch-norm pair becomes one conv with a bias.

At inference a batch norm after a conv is an affine map per output channel,
y = γ·(conv(x) + b − μ)/√(σ² + ε) + β, so the conv can absorb it: scale the kernel's output
channels by s = γ/√(σ² + ε) and set the bias to (b − μ)·s + β. The folded model has fewer layers
and no batch norm left where a conv feeds one; it is an inference model (batch statistics can no
longer be trained). The arithmetic is done in float64 and rounded once.

The rewrite works on the functional model's config. Which batch norm belongs to which conv comes
from the IR when there is one: each written conv's unit names its ``main`` and ``bn`` layers
(:meth:`inceptionspec.ir.Unit.layer`). A model loaded from a ``.keras`` file has no IR; there a
conv's only consumer is taken when it is a batch norm. Either way a pair is folded only when the
batch norm is the conv's only consumer, normalises its channels, neither layer is shared and the
conv has no activation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from inceptionspec.ir import Graph
from inceptionspec.ops import Conv

CONVS = (keras.layers.Conv2D,)


@dataclass
class FoldReport:
    #: (conv, batch norm) layer names, in model order.
    pairs: list[tuple[str, str]]

    def __str__(self) -> str:
        return f"folded {len(self.pairs)} conv → batch-norm pairs"


def _only_consumer(layer: keras.layers.Layer) -> keras.layers.Layer | None:
    """The one layer reading ``layer``'s output, if exactly one does."""
    nodes = getattr(layer, "_outbound_nodes", [])
    return nodes[0].operation if len(nodes) == 1 else None


def written_pairs(graph: Graph) -> list[tuple[str, str]]:
    """(conv, batch norm) backend names of every written conv whose batch norm reads it directly
    (``order: norm_act``), as the IR's units record them."""
    pairs = []
    for unit in graph.units:
        conv, bn = unit.layer("main"), unit.layer("bn")
        if conv is None or bn is None or not isinstance(graph.layer(conv).op, Conv):
            continue
        if graph.layer(bn).inputs == (conv,):
            pairs.append((graph.layer(conv).backend_name, graph.layer(bn).backend_name))
    return pairs


def _candidates(model: keras.Model, graph: Graph | None) -> list[tuple[keras.layers.Layer, Any]]:
    if graph is None:
        return [(conv, _only_consumer(conv)) for conv in model.layers if isinstance(conv, CONVS)]
    present = {layer.name for layer in model.layers}
    return [
        (model.get_layer(conv), model.get_layer(bn))
        for conv, bn in written_pairs(graph)
        if conv in present and bn in present
    ]


def foldable_pairs(
    model: keras.Model, graph: Graph | None = None
) -> list[tuple[keras.layers.Layer, keras.layers.Layer]]:
    """(conv, batch norm) pairs the fold can merge; ``graph``, the IR ``model`` was built from, says
    which batch norm is whose (without it, the model's own connections)."""
    outputs = {id(t._keras_history.operation) for t in model.outputs}
    pairs = []
    for conv, bn in _candidates(model, graph):
        if not isinstance(conv, CONVS) or not isinstance(bn, keras.layers.BatchNormalization):
            continue
        if id(conv) in outputs or _only_consumer(conv) is not bn:
            continue
        single_use = len(conv._inbound_nodes) == 1 and len(bn._inbound_nodes) == 1
        channels_last = conv.data_format == "channels_last" and bn.axis in (-1, len(conv.output.shape) - 1)
        linear = keras.activations.serialize(conv.activation) in ("linear", None)
        if single_use and channels_last and linear and conv.groups == 1:
            pairs.append((conv, bn))
    return pairs


def folded_weights(conv: keras.layers.Layer, bn: keras.layers.BatchNormalization) -> list[np.ndarray]:
    """The kernel and bias of the conv that does what ``conv`` then ``bn`` did."""
    kernel = np.asarray(keras.ops.convert_to_numpy(conv.kernel), dtype=np.float64)
    channels = kernel.shape[-1]
    bias = np.asarray(keras.ops.convert_to_numpy(conv.bias), np.float64) if conv.use_bias else np.zeros(channels)

    def value(variable: Any, default: float) -> np.ndarray:
        if variable is None:
            return np.full(channels, default)
        return np.asarray(keras.ops.convert_to_numpy(variable), dtype=np.float64)

    gamma, beta = value(bn.gamma, 1.0), value(bn.beta, 0.0)
    mean, variance = value(bn.moving_mean, 0.0), value(bn.moving_variance, 1.0)
    scale = gamma / np.sqrt(variance + bn.epsilon)
    dtype = keras.backend.standardize_dtype(conv.kernel.dtype)
    return [(kernel * scale).astype(dtype), ((bias - mean) * scale + beta).astype(dtype)]


def _rewire(value: Any, renames: dict[str, str]) -> Any:
    """Every reference to a removed layer's output, in inbound nodes and output lists, now names the conv."""
    if isinstance(value, dict):
        out = {k: _rewire(v, renames) for k, v in value.items()}
        return out
    if isinstance(value, list | tuple):  # get_config keeps some references as tuples
        if len(value) == 3 and isinstance(value[0], str) and value[0] in renames and isinstance(value[1], int):
            return [renames[value[0]], *value[1:]]  # an output-layer reference: [name, node, tensor]
        return [_rewire(v, renames) for v in value]
    return value


def fold_batch_norm(model: keras.Model, graph: Graph | None = None) -> tuple[keras.Model, FoldReport]:
    """A new model in which every foldable conv → batch-norm pair is one conv; ``model`` is not changed.
    ``graph`` is the IR ``model`` was compiled from, when there is one (:func:`foldable_pairs`)."""
    pairs = foldable_pairs(model, graph)
    if not pairs:
        return model, FoldReport([])
    renames = {bn.name: conv.name for conv, bn in pairs}
    convs = {conv.name: bn for conv, bn in pairs}
    config = model.get_config()
    layers = []
    for entry in config["layers"]:
        name = entry["config"]["name"]
        if name in renames:
            continue
        if name in convs:
            entry["config"]["use_bias"] = True
        layers.append(entry)
    config = _rewire({**config, "layers": layers}, renames)
    folded = keras.Model.from_config(config)
    for layer in folded.layers:
        source = model.get_layer(layer.name)
        if layer.name in convs:
            layer.set_weights(folded_weights(source, convs[layer.name]))
        elif layer.weights:
            layer.set_weights(source.get_weights())
    return folded, FoldReport([(conv.name, bn.name) for conv, bn in pairs])
