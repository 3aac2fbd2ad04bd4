"""Series-parallel decomposition of the folded graph: the trunk and each head as a sequence of ops and
fork/merge regions, each region's branches decomposed the same way (a branch can fork again).

A unit every path of a sequence runs through is a *cut*; in a topological order it is a unit that no
edge jumps over, so the cuts of a sequence are found in one sweep. Between two consecutive cuts ``u``
and ``v`` lies either nothing (``v`` is the next op) or a region whose merge is ``v``: each of ``v``'s
inputs is the end of one branch starting at ``u``. A unit that reads from outside its branch — a skip
connection across block boundaries, or one unit feeding two branches — is not series-parallel, and the
language cannot write it: that is an error naming the unit.
"""

from __future__ import annotations

from dataclasses import dataclass

from inceptionspec.core.budget import Budget
from inceptionspec.importer.archive import refuse
from inceptionspec.importer.fold import Folded, Unit
from inceptionspec.importer.names import path_parts

MERGES = ("concat", "add")


@dataclass
class Region:
    """A fork/merge region: the merge unit and one branch per merge input ([] = the region's input itself)."""

    merge: int
    branches: list[list[Element]]
    #: The unit the branches start from.
    start: int


Element = int | Region  # an op unit, or a region


@dataclass
class HeadPath:
    name: str | None
    tap: int
    elements: list[Element]
    output: int


@dataclass
class Decomposed:
    trunk: list[Element]
    #: The main output's name (None when the model's outputs are unnamed).
    main: str | None
    heads: list[HeadPath]
    consumers: dict[int, list[int]]
    main_output: int


class _Decomposer:
    def __init__(self, folded: Folded, budget: Budget) -> None:
        self.folded = folded
        self.units = folded.units
        self.display = folded.display
        self.max_depth = budget.max_block_depth
        self.depth = 0  # regions being decomposed, one inside the other

    def unit(self, uid: int) -> Unit:
        return self.units[uid]

    def ancestors(self, uid: int, within: set[int] | None = None) -> set[int]:
        found = {uid}
        stack = [uid]
        while stack:
            for source in self.units[stack.pop()].inputs:
                if source not in found and (within is None or source in within):
                    found.add(source)
                    stack.append(source)
        return found

    def run(self) -> Decomposed:
        outputs = self.folded.outputs
        main_index = next((i for i, (name, _) in enumerate(outputs) if name == "main"), 0)
        main_name, main_uid = outputs[main_index]
        trunk = self.ancestors(main_uid) - {0}
        if main_uid == 0:
            raise refuse(self.display, "the model's output is its input")
        claimed = set(trunk)
        heads = []
        for index, (name, out) in enumerate(outputs):
            if index == main_index:
                continue
            if out in claimed:
                raise refuse(self.display, f"{self.unit(out).layer}: an output that is also a layer of another output")
            members = self.ancestors(out) - trunk - {0}
            shared = members & claimed
            if shared:
                raise refuse(self.display, f"{self.unit(min(shared)).layer}: a layer shared by two outputs")
            feeds = {i for m in members for i in self.unit(m).inputs if i not in members}
            if len(feeds) != 1:
                raise refuse(self.display, f"{self.unit(out).layer}: an output that reads from several places")
            tap = feeds.pop()
            heads.append(HeadPath(name, tap, self.series(tap, out, members), out))
            claimed |= members
        consumers: dict[int, list[int]] = {u.uid: [] for u in self.units}
        for unit in self.units:
            for source in unit.inputs:
                consumers[source].append(unit.uid)
        return Decomposed(self.series(0, main_uid, trunk), main_name, heads, consumers, main_uid)

    def series(self, source: int, sink: int, members: set[int]) -> list[Element]:
        order = sorted(members)  # units were made in topological order
        pos = {uid: k for k, uid in enumerate(order)}
        delta = [0] * (len(order) + 1)
        for uid in order:
            for i in self.unit(uid).inputs:
                if i == source:
                    start = -1
                elif i in pos:
                    start = pos[i]
                else:
                    raise self.crossing(uid, i)
                if pos[uid] - start > 1:
                    delta[start + 1] += 1
                    delta[pos[uid]] -= 1
        elements: list[Element] = []
        previous, previous_pos, running = source, -1, 0
        for k, uid in enumerate(order):
            running += delta[k]
            if running:
                continue
            segment = set(order[previous_pos + 1 : k])
            if not segment and self.unit(uid).kind not in MERGES:
                elements.append(uid)
            elif not segment and self.unit(uid).inputs != [previous] * len(self.unit(uid).inputs):
                raise RuntimeError(f"unit {uid} reads past the cut before it")  # cuts make this impossible
            elif len(self.unit(uid).inputs) == 1 and elements:
                elements.append(self.single_branch(uid, elements, source))
            else:
                elements.append(self.region(previous, uid, segment))
            previous, previous_pos = uid, k
        if previous != sink:  # the sink comes last in a topological order; a bug otherwise
            raise RuntimeError(f"decomposition ended at unit {previous}, not at the sink {sink}")
        return elements

    def region(self, start: int, merge: int, segment: set[int]) -> Region:
        if self.depth >= self.max_depth:
            raise refuse(self.display, f"{self.unit(merge).layer}: blocks nested more than {self.max_depth} deep")
        self.depth += 1
        try:
            return self._region(start, merge, segment)
        finally:
            self.depth -= 1

    def _region(self, start: int, merge: int, segment: set[int]) -> Region:
        unit = self.unit(merge)
        if unit.kind not in MERGES:
            raise self.crossing(merge, min(segment))
        branches: list[list[Element]] = []
        used: set[int] = set()
        for source in unit.inputs:
            if source == start:
                branches.append([])
                continue
            if source not in segment:
                raise self.crossing(merge, source)
            members = self.ancestors(source, segment)
            overlap = members & used
            if overlap:
                raise refuse(
                    self.display,
                    f"{self.unit(min(overlap)).layer} feeds two inputs of {unit.layer}: a skip connection that "
                    "crosses block boundaries (a spec's branches are independent until their merge)",
                )
            used |= members
            branches.append(self.series(start, source, members))
        if used != segment:  # a unit between the cuts that feeds none of the merge's inputs
            stray = min(segment - used)
            raise self.crossing(stray, start)
        return Region(merge, branches, start)

    def single_branch(self, merge: int, elements: list[Element], source: int) -> Region:
        """A concatenation of one tensor (a block with one branch): the branch is what the source names
        as inside the block, or else the ops since the previous block."""
        block = path_parts(self.unit(merge).layer)
        taken: list[Element] = []
        while elements:
            last = elements[-1]
            uid = last.merge if isinstance(last, Region) else last
            parts = path_parts(self.unit(uid).layer)
            if block is not None:
                if parts is None or parts[: len(block) - 1] != block[:-1] or len(parts) < len(block) + 1:
                    break
            elif isinstance(last, Region):
                break
            taken.insert(0, elements.pop())
        if not taken:  # nothing belongs to it: the branch is the op right before
            taken.insert(0, elements.pop())
        start = elements[-1] if elements else source
        start_uid = start.merge if isinstance(start, Region) else start
        return Region(merge, [taken], start_uid)

    def crossing(self, uid: int, source: int) -> Exception:
        reader, read = self.unit(uid).layer, self.unit(source).layer
        return refuse(
            self.display,
            f"{reader} reads {read} from outside its block: a skip connection that crosses block boundaries, "
            "which the spec language cannot write (its blocks are series-parallel)",
        )


def decompose(folded: Folded, budget: Budget | None = None) -> Decomposed:
    return _Decomposer(folded, budget or Budget()).run()
