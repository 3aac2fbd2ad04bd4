"""Escaping user text for where it lands: one function per output context.

Every string a spec can influence (names, titles, labels, paths, values quoted in messages) is
written out through one of these functions, never interpolated raw:

============================  ====================================================================
context                       function
============================  ====================================================================
XML / HTML text               :func:`xml_text`
XML / HTML attribute value    :func:`xml_attr` (and :func:`empty`, :func:`start`, :func:`element`)
data in an HTML ``<script>``  :func:`script_json`
DOT string                    :func:`dot` (a whole quoted string); :func:`line` for ``//`` comments
Mermaid label / id / comment  :func:`mermaid_label`, :func:`mermaid_id`, :func:`mermaid_comment`
Markdown text / code span     :func:`md_text`, :func:`md_code`
terminal                      :func:`terminal` (multi-line), :func:`line` (one line),
                              :func:`term` (a rich ``Text``), :func:`console` (rich, no markup)
numbers                       :func:`num`
============================  ====================================================================

Characters that could act on whoever reads the output (C0 and C1 controls, among them ESC, DEL,
the bidirectional overrides and isolates of "Trojan Source", the line and paragraph separators)
are shown as visible escapes (``\\x1b``, ``\\u202e``) in every context. The writer modules
(``render/``, ``compare/formats.py``, ``analysis/report.py``, ``cli/``) interpolate nothing into
an f-string but calls of this module (``tests/test_escape.py`` checks their syntax trees), and
only this module makes a rich ``Console``, with markup, emoji codes and highlighting off.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

#: Characters shown as visible escapes everywhere: C0 controls (tab and newline are handled per
#: context), DEL, C1 controls, the Arabic letter mark, LRM/RLM, the line and paragraph
#: separators, the bidirectional embeddings, overrides and isolates, the BOM, the interlinear
#: annotation marks, and lone surrogates (no encoder can write them).
_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff\ufeff\ufff9-\ufffb"
#: Matches an unsafe character (tab and newline are not: text may hold them).
UNSAFE_IN_TEXT = re.compile(f"[{_UNSAFE}]")
_UNSAFE_LINE_RE = re.compile(f"[{_UNSAFE}\t\n]")
#: Characters XML 1.0 cannot hold at all (U+FFFE, U+FFFF), on top of the above.
_NOT_XML_RE = re.compile(f"[{_UNSAFE}\ufffe\uffff]")


def visible(char: str) -> str:
    """``\\x1b``, ``\\u202e``: how an unsafe character is shown."""
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _show(match: re.Match[str]) -> str:
    return visible(match.group())


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


# --- terminals --------------------------------------------------------------------------------


def terminal(value: object) -> str:
    """Text for a terminal, several lines allowed: control characters (ESC among them) and
    bidirectional overrides become visible escapes; newlines and tabs stay."""
    return UNSAFE_IN_TEXT.sub(_show, _text(value))


def line(value: object) -> str:
    """One line of text for a terminal or a line comment (DOT ``//``, Mermaid ``%%``): like
    :func:`terminal`, and newlines and tabs become ``\\x0a`` and ``\\x09`` too, so a value
    cannot start a line of its own (a fake diagnostic, a statement after a comment)."""
    return _UNSAFE_LINE_RE.sub(_show, _text(value))


def term(value: object, style: str = "") -> Text:
    """A rich ``Text`` (never parsed as markup) of :func:`line`'s escaping of ``value``."""
    from rich.text import Text

    return Text(line(value), style=style)


def console(stderr: bool = False, soft_wrap: bool = True) -> Console:
    """The only rich console inceptionspec prints through: markup (``[red]``), emoji codes
    (``:smile:``) and highlighting are off, so user text is never read as instructions; when
    the reader of a pipe goes away it raises ``BrokenPipeError`` (rich would exit 1)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            raise BrokenPipeError

    return _Console(stderr=stderr, soft_wrap=soft_wrap, markup=False, emoji=False, highlight=False)


def print_lines(out: Console, lines: Iterable[Text]) -> None:
    """Print lines of rich Text (each one line, no wrapping) at the cost of writing them: rich's
    ``print`` costs 0.1 ms a call, and a long joined Text more than that per line."""
    from rich.segment import Segment, Segments

    segments: list[Segment] = []
    for text in lines:
        segments.extend(text.render(out))
        segments.append(Segment.line())
    out.print(Segments(segments), end="")


# --- XML, SVG and HTML ------------------------------------------------------------------------


class Markup(str):
    """XML or HTML that is safe as it is: made by the builders below (or a constant of the code).

    Writers of SVG and HTML accept only Markup. Adding or joining a plain ``str`` escapes it, as
    markupsafe does, so text can never become markup by accident."""

    __slots__ = ()

    def __add__(self, other: str) -> Markup:
        return Markup(str.__add__(self, xml_text(other)))

    def __radd__(self, other: str) -> Markup:
        return Markup(str.__add__(xml_text(other), self))

    def join(self, items: Iterable[str]) -> Markup:  # type: ignore[override]
        return Markup(str.join(self, (xml_text(item) for item in items)))


def xml_text(value: object) -> Markup:
    """Text content of an XML or HTML element: ``& < >`` as entities, unsafe characters (and
    those XML cannot hold) as visible escapes. Markup is returned as it is."""
    if isinstance(value, Markup):
        return value
    text = _text(value)
    if _NOT_XML_RE.search(text):
        text = _NOT_XML_RE.sub(_show, text)
    return Markup(text.translate(_TEXT_ENTITIES))


def xml_attr(value: object) -> Markup:
    """An XML or HTML attribute value, for either quote: :func:`xml_text` plus ``"``, ``'`` and
    the whitespace an attribute would otherwise fold into spaces (tab, newline, CR); a number
    as :func:`num` writes it. Markup is escaped too: an attribute value is always text."""
    return Markup(_attr_text(value))


def _attr_text(value: object) -> str:
    kind = type(value)  # the common kinds first, without isinstance chains: pictures write ~10^5 attributes
    if kind is int:
        return str(value)
    if kind is float:
        return num(value)  # type: ignore[arg-type]
    if kind is not str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return num(value)
    # Markup too is text here: an attribute holding a page (an iframe's srcdoc) must keep its `&lt;`.
    text = str(value)
    if _NOT_XML_RE.search(text):
        text = _NOT_XML_RE.sub(_show, text)
    return text.translate(_ATTR_ENTITIES)


# One pass in C per string (pictures write hundreds of thousands of attributes).
_TEXT_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTR_ENTITIES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
)


_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9:-]*$")


@functools.lru_cache(maxsize=256)
def _name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a tag or attribute name: {name!r}")
    return name


def _attrs(values: dict[str, object]) -> str:
    """`` name="value"`` pairs, names from keyword arguments (``class_`` → ``class``, ``data_id``
    → ``data-id``, ``xml_space`` → ``xml:space``), values escaped; None leaves one out."""
    return "".join(
        [f' {_attribute_name(key)}="{_attr_text(value)}"' for key, value in values.items() if value is not None]
    )


@functools.lru_cache(maxsize=256)
def _attribute_name(key: str) -> str:
    return _name(key.rstrip("_").replace("xml_", "xml:").replace("_", "-"))


def start(tag: str, **attributes: object) -> Markup:
    """An opening tag with escaped attributes: ``start("g", class_="u", data_id=name)``."""
    return Markup(f"<{_name(tag)}{_attrs(attributes)}>")


def end(tag: str) -> Markup:
    return Markup(f"</{_name(tag)}>")


def empty(tag: str, **attributes: object) -> Markup:
    """A self-closing element with escaped attributes: ``<rect x="1" .../>``."""
    return Markup(f"<{_name(tag)}{_attrs(attributes)}/>")


def element(tag: str, *children: object, **attributes: object) -> Markup:
    """``<tag ...>children</tag>``: plain children escaped as text, Markup children kept."""
    name = _name(tag)
    body = "".join([child if isinstance(child, Markup) else xml_text(child) for child in children])
    return Markup(f"<{name}{_attrs(attributes)}>{body}</{name}>")


def script_json(value: Any) -> str:
    """Data for an HTML ``<script>`` element: JSON in which nothing can close the element or
    start a comment (``<``, ``>``, ``&`` as ``\\u`` escapes; every non-ASCII character too,
    so U+2028 and U+2029 cannot end a line of script)."""
    text = json.dumps(value, ensure_ascii=True, sort_keys=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def num(value: float | int) -> str:
    """A number as an attribute or a coordinate: ``12``, ``3.5`` (one decimal at most)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, int) or value.is_integer():
        return str(int(value))
    return f"{value:.1f}".rstrip("0").rstrip(".")


