"""Stage 6 — diff: what changed from spec A to spec B, on the IR and its analysis (never the YAML).

Both specs are loaded, lowered and analysed.  Blocks are aligned by the stable
names the IR gives them; a block that is missing on one side and has a twin on
the other — the same structural signature: every layer's relative name, op
kind, attributes and output shape — is *renamed*, not removed and added.  Inside
an aligned pair of blocks, layers are aligned by their name relative to the
block, then renamed by (op kind, attributes, output shape).

A *layer* here is an op as the spec writes it, named as the IR names its first
primitive: a conv with ``norm: bn`` and ``activation: relu`` lowers to three IR
layers (``x``, ``x.bn``, ``x.relu``) and is compared as one, so a norm or an
activation that changes is one attribute change, not layers coming and going.
Merges (concat, residual add and projection) are layers of their own.

Every difference is one :class:`Change` record ``(entity, path, kind, field, old,
new)``.  ``kind`` says what sort of difference it is:

* ``added`` / ``removed`` / ``renamed`` — a block, layer or output;
* ``changed`` — something the spec says: a layer attribute (``filters``,
  ``kernel``, ``norm``, ``bn.momentum`` …), its op, its inputs, a block's input,
  an output's tap, loss weight or training-only flag;
* ``shape`` — an output (or a block's input) shape that differs, whether the
  layer itself changed or an upstream change propagated to it;
* ``cost`` — parameters or multiply-accumulates that differ.

So one edited attribute is exactly one ``changed`` record, and its effects are
``shape`` and ``cost`` records where they land.  docs/diff.md documents the
JSON shape.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analysis import Analysis, BlockStats, analyze_graph
from .errors import Budget, Loc, SpecError, UsageError
from .ir import INPUT, Block, Graph, lower
from .library import find
from .loader import decode
from .models import SequenceBlock, Spec
from .ops import OPS, Kernel, Op, Shape, fmt_shape
from .pipeline import load
from .report import human
from .resolve import SpecText

if TYPE_CHECKING:
    from rich.console import Console

#: The version of the JSON shape (docs/diff.md); bumped on any incompatible change.
JSON_FORMAT = 1

ADDED, REMOVED, RENAMED, CHANGED, SHAPE, COST = "added", "removed", "renamed", "changed", "shape", "cost"

# --- the result -------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One difference between A and B.

    ``entity``: ``network``, ``block``, ``layer`` or ``output``.  ``path``: its name
    in B (in A when removed).  ``block``: the block it is in (None for the network
    and outputs).  ``op``: a layer's op kind (in B; in A when removed).  ``field``:
    what differs (``filters``, ``output_shape``, ``params`` …; None for added and
    removed).  ``old``/``new``: JSON values; for added and removed, a label."""

    entity: str
    path: str
    kind: str
    field: str | None = None
    old: Any = None
    new: Any = None
    block: str | None = None
    op: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "path": self.path,
            "block": self.block,
            "op": self.op,
            "kind": self.kind,
            "field": self.field,
            "old": self.old,
            "new": self.new,
        }


@dataclass(frozen=True)
class Count:
    """A number on both sides; None on a side that does not have the thing."""

    a: int | None
    b: int | None

    @property
    def delta(self) -> int:
        return (self.b or 0) - (self.a or 0)

    @property
    def pct(self) -> float | None:
        """The delta as a percentage of A (None when A is absent or zero)."""
        return round(100 * self.delta / self.a, 4) if self.a else None

    def as_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "delta": self.delta, "pct": self.pct}


@dataclass(frozen=True)
class BlockDiff:
    """A block that differs, with its costs on both sides."""

    name: str
    old_name: str | None
    status: str
    kind: str
    input_shape: tuple[Shape | None, Shape | None]
    output_shape: tuple[Shape | None, Shape | None]
    params: Count
    macs: Count
    changes: tuple[Change, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "old_name": self.old_name,
            "status": self.status,
            "kind": self.kind,
            "input_shape": _pair_dict(self.input_shape),
            "output_shape": _pair_dict(self.output_shape),
            "params": self.params.as_dict(),
            "macs": self.macs.as_dict(),
        }


@dataclass(frozen=True)
class Totals:
    params: Count
    trainable_params: Count
    non_trainable_params: Count
    macs: Count
    activations: Count
    layers: Count

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key).as_dict() for key in self.__dataclass_fields__}


@dataclass(frozen=True)
class Side:
    """One of the two specs: as given, and what it loaded to."""

    source: str
    name: str
    analysis: Analysis

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "name": self.name, "input_shape": list(self.analysis.input_shape)}


