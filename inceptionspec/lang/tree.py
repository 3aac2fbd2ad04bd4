"""The expanded spec as a tree of named nodes: the one walk over a validated spec.

The validated models mirror the YAML (an item is a one-key mapping, a branch a list);
:func:`tree` decodes them once into ops, blocks, branches and heads, each with its spec
path (:class:`~inceptionspec.core.names.SpecPath`). The IR's lowering and the renderer
walk this tree; nothing else decodes items.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inceptionspec.core.errors import Loc
from inceptionspec.core.names import ROOT, SpecPath
from inceptionspec.lang.expanded import ExpandedSpec, InlineBlock, ResidualMerge, SequenceBlock
from inceptionspec.lang.models import ResidualArgs
from inceptionspec.ops import Op


@dataclass(frozen=True)
class OpNode:
    """An op as written (a conv with its batch norm and activation is one)."""

    path: SpecPath
    op: Op

    @property
    def loc(self) -> Loc | None:
        return self.op.loc


@dataclass(frozen=True)
class BranchNode:
    path: SpecPath
    items: tuple[ItemNode, ...]


@dataclass(frozen=True)
class BlockNode:
    """An inline block (``branches`` and a merge) or a sequence (``items``)."""

    path: SpecPath
    kind: str  # the template it came from, or `block` / `sequence`
    loc: Loc | None
    items: tuple[ItemNode, ...] = ()
    branches: tuple[BranchNode, ...] = ()
    #: The residual merge's settings; None: the branches are concatenated.
    residual: ResidualArgs | None = None

    @property
    def is_sequence(self) -> bool:
        return not self.branches

    @property
    def merge_path(self) -> SpecPath:
        """The unit the merge's layers belong to (``inception_3a.merge``)."""
        return self.path / "merge"


ItemNode = OpNode | BlockNode


@dataclass(frozen=True)
class HeadNode:
    name: str
    path: SpecPath
    items: tuple[ItemNode, ...]
    tap: str | None
    tap_loc: Loc | None
    loss_weight: float
    training_only: bool
    loc: Loc | None


@dataclass(frozen=True)
class Tree:
    stages: tuple[ItemNode, ...]
    heads: tuple[HeadNode, ...]


def tree(spec: ExpandedSpec) -> Tree:
    heads = tuple(
        HeadNode(
            name,
            ROOT / name,
            items(head.layers, ROOT / name),
            head.tap,
            head.field_loc("from"),
            head.loss_weight,
            head.training_only,
            head.loc,
        )
        for name, head in spec.heads.items()
    )
    return Tree(items(spec.stages or [], ROOT), heads)


def items(entries: list[Any], parent: SpecPath) -> tuple[ItemNode, ...]:
    """Decode validated items (one-key mappings) under ``parent``."""
    out: list[ItemNode] = []
    for entry in entries:
        ((key, body),) = entry.items()
        if isinstance(body, Op):
            out.append(OpNode(parent / body.name, body))
            continue
        path = parent / key
        if isinstance(body, InlineBlock):
            branches = tuple(
                BranchNode(path / name, items(branch, path / name)) for name, branch in body.branches.items()
            )
            residual = body.merge.residual if isinstance(body.merge, ResidualMerge) else None
            out.append(BlockNode(path, body.kind or "block", body.loc, branches=branches, residual=residual))
        else:
            out.append(BlockNode(path, body.kind or "sequence", body.loc, items=items(body.layers, path)))
    return tuple(out)


def walk(nodes: tuple[ItemNode, ...]) -> list[ItemNode]:
    """Every node under ``nodes``, depth first, in order."""
    out: list[ItemNode] = []
    for node in nodes:
        out.append(node)
        if isinstance(node, BlockNode):
            out += walk(node.items)
            for branch in node.branches:
                out += walk(branch.items)
    return out


def map_ops(spec: ExpandedSpec, change: Callable[[Op], Op]) -> ExpandedSpec:
    """A copy of ``spec`` with every op replaced by ``change(op)`` (the same op when it returns it
    unchanged), the structure and locations kept: width scaling of an expanded spec uses it."""

    def entries(seq: list[Any]) -> list[Any]:
        out = []
        for entry in seq:
            ((key, body),) = entry.items()
            out.append({key: change(body) if isinstance(body, Op) else block(body)})
        return out

    def block(body: InlineBlock | SequenceBlock) -> InlineBlock | SequenceBlock:
        if isinstance(body, SequenceBlock):
            return body.model_copy(update={"layers": entries(body.layers)})
        return body.model_copy(update={"branches": {name: entries(b) for name, b in body.branches.items()}})

    heads = {name: head.model_copy(update={"layers": entries(head.layers)}) for name, head in spec.heads.items()}
    return spec.model_copy(update={"stages": entries(spec.stages or []), "heads": heads})