_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def color(value: str) -> str:
    """A ``#rrggbb`` colour, checked (it is written unquoted in Mermaid styles)."""
    if not _COLOR.match(value):
        raise ValueError(f"not a colour: {value!r}")
    return value


def path_data(*parts: str | float) -> str:
    """An SVG path's ``d``: command letters and numbers, ``path_data("M", 1, 2, "L", 3, 4)`` →
    ``M1 2L3 4``."""
    out: list[str] = []
    number = False
    for part in parts:
        if isinstance(part, str):
            if part not in _PATH_COMMANDS:
                raise ValueError(f"not a path command: {part!r}")
            out.append(part)
            number = False
        else:
            out.append((" " if number else "") + num(part))
            number = True
    return "".join(out)


_PATH_COMMANDS = frozenset("MLHVQCZ")


# --- graph sources ----------------------------------------------------------------------------


def dot(value: object) -> str:
    """A DOT double-quoted string, quotes included: ``\\`` and ``"`` escaped, newlines as
    DOT's ``\\n`` line breaks, other unsafe characters visible."""
    text = UNSAFE_IN_TEXT.sub(_show, _text(value)).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\r", "").replace("\n", "\\n") + '"'


# Kept as they are in a Mermaid label; everything else becomes a `#code;` entity.
_MERMAID_PLAIN = re.compile(r"[^\w .,:+*/=()×·→…-]")
_MERMAID_ID = re.compile(r"[^A-Za-z0-9_]")


