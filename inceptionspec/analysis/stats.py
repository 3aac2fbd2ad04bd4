"""Stage 5 — analyse: parameters, multiply-accumulates, activations and receptive fields.

Everything is computed from the IR, without a framework.  Parameters are
counted the way Keras counts them (batch-norm moving statistics are
non-trainable parameters), so totals equal ``model.count_params()`` of the
compiled model.  MACs are the multiply-accumulates of convolutions and dense
layers (the "ops" column of the GoogLeNet paper's Table 1); pooling,
normalisation, activations and merges are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inceptionspec.core.budget import Budget
from inceptionspec.core.errors import SpecError
from inceptionspec.ir import INPUT, Graph, lower
from inceptionspec.lang.expanded import ExpandedSpec
from inceptionspec.ops import Shape


@dataclass(frozen=True)
class LayerStats:
    name: str
    op: str
    block: str
    label: str
    output_shape: Shape
    params: int
    trainable_params: int
    non_trainable_params: int
    macs: int
    activations: int
    receptive_field: tuple[int, int]
    effective_stride: tuple[int, int]
    head: str | None


@dataclass(frozen=True)
class BlockStats:
    name: str
    kind: str
    output_shape: Shape
    params: int
    trainable_params: int
    non_trainable_params: int
    macs: int
    activations: int
    receptive_field: tuple[int, int]
    effective_stride: tuple[int, int]
    layers: int
    head: str | None


@dataclass(frozen=True)
class Analysis:
    """What :func:`analyze` computes: per layer and per block shapes, parameters (as Keras counts
    them), multiply-adds, activations and receptive fields, and the network's totals."""

    name: str
    input_shape: Shape
    layers: tuple[LayerStats, ...]
    blocks: tuple[BlockStats, ...]
    outputs: tuple[dict[str, Any], ...]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    macs: int
    activations: int
    graph: Graph

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape `summary --format json` prints (shapes exclude the batch)."""

        def layer(s: LayerStats | BlockStats) -> dict[str, Any]:
            # Field by field (dataclasses.asdict deep-copies: a third of a summary's run time).
            d = {name: getattr(s, name) for name in type(s).__dataclass_fields__}
            d["output_shape"] = list(s.output_shape)
            d["receptive_field"] = list(s.receptive_field)
            d["effective_stride"] = list(s.effective_stride)
            return d

        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "macs": self.macs,
            "activations": self.activations,
            "outputs": [dict(o) for o in self.outputs],
            "blocks": [layer(b) for b in self.blocks],
            "layers": [layer(s) for s in self.layers],
        }

    def _repr_html_(self) -> str:
        """Jupyter: the summary table and the interactive picture."""
        from inceptionspec.render.notebook import analysis_html

        return analysis_html(self)

    def block(self, name: str) -> BlockStats:
        for b in self.blocks:
            if b.name == name:
                return b
        raise KeyError(name)


#: Receptive fields and effective strides stop growing here (a product over layers: 1,000 pools of
#: stride 100,000 would make a number of 5,000 digits). 10¹² pixels is ten million times the
#: largest input a spec may have, and a number every JSON reader holds exactly.
FIELD_LIMIT = 10**12


def _saturate(n: int) -> int:
    return n if n < FIELD_LIMIT else FIELD_LIMIT


def _prod(shape: Shape) -> int:
    out = 1
    for d in shape:
        out *= d
    return out


def analyze_graph(graph: Graph, budget: Budget | None = None) -> Analysis:
    budget = budget or Budget()
    stats: dict[str, LayerStats] = {}
    # Receptive field per layer: (rf_h, rf_w, jump_h, jump_w).
    rf: dict[str, tuple[int, int, int, int]] = {INPUT: (1, 1, 1, 1)}
    total = 0
    for layer in graph.layers:
        budget.spend("max_analysis_steps", 1 + len(layer.inputs), layer.loc)
        inputs = list(layer.input_shapes)
        trainable, frozen = layer.op.params(inputs, layer.shape)
        macs = layer.op.macs(inputs, layer.shape)
        kh, kw, sh, sw = layer.op.window(inputs)
        parents = [rf[i] for i in layer.inputs]
        rh = max(p[0] for p in parents)
        rw = max(p[1] for p in parents)
        jh = max(p[2] for p in parents)
        jw = max(p[3] for p in parents)
        rf[layer.name] = (
            _saturate(rh + (kh - 1) * jh),
            _saturate(rw + (kw - 1) * jw),
            _saturate(jh * sh),
            _saturate(jw * sw),
        )
        total += trainable + frozen
        if total > budget.max_params:
            raise SpecError.at(
                layer.loc,
                f"{layer.name}: the model exceeds the parameter budget of {budget.max_params:,} ({total:,} so far)",
                "raise it with --max-params",
            )
        r = rf[layer.name]
        stats[layer.name] = LayerStats(
            layer.name,
            layer.kind,
            layer.block,
            layer.op.describe(),
            layer.shape,
            trainable + frozen,
            trainable,
            frozen,
            macs,
            _prod(layer.shape),
            (r[0], r[1]),
            (r[2], r[3]),
            layer.head,
        )
    blocks = []
    for block in graph.blocks:
        members = [stats[n] for n in block.layers]
        last = stats[block.output] if block.output in stats else None
        blocks.append(
            BlockStats(
                block.name,
                block.kind,
                last.output_shape if last else graph.input_shape,
                sum(m.params for m in members),
                sum(m.trainable_params for m in members),
                sum(m.non_trainable_params for m in members),
                sum(m.macs for m in members),
                sum(m.activations for m in members),
                last.receptive_field if last else (1, 1),
                last.effective_stride if last else (1, 1),
                len(members),
                block.head,
            )
        )
    layers = tuple(stats[layer.name] for layer in graph.layers)
    outputs = tuple(
        {
            "name": o.name,
            "shape": list(o.shape),
            "layer": o.layer,
            "from": o.tap,
            "loss_weight": o.loss_weight,
            "training_only": o.training_only,
        }
        for o in graph.outputs
    )
    return Analysis(
        graph.name,
        graph.input_shape,
        layers,
        tuple(blocks),
        outputs,
        sum(s.params for s in layers),
        sum(s.trainable_params for s in layers),
        sum(s.non_trainable_params for s in layers),
        sum(s.macs for s in layers),
        sum(s.activations for s in layers),
        graph,
    )


def analyze(
    spec: ExpandedSpec | str, include_aux: bool = True, budget: Budget | None = None, overrides: Any = None
) -> Analysis:
    """Analyse a spec (a spec as ``load`` returns it, a path or a shipped name)."""
    if not isinstance(spec, ExpandedSpec):
        from inceptionspec.lang.pipeline import load

        spec = load(spec, overrides, budget)
    graph = lower(spec, include_aux, budget)
    return analyze_graph(graph, budget)


__all__ = ["Analysis", "BlockStats", "LayerStats", "analyze", "analyze_graph"]