@dataclass(frozen=True)
class Diff:
    a: Side
    b: Side
    include_aux: bool
    changes: tuple[Change, ...]
    blocks: tuple[BlockDiff, ...]
    totals: Totals

    @property
    def identical(self) -> bool:
        return not self.changes

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape ``diff --format json`` prints (docs/diff.md)."""
        return {
            "format": JSON_FORMAT,
            "identical": self.identical,
            "a": self.a.as_dict(),
            "b": self.b.as_dict(),
            "include_aux": self.include_aux,
            "totals": self.totals.as_dict(),
            "blocks": [block.as_dict() for block in self.blocks],
            "changes": [change.as_dict() for change in self.changes],
        }


def _pair_dict(shapes: tuple[Shape | None, Shape | None]) -> dict[str, list[int] | None]:
    a, b = shapes
    return {"a": _listed(a), "b": _listed(b)}


def _listed(shape: Shape | None) -> list[int] | None:
    return None if shape is None else list(shape)


# --- loading: paths, shipped names, PATH@REV, loaded specs ---------------------------------


SpecSource = str | Path | Spec


def diff(
    a: SpecSource,
    b: SpecSource,
    include_aux: bool = True,
    overrides: list[str] | None = None,
    budget: Budget | None = None,
) -> Diff:
    """What changed from A to B.

    A and B are paths, shipped names, ``PATH@REV`` (the file at a git revision) or
    loaded :class:`Spec` objects; ``overrides`` (``--set`` strings) apply to both.
    Raises SpecError for an invalid spec, UsageError for a source that cannot be read."""
    budget = budget or Budget()
    side_a = _side(a, overrides, include_aux, budget)
    side_b = _side(b, overrides, include_aux, budget)
    return compare(side_a, side_b, include_aux)


def _side(source: SpecSource, overrides: list[str] | None, include_aux: bool, budget: Budget) -> Side:
    if isinstance(source, Spec):
        if overrides:
            raise UsageError(f"{source.name}: overrides apply to a path or name, not to an already loaded spec")
        spec, label = source, source.name
    else:
        label = str(source)
        spec = load(_readable(source, budget), overrides, budget)
    graph = lower(spec, include_aux, budget)
    return Side(label, spec.name, analyze_graph(graph, budget))


def _readable(source: str | Path, budget: Budget) -> str | Path | SpecText:
    """The source itself, or for ``PATH@REV`` the file's text at that revision."""
    text = str(source)
    if isinstance(source, Path) or "@" not in text or Path(text).exists():
        return source
    return read_revision(text, budget)


def read_revision(source: str, budget: Budget | None = None) -> SpecText:
    """``PATH@REV``: the file as it was at git revision REV (``git show REV:path`` in its repository).

    PATH may be a shipped name.  Relative ``extends`` of the old text resolve next to
    the file as it is now.  UsageError when git, the repository, the revision or the
    file at that revision is missing."""
    budget = budget or Budget()
    spelled, _, rev = source.rpartition("@")
    if not spelled or not rev or rev.startswith("-"):
        raise UsageError(f"{source}: expected PATH@REV, e.g. specs/googlenet.yaml@HEAD")
    path = Path(spelled)
    if not path.exists():
        try:
            path = find(spelled)
        except UsageError:
            pass  # a file that exists only at the revision
    path = path.absolute()
    if not path.parent.is_dir():
        raise UsageError(f"{source}: no directory {path.parent}")
    top = _git(["rev-parse", "--show-toplevel"], path.parent, f"{source}: {path.parent} is not in a git repository")
    root = Path(top.decode().strip()).resolve()
    try:
        relative = (path.parent.resolve() / path.name).relative_to(root).as_posix()
    except ValueError:
        raise UsageError(f"{source}: {path} is outside its git repository {root}") from None
    display = f"{relative}@{rev}"
    data = _git(["show", f"{rev}:{relative}"], root, f"{source}: no {relative} at revision {rev}")
    if len(data) > budget.max_file_bytes:
        raise SpecError.at(
            Loc(display, 1, 1), f"the file is {len(data)} bytes; specs are limited to {budget.max_file_bytes} bytes"
        )
    return SpecText(decode(data, display), path, display)


def _git(args: list[str], cwd: Path, failure: str) -> bytes:
    """Run git (an argv list, no shell) in ``cwd``; UsageError(failure + git's reason) if it fails."""
    git = shutil.which("git")
    if git is None:
        raise UsageError(f"{failure} (git is not installed)")
    try:
        done = subprocess.run([git, *args], cwd=cwd, capture_output=True, timeout=60, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"{failure} ({exc})") from None
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise UsageError(failure + (f" (git: {reason[0].removeprefix('fatal: ')})" if reason else ""))
    return done.stdout


# --- the two networks, as layers written in the spec ------------------------------------


