"""The ``depth:`` knob: scales every ``repeat`` of a network (EfficientNet's depth multiplier).

``repeat: N`` becomes ⌈N·multiplier⌉ copies, never fewer than one. Blocks written without
``repeat`` stay single: their names (and the heads and overrides that use them) do not change.
Copies keep the names the written count gives them (``block_1`` … ``block_k`` when ``N > 1``).
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import Field

from inceptionspec.lang.node import Node


class Depth(Node):
    """Depth scaling of every `repeat`: ⌈repeat·multiplier⌉ copies, at least one."""

    multiplier: Annotated[float, Field(gt=0, le=64)] = Field(
        1.0,
        description="Every `repeat: N` unrolls ⌈N·multiplier⌉ copies (at least 1); blocks without `repeat` "
        "stay single.",
    )


def scale_repeat(repeat: int, multiplier: float) -> int:
    """⌈repeat·multiplier⌉, at least 1 (rounded to 9 decimals first, so 7·(5/7) is 5, not 6)."""
    if multiplier == 1.0:
        return repeat
    return max(1, math.ceil(round(repeat * multiplier, 9)))
