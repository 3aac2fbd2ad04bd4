"""Planning a checkpoint load: which tensor fills which Keras weight, checked before anything is built.

:func:`plan_checkpoint` pairs a checkpoint's tensors with the weights of a spec's IR through a
layout, compares every shape (in the checkpoint's convention), and checks what cannot be a shape:
the layout is one the spec declares, batch-norm epsilons agree, and a tensor the spec has no
weight for is the identity (gamma 1, beta 0, bias 0) or an error naming the override that adds
the weight. Nothing here imports a framework; values are read and converted one layer at a time
when :meth:`LoadPlan.values` is called (by ``inceptionspec.keras.checkpoint``).

Conversions are exact: conv kernels OIHW → HWIO, dense matrices transposed, and a dense layer
that reads a flattened H×W×C map gets its rows reordered from PyTorch's (C, H, W) order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from inceptionspec.core.errors import UNKNOWN_LOC, Diagnostic, Loc, SpecError, UsageError, did_you_mean, one_of
from inceptionspec.ir import Graph, Layer
from inceptionspec.lang.library import find, first_line_description
from inceptionspec.lang.models import Spec
from inceptionspec.weights.checkpoint import FLOAT_DTYPES, Checkpoint, CheckpointFileError
from inceptionspec.weights.layouts import Layout, Recognition, layouts, recognise
from inceptionspec.weights.report import LoadReport, Skipped, shown
from inceptionspec.weights.units import WeightUnit, flattened_map, units, weight_shapes

#: A tensor the spec has no weight for is dropped when it holds this value, else it is an error.
IDENTITY = {"gamma": 1.0, "beta": 0.0, "bias": 0.0}
#: The override that gives a layer the weight, by (layer kind, role).
ADDS_WEIGHT = {
    ("bn", "gamma"): "defaults.conv.bn.scale=true",
    ("bn", "beta"): "defaults.conv.bn.center=true",
    ("conv", "bias"): "defaults.conv.bias=true",
    ("dense", "bias"): "defaults.dense.bias=true",
}
#: A weight a unit's optional part lacks, by (part, role): where the spec says it (a merge's setting,
#: not a default of the op kind, so there is no one override path to name).
ADDS_PART_WEIGHT = {
    ("projection", "bias"): "write `projection_bias: true` in the block's `merge: {residual: ...}` (its default)",
}


#: A unit's layer by role, in words (a checkpoint tensor for a layer the spec's unit lacks).
_PART_NAMES = {"bn": "batch norm", "projection": "projection"}


class CheckpointError(SpecError):
    """A checkpoint that does not fit the spec: located at the layer (or spec) concerned (exit 1)."""


@dataclass(frozen=True)
class Move:
    """One checkpoint tensor into one Keras weight."""

    layer: str  # the IR layer (spec path)
    role: str  # kernel, bias, gamma, beta, moving_mean, moving_variance
    key: str
    shape: tuple[int, ...]  # Keras' shape
    kind: str  # conv, dense, bn
    spatial: tuple[int, int, int] | None = None  # a dense layer's flattened H×W×C input


def source_shape(kind: str, role: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The PyTorch shape of a Keras weight: conv (O, I, kH, kW), linear (out, in)."""
    if role == "kernel" and kind == "conv":
        kh, kw, cin, cout = shape
        return cout, cin, kh, kw
    if role == "kernel" and kind == "dense":
        return shape[1], shape[0]
    return shape


def to_keras(array: np.ndarray, move: Move) -> np.ndarray:
    """A PyTorch tensor in Keras' layout."""
    if move.role == "kernel" and move.kind == "conv":
        array = array.transpose(2, 3, 1, 0)  # OIHW → HWIO
    elif move.role == "kernel" and move.kind == "dense":
        if move.spatial is not None:  # rows in (C, H, W) order → (H, W, C)
            h, w, c = move.spatial
            array = array.reshape(array.shape[0], c, h, w).transpose(2, 3, 1, 0).reshape(h * w * c, -1)
        else:
            array = array.T
    return np.ascontiguousarray(array, dtype=np.float32)