@dataclass(frozen=True)
class _Layer:
    """An op as the spec writes it (a conv with its BN and activation) or a merge: the IR layers it became."""

    name: str
    block: str
    kind: str
    attrs: dict[str, Any]
    label: str
    members: tuple[str, ...]
    inputs: tuple[str, ...]
    shape: Shape
    params: int
    macs: int

    def signature(self) -> Hashable:
        return self.kind, _frozen(self.attrs), self.shape


@dataclass(frozen=True)
class _Network:
    """One side, indexed for comparison."""

    analysis: Analysis
    layers: dict[str, _Layer]
    owner: dict[str, str]
    blocks: dict[str, Block]
    block_stats: dict[str, BlockStats]
    block_layers: dict[str, tuple[_Layer, ...]]
    block_of_output: dict[str, str]

    @property
    def graph(self) -> Graph:
        return self.analysis.graph

    def shape_of(self, ir_layer: str) -> Shape:
        return self.graph.input_shape if ir_layer == INPUT else self.graph.layer(ir_layer).shape

    def block_signatures(self) -> dict[str, Hashable]:
        """Per block: stage or head, and every layer's (relative name, op kind, attributes, output shape)."""
        return {
            name: (
                block.head is None,
                tuple((_relative(x.name, name), *x.signature()) for x in self.block_layers[name]),
            )
            for name, block in self.blocks.items()
        }


def _network(analysis: Analysis) -> _Network:
    graph = analysis.graph
    stats = {s.name: s for s in analysis.layers}
    owner: dict[str, str] = {}
    written: dict[str, Op] = {}
    for name, op in _written_ops(graph.spec):
        members = [name + suffix for suffix, _ in op.lower()]
        if all(m in stats and m not in owner for m in members):
            written[name] = op
            owner.update(dict.fromkeys(members, name))
    groups: dict[str, list[str]] = {}
    for ir_layer in graph.layers:
        groups.setdefault(owner.setdefault(ir_layer.name, ir_layer.name), []).append(ir_layer.name)
    layers: dict[str, _Layer] = {}
    for name, members in groups.items():
        first = graph.layer(members[0])
        op = written.get(name, first.op)
        layers[name] = _Layer(
            name,
            first.block,
            op.kind,
            _flat(op.attrs()),
            op.describe(),
            tuple(members),
            first.inputs,
            stats[members[-1]].output_shape,
            sum(stats[m].params for m in members),
            sum(stats[m].macs for m in members),
        )
    block_layers: dict[str, list[_Layer]] = {block.name: [] for block in graph.blocks}
    for layer in layers.values():
        block_layers[layer.block].append(layer)
    return _Network(
        analysis,
        layers,
        owner,
        {block.name: block for block in graph.blocks},
        {stats.name: stats for stats in analysis.blocks},
        {name: tuple(members) for name, members in block_layers.items()},
        {block.output: block.name for block in graph.blocks},
    )


def _written_ops(spec: Spec) -> Iterator[tuple[str, Op]]:
    """Every op of the expanded spec with the IR name of its first layer, walked as ``ir.lower`` walks."""
    yield from _ops_in(spec.stages or [], "")
    for head_name, head in spec.heads.items():
        yield from _ops_in(head.layers, f"{head_name}.")


def _ops_in(items: list[Any], prefix: str) -> Iterator[tuple[str, Op]]:
    for item in items:
        if not isinstance(item, dict):
            op = getattr(item, next(iter(type(item).model_fields)))
            yield f"{prefix}{op.name}", op
            continue
        ((name, body),) = item.items()
        if isinstance(body, SequenceBlock):
            yield from _ops_in(body.layers, f"{prefix}{name}.")
            continue
        for branch_name, branch in body.branches.items():
            yield from _ops_in(branch if isinstance(branch, list) else branch.layers, f"{prefix}{name}.{branch_name}.")


