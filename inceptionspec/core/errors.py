"""Source locations and located errors.

Every error a user can cause is a :class:`Diagnostic` with a :class:`Loc`; a
:class:`SpecError` carries all diagnostics found in one run so that a file's
mistakes are reported together, not one per attempt.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence, Sized
from dataclasses import dataclass
from typing import TYPE_CHECKING

from inceptionspec.core import escape

if TYPE_CHECKING:
    from inceptionspec.core.budget import Budget

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
        """``file:line:col: message (hint)``, then one indented line per expansion note. Every part
        is one line shown safely on a terminal (:func:`escape.line`): a value quoted in a message
        cannot start a line of its own or send control sequences."""
        text = escape.line(f"{self.loc}: {self.message}" + (f" ({self.hint})" if self.hint else ""))
        for note in self.loc.via:
            text += "\n    " + escape.line(note)
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


class SourceError(SpecError):
    """A spec source that cannot be read: no such file or shipped spec, not a regular file, no
    permission, a read that would block (exit code 2 in the CLI). Its one diagnostic is at line 1
    of the source; ``str()`` is ``source: reason``."""

    def __init__(self, source: str, reason: str) -> None:
        self.source, self.reason = source, reason
        super().__init__([Diagnostic(Loc(source, 1, 1), reason)])

    def format(self, limit: int = MAX_REPORTED) -> str:
        return escape.line(f"{self.source}: {self.reason}")


class UsageError(Exception):
    """A problem with how the tool was called (exit code 2)."""


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
#: Characters one suggestion may compare when no budget is given.
MAX_SUGGESTION_WORK = 50_000
#: Longer words get no suggestion (difflib is quadratic in the length).
MAX_WORD = 200


def did_you_mean(word: object, candidates: Iterable[object], budget: Budget | None = None) -> str | None:
    """A "did you mean `x`?" hint for a misspelt name, or None.

    Comparing ``word`` with a candidate costs about ``len(word) + len(candidate)`` characters of
    work, counted against ``budget.max_suggestions`` (the command's budget) before it is done;
    once that is spent, or without a budget past :data:`MAX_SUGGESTION_WORK`, the answer is None.
    A file of 50,000 misspelt keys, or 300 misspelt ``from:`` among 4,000 layers, so costs a
    bounded fraction of a second, and the first errors still get their hint."""
    if not isinstance(word, str) or not word or len(word) > MAX_WORD:
        return None
    left = MAX_SUGGESTION_WORK if budget is None else budget.left("max_suggestions")
    if isinstance(candidates, Sized) and len(candidates) * (len(word) + 1) > left:
        return None  # each candidate costs at least that: do not even look at them
    words = [c for c in candidates if isinstance(c, str) and len(c) <= MAX_WORD]
    work = sum(len(c) for c in words) + len(word) * len(words)
    if work > left:
        return None
    if budget is not None:
        budget.allow("max_suggestions", work)
    return _suggest(word, words)


def _suggest(word: str, options: list[str]) -> str | None:
    import difflib  # only when a mistake needs a suggestion: no start-up cost for valid specs

    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in options}
        if word.lower() in lowered:
            close = [lowered[word.lower()]]
    return f"did you mean `{close[0]}`?" if close else None


@functools.lru_cache(maxsize=1024)
def close_to_one_of(word: str, options: tuple[str, ...]) -> bool:
    """Whether ``word`` is a near miss of a fixed, small set (for classifying, not for messages:
    no budget, a bounded cache)."""
    return len(word) <= MAX_WORD and _suggest(word, list(options)) is not None


def one_of(candidates: Iterable[str], limit: int = 12) -> str:
    items = sorted(set(candidates))
    shown = ", ".join(f"`{c}`" for c in items[:limit])
    if len(items) > limit:
        shown += f", … ({len(items) - limit} more)"
    return shown
