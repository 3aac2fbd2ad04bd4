"""Source locations and located errors.

Every error a user can cause is a :class:`Diagnostic` with a :class:`Loc`; a
:class:`SpecError` carries all diagnostics found in one run so that a file's
mistakes are reported together, not one per attempt.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

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
    """One mistake in a spec: where (``loc``), what (``message``) and a suggestion (``hint``)."""

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
    """Collects diagnostics across a pass; raises them together at the end.

    At most :data:`MAX_COLLECTED` are kept (a hostile file can hold tens of thousands of
    mistakes); the rest are counted and summarised by one more located diagnostic."""

    def __init__(self) -> None:
        self.errors: list[Diagnostic] = []
        self.dropped = 0
        self._first_dropped: Loc | None = None
        _hints_left.set(MAX_HINTS)

    def add(self, loc: Loc, message: str, hint: str | None = None) -> None:
        if len(self.errors) < MAX_COLLECTED:
            self.errors.append(Diagnostic(loc, message, hint))
        else:
            self.dropped += 1
            self._first_dropped = self._first_dropped or loc

    def extend(self, err: SpecError) -> None:
        for d in err.errors:
            self.add(d.loc, d.message, d.hint)

    def raise_if_any(self) -> None:
        if self.errors:
            raise SpecError(self.all())

    def all(self) -> list[Diagnostic]:
        """The kept diagnostics, plus a note of how many were dropped."""
        if not self.dropped or self._first_dropped is None:
            return list(self.errors)
        more = f"{self.dropped} more error{'s' if self.dropped > 1 else ''} not collected"
        return [*self.errors, Diagnostic(self._first_dropped, f"{more} (the first is here)")]


#: Diagnostics one pass keeps (more are counted, not stored).
MAX_COLLECTED = 1000
#: "did you mean" suggestions computed per pass (each costs about 0.1 ms of difflib).
MAX_HINTS = 500
_hints_left: ContextVar[int] = ContextVar("inceptionspec_hints_left", default=MAX_HINTS)


def did_you_mean(word: object, candidates: Iterable[str]) -> str | None:
    """A "did you mean `x`?" hint for a misspelt name, or None.

    Repeated words are answered from a cache; new words are looked up at most
    :data:`MAX_HINTS` times per pass (a :class:`Collector` starts one), so a file of
    50,000 misspelt keys costs milliseconds, not seconds."""
    if not isinstance(word, str) or len(word) > 200:
        return None
    options = tuple(sorted({c for c in candidates if isinstance(c, str)}))
    if (word, options) in _suggestions:
        return _suggestions[(word, options)]
    left = _hints_left.get()
    if left <= 0:
        return None
    _hints_left.set(left - 1)
    hint = _suggest(word, options)
    if len(_suggestions) >= 4096:
        _suggestions.clear()
    _suggestions[(word, options)] = hint
    return hint


_suggestions: dict[tuple[str, tuple[str, ...]], str | None] = {}


def _suggest(word: str, options: tuple[str, ...]) -> str | None:
    import difflib  # only when a mistake needs a suggestion: no start-up cost for valid specs

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
