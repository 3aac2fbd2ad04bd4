"""Fit a budget: the largest member of a spec's family whose multiply-adds and parameters stay within it.

The family is scaled along one axis:

* ``width`` — the width multiplier, on a grid of 1/10,000 (with the spec's rounding divisor);
* ``depth`` — the depth multiplier (every ``repeat`` scaled, rounded up); the search runs over the
  multipliers where a count changes and writes the shortest decimal that gives those counts;
* ``resolution`` — the input's height (the width keeps the aspect ratio), over the sizes at which the
  static analysis accepts the same network: every window still fits, every merge still agrees,
  and the outputs and the parameters are unchanged (a fixed-size pool before a flatten would
  otherwise grow the classifier);
* ``compound`` — EfficientNet's rule: depth α^φ, width β^φ, resolution γ^φ times the spec's own,
  over φ on a grid of 1/1,000 (the resolution is the largest valid size at or below γ^φ times
  the spec's).

Each candidate is one static analysis (:class:`~inceptionspec.analysis.family.Family`); the cost
grows with each knob, so the search brackets the budget and bisects — a few dozen analyses.
A candidate that is not a valid network (a head tapping a copy that depth scaling removed, a
window that no longer fits) counts as over the budget. No framework is imported.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from inceptionspec.analysis.cost import Cost
from inceptionspec.analysis.family import MAX_MULTIPLIER, Family, Member, stops_the_command
from inceptionspec.core.errors import SpecError, UsageError
from inceptionspec.lang.depth import scale_repeat

AXES = ("width", "depth", "resolution", "compound")
#: EfficientNet's compound coefficients (Tan & Le 2019): depth α, width β, resolution γ.
ALPHA, BETA, GAMMA = 1.2, 1.1, 1.15
#: The answer is "close" when it uses at least this share of a budget.
CLOSE = 0.95
#: Width multipliers are searched on this grid (four decimals).
WIDTH_STEPS = 10_000
#: φ is searched on this grid.
PHI_STEPS = 1_000
#: The largest input height tried (also bounded by the language's 100,000).
MAX_HEIGHT = 8192
#: Analyses one search may run; a spec that needs more is refused rather than searched for long.
MAX_ANALYSES = 600


@dataclass(frozen=True)
class Budget:
    """The most multiply-adds and / or parameters allowed (None: not limited)."""

    macs: int | None = None
    params: int | None = None

    def __post_init__(self) -> None:
        if self.macs is None and self.params is None:
            raise UsageError("give a budget: --macs N, --params N, or both")

    def fits(self, cost: Cost) -> bool:
        return (self.macs is None or cost.macs <= self.macs) and (self.params is None or cost.params <= self.params)

    def shares(self, cost: Cost) -> dict[str, float]:
        """The share of each budget a cost uses."""
        out = {}
        if self.macs is not None:
            out["macs"] = cost.macs / self.macs
        if self.params is not None:
            out["params"] = cost.params / self.params
        return out

    def close(self, cost: Cost) -> bool:
        """Within the budget and within 5 % of it (of the budget that binds)."""
        return self.fits(cost) and max(self.shares(cost).values()) >= CLOSE


@dataclass(frozen=True)
class Point:
    """A member and what it costs."""

    member: Member
    cost: Cost
    phi: float | None = None


@dataclass(frozen=True)
class Fit:
    """The result: the spec as it is, the member chosen, and the next member up (over the budget)."""

    axis: str
    budget: Budget
    before: Point
    after: Point
    above: Point | None
    analyses: int
    coefficients: tuple[float, float, float] | None = None

    @property
    def close(self) -> bool:
        return self.budget.close(self.after.cost)


class Unreachable(Exception):
    """Even the smallest member of the family is over the budget."""

    def __init__(self, smallest: Point, budget: Budget, axis: str) -> None:
        self.smallest, self.budget, self.axis = smallest, budget, axis
        over = [k for k, share in budget.shares(smallest.cost).items() if share > 1]
        self.over = over[0] if over else "macs"
        super().__init__(f"the budget is below the smallest member reachable by {axis}")


@dataclass
class _Search:
    family: Family
    budget: Budget
    axis: str
    coefficients: tuple[float, float, float] = (ALPHA, BETA, GAMMA)
    points: dict[Member, Point | None] = field(default_factory=dict)

    def point(self, member: Member, phi: float | None = None) -> Point | None:
        """The member's cost, or None when it is not a valid network."""
        if member in self.points:
            return self.points[member]
        if self.family.analyses >= MAX_ANALYSES:
            raise UsageError(f"the search needed more than {MAX_ANALYSES} analyses; try another --by")
        try:
            found: Point | None = Point(member, self.family.cost(member), phi)
        except SpecError as err:
            if stops_the_command(err):
                raise
            found = None
        self.points[member] = found
        return found

    def fits(self, member: Member, phi: float | None = None) -> bool:
        point = self.point(member, phi)
        return point is not None and self.budget.fits(point.cost)