@dataclass
class LoadPlan:
    """Every Keras weight of a spec paired with a checkpoint tensor (or skipped, with the reason)."""

    checkpoint: Checkpoint
    layout: Layout
    moves: dict[str, list[Move]]
    skipped: list[Skipped] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        return str(self.checkpoint.path)

    def values(self, layer: str) -> dict[str, np.ndarray]:
        """One layer's weights in Keras' layout, read from the file now."""
        return {m.role: to_keras(self.checkpoint.read(m.key), m) for m in self.moves.get(layer, [])}

    def report(self) -> LoadReport:
        tensors = sum(len(ms) for ms in self.moves.values())
        values = sum(int(np.prod(m.shape)) for ms in self.moves.values() for m in ms)
        return LoadReport(
            self.source, len(self.moves), tensors, values, self.layout.name, self.skipped, self.unused, self.notes
        )


def fmt(shape: tuple[int, ...]) -> str:
    return str(tuple(int(d) for d in shape))


# --- choosing and checking the layout -----------------------------------------------------


def choose_layout(checkpoint: Checkpoint, name: str | None = None) -> tuple[Layout, Recognition | None]:
    """The named layout, or the one the checkpoint's tensor names follow."""
    known = layouts()
    if name is not None:
        if name not in known:
            hint = did_you_mean(name, known)
            raise UsageError(f"unknown checkpoint layout `{shown(name)}`; " + (hint or f"known: {one_of(known)}"))
        return known[name], None
    keys = checkpoint.keys()
    found, closest = recognise(keys)
    if found is not None:
        return found.layout, found
    detail = ""
    if closest is not None and closest.matched:
        strays = [k for k in keys if k not in closest.layout.targets()]
        detail = (
            f" (closest: {closest.layout.name}, which knows {closest.matched} of them"
            + (f"; not `{shown(strays[0])}`" if strays else "")
            + ")"
        )
    raise CheckpointFileError(
        f"{checkpoint.path}: its {len(keys)} tensor names follow no known checkpoint layout{detail}; "
        f"known layouts: {one_of(known)}; name one with --weights-layout if the model is one of them"
    )


def check_accepted(spec: Spec, layout: Layout) -> None:
    """The spec must declare the layout (``weights: {layouts: [...]}``); else name the spec that does."""
    declared = list(spec.weights.layouts) if spec.weights else []
    loc = (spec.weights.loc if spec.weights else None) or spec.loc or UNKNOWN_LOC
    known = layouts()
    unknown = [n for n in declared if n not in known]
    if unknown:
        raise CheckpointError.at(
            loc, f"unknown checkpoint layout `{unknown[0]}` in `weights.layouts`", did_you_mean(unknown[0], known)
        )
    if layout.name in declared:
        return
    try:
        title = first_line_description(find(layout.spec))
    except UsageError:
        title = ""
    takes = f"`{spec.name}` takes {', '.join(declared)}" if declared else f"`{spec.name}` declares no checkpoint layout"
    raise CheckpointError.at(
        spec.loc or UNKNOWN_LOC,
        f"this is a {layout.name} checkpoint ({layout.title}), made for `{layout.spec}`"
        + (f" ({title})" if title else "")
        + f"; {takes}",
        f"build `{layout.spec}` or a spec that extends it; a spec that computes what {layout.model} computes "
        f"can declare `weights: {{layouts: [{layout.name}]}}`",
    )


# --- the plan -----------------------------------------------------------------------------


@dataclass
class _Issues:
    """Problems found per unit (skippable with partial) and per kind (never skippable)."""

    by_unit: dict[str, list[tuple[Layer, str, str | None]]] = field(default_factory=lambda: defaultdict(list))
    fatal: dict[str, list[tuple[Layer, str, str | None]]] = field(default_factory=lambda: defaultdict(list))


