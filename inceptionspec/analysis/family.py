"""A spec's family: the networks its knobs make (width, depth, input size, overrides), each analysed statically.

A :class:`Family` resolves the spec once (:func:`~inceptionspec.lang.pipeline.resolve`) and
answers "what does this member cost?" for as many members as a budget search or a sweep asks
about: each member is an expanded spec, lowered to the IR and costed
(:func:`~inceptionspec.analysis.cost.cost`). No framework is imported.

Expanding is most of the work, so a member is not expanded from scratch when it need not be:

* the structure (overrides, depth) is expanded once with :meth:`Resolved.expand
  <inceptionspec.lang.pipeline.Resolved.expand>` at width multiplier 1 and kept;
* a width multiplier is then applied to that expanded spec the way the expander applies it — every
  op's width-scaled arguments (``Op.width_scaled``) through
  :func:`~inceptionspec.lang.expand.round_filters` with the spec's divisor and minimum — which is
  exactly what expanding at that width gives (a test compares the two on every shipped spec);
* an input size replaces the expanded spec's ``input`` (expansion does not read it).

A knob value outside its bounds, or overrides that change ``width`` or ``depth`` themselves, take the plain path
(``Resolved.expand`` with everything), so every error is the one ``load`` would report.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from inceptionspec.analysis.cost import Cost, cost
from inceptionspec.core.budget import Budget, BudgetExceeded
from inceptionspec.core.errors import Loc, SpecError
from inceptionspec.ir import lower
from inceptionspec.lang.depth import scale_repeat
from inceptionspec.lang.expand import round_filters
from inceptionspec.lang.expanded import ExpandedSpec
from inceptionspec.lang.loader import to_plain
from inceptionspec.lang.pipeline import Resolved
from inceptionspec.lang.tree import map_ops
from inceptionspec.ops import Op

#: Expanded structures kept at once (a sweep over overrides × depths holds at most this many).
MAX_CACHED = 32
#: The bounds of the knobs, as the language's models state them.
MAX_MULTIPLIER = 64.0
MAX_SIZE = 100_000
#: The bound every variant of one command counts against (a search or a sweep stops, not just the variant).
VARIANT_BOUND = "max_variant_ops"


def stops_the_command(err: SpecError) -> bool:
    """Whether ``err`` ends a search or sweep (the variants' shared budget is spent), rather than
    making one variant invalid."""
    return isinstance(err, BudgetExceeded) and err.bound == VARIANT_BOUND


@dataclass(frozen=True)
class Member:
    """A point of the family: knob values (None keeps the spec's own) and overrides by path, each
    value kept as JSON text so that a member is hashable (a search remembers what it analysed)."""

    width: float | None = None
    depth: float | None = None
    size: tuple[int, int] | None = None
    overrides: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def of(overrides: Mapping[str, Any] | None = None, **knobs: Any) -> Member:
        encoded = tuple((path, json.dumps(value, sort_keys=True)) for path, value in (overrides or {}).items())
        return Member(overrides=encoded, **knobs)

    def override_values(self) -> dict[str, Any]:
        return {path: json.loads(text) for path, text in self.overrides}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Family:
    """The members of one resolved spec, costed for the inference model (or with aux heads)."""

    def __init__(self, resolved: Resolved, include_aux: bool = False, budget: Budget | None = None) -> None:
        self.resolved = resolved
        self.include_aux = include_aux
        self.budget = budget or resolved.budget
        doc = to_plain(resolved.document())
        width = doc.get("width") or {}
        depth = doc.get("depth") or {}
        self.width = float(width.get("multiplier", 1.0))
        self.divisor = int(width.get("divisor", 1))
        self.min_filters = int(width.get("min_filters", 1))
        self.depth = float(depth.get("multiplier", 1.0))
        self.input: tuple[int, ...] = tuple(doc.get("input") or ())
        self.repeats: tuple[int, ...] = tuple(sorted(set(_written_repeats(doc))))
        self._bases: dict[tuple[str, Any], ExpandedSpec] = {}
        self._costs: dict[Member, Cost] = {}
        self.analyses = 0  # how many members were lowered and costed

    @property
    def name(self) -> str:
        return self.resolved.name

    def size_for(self, height: int) -> tuple[int, int]:
        """An input of ``height`` rows, the width keeping the spec's aspect ratio."""
        h, w = self.input[0], self.input[1]
        return height, max(1, round(height * w / h))

    # --- members -----------------------------------------------------------------------
    def spec(self, member: Member) -> ExpandedSpec:
        """The member's expanded spec. Raises :class:`SpecError` as ``load`` would."""
        overrides = member.override_values()
        plain = (
            any(path.partition(".")[0] in ("width", "depth") for path in overrides)
            or (member.width is not None and not (_number(member.width) and 0 < member.width <= MAX_MULTIPLIER))
            or (member.depth is not None and not (_number(member.depth) and 0 < member.depth <= MAX_MULTIPLIER))
            or (member.size is not None and not all(isinstance(d, int) and 1 <= d <= MAX_SIZE for d in member.size))
        )
        if plain:
            return self.resolved.expand(
                overrides or None, width=member.width, depth=member.depth, input_size=member.size
            )
        depth = self.depth if member.depth is None else float(member.depth)
        # With overrides, a `repeat` this family did not read may change: key on the multiplier itself.
        structure = self._structure(depth) if not overrides else depth
        key = (member.overrides, structure)
        base = self._bases.get(key)
        if base is None:
            base = self.resolved.expand(overrides or None, width={"multiplier": 1.0}, depth=depth)
            if len(self._bases) >= MAX_CACHED:
                self._bases.pop(next(iter(self._bases)))
            self._bases[key] = base
        width = self.width if member.width is None else float(member.width)
        spec = scale_width(base, width, self.divisor, self.min_filters)
        if member.size is not None:
            channels = (base.input or [0, 0, 3])[2]
            spec = spec.model_copy(update={"input": [*member.size, channels]})
        return spec

    def _structure(self, depth: float) -> Any:
        """What a depth multiplier changes: the copies of every written ``repeat`` (or the multiplier
        itself when the spec has none, which changes nothing either)."""
        return tuple(scale_repeat(n, depth) for n in self.repeats) if self.repeats else depth

    def cost(self, member: Member) -> Cost:
        """The member's cost. Raises :class:`SpecError` when it is not a valid network."""
        known = self._costs.get(member)
        if known is not None:
            return known
        spec = self.spec(member)
        graph = lower(spec, self.include_aux, self.budget)
        self.analyses += 1
        self.budget.spend(
            VARIANT_BOUND,
            len(graph.units),
            spec.loc or Loc(self.resolved.source, 1, 1),
            "vary fewer values, or scale a smaller spec",
        )
        found = cost(graph)
        if found.params > self.budget.max_params:
            raise SpecError.at(
                spec.loc or Loc(self.resolved.source, 1, 1),
                f"the model has {found.params:,} parameters, over the parameter budget of {self.budget.max_params:,}",
                "raise it with --max-params",
            )
        self._costs[member] = found
        return found


def scale_width(spec: ExpandedSpec, multiplier: float, divisor: int = 1, min_filters: int = 1) -> ExpandedSpec:
    """An expanded spec (at width multiplier 1) with every op's width-scaled arguments scaled and
    rounded as the expander does it."""
    if multiplier == 1.0:
        return spec

    def scaled(op: Op) -> Op:
        update = {
            arg: round_filters(getattr(op, arg), multiplier, divisor, min_filters)
            for arg in type(op).width_scaled
            if isinstance(getattr(op, arg, None), int) and not isinstance(getattr(op, arg), bool)
        }
        return op.model_copy(update=update) if update else op

    return map_ops(spec, scaled)


def _written_repeats(value: Any) -> list[int]:
    """Every ``repeat`` count written in a (plain) spec document: in stages, templates and heads."""
    found: list[int] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            repeat = node.get("repeat")
            if isinstance(repeat, int) and not isinstance(repeat, bool):
                found.append(repeat)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found
