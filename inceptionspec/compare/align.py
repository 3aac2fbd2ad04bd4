"""Aligning names of two sides: same name, then structural twins; in linear time.

Both functions take O(len(a) + len(b)) dictionary operations (a diff of two 5,000-layer specs
costs milliseconds, not seconds), and say how much work they did, for the ``max_diff_work``
budget.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Sequence

# --- alignment ---------------------------------------------------------------------------


def _align(a: dict[str, Hashable], b: dict[str, Hashable]) -> dict[str, str]:
    """A → B pairs of names (keys, in order; values are signatures): equal names, then
    unmatched names whose signatures are equal (renamed), in order: the first unmatched A name
    with a signature takes the first unmatched B name with the same signature."""
    pairs = {name: name for name in a if name in b}
    twins: dict[Hashable, deque[str]] = {}
    for name, signature in b.items():
        if name not in pairs:
            twins.setdefault(signature, deque()).append(name)
    for name, signature in a.items():
        if name in pairs:
            continue
        waiting = twins.get(signature)
        if waiting:
            pairs[name] = waiting.popleft()
    return pairs


def _merged(a: Sequence[str], b: Sequence[str], pairs: dict[str, str]) -> list[tuple[str | None, str | None]]:
    """(A, B) pairs in B's order, with (A, None) for A's unmatched names where they stood in A
    (before B's unmatched names at the same place, as a diff reads) and (None, B) for B's."""
    back = {b_name: a_name for a_name, b_name in pairs.items()}
    position = {name: i for i, name in enumerate(a)}
    unmatched_a = deque(name for name in a if name not in pairs)
    # following[i]: the A position of the first matched B name at or after i (len(a) if none).
    following = [len(a)] * (len(b) + 1)
    for i in range(len(b) - 1, -1, -1):
        following[i] = position[back[b[i]]] if b[i] in back else following[i + 1]
    out: list[tuple[str | None, str | None]] = []
    for i, name in enumerate(b):
        while unmatched_a and position[unmatched_a[0]] < following[i]:
            out.append((unmatched_a.popleft(), None))
        out.append((back.get(name), name))
    out.extend((name, None) for name in unmatched_a)
    return out


def alignment_work(a: int, b: int) -> int:
    """The steps one :func:`_align` and one :func:`_merged` of ``a`` and ``b`` names take."""
    return 2 * (a + b) + 1
