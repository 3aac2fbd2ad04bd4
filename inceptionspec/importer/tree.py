"""The decomposed graph as a tree of the language's items: ops, and blocks with named branches and a
merge — ``concat``, or the residual merge (branches → concat → linear 1×1 projection → scale → add to
the block's input → activation) recognised from Add, Rescaling, Keras' ``CustomScaleLayer`` or the
project's ``ScaledResidualAdd``. Names come from the source where it has meaningful ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inceptionspec.importer.archive import refuse
from inceptionspec.importer.fold import Folded, Unit
from inceptionspec.importer.names import common_block_name, is_generated, meaningful, path_parts
from inceptionspec.importer.structure import Decomposed, Element, Region
from inceptionspec.ops import OPS, pair


@dataclass
class ONode:
    """An op: its arguments (only those that matter), its name (None: the expander names it)."""

    kind: str
    args: dict[str, Any]
    name: str | None
    uid: int | None  # None for an identity branch the importer adds


@dataclass
class BNode:
    """A block: branches (each a list of nodes) and a merge (``"concat"`` or ``{"residual": {...}}``)."""

    name: str | None
    branches: list[list[Node]]
    branch_names: list[str | None]
    merge: Any
    #: The units of the merge by role: concat, projection, scale, add, act.
    units: dict[str, int] = field(default_factory=dict)
    #: The unit whose output is the block's output.
    out: int = -1
    #: The block's path in the source, when the source names layers by spec paths.
    source_path: list[str] | None = None
    #: Written as a call of this template, with these arguments.
    template: str | None = None
    call_args: list[Any] | None = None


Node = ONode | BNode


def relevant_args(kind: str, args: dict[str, Any]) -> dict[str, Any]:
    """The arguments that change what an op computes; pool strides equal to the window are left to the default."""
    args = dict(args)
    if kind == "conv":
        if args.get("norm") != "bn":
            args.pop("bn", None)
        if args.get("norm") != "bn" or args.get("activation") == "none":
            args.pop("order", None)
    if kind in ("maxpool", "avgpool"):
        if args.get("strides") is not None and pair(args["strides"]) == pair(args["size"]):
            args["strides"] = None
        if args.get("padding") == "same":
            args.pop("ceil", None)
        if kind == "avgpool" and args.get("padding") == "valid":
            args.pop("count_pad", None)
    return args


def is_projection(unit: Unit, channels: int) -> bool:
    """A linear 1×1 conv back to ``channels``: what the residual merge's projection computes."""
    a = unit.args
    return (
        unit.kind == "conv"
        and pair(a["kernel"]) == (1, 1)
        and pair(a["strides"]) == (1, 1)
        and pair(a["dilation"]) == (1, 1)
        and a["padding"] in ("same", "valid")
        and a["norm"] == "none"
        and a["activation"] == "none"
        and a["filters"] == channels
    )