def _largest(fits: Callable[[int], bool], start: int, low: int, high: int) -> int | None:
    """The largest k in [low, high] with fits(k), for a predicate true up to some k and false after;
    None when fits(low) is false. Brackets from ``start`` with growing steps, then bisects."""
    start = min(max(start, low), high)
    if fits(start):
        lo, step = start, max(1, abs(start) // 32)
        while True:
            probe = lo + step
            if probe >= high:
                if fits(high):
                    return high
                hi = high
                break
            if not fits(probe):
                hi = probe
                break
            lo, step = probe, step * 2
    else:
        hi, step = start, max(1, abs(start) // 32)
        while True:
            probe = hi - step
            if probe <= low:
                if not fits(low):
                    return None
                lo = low
                break
            if fits(probe):
                lo = probe
                break
            hi, step = probe, step * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid
    return lo


def fit(
    family: Family,
    budget: Budget,
    axis: str = "width",
    coefficients: tuple[float, float, float] = (ALPHA, BETA, GAMMA),
) -> Fit:
    """The largest member along ``axis`` within ``budget``. Raises :class:`Unreachable` when even the
    smallest member is over it, :class:`UsageError` when the axis cannot change the network."""
    if axis not in AXES:
        raise UsageError(f"--by must be one of {', '.join(AXES)}, not {axis!r}")
    search = _Search(family, budget, axis, coefficients)
    before = search.point(Member())
    if before is None:  # the spec itself does not lower: report its own error
        family.cost(Member())
    assert before is not None
    chooser = {"width": _by_width, "depth": _by_depth, "resolution": _by_resolution, "compound": _by_compound}
    after, above, smallest = chooser[axis](search, before)
    if after is None:
        raise Unreachable(smallest, budget, axis)
    return Fit(axis, budget, before, after, above, family.analyses, coefficients if axis == "compound" else None)


# --- the axes --------------------------------------------------------------------------------

#: What an axis's search found: (the chosen member or None, the next member up or None, the smallest
#: member — what an unreachable budget reports).
Found = tuple[Point | None, Point | None, Point]


def _estimate(budget: Budget, cost: Cost, exponent: float) -> float:
    """How much a knob may grow (or must shrink) if cost grows as knob**exponent."""
    ratios = [b / max(1, c) for b, c in ((budget.macs, cost.macs), (budget.params, cost.params)) if b is not None]
    return min(ratios) ** (1 / exponent)


def _outcome(search: _Search, members: Callable[[int], Member], best: int, high: int) -> Found:
    """The chosen member and the next one up (the smallest matters only when nothing fits)."""
    chosen = search.point(members(best))
    assert chosen is not None
    above = search.point(members(best + 1)) if best < high else None
    return chosen, above, chosen


def _smallest(search: _Search, member: Member) -> Point:
    """A member's point; when it is not a valid network, its own error is raised."""
    point = search.point(member)
    if point is None:
        search.family.cost(member)  # raises the member's SpecError
    assert point is not None
    return point


def _by_width(search: _Search, before: Point) -> Found:
    family = search.family

    def member(k: int) -> Member:
        return Member(width=k / WIDTH_STEPS)

    high = int(MAX_MULTIPLIER * WIDTH_STEPS)
    start = round(family.width * _estimate(search.budget, before.cost, 2) * WIDTH_STEPS)
    best = _largest(lambda k: search.fits(member(k)), start, 1, high)
    if best is None:
        return None, None, _smallest(search, member(1))
    return _outcome(search, member, best, high)


def _by_depth(search: _Search, before: Point) -> Found:
    family = search.family
    if not family.repeats:
        raise UsageError(f"{family.name} has no `repeat`: depth scaling leaves it as it is; try --by width")
    # The multipliers where some count changes: k/N for every written repeat N.
    limit = family.budget.max_repeat
    steps = sorted({k / n for n in family.repeats for k in range(1, min(limit, int(MAX_MULTIPLIER * n)) + 1)})

    def member(i: int) -> Member:  # only the few steps the search visits get their short decimal
        return Member(depth=_shortest(steps[i - 1] if i else 0.0, steps[i], family.repeats))

    target = family.depth * _estimate(search.budget, before.cost, 1)
    start = min(range(len(steps)), key=lambda i: abs(steps[i] - target))
    best = _largest(lambda i: search.fits(member(i)), start, 0, len(steps) - 1)
    if best is None:
        return None, None, _smallest(search, member(0))
    return _outcome(search, member, best, len(steps) - 1)


def _shortest(low: float, high: float, repeats: tuple[int, ...]) -> float:
    """The multiplier with the fewest decimals in (low, high] that gives the copies ``high`` gives."""
    wanted = [scale_repeat(n, high) for n in repeats]
    for places in range(1, 10):
        scale = 10**places
        candidate = math.floor(high * scale + 1e-9) / scale
        if candidate > low + 1e-12 and [scale_repeat(n, candidate) for n in repeats] == wanted:
            return round(candidate, places)
    return high


class _Heights:
    """Input heights the network takes, for given width and depth: the same network (the same
    parameters) at another input size — the static analysis accepts it (every window fits, every
    merge agrees) and the outputs and the parameter count are those at the spec's own size (a
    classifier behind a fixed-size pool and a flatten grows with the input: that size is another
    network). Valid heights are assumed to form a range around the spec's own (found by bisection)
    with at most a few holes in it."""

    def __init__(self, search: _Search, width: float | None = None, depth: float | None = None) -> None:
        self.search, self.width, self.depth = search, width, depth
        self.origin = search.family.input[0]
        reference = _smallest(search, self.member(self.origin))
        self.outputs, self.params = reference.cost.outputs, reference.cost.params
        self.low = self._edge(0, self.origin)
        self.high = MAX_HEIGHT if self.valid(MAX_HEIGHT) else self._edge(MAX_HEIGHT, self.origin)

    def member(self, height: int) -> Member:
        return Member(width=self.width, depth=self.depth, size=self.search.family.size_for(height))

    def point(self, height: int) -> Point | None:
        return self.search.point(self.member(height)) if self.valid(height) else None

    def valid(self, height: int) -> bool:
        point = self.search.point(self.member(height))
        return point is not None and point.cost.outputs == self.outputs and point.cost.params == self.params

    def _edge(self, invalid: int, valid: int) -> int:
        """The valid height nearest ``invalid`` between the two (bisecting on validity)."""
        while abs(valid - invalid) > 1:
            mid = (valid + invalid) // 2
            if self.valid(mid):
                valid = mid
            else:
                invalid = mid
        return valid

    def at_most(self, height: int) -> int:
        """The largest valid height in [low, height] (low if there is none above it)."""
        for h in range(min(height, self.high), self.low, -1):
            if self.valid(h):
                return h
        return self.low


def _by_resolution(search: _Search, before: Point) -> Found:
    if search.budget.macs is None:
        raise UsageError("the input size does not change the parameters; give --macs (or use --by width)")
    heights = _Heights(search)

    def fits(height: int) -> bool:  # monotone: the largest valid height at or below it fits
        return search.fits(heights.member(heights.at_most(height)))

    start = round(heights.origin * _estimate(search.budget, before.cost, 2))
    best = _largest(fits, start, heights.low, heights.high)
    if best is None:
        return None, None, _smallest(search, heights.member(heights.low))
    chosen = heights.point(heights.at_most(best))
    assert chosen is not None
    above = next((p for h in range(best + 1, heights.high + 1) if (p := heights.point(h)) is not None), None)
    return chosen, above, chosen


def _by_compound(search: _Search, before: Point) -> Found:
    family = search.family
    alpha, beta, gamma = search.coefficients
    if min(alpha, beta, gamma) < 1 or max(alpha, beta, gamma) == 1:
        raise UsageError("--alpha, --beta and --gamma are at least 1, and one of them more than 1")
    heights = _Heights(search)

    def member(j: int) -> Member:
        phi = j / PHI_STEPS
        width = min(MAX_MULTIPLIER, max(1 / WIDTH_STEPS, round(family.width * beta**phi, 4)))
        depth = min(MAX_MULTIPLIER, max(1 / WIDTH_STEPS, round(family.depth * alpha**phi, 4)))
        height = heights.at_most(math.floor(heights.origin * gamma**phi + 1e-9))
        return Member(width=width, depth=depth, size=family.size_for(height))

    # φ from -60 up to where a knob reaches its bound; the cost grows about (αβ²γ²)^φ.
    bounds = [60.0]
    for base, value, coefficient in ((family.width, MAX_MULTIPLIER, beta), (family.depth, MAX_MULTIPLIER, alpha)):
        if coefficient > 1:
            bounds.append(math.log(value / base) / math.log(coefficient))
    if gamma > 1:
        bounds.append(math.log(heights.high / heights.origin) / math.log(gamma))
    low, high = -60 * PHI_STEPS, int(min(bounds) * PHI_STEPS)
    growth = math.log(alpha * beta**2 * gamma**2)
    start = round(math.log(_estimate(search.budget, before.cost, 1)) / growth * PHI_STEPS)
    best = _largest(lambda j: search.fits(member(j)), start, low, high)
    if best is None:
        smallest = _smallest(search, member(low))
        return None, None, Point(smallest.member, smallest.cost, low / PHI_STEPS)
    chosen = search.point(member(best))
    assert chosen is not None
    above = search.point(member(best + 1)) if best < high else None
    return Point(chosen.member, chosen.cost, best / PHI_STEPS), above, chosen
