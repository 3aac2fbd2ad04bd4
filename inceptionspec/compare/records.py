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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inceptionspec.analysis import Analysis
from inceptionspec.ops import Shape

if TYPE_CHECKING:
    pass


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
    """What :func:`diff` finds: the two sides, every change record, the blocks that differ and the
    totals (docs/diff.md describes each field; ``as_dict()`` is the JSON document)."""

    a: Side
    b: Side
    include_aux: bool
    changes: tuple[Change, ...]
    blocks: tuple[BlockDiff, ...]
    totals: Totals

    @property
    def identical(self) -> bool:
        return not self.changes

    def _repr_html_(self) -> str:
        """Jupyter: the blocks that differ and the side-by-side picture."""
        from inceptionspec.render.notebook import diff_html

        return diff_html(self)

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