class TreeBuilder:
    def __init__(self, folded: Folded, decomposed: Decomposed) -> None:
        self.units = folded.units
        self.display = folded.display
        self.consumers = decomposed.consumers
        #: residual add unit → the unit its shortcut reads (the block's input)
        self.shortcut_of: dict[int, int] = {}

    def nodes(self, elements: list[Element]) -> list[Node]:
        out: list[Node] = []
        k = 0
        while k < len(elements):
            element = elements[k]
            if isinstance(element, Region):
                node = self.region(element)
                if node.merge != "concat" and k + 1 < len(elements) and self._folds_activation(node, elements[k + 1]):
                    act = self.units[elements[k + 1]]  # type: ignore[index]
                    node.merge["residual"]["activation"] = act.args["fn"]
                    node.units["act"] = act.uid
                    node.out = act.uid
                    k += 1
                self.name_block(node)
                out.append(node)
            else:
                out.append(self.op(element))
            k += 1
        return out

    def _folds_activation(self, node: BNode, element: Element) -> bool:
        if not isinstance(element, int):
            return False
        unit = self.units[element]
        add = node.units["add"]
        return unit.kind == "act" and unit.inputs == [add] and self.consumers[add] == [unit.uid]

    def op(self, uid: int) -> ONode:
        unit = self.units[uid]
        if unit.kind == "scale":
            raise refuse(
                self.display,
                f"{unit.layer}: a rescaling that is not the last layer of a residual branch (just before the Add); "
                "the spec language scales only residuals",
            )
        if unit.kind not in OPS:  # merges become blocks; a bug otherwise
            raise RuntimeError(f"unit {uid} ({unit.kind}) outside a block")
        return ONode(unit.kind, relevant_args(unit.kind, unit.args), meaningful(unit.layer), uid)

    def region(self, region: Region) -> BNode:
        merge = self.units[region.merge]
        if merge.kind == "concat":
            branches = [self.nodes(b) if b else [ONode("identity", {}, None, None)] for b in region.branches]
            node = BNode(None, branches, [None] * len(branches), "concat", {"concat": region.merge}, region.merge)
        else:
            node = self.residual(region, merge)
        return node

    def residual(self, region: Region, merge: Unit) -> BNode:
        empty = [i for i, b in enumerate(region.branches) if not b]
        if len(empty) == 2:
            raise refuse(self.display, f"{merge.layer}: adds the block's input to itself")
        if not empty:
            raise refuse(
                self.display,
                f"{merge.layer}: adds two computed branches; the spec's residual merge adds a block's branches to "
                "the block's input (a shortcut without layers)",
            )
        self.shortcut_of[region.merge] = region.start
        residual = list(region.branches[1 - empty[0]])
        scale = float(merge.args["scale"])
        units = {"add": region.merge}
        last = residual[-1]
        if isinstance(last, int) and self.units[last].kind == "scale":
            if scale != 1.0:
                raise refuse(self.display, f"{self.units[last].layer}: a rescaling before a scaling add")
            scale = float(self.units[last].args["scale"])
            units["scale"] = last
            residual.pop()
        if not 0 < scale <= 100:
            raise refuse(self.display, f"{merge.layer}: residual scale {scale:g}; the spec's is in (0, 100]")
        if not residual:
            raise refuse(self.display, f"{merge.layer}: a residual branch that only rescales the input")
        channels = self.units[region.start].shape[-1]
        projection, bias = False, True
        last = residual[-1]
        if len(residual) > 1 and isinstance(last, int) and is_projection(self.units[last], channels):
            projection, bias = True, bool(self.units[last].args["bias"])
            units["projection"] = last
            residual.pop()
        inner = residual[0] if len(residual) == 1 else None
        if isinstance(inner, Region) and self.units[inner.merge].kind == "concat" and all(inner.branches):
            units["concat"] = inner.merge
            branches = [self.nodes(b) for b in inner.branches]
        else:
            branches = [self.nodes(residual)]
        args = {"scale": scale, "activation": "none", "projection": projection, "projection_bias": bias}
        return BNode(None, branches, [None] * len(branches), {"residual": args}, units, region.merge)

    # --- names from the source -------------------------------------------------------------
    def name_block(self, node: BNode) -> None:
        """The block's name and its branches' names, where the source's names give them."""
        roles = [node.units[r] for r in ("concat", "projection", "add", "act") if r in node.units]
        layers = [self.units[u].layer for u in roles]
        for layer in layers:
            parts = path_parts(layer)
            if parts is not None and len(parts) >= 2:
                node.source_path = parts[:-1]
                node.name = parts[-2]
                break
        else:
            node.name = common_block_name([layer.name for layer in layers if not is_generated(layer)])
            return
        depth = len(node.source_path)
        for index, branch in enumerate(node.branches):
            parts = self._first_path(branch)
            if parts is not None and len(parts) > depth + 1 and parts[:depth] == node.source_path:
                node.branch_names[index] = parts[depth]

    def _first_path(self, branch: list[Node]) -> list[str] | None:
        first = branch[0] if branch else None
        if isinstance(first, ONode):
            return path_parts(self.units[first.uid].layer) if first.uid is not None else None
        if isinstance(first, BNode):
            return [*first.source_path, "x"] if first.source_path else None
        return None


def build_tree(folded: Folded, decomposed: Decomposed) -> tuple[TreeBuilder, list[Node], list[list[Node]]]:
    """The trunk and each head as nodes."""
    builder = TreeBuilder(folded, decomposed)
    trunk = builder.nodes(decomposed.trunk)
    heads = [builder.nodes(head.elements) for head in decomposed.heads]
    return builder, trunk, heads
