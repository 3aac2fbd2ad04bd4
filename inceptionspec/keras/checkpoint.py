"""PyTorch checkpoints into a compiled Keras model: the planned values, layer by layer.

The plan (:func:`inceptionspec.weights.plan_checkpoint`) has already paired every weight with a
tensor and checked every shape without Keras; this module finds each planned layer in the model
by its spec path, reads that layer's tensors, and assigns them.
"""

from __future__ import annotations

from pathlib import Path

import keras

from inceptionspec.core.names import BACKEND_SEP, spec_path
from inceptionspec.ir import lower
from inceptionspec.lang.models import Spec
from inceptionspec.weights import LoadPlan, LoadReport, open_checkpoint, plan_checkpoint


class CheckpointModelMismatch(ValueError):
    """The model was not built from the spec the plan was made for."""


def layers_by_spec_path(model: keras.Model) -> dict[str, keras.layers.Layer]:
    """The model's layers by spec path, whether Keras names them by spec path or by backend name."""
    out: dict[str, keras.layers.Layer] = {}
    for layer in model.layers:
        out[layer.name] = layer
        if BACKEND_SEP in layer.name:
            out[spec_path(layer.name)] = layer
    return out


def apply_plan(model: keras.Model, plan: LoadPlan) -> LoadReport:
    """Assign every planned tensor to its Keras weight; the report of what was loaded and skipped."""
    layers = layers_by_spec_path(model)
    filled = 0
    for name in plan.moves:
        layer = layers.get(name)
        if layer is None:
            raise CheckpointModelMismatch(f"the model has no layer `{name}`: was it built from this spec?")
        variables = {v.name: v for v in layer.weights}
        for role, value in plan.values(name).items():
            variable = variables.get(role)
            if variable is None or tuple(variable.shape) != value.shape:
                have = None if variable is None else tuple(variable.shape)
                raise CheckpointModelMismatch(f"layer `{name}` has {role} {have}, the plan {value.shape}")
            variable.assign(value)
            filled += 1
    if not plan.skipped and filled != len(model.weights):
        raise CheckpointModelMismatch(
            f"{len(model.weights) - filled} of the model's {len(model.weights)} weights have no tensor: "
            "was it built from this spec?"
        )
    return plan.report()


def graph_for(model: keras.Model, spec: Spec | str | Path | None) -> object:
    """The IR of ``spec`` (default: the shipped spec named like the model), with the heads the model has."""
    if not isinstance(spec, Spec):
        from inceptionspec.lang.pipeline import load

        spec = load(spec if spec is not None else model.name)
    outputs = set(model.output) if isinstance(model.output, dict) else set()
    aux = [name for name, head in spec.heads.items() if head.training_only]
    return lower(spec, include_aux=bool(aux) and set(aux) <= outputs)


def load_checkpoint(
    model: keras.Model,
    path: str | Path,
    spec: Spec | str | Path | None = None,
    layout: str | None = None,
    partial: bool = False,
) -> LoadReport:
    """Load a PyTorch checkpoint (``.safetensors``, or ``.pth`` with torch installed) into ``model``.

    ``spec`` is the spec the model was built from (a :class:`Spec`, a path or a shipped name;
    default: the shipped spec named like the model). The layout is recognised from the tensor
    names unless ``layout`` names it. Every weight must find a tensor of its shape, or
    :class:`~inceptionspec.weights.CheckpointError` names each layer that does not; with
    ``partial=True`` those layers keep their weights and the report lists them."""
    graph = graph_for(model, spec)
    plan = plan_checkpoint(graph, open_checkpoint(path), layout, partial)  # type: ignore[arg-type]
    return apply_plan(model, plan)
