"""Source locations and located errors.

Every error a user can cause is a :class:`Diagnostic` with a :class:`Loc`; a
:class:`SpecError` carries all diagnostics found in one run so that a file's
mistakes are reported together, not one per attempt.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

#: How many diagnostics a command prints before summarising the rest.
MAX_REPORTED = 20


@dataclass(frozen=True)
class Loc:
    """A 1-based position in a source file, with the expansion chain that led there."""

    file: str
    line: int
    col: int
    via: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def with_via(self, note: str) -> Loc:
        return Loc(self.file, self.line, self.col, (*self.via, note))


UNKNOWN_LOC = Loc("<unknown>", 1, 1)


@dataclass(frozen=True)
class Diagnostic:
    loc: Loc
    message: str
    hint: str | None = None

    def format(self) -> str:
        text = f"{self.loc}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        for note in self.loc.via:
            text += f"\n    {note}"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.loc.file,
            "line": self.loc.line,
            "col": self.loc.col,
            "message": self.message,
            "hint": self.hint,
            "via": list(self.loc.via),
        }


class SpecError(Exception):
    """An invalid spec: one or more located diagnostics.

    ``errors`` holds every :class:`Diagnostic`; ``str(err)`` prints them as
    ``file:line:col: message`` lines.
    """

    def __init__(self, errors: Sequence[Diagnostic] | Diagnostic) -> None:
        if isinstance(errors, Diagnostic):
            errors = [errors]
        self.errors: list[Diagnostic] = _dedupe(errors)
        super().__init__(self.format())

    @classmethod
    def at(cls, loc: Loc, message: str, hint: str | None = None) -> SpecError:
        return cls([Diagnostic(loc, message, hint)])

    def format(self, limit: int = MAX_REPORTED) -> str:
        lines = [d.format() for d in self.errors[:limit]]
        rest = len(self.errors) - limit
        if rest > 0:
            lines.append(f"... and {rest} more error{'s' if rest > 1 else ''}")
        return "\n".join(lines)

    # Convenience accessors for the first (usually the only) error.
    @property
    def file(self) -> str:
        return self.errors[0].loc.file

    @property
    def line(self) -> int:
        return self.errors[0].loc.line

    @property
    def col(self) -> int:
        return self.errors[0].loc.col


class UsageError(Exception):
    """A problem with how the tool was called or with reading a file (exit code 2)."""


def _dedupe(errors: Iterable[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[Loc, str]] = set()
    out: list[Diagnostic] = []
    for d in errors:
        key = (d.loc, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


class Collector:
    """Collects diagnostics across a pass; raises them together at the end."""

    def __init__(self) -> None:
        self.errors: list[Diagnostic] = []

    def add(self, loc: Loc, message: str, hint: str | None = None) -> None:
        self.errors.append(Diagnostic(loc, message, hint))

    def extend(self, err: SpecError) -> None:
        self.errors.extend(err.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise SpecError(self.errors)


def did_you_mean(word: object, candidates: Iterable[str]) -> str | None:
    """A "did you mean `x`?" hint for a misspelt name, or None."""
    if not isinstance(word, str):
        return None
    options = sorted({c for c in candidates if isinstance(c, str)})
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in options}
        if word.lower() in lowered:
            close = [lowered[word.lower()]]
    return f"did you mean `{close[0]}`?" if close else None


def one_of(candidates: Iterable[str], limit: int = 12) -> str:
    items = sorted(set(candidates))
    shown = ", ".join(f"`{c}`" for c in items[:limit])
    if len(items) > limit:
        shown += f", … ({len(items) - limit} more)"
    return shown


@dataclass
class Budget:
    """Bounds on the work a spec may cause (see docs/threat-model.md)."""

    max_file_bytes: int = 1 << 20
    max_depth: int = 64
    max_nodes: int = 200_000
    max_repeat: int = 1000
    max_layers: int = 20_000
    max_extends_depth: int = 16
    max_params: int = 2_000_000_000
    allow_outside_extends: bool = False
    extra: dict[str, object] = field(default_factory=dict)
