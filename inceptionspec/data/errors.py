"""Bad data, the bounds on reading it, and names made safe to print."""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

#: How many problems a data error lists before counting the rest.
MAX_LISTED = 10


def shown(text: object) -> str:
    """``text`` safe for a terminal: control and format characters (an ESC starting a colour or a
    cursor move, a right-to-left override, a newline in a file name) and undecodable bytes are
    written as escapes, e.g. ``\\x1b``."""
    out = []
    for ch in os.fspath(text) if isinstance(text, os.PathLike) else str(text):
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(ch.encode("unicode_escape", "backslashreplace").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


@dataclass(frozen=True)
class Problem:
    path: Path | str
    message: str

    def __str__(self) -> str:
        return f"{shown(self.path)}: {self.message}"


class DataError(Exception):
    """Training or evaluation data that cannot be used: each problem names its path (exit code 1)."""

    def __init__(self, problems: list[Problem] | Problem, hint: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        self.hint = hint
        super().__init__(self.format())

    @classmethod
    def at(cls, path: Path | str, message: str, hint: str | None = None) -> DataError:
        return cls(Problem(path, message), hint)

    def format(self) -> str:
        lines = [str(p) for p in self.problems[:MAX_LISTED]]
        if len(self.problems) > MAX_LISTED:
            lines.append(f"... and {len(self.problems) - MAX_LISTED} more")
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


@dataclass
class DataBudget:
    """Bounds on the work an image folder or an array file may cause (docs/threat-model.md)."""

    #: Directory entries visited while scanning one folder (ImageNet's training set has 1.3 million files).
    max_entries: int = 5_000_000
    #: Folders inside a class folder, nested.
    max_depth: int = 16
    #: Class folders.
    max_classes: int = 100_000
    #: Bytes of one image file.
    max_image_bytes: int = 64 << 20
    #: Pixels of one image (width · height · frames), checked from its header before it is decoded.
    max_pixels: int = 64 << 20
    #: Bytes of the arrays of one .npz file, checked from their headers before they are read.
    max_array_bytes: int = 4 << 30
    #: Decoded, resized images kept in memory between epochs; beyond this they are read again each epoch.
    max_cache_bytes: int = 2 << 30
