"""Building: IR → Keras functional model, checked against the static analysis."""

from __future__ import annotations

from typing import Any

import keras

from inceptionspec.analysis import Analysis, analyze_graph
from inceptionspec.core.budget import Budget
from inceptionspec.core.names import backend_name
from inceptionspec.ir import INPUT, Graph, lower
from inceptionspec.ir.graph import Output
from inceptionspec.keras.layers import TrainingOnly
from inceptionspec.keras.lower import LOWERINGS, Context
from inceptionspec.lang.expanded import ExpandedSpec

# --- building -------------------------------------------------------------------------


class BuildError(RuntimeError):
    """The compiled model disagrees with the static analysis: a bug, never silent."""


def compile_graph(graph: Graph, seed: int = 0, analysis: Analysis | None = None) -> keras.Model:
    """The Keras model of an IR graph, checked against its static analysis."""
    # Analyse first: the parameter budget must refuse a model before Keras allocates a weight.
    analysis = analysis or analyze_graph(graph)
    ctx = Context(seed=seed)
    inputs = keras.Input(shape=graph.input_shape, name=INPUT)
    tensors: dict[str, Any] = {INPUT: inputs}
    for layer in graph.layers:
        lowering = LOWERINGS.get(type(layer.op))
        if lowering is None:
            raise BuildError(f"{layer.name}: no Keras lowering for op `{layer.kind}`")
        tensors[layer.name] = lowering(layer.op, layer, [tensors[i] for i in layer.inputs], ctx)
    outputs = {o.name: _mark(o, tensors[o.layer], tensors) for o in graph.outputs}
    model = keras.Model(inputs, outputs, name=graph.name)
    check(model, graph, ctx, analysis)
    return model


def _mark(output: Output, tensor: Any, taken: dict[str, Any]) -> Any:
    """A training-only head's output passes through a :class:`TrainingOnly` layer named after the head."""
    if not output.training_only:
        return tensor
    name = backend_name(output.name)
    if output.name in taken:  # a stage layer named like the head: Keras needs unique names
        raise BuildError(f"head `{output.name}` has the name of a layer; rename one of them")
    return TrainingOnly(name=name)(tensor)


def check(model: keras.Model, graph: Graph, ctx: Context, analysis: Analysis) -> None:
    """Every layer's Keras output shape and weights (names, order, shapes) and the parameter
    count must equal what the IR says (``Op.weight_shapes``) and the analysis counted."""
    for layer in graph.layers:
        keras_layer = ctx.produced_by[layer.name]
        got = tuple(keras_layer.output.shape[1:])
        if got != tuple(layer.shape):
            raise BuildError(
                f"internal error: layer {layer.name}: Keras gives {got}, static analysis {tuple(layer.shape)}"
            )
        expected = layer.op.weight_shapes(list(layer.input_shapes), layer.shape)
        weights = {weight.name: tuple(weight.shape) for weight in keras_layer.weights}
        if list(weights.items()) != list(expected.items()):
            raise BuildError(f"internal error: layer {layer.name}: Keras has weights {weights}, the IR says {expected}")
    if model.count_params() != analysis.total_params:
        raise BuildError(
            f"internal error: Keras counts {model.count_params():,} parameters, "
            f"static analysis {analysis.total_params:,}"
        )


def build_model(
    spec: ExpandedSpec | str,
    include_aux: bool = True,
    seed: int | None = None,
    overrides: Any = None,
    budget: Budget | None = None,
) -> keras.Model:
    """Compile a spec (as ``load`` returns it, a path or a shipped name) into a Keras model.

    Outputs are a dict keyed by head name; with ``include_aux=False`` the
    training-only heads are left out.  ``seed`` (default 0) fixes every weight."""
    if not isinstance(spec, ExpandedSpec):
        from inceptionspec.lang.pipeline import load

        spec = load(spec, overrides, budget)
    graph = lower(spec, include_aux, budget)
    analysis = analyze_graph(graph, budget)
    return compile_graph(graph, 0 if seed is None else seed, analysis)
