"""Sweep a spec's design space: every combination of the values given for some paths, analysed statically.

``--vary 'width.multiplier=[0.5, 0.75, 1]'`` names a path (as ``--set`` does) and a YAML flow list of
values; the sweep makes one row per combination of all the lists (their product, in order) with
the combination's overrides, parameters, multiply-adds and peak activation memory, or the error
that makes the combination invalid. The work is bounded: at most :data:`MAX_VARY` lists and
:data:`MAX_COMBINATIONS` combinations, refused before anything is analysed.

``width.multiplier``, ``depth.multiplier`` and ``input`` are the family's knobs
(:class:`~inceptionspec.analysis.family.Family`), so a sweep over them expands each structure once.
No framework is imported.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from inceptionspec.analysis.cost import Cost
from inceptionspec.analysis.family import Family, Member, stops_the_command
from inceptionspec.core.errors import Loc, SpecError, UsageError
from inceptionspec.lang.loader import LocList, parse_text, to_plain

#: ``--vary`` options one sweep takes.
MAX_VARY = 8
#: Combinations one sweep analyses (the product of the lists' lengths).
MAX_COMBINATIONS = 1000
#: Characters of one ``--vary`` option.
MAX_VARY_CHARS = 20_000


@dataclass(frozen=True)
class Vary:
    """One ``--vary PATH=[values]``: the path and its values (plain data), where it was given."""

    path: str
    values: tuple[Any, ...]
    loc: Loc


def parse_vary(text: str, index: int = 0) -> Vary:
    """``path=[v1, v2, ...]``; the list is YAML (a flow list), as ``--set`` values are.

    UsageError for a malformed option, SpecError (at ``<--vary N>``) for a value that is not a
    non-empty list."""
    file = f"<--vary {index + 1}>"
    if len(text) > MAX_VARY_CHARS:
        raise UsageError(f"--vary {index + 1}: {len(text):,} characters; the limit is {MAX_VARY_CHARS:,}")
    path, sep, raw = text.partition("=")
    path = path.strip()
    if not sep or not path or any(c.isspace() for c in path):
        raise UsageError(f"--vary {text[:80]!r}: expected PATH=[V1, V2, ...], e.g. width.multiplier=[0.5, 0.75, 1]")
    loc = Loc(file, 1, len(text) - len(text.lstrip()) + text.index("=") + 2)
    values = parse_text(raw, file) if raw.strip() else None
    if not isinstance(values, list) or not values:
        got = "an empty list" if isinstance(values, list) else "a single value"
        raise SpecError.at(loc, f"`{path}`: expected a list of values, got {got}", f"write {path}=[v1, v2, ...]")
    return Vary(path, tuple(to_plain(values)), (values.loc if isinstance(values, LocList) else None) or loc)


def check_size(varies: Sequence[Vary]) -> int:
    """The number of combinations; UsageError past the bounds (before any work)."""
    if len(varies) > MAX_VARY:
        raise UsageError(f"{len(varies)} --vary options; a sweep takes at most {MAX_VARY}")
    seen: dict[str, int] = {}
    for i, vary in enumerate(varies):
        if vary.path in seen:
            raise UsageError(f"--vary {i + 1} varies `{vary.path}` again (--vary {seen[vary.path] + 1} already does)")
        seen[vary.path] = i
    count = math.prod(len(vary.values) for vary in varies)
    if count > MAX_COMBINATIONS:
        sizes = " × ".join(str(len(vary.values)) for vary in varies)
        raise UsageError(
            f"--vary lists make {sizes} = {count:,} combinations; a sweep is limited to {MAX_COMBINATIONS:,}"
        )
    return count


@dataclass(frozen=True)
class Row:
    """One combination: its overrides (path → value) and what it costs, or why it is invalid."""

    overrides: dict[str, Any]
    cost: Cost | None
    error: str | None = None
    latency_ms: float | None = None
    throughput: float | None = None

    @property
    def valid(self) -> bool:
        return self.cost is not None

    @property
    def label(self) -> str:
        """The values, short: ``0.5, 160×160×3``."""
        return ", ".join(short_value(value) for value in self.overrides.values())

    def as_dict(self) -> dict[str, Any]:
        cost = self.cost
        out: dict[str, Any] = {
            "overrides": dict(self.overrides),
            "params": cost.params if cost else None,
            "macs": cost.macs if cost else None,
            "peak_activations": cost.peak_activations if cost else None,
            "peak_activation_bytes": cost.peak_activation_bytes if cost else None,
            "valid": self.valid,
            "error": self.error,
        }
        if self.latency_ms is not None or self.throughput is not None:
            out["latency_ms"] = self.latency_ms
            out["throughput"] = self.throughput
        return out


def short_value(value: Any) -> str:
    """A value as a label: ``160×160×3`` for a list of numbers, YAML-ish flow text otherwise."""
    if isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return "×".join(str(v) for v in value)
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, dict)):
        import json

        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return str(value)


def member_of(family: Family, overrides: dict[str, Any]) -> Member:
    """The family member a combination names: the knobs taken out of the overrides."""
    rest = dict(overrides)
    knobs: dict[str, Any] = {}
    if "width.multiplier" in rest:
        knobs["width"] = rest.pop("width.multiplier")
    if "depth.multiplier" in rest:
        knobs["depth"] = rest.pop("depth.multiplier")
    shape = rest.get("input")
    if (
        isinstance(shape, list)
        and len(shape) == 3
        and all(isinstance(d, int) and not isinstance(d, bool) for d in shape)
        and len(family.input) == 3
        and shape[2] == family.input[2]
    ):
        rest.pop("input")
        knobs["size"] = (shape[0], shape[1])
    return Member.of(rest, **knobs)


def combinations(varies: Sequence[Vary]) -> Iterable[dict[str, Any]]:
    paths = [vary.path for vary in varies]
    for values in itertools.product(*(vary.values for vary in varies)):
        yield dict(zip(paths, values, strict=True))


def sweep(family: Family, varies: Sequence[Vary]) -> list[Row]:
    """One row per combination, in the order of the lists (the last varies fastest)."""
    check_size(varies)
    rows = []
    for overrides in combinations(varies):
        try:
            rows.append(Row(overrides, family.cost(member_of(family, overrides))))
        except SpecError as err:
            if stops_the_command(err):
                raise
            rows.append(Row(overrides, None, error_text(err)))
    return rows


def error_text(err: SpecError) -> str:
    """A row's error: its first diagnostic, and how many more there are."""
    first = err.errors[0].format().splitlines()[0]
    more = len(err.errors) - 1
    return first + (f" (and {more} more)" if more else "")


def frontier(points: Sequence[tuple[float, float]]) -> set[int]:
    """The indices of the points no other point beats: none has as much y (or more) for as little x
    (or less), better in one of them. With y the multiply-adds and x a cost (parameters, latency),
    these are the variants that buy the most compute for what they cost."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    best = -math.inf
    out: set[int] = set()
    for i in order:
        if points[i][1] > best:
            out.add(i)
            best = points[i][1]
    return out