def _flat(attrs: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested settings as dotted fields: ``{"bn": {"momentum": 0.9}}`` → ``{"bn.momentum": 0.9}``."""
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = list(value) if isinstance(value, tuple) else value
    return out


def _frozen(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _relative(name: str, block: str) -> str:
    """A layer's name inside its block: ``3x3.conv`` in ``inception_4c``; '' for a one-op block."""
    if name == block:
        return ""
    return name[len(block) + 1 :] if name.startswith(block + ".") else name


# --- alignment ---------------------------------------------------------------------------


def _align(a: dict[str, Hashable], b: dict[str, Hashable]) -> dict[str, str]:
    """A → B pairs of names (keys, in order; values are signatures): equal names, then
    unmatched names whose signatures are equal (renamed), in order."""
    pairs = {name: name for name in a if name in b}
    unmatched_b = [name for name in b if name not in pairs]
    for name, signature in a.items():
        if name in pairs:
            continue
        twin = next((other for other in unmatched_b if b[other] == signature), None)
        if twin is not None:
            pairs[name] = twin
            unmatched_b.remove(twin)
    return pairs


def _merged(a: Sequence[str], b: Sequence[str], pairs: dict[str, str]) -> list[tuple[str | None, str | None]]:
    """(A, B) pairs in B's order, with (A, None) for A's unmatched names where they stood in A
    (before B's unmatched names at the same place, as a diff reads) and (None, B) for B's."""
    back = {b_name: a_name for a_name, b_name in pairs.items()}
    position = {name: i for i, name in enumerate(a)}
    unmatched_a = [name for name in a if name not in pairs]
    out: list[tuple[str | None, str | None]] = []
    for i, name in enumerate(b):
        following = next((back[later] for later in b[i:] if later in back), None)
        limit = len(a) if following is None else position[following]
        while unmatched_a and position[unmatched_a[0]] < limit:
            out.append((unmatched_a.pop(0), None))
        out.append((back.get(name), name))
    out.extend((name, None) for name in unmatched_a)
    return out


# --- comparison --------------------------------------------------------------------------


def compare(a: Side, b: Side, include_aux: bool = True) -> Diff:
    """The diff of two analysed sides."""
    return _Comparison(_network(a.analysis), _network(b.analysis)).run(a, b, include_aux)


class _Comparison:
    def __init__(self, a: _Network, b: _Network) -> None:
        self.a, self.b = a, b
        self.block_pairs = _align(a.block_signatures(), b.block_signatures())
        self.block_order = _merged(list(a.blocks), list(b.blocks), self.block_pairs)
        self.layer_pairs: dict[str, str] = {}
        self.layer_order: dict[str, list[tuple[str | None, str | None]]] = {}
        for a_block, b_block in self.block_pairs.items():
            a_rel = {_relative(layer.name, a_block): layer for layer in a.block_layers[a_block]}
            b_rel = {_relative(layer.name, b_block): layer for layer in b.block_layers[b_block]}
            pairs = _align({n: x.signature() for n, x in a_rel.items()}, {n: x.signature() for n, x in b_rel.items()})
            self.layer_pairs.update({a_rel[x].name: b_rel[y].name for x, y in pairs.items()})
            order = _merged(list(a_rel), list(b_rel), pairs)
            self.layer_order[b_block] = [
                (a_rel[x].name if x is not None else None, b_rel[y].name if y is not None else None) for x, y in order
            ]

    def run(self, a: Side, b: Side, include_aux: bool) -> Diff:
        changes: list[Change] = []
        if a.analysis.input_shape != b.analysis.input_shape:
            old, new = list(a.analysis.input_shape), list(b.analysis.input_shape)
            changes.append(Change("network", "input", SHAPE, "input_shape", old, new))
        blocks = [d for d in (self.block(x, y) for x, y in self.block_order) if d is not None]
        for block in blocks:
            changes.extend(block.changes)
        changes.extend(self.outputs())
        return Diff(a, b, include_aux, tuple(changes), tuple(blocks), self.totals(a.analysis, b.analysis))

    # Blocks ---------------------------------------------------------------------------

    def block(self, a_name: str | None, b_name: str | None) -> BlockDiff | None:
        a_block, b_block = self.a.blocks.get(a_name or ""), self.b.blocks.get(b_name or "")
        a_stats, b_stats = self.a.block_stats.get(a_name or ""), self.b.block_stats.get(b_name or "")
        input_shape = (
            self.a.shape_of(a_block.input) if a_block else None,
            self.b.shape_of(b_block.input) if b_block else None,
        )
        output_shape = (a_stats.output_shape if a_stats else None, b_stats.output_shape if b_stats else None)
        params = Count(a_stats.params if a_stats else None, b_stats.params if b_stats else None)
        macs = Count(a_stats.macs if a_stats else None, b_stats.macs if b_stats else None)
        if a_block is None or b_block is None:
            block = b_block or a_block
            assert block is not None
            label = f"{block.kind}, {fmt_shape(output_shape[1] or output_shape[0] or ())}"
            change = _presence("block", block.name, label, a_block is None, block.name)
            return BlockDiff(
                block.name, a_name, change.kind, block.kind, input_shape, output_shape, params, macs, (change,)
            )
        name = b_block.name
        changes: list[Change] = []
        if a_block.name != name:
            changes.append(Change("block", name, RENAMED, "name", a_block.name, name, name))
        if a_block.head is None and self.name_of(self.a, a_block.input) != self.name_of(self.b, b_block.input):
            old, new = self.name_of(self.a, a_block.input, translate=False), self.name_of(self.b, b_block.input)
            changes.append(Change("block", name, CHANGED, "input", old, new, name))
        if input_shape[0] != input_shape[1]:
            changes.append(Change("block", name, SHAPE, "input_shape", *map(_listed, input_shape), name))
        for x, y in self.layer_order[name]:
            changes.extend(self.layer(x, y, a_block, b_block))
        if output_shape[0] != output_shape[1]:
            changes.append(Change("block", name, SHAPE, "output_shape", *map(_listed, output_shape), name))
        for field, count in (("params", params), ("macs", macs)):
            if count.delta:
                changes.append(Change("block", name, COST, field, count.a, count.b, name))
        if not changes:
            return None
        status = RENAMED if a_block.name != name else CHANGED
        return BlockDiff(
            name, a_block.name, status, b_block.kind, input_shape, output_shape, params, macs, tuple(changes)
        )

    def name_of(self, net: _Network, ir_layer: str, block_input: str = "", translate: bool = True) -> str:
        """An IR layer as a name comparable across A and B: ``input``, ``<block input>`` (what a
        block reads is compared once, at the block), the block whose output it is, or the layer it
        belongs to.  A's names are translated to B's, so that renames alone are not rewiring."""
        if ir_layer == INPUT:
            return INPUT
        if ir_layer == block_input:
            return "<block input>"
        block = net.block_of_output.get(ir_layer)
        name, pairs = (block, self.block_pairs) if block else (net.owner.get(ir_layer, ir_layer), self.layer_pairs)
        return pairs.get(name, f"<removed {name}>") if translate and net is self.a else name

    # Layers ---------------------------------------------------------------------------

    def layer(self, a_name: str | None, b_name: str | None, a_block: Any, b_block: Any) -> list[Change]:
        block = b_block.name
        if a_name is None or b_name is None:
            side, name = (self.b, b_name) if a_name is None else (self.a, a_name)
            layer = side.layers[name or ""]
            return [_presence("layer", layer.name, layer.label, a_name is None, block, layer.kind)]
        a, b = self.a.layers[a_name], self.b.layers[b_name]

        def change(kind: str, field: str, old: Any, new: Any) -> Change:
            return Change("layer", b_name, kind, field, old, new, block, b.kind)

        out: list[Change] = []
        if _relative(a_name, a_block.name) != _relative(b_name, block):
            out.append(change(RENAMED, "name", a_name, b_name))
        if a.kind != b.kind:
            out.append(change(CHANGED, "op", a.kind, b.kind))
        else:
            fields = [*b.attrs, *(key for key in a.attrs if key not in b.attrs)]
            out.extend(
                change(CHANGED, field, a.attrs.get(field), b.attrs.get(field))
                for field in fields
                if _frozen(a.attrs.get(field)) != _frozen(b.attrs.get(field))
            )
        wiring_a = [self.name_of(self.a, i, a_block.input) for i in a.inputs]
        if wiring_a != [self.name_of(self.b, i, b_block.input) for i in b.inputs]:
            old_inputs = [self.a.owner.get(i, i) for i in a.inputs]
            new_inputs = [self.b.owner.get(i, i) for i in b.inputs]
            out.append(change(CHANGED, "inputs", old_inputs, new_inputs))
        if a.shape != b.shape:
            out.append(change(SHAPE, "output_shape", list(a.shape), list(b.shape)))
        out.extend(
            change(COST, field, old, new)
            for field, old, new in (("params", a.params, b.params), ("macs", a.macs, b.macs))
            if old != new
        )
        return out

    # Outputs and totals ------------------------------------------------------------------

    def outputs(self) -> list[Change]:
        a_outputs = {o.name: o for o in self.a.graph.outputs}
        b_outputs = {o.name: o for o in self.b.graph.outputs}
        pairs = {name: self.block_pairs.get(name, name) for name in a_outputs}
        pairs = {x: y for x, y in pairs.items() if y in b_outputs}
        out: list[Change] = []
        for x, y in _merged(list(a_outputs), list(b_outputs), pairs):
            if x is None or y is None:
                outputs, name = (b_outputs, y) if x is None else (a_outputs, x)
                output = outputs[name or ""]
                label = _output_label(output.shape, output.tap, output.loss_weight, output.training_only)
                out.append(_presence("output", output.name, label, x is None))
                continue
            a, b = a_outputs[x], b_outputs[y]
            if x != y:
                out.append(Change("output", y, RENAMED, "name", x, y))
            tap = self.block_pairs.get(a.tap) or self.layer_pairs.get(a.tap) or a.tap
            if tap != b.tap:
                out.append(Change("output", y, CHANGED, "from", a.tap, b.tap))
            for field in ("loss_weight", "training_only"):
                if getattr(a, field) != getattr(b, field):
                    out.append(Change("output", y, CHANGED, field, getattr(a, field), getattr(b, field)))
            if a.shape != b.shape:
                out.append(Change("output", y, SHAPE, "output_shape", list(a.shape), list(b.shape)))
        return out

    @staticmethod
    def totals(a: Analysis, b: Analysis) -> Totals:
        return Totals(
            params=Count(a.total_params, b.total_params),
            trainable_params=Count(a.trainable_params, b.trainable_params),
            non_trainable_params=Count(a.non_trainable_params, b.non_trainable_params),
            macs=Count(a.macs, b.macs),
            activations=Count(a.activations, b.activations),
            layers=Count(len(a.layers), len(b.layers)),
        )


def _presence(
    entity: str, name: str, label: str, added: bool, block: str | None = None, op: str | None = None
) -> Change:
    """An added or a removed thing; its label is ``new`` or ``old``."""
    if added:
        return Change(entity, name, ADDED, None, None, label, block, op)
    return Change(entity, name, REMOVED, None, label, None, block, op)


def _output_label(shape: Shape, tap: str, loss_weight: float, training_only: bool) -> str:
    words = [fmt_shape(shape), f"from {tap}", f"loss weight {loss_weight:g}"]
    return ", ".join(words + (["training only"] if training_only else []))


# --- presentation ------------------------------------------------------------------------

MARKS = {ADDED: "+", REMOVED: "-", CHANGED: "~", RENAMED: "~"}
STYLES = {ADDED: "green", REMOVED: "red", CHANGED: "yellow", RENAMED: "cyan"}

#: Argument types written as windows: ``kernel: 5`` reads ``5×5``.
_WINDOW_TYPES = (Kernel, Kernel | None)


def _is_window(op: str | None, field: str | None) -> bool:
    model = OPS.get(op or "")
    info = model.model_fields.get(field or "") if model else None
    return info is not None and info.annotation in _WINDOW_TYPES


def fmt_value(value: Any, op: str | None = None, field: str | None = None) -> str:
    """A value as a person reads it: ``5×5`` for a kernel of 5, ``14×14×512`` for a shape."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        joiner = "×" if all(isinstance(v, int) and not isinstance(v, bool) for v in value) else ", "
        return joiner.join(fmt_value(v) for v in value)
    if isinstance(value, int) and _is_window(op, field):
        return f"{value}×{value}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _commas(n: int) -> str:
    return f"{n:,}"


def fmt_count(count: Count, number: Callable[[int], str] = _commas) -> str:
    """``867,328 → 1,014,784 (+147,456, +17.00 %)``; one number when it did not change."""
    a = "—" if count.a is None else number(count.a)
    b = "—" if count.b is None else number(count.b)
    if not count.delta:
        return a if a == b else f"{a} → {b}"
    pct = "" if count.pct is None else f", {fmt_pct(count)}"
    return f"{a} → {b} ({fmt_delta(count, number)}{pct})"


def fmt_delta(count: Count, number: Callable[[int], str] = _commas) -> str:
    """``+147,456``, ``-3.10M``, ``=``."""
    if not count.delta:
        return "="
    return ("+" if count.delta > 0 else "-") + number(abs(count.delta))


def fmt_pct(count: Count) -> str:
    return "" if count.pct is None else f"{count.pct:+.2f} %"


def _fmt_shapes(shapes: tuple[Any, Any]) -> str:
    a, b = (None if s is None else fmt_shape(tuple(s)) for s in shapes)
    if a == b:
        return a or "—"
    return f"{a or '—'} → {b or '—'}"


def _attribute(change: Change) -> str:
    old, new = fmt_value(change.old, change.op, change.field), fmt_value(change.new, change.op, change.field)
    return f"{change.field} {old} → {new}"


@dataclass(frozen=True)
class _Row:
    """One line of a report: a block, a layer or an output."""

    status: str
    name: str
    what: str
    output: str = ""
    params: str = ""
    macs: str = ""


def _plain(name: str) -> str:
    return name


def _code(name: str) -> str:
    return f"`{name}`" if name else name


def _block_row(block: BlockDiff, quote: Callable[[str], str] = _plain) -> _Row:
    """A block's line; ``quote`` marks up names (backticks in markdown)."""
    return _Row(
        block.status,
        block.name,
        "; ".join(_block_phrases(block, quote)) or "—",
        _fmt_shapes(block.output_shape),
        fmt_count(block.params),
        fmt_count(block.macs, human),
    )


def _block_phrases(block: BlockDiff, quote: Callable[[str], str] = _plain) -> list[str]:
    """What changed in a block, in words; attribute changes shared by several layers are counted once."""
    if block.status in (ADDED, REMOVED):
        return [f"{block.status} ({block.kind})"]
    phrases: list[str] = []
    shared: dict[str, list[str]] = {}
    for change in block.changes:
        where = quote(_relative(change.path, block.name))
        if change.entity == "block" and change.kind == RENAMED:
            phrases.append(f"renamed from {quote(change.old)}")
        elif change.entity == "block" and change.field == "input" and change.kind == CHANGED:
            phrases.append(f"reads {quote(change.new)} (was {quote(change.old)})")
        elif change.entity == "block" and change.field == "input_shape":
            phrases.append(f"input {_fmt_shapes((change.old, change.new))}")
        elif change.entity == "layer" and change.kind in (ADDED, REMOVED):
            phrases.append(f"{MARKS[change.kind]}{where} ({change.new or change.old})")
        elif change.entity == "layer" and change.kind == RENAMED:
            phrases.append(f"{quote(_relative(change.old, block.old_name or block.name))} renamed {where}")
        elif change.entity == "layer" and change.kind == CHANGED:
            shared.setdefault(_attribute(change), []).append(where)
    for attribute, places in shared.items():
        named = ", ".join(place for place in places if place)
        phrases.append(f"{named} {attribute}".strip() if len(places) <= 3 else f"{attribute} ({len(places)} layers)")
    return phrases


def _layer_rows(block: BlockDiff) -> list[_Row]:
    """The block's layers that differ, one row each (shape and cost columns blank when unchanged)."""
    by_layer: dict[str, list[Change]] = {}
    for change in block.changes:
        if change.entity == "layer":
            by_layer.setdefault(change.path, []).append(change)
    return [_layer_row(path, changes, block) for path, changes in by_layer.items()]


def _layer_row(path: str, changes: list[Change], block: BlockDiff) -> _Row:
    status = next((c.kind for c in changes if c.kind in (ADDED, REMOVED)), CHANGED)
    words, output, params, macs = [], "", "", ""
    for change in changes:
        if change.kind in (ADDED, REMOVED):
            words.append(f"{change.kind}: {change.new or change.old}")
        elif change.kind == RENAMED:
            words.append(f"renamed from {_relative(change.old, block.old_name or block.name)}")
        elif change.kind == CHANGED:
            words.append(_attribute(change))
        elif change.kind == SHAPE:
            output = _fmt_shapes((change.old, change.new))
        elif change.field == "params":
            params = fmt_count(Count(change.old, change.new))
        else:
            macs = fmt_count(Count(change.old, change.new), human)
    return _Row(status, _relative(path, block.name) or path, "; ".join(words), output, params, macs)


def _output_rows(result: Diff) -> list[_Row]:
    by_output: dict[str, list[Change]] = {}
    for change in result.changes:
        if change.entity == "output":
            by_output.setdefault(change.path, []).append(change)
    rows = []
    for name, changes in by_output.items():
        status = next((c.kind for c in changes if c.kind in (ADDED, REMOVED)), CHANGED)
        words = [
            f"{c.kind}: {c.new or c.old}"
            if c.kind in (ADDED, REMOVED)
            else f"{c.field} {fmt_value(c.old)} → {fmt_value(c.new)}"
            for c in changes
        ]
        rows.append(_Row(status, name, "; ".join(words)))
    return rows


def _total_rows(result: Diff) -> list[tuple[str, str, str, str, str]]:
    totals = result.totals
    rows = [("parameters", totals.params, _commas), ("MACs", totals.macs, human), ("layers", totals.layers, _commas)]
    return [
        (
            label,
            number(count.a or 0),
            number(count.b or 0),
            fmt_delta(count, number),
            fmt_pct(count) if count.delta else "",
        )
        for label, count, number in rows
    ]


def _title(result: Diff) -> str:
    return f"{result.a.source} → {result.b.source}"


def _same(result: Diff) -> str:
    analysis = result.b.analysis
    return (
        f"{result.a.source} and {result.b.source} are identical: {len(analysis.layers)} layers, "
        f"{analysis.total_params:,} parameters, {human(analysis.macs)} MACs"
    )


def json_text(result: Diff) -> str:
    return json.dumps(result.as_dict(), indent=2)


def markdown(result: Diff, show_layers: bool = False) -> str:
    """A pull-request comment: totals, the blocks that differ, outputs, and (optionally) layers."""
    if result.identical:
        return f"**Architecture diff**: {_same(result)}."
    lines = [f"### Architecture diff: `{result.a.source}` → `{result.b.source}`", ""]
    lines += ["| | A | B | Δ | % |", "|---|--:|--:|--:|--:|"]
    lines += ["| " + " | ".join(row) + " |" for row in _total_rows(result)]
    blocks = [_block_row(block, _code) for block in result.blocks]
    if blocks:
        lines += ["", "| | block | change | output | params | MACs |", "|---|---|---|---|--:|--:|"]
        lines += [_markdown_row(row) for row in blocks]
    outputs = _output_rows(result)
    if outputs:
        lines += ["", "**Outputs**", ""]
        lines += [f"- `{row.name}` {row.what}" for row in outputs]
    network = [c for c in result.changes if c.entity == "network"]
    if network:
        lines += ["", "**Network**", ""]
        lines += [f"- {c.path}: {_fmt_shapes((c.old, c.new))}" for c in network]
    if show_layers:
        rows = [(block.name, row) for block in result.blocks for row in _layer_rows(block)]
        if rows:
            lines += ["", f"<details><summary>Layers that differ ({len(rows)})</summary>", ""]
            lines += ["| | block | layer | change | output | params | MACs |", "|---|---|---|---|---|--:|--:|"]
            for block_name, row in rows:
                cells = [MARKS[row.status], f"`{block_name}`", f"`{row.name}`", _cell(row.what), row.output]
                lines.append("| " + " | ".join([*cells, row.params, row.macs]) + " |")
            lines += ["", "</details>"]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _markdown_row(row: _Row) -> str:
    cells = [MARKS[row.status], f"`{row.name}`", _cell(row.what), row.output, row.params, row.macs]
    return "| " + " | ".join(cells) + " |"


def print_text(result: Diff, show_layers: bool = False, console: Console | None = None) -> None:
    """The terminal view (rich): colour only on a terminal, and never with NO_COLOR set."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = console or Console(soft_wrap=True, highlight=False)
    if result.identical:
        console.print(_same(result))
        return
    console.print(Text(_title(result), style="bold"))
    totals = Table.grid(padding=(0, 2))
    for justify in ("left", "right", "right", "right", "right"):
        totals.add_column(justify=justify)  # type: ignore[arg-type]
    totals.add_row("", *(Text(head, style="bold") for head in ("A", "B", "Δ", "")))
    for row in _total_rows(result):
        totals.add_row(*row)
    console.print(totals)
    for change in (c for c in result.changes if c.entity == "network"):
        console.print(f"{change.path}: {_fmt_shapes((change.old, change.new))}")
    width = max((len(block.name) for block in result.blocks), default=0)
    if result.blocks:
        console.print()
    for block in result.blocks:
        row = _block_row(block)
        line = Text()
        line.append(f"{MARKS[row.status]} {row.name.ljust(width)}  ", style=STYLES[row.status])
        line.append(row.what)
        console.print(line)
        effects = _effects(block, row)
        if effects:
            console.print(Text(" " * (width + 4) + effects, style="dim"))
        if show_layers:
            for layer in _layer_rows(block):
                text = Text(" " * 4)
                text.append(f"{MARKS[layer.status]} {layer.name}", style=STYLES[layer.status])
                details = [layer.what, *(f"{k} {v}" for k, v in _layer_effects(layer) if v)]
                text.append("  " + " · ".join(d for d in details if d))
                console.print(text)
    outputs = _output_rows(result)
    if outputs:
        console.print()
        console.print(Text("outputs", style="bold"))
        for row in outputs:
            line = Text()
            line.append(f"{MARKS[row.status]} {row.name}  ", style=STYLES[row.status])
            line.append(row.what)
            console.print(line)


def _effects(block: BlockDiff, row: _Row) -> str:
    """The shape and cost effects under a block's line."""
    parts = []
    if block.output_shape[0] != block.output_shape[1]:
        parts.append(f"output {row.output}")
    if block.params.delta:
        parts.append(f"params {row.params}")
    if block.macs.delta:
        parts.append(f"MACs {row.macs}")
    return " · ".join(parts)


def _layer_effects(row: _Row) -> list[tuple[str, str]]:
    return [("output", row.output), ("params", row.params), ("MACs", row.macs)]


def _print_json(result: Diff, show_layers: bool) -> None:
    print(json_text(result))


def _print_markdown(result: Diff, show_layers: bool) -> None:
    print(markdown(result, show_layers))


PRINTERS: dict[str, Callable[[Diff, bool], None]] = {
    "text": print_text,
    "json": _print_json,
    "markdown": _print_markdown,
}


def print_result(result: Diff, fmt: str, show_layers: bool) -> None:
    """Print a diff as ``text`` (rich), ``json`` (nothing else on stdout) or ``markdown``."""
    try:
        printer = PRINTERS[fmt]
    except KeyError:
        raise UsageError(f"unknown diff format {fmt!r}; choose text, json or markdown") from None
    printer(result, show_layers)