def mermaid_label(value: object) -> str:
    """Text inside a quoted Mermaid label (``["..."]``, ``|"..."|``): letters, digits, spaces
    and plain punctuation stay; every other character (quotes, ``#``, ``<``, backticks, ``|``)
    becomes an entity code ``#34;``; newlines become ``<br/>``."""
    lines = line_parts(_text(value))
    return "<br/>".join(_MERMAID_PLAIN.sub(lambda m: f"#{ord(m.group())};", line(part)) for part in lines)


def mermaid_comment(value: object) -> str:
    """A ``%%`` comment's text: one line, and encoded as labels are, because Mermaid reads a
    ``%%{init: ...}%%`` directive (its configuration, its security level) anywhere in the text,
    comments included."""
    return _MERMAID_PLAIN.sub(lambda m: f"#{ord(m.group())};", line(value))


def mermaid_id(value: object) -> str:
    """A Mermaid node id: letters, digits and ``_`` only (callers make them unique)."""
    return _MERMAID_ID.sub("_", _text(value))


def line_parts(text: str) -> list[str]:
    return text.replace("\r\n", "\n").split("\n")


# --- Markdown ---------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"[\\`*\[\]<>&|~#!]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def md_text(value: object) -> str:
    """Markdown text (a table cell, a list item): one line; every character that could start
    markup (emphasis, links, HTML, a table cell) is backslash-escaped, except ``_`` inside a
    word, which never starts emphasis (``adaptive_avgpool`` stays readable)."""
    text = line(_text(value).replace("\n", " "))
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(), text)


def md_code(value: object) -> str:
    """A Markdown code span: a fence of more backticks than any run inside, ``|`` escaped
    (GitHub splits table cells on it even in code), one line."""
    text = line(_text(value).replace("\n", " ")).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


__all__ = [
    "UNSAFE_IN_TEXT",
    "Markup",
    "color",
    "console",
    "dot",
    "element",
    "empty",
    "end",
    "line",
    "md_code",
    "md_text",
    "mermaid_comment",
    "mermaid_id",
    "mermaid_label",
    "num",
    "print_lines",
    "path_data",
    "script_json",
    "start",
    "term",
    "terminal",
    "visible",
    "xml_attr",
    "xml_text",
]