def plan_checkpoint(graph: Graph, checkpoint: Checkpoint, layout: str | None = None, partial: bool = False) -> LoadPlan:
    """Pair every weight of ``graph`` with a tensor of ``checkpoint``; raise :class:`CheckpointError`
    (all problems at once, located at their layers) unless every weight finds a tensor of its shape.

    With ``partial``, a unit (a conv with its batch norm, a dense layer) whose tensors are missing
    or of other shapes is skipped whole and listed; the rest loads."""
    chosen, recognition = choose_layout(checkpoint, layout)
    check_accepted(graph.spec, chosen)
    targets = chosen.targets()
    spec_units = units(graph)
    found: dict[str, dict[tuple[str, str], str]] = defaultdict(dict)
    unused: list[str] = []
    ignored = 0
    for key in checkpoint:
        target = targets.get(key)
        if target is None or (target.role is not None and target.unit not in spec_units):
            unused.append(key)
        elif target.role is None:
            ignored += 1
        else:
            found[target.unit][(target.part, target.role)] = key
    issues = _Issues()
    absorbed: dict[str, int] = defaultdict(int)
    moves: dict[str, list[Move]] = {}
    skipped: list[Skipped] = []
    for unit in spec_units.values():
        tensors = found.get(unit.path, {})
        unit_moves = _pair_unit(graph, unit, tensors, chosen, checkpoint, issues, absorbed)
        problems = issues.by_unit.get(unit.path)
        if not problems:
            for move in unit_moves:
                moves.setdefault(move.layer, []).append(move)
        elif partial:
            skipped.append(Skipped(unit.path, problems[0][1], tuple(tensors.values())))
    _raise(issues, partial, graph)
    notes = list(checkpoint.notes)
    if recognition is not None and recognition.same_as:
        same = ", ".join(recognition.same_as)
        notes.append(f"layout {chosen.name} recognised from the tensor names (the same as {same})")
    for role, count in sorted(absorbed.items()):
        notes.append(f"dropped {count} `{role}` tensors equal to {IDENTITY[role]:g}: the spec's layers have no {role}")
    if ignored:
        notes.append(f"ignored {ignored} batch counters (num_batches_tracked)")
    if chosen.input:
        notes.append(f"input these weights expect: {chosen.input}")
    return LoadPlan(checkpoint, chosen, moves, skipped, unused, notes)


def _pair_unit(
    graph: Graph,
    unit: WeightUnit,
    tensors: dict[tuple[str, str], str],
    layout: Layout,
    checkpoint: Checkpoint,
    issues: _Issues,
    absorbed: dict[str, int],
) -> list[Move]:
    left = dict(tensors)
    moves: list[Move] = []
    main = unit.first
    if not tensors:
        issues.by_unit[unit.path].append(_nothing_for(graph, unit, layout))
        return []
    for part, layer in unit.parts.items():
        for role, shape in weight_shapes(layer).items():
            key = left.pop((part, role), None)
            if key is None:
                expected = layout.key_for(unit.path, part, role)
                issues.by_unit[unit.path].append(
                    (layer, f"no tensor for its {role}" + (f" (`{expected}`)" if expected else ""), None)
                )
                continue
            want, got = source_shape(layer.kind, role, shape), checkpoint.shape(key)
            if got != want:
                issues.by_unit[unit.path].append(
                    (
                        layer,
                        f"checkpoint `{shown(key)}` is {fmt(got)}, the spec's {role} needs {fmt(want)}"
                        + (f" (Keras {fmt(shape)})" if want != shape else ""),
                        "--partial loads the rest and keeps this layer's initial weights",
                    )
                )
            elif checkpoint.infos[key].dtype not in FLOAT_DTYPES:
                issues.by_unit[unit.path].append((layer, f"checkpoint `{shown(key)}` holds integers", None))
            else:
                spatial = flattened_map(graph, layer) if layer.kind == "dense" and role == "kernel" else None
                moves.append(Move(layer.name, role, key, shape, layer.kind, spatial))
        if (
            layer.kind == "bn"
            and layout.bn_epsilon is not None
            and abs(float(layer.op.epsilon) - layout.bn_epsilon) > 1e-12
        ):
            issues.fatal["epsilon"].append(
                (layer, f"epsilon {layer.op.epsilon:g}", f"defaults.conv.bn.epsilon={layout.bn_epsilon:g}")
            )
    for (part, role), key in left.items():
        layer = unit.parts.get(part)
        if layer is None:
            lacks = _PART_NAMES.get(part, part)
            issues.by_unit[unit.path].append(
                (main, f"the checkpoint has `{shown(key)}` but the spec's {unit.path} has no {lacks}", None)
            )
            continue
        value = checkpoint.read(key)
        if role in IDENTITY and np.all(value == IDENTITY[role]):
            absorbed[role] += 1
        else:
            group = f"{part}.{role}" if (part, role) in ADDS_PART_WEIGHT else f"{layer.kind}.{role}"
            issues.fatal[group].append((layer, f"`{shown(key)}`", ADDS_WEIGHT.get((layer.kind, role))))
    return moves


