"""Stage 6 — diff: what changed from spec A to spec B (see :mod:`inceptionspec.compare.records`).

The package is named ``compare`` so that ``inceptionspec.diff`` stays the function."""

from __future__ import annotations

from inceptionspec.compare.compare import compare
from inceptionspec.compare.formats import json_text, markdown, print_result, print_text
from inceptionspec.compare.records import (
    ADDED,
    CHANGED,
    COST,
    JSON_FORMAT,
    REMOVED,
    RENAMED,
    SHAPE,
    BlockDiff,
    Change,
    Count,
    Diff,
    Side,
    Totals,
)
from inceptionspec.compare.sources import SpecSource, diff, read_revision

__all__ = [
    "ADDED",
    "CHANGED",
    "COST",
    "JSON_FORMAT",
    "REMOVED",
    "RENAMED",
    "SHAPE",
    "BlockDiff",
    "Change",
    "Count",
    "Diff",
    "Side",
    "SpecSource",
    "Totals",
    "compare",
    "diff",
    "json_text",
    "markdown",
    "print_result",
    "print_text",
    "read_revision",
]
