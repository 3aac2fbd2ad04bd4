"""Aligning names of two sides: same name, then structural twins."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


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