def _nothing_for(graph: Graph, unit: WeightUnit, layout: Layout) -> tuple[Layer, str, str]:
    """The problem of a unit the checkpoint has no tensor for: what was expected, and what to do."""
    main = unit.first
    slots = [(part, role) for part, layer in unit.parts.items() for role in weight_shapes(layer)]
    keys = (layout.key_for(unit.path, part, role) for part, role in slots)
    expected = next((key for key in keys if key), None)
    what = f"the checkpoint has no `{expected}`" if expected else f"{layout.name} maps no tensor onto it"
    if main.head in {o.name for o in graph.outputs if o.training_only}:
        hint = (
            f"the checkpoint has no weights for the training-only head `{main.head}`: build without it "
            "(--no-aux) or pass --partial"
        )
    else:
        hint = "--partial loads the rest and keeps this layer's initial weights"
    return main, f"no tensor for it: {what}", hint


def _raise(issues: _Issues, partial: bool, graph: Graph) -> None:
    diagnostics: list[Diagnostic] = []
    if not partial:
        for problems in issues.by_unit.values():
            for layer, message, hint in problems:
                diagnostics.append(Diagnostic(_loc(layer, graph), f"{layer.name}: {message}", hint))
    for kind, problems in issues.fatal.items():
        layer, what, fix = problems[0]
        count = f"{len(problems)} layers" if len(problems) > 1 else "1 layer"
        if kind == "epsilon":
            message = f"{layer.name}: batch-norm {what} differs from the checkpoint's model ({count} like this)"
        else:
            role = kind.split(".")[1]
            message = (
                f"{layer.name}: the checkpoint's {what} is not {IDENTITY.get(role, 0):g} but the spec's "
                f"{layer.kind} has no {role} ({count} like this)"
            )
        if tuple(kind.split(".")) in ADDS_PART_WEIGHT:
            hint = ADDS_PART_WEIGHT[tuple(kind.split("."))]  # type: ignore[index]
        elif fix is None:
            hint = f"give the layer a {kind.split('.')[-1]}"
        else:
            path, _, value = fix.partition("=")
            hint = f"override `{path}: {value}` in the spec, or pass --set {fix}"
        diagnostics.append(Diagnostic(_loc(layer, graph), message, hint))
    if diagnostics:
        raise CheckpointError(diagnostics)


def _loc(layer: Layer, graph: Graph) -> Loc:
    return layer.loc or graph.spec.loc or UNKNOWN_LOC


__all__ = ["CheckpointError", "LoadPlan", "Move", "plan_checkpoint", "source_shape", "to_keras"]
