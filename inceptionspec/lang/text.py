"""Free text in a spec (titles, descriptions, labels, references): bounded and plain.

Names are identifiers (:mod:`inceptionspec.core.names`); everything else a spec writes in words is
one of two kinds of text, both printed on terminals and drawn in pictures:

* a **line** (``title``, a block's ``kind``, ``references.paper`` and ``.implementation``): one
  line, no tab;
* **prose** (``description``, ``references.notes``, a template's ``description``): several lines
  and tabs allowed.

Neither may hold a control character (ESC, NUL, DEL, C1), a bidirectional override or a line or
paragraph separator, however it was written: the loader refuses them in every YAML string with
the position of the string, and these types refuse them again in values given from Python.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field

from inceptionspec.core.escape import UNSAFE_IN_TEXT, visible

#: A spec's title: one line, at most this many characters (the longest shipped title has 98).
TITLE_CHARS = 200
#: A block's `kind` label (drawn in its frame's title).
LABEL_CHARS = 64
#: A reference (a URL, usually).
REFERENCE_CHARS = 2_000
#: A description or notes.
PROSE_CHARS = 20_000


def _check(what: str, single_line: bool) -> Any:
    def check(value: str) -> str:
        bad = UNSAFE_IN_TEXT.search(value)
        if bad:
            raise ValueError(f"{what} holds the control character {visible(bad.group())}; it is plain text")
        if single_line and ("\n" in value or "\t" in value):
            raise ValueError(f"{what} is one line of text (a line break or tab is not allowed)")
        return value

    return check


def line(what: str, max_chars: int) -> Any:
    """A one-line text type: ``title: line("a title", TITLE_CHARS)``."""
    schema = {"pattern": "^[^\\n\\t]*$"}
    return Annotated[str, Field(max_length=max_chars, json_schema_extra=schema), AfterValidator(_check(what, True))]


def prose(what: str, max_chars: int = PROSE_CHARS) -> Any:
    """A text type of several lines: ``description: prose("a description")``."""
    return Annotated[str, Field(max_length=max_chars), AfterValidator(_check(what, False))]


Title = line("a title", TITLE_CHARS)
Label = line("a block's `kind`", LABEL_CHARS)
Reference = line("a reference", REFERENCE_CHARS)
Description = prose("a description")
