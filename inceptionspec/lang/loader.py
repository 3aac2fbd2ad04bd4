"""Stage 1 — load: safe YAML into plain data that remembers where every value came from.

Only the YAML core schema is understood (YAML 1.2 style): ``true``/``false``,
``null``/``~``, decimal integers and floats including ``1e-3``.  Everything else
is a string, so ``no``/``on``/``yes`` never silently become booleans and
``010`` is never octal.  Explicit tags other than the core ones, aliases,
duplicate keys, deep nesting and oversized files are located errors.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import Node, ScalarNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from inceptionspec.core.budget import Budget
from inceptionspec.core.errors import Collector, Loc, SpecError
from inceptionspec.core.escape import UNSAFE_IN_TEXT, visible
from inceptionspec.core.files import read_bounded

try:  # libyaml's parser: the same events as PyYAML's, about 50 times faster
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CParser = None

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"
ALLOWED_TAGS = {STR, INT, FLOAT, BOOL, NULL, SEQ, MAP}
_SCALAR_TAGS = {STR, INT, FLOAT, BOOL, NULL}
#: Integer literals longer than this are refused before Python converts them.
MAX_DIGITS = 30

_INT_RE = re.compile(r"^[-+]?[0-9]+$")
_FLOAT_RE = re.compile(
    r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$|^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$"
)
_BOOL_WORDS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULL_WORDS = {"", "~", "null", "Null", "NULL"}
# YAML 1.1 spellings that other tools read as booleans; we keep them as strings
# and say so when a boolean was expected.
YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n", "Yes", "No", "On", "Off", "YES", "NO", "ON", "OFF"}


class _CoreResolver(BaseResolver):
    """Resolves plain scalars by the YAML 1.2 core schema, not YAML 1.1."""


for _tag, _regexp, _first in [
    (BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")),
    (NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]),
    (INT, _INT_RE, list("-+0123456789")),
    (FLOAT, _FLOAT_RE, list("-+0123456789.")),
]:
    _CoreResolver.add_implicit_resolver(_tag, _regexp, _first)


class _Loader(Reader, Scanner, Parser, Composer, _CoreResolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _CoreResolver.__init__(self)


class LocDict(dict):
    """A mapping that knows where it, each key and each value were written."""

    __slots__ = ("loc", "key_locs", "value_locs")

    def __init__(self, *args: Any, loc: Loc | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loc: Loc | None = loc
        self.key_locs: dict[Any, Loc] = {}
        self.value_locs: dict[Any, Loc] = {}

    def set(self, key: Any, value: Any, key_loc: Loc | None, value_loc: Loc | None) -> None:
        self[key] = value
        if key_loc is not None:
            self.key_locs[key] = key_loc
        if value_loc is not None:
            self.value_locs[key] = value_loc

    def key_loc(self, key: Any) -> Loc | None:
        return self.key_locs.get(key, self.loc)

    def value_loc(self, key: Any) -> Loc | None:
        return self.value_locs.get(key, self.key_locs.get(key, self.loc))


class LocList(list):
    """A sequence that knows where it and each item were written."""

    __slots__ = ("loc", "item_locs")

    def __init__(self, *args: Any, loc: Loc | None = None) -> None:
        super().__init__(*args)
        self.loc: Loc | None = loc
        self.item_locs: list[Loc | None] = []

    def item_loc(self, index: int) -> Loc | None:
        if 0 <= index < len(self.item_locs) and self.item_locs[index] is not None:
            return self.item_locs[index]
        return self.loc


def node_loc(node: Node, file: str) -> Loc:
    return Loc(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _mark_loc(mark: Any, file: str) -> Loc:
    if mark is None:
        return Loc(file, 1, 1)
    return Loc(file, mark.line + 1, mark.column + 1)


_REFUSED = object()  # a scalar already reported: None as a value, dropped silently as a key


def _scalar(tag: str, value: str, loc: Loc, errors: Collector) -> Any:
    if tag == STR:
        bad = UNSAFE_IN_TEXT.search(value)
        if bad:
            # Written as an escape ("\e", "\0", "\u202e"): the check of the raw text cannot see it.
            errors.add(
                loc,
                f"control character {visible(bad.group())} is not allowed in a string",
                "specs hold plain text: names, titles and descriptions print on terminals and in pictures",
            )
            return _REFUSED
        return value
    if tag == NULL:
        if value in _NULL_WORDS:
            return None
        errors.add(loc, f"`{_short(value)}` is not null", "write null or ~")
        return _REFUSED
    if tag == BOOL:
        if value in _BOOL_WORDS:
            return _BOOL_WORDS[value]
        errors.add(loc, f"`{_short(value)}` is not a boolean", "write true or false")
        return _REFUSED
    if tag == INT:
        text = value.replace("_", "")
        if not _INT_RE.match(text):
            errors.add(loc, f"`{_short(value)}` is not a decimal integer")
            return _REFUSED
        if len(text.lstrip("+-")) > MAX_DIGITS:
            errors.add(loc, f"integer `{value[:20]}…` is too large ({len(text.lstrip('+-'))} digits)")
            return _REFUSED
        return int(text)
    if tag == FLOAT:
        text = value.lower()
        if text.endswith("inf") or text.endswith("nan"):
            errors.add(loc, f"`{_short(value)}` is not a finite number")
            return _REFUSED
        try:
            number = float(text)
        except ValueError:
            errors.add(loc, f"`{_short(value)}` is not a number")
            return _REFUSED
        if not math.isfinite(number):
            errors.add(loc, f"`{_short(value)}` is not a finite number")
            return _REFUSED
        return number
    return value  # pragma: no cover - only the tags above reach here


_TYPE_NAMES = {bool: "boolean", int: "integer", float: "number"}


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _tag_name(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


class _Frame:
    """An open sequence or mapping while the event stream is composed."""

    __slots__ = ("value", "loc", "ok", "key", "key_loc")

    def __init__(self, value: LocDict | LocList, loc: Loc, ok: bool) -> None:
        self.value = value
        self.loc = loc
        self.ok = ok  # False: a refused tag; the collection is read (for its errors) and then dropped
        self.key: Any = _NO_KEY
        self.key_loc: Loc | None = None


_NO_KEY = object()  # the next node of a mapping is a key
_SKIP = object()  # the key was refused: read its value, then drop it


def _parser(text: str, pure: bool = False) -> Any:
    """libyaml's event parser when PyYAML was built with it (fast, and the time bounds in
    docs/threat-model.md assume it), else PyYAML's pure-Python one."""
    if _CParser is not None and not pure:
        return _CParser(text)
    return _Loader(text)


def _compose(text: str, file: str, budget: Budget, pure: bool = False) -> Any:
    """Located data from the YAML event stream, in one pass and without recursion.

    The bounds (depth, number of values, one document, no aliases) are checked as
    events arrive, so nothing is built beyond them; the core-schema errors (tags,
    duplicate and merge keys, numbers) are collected and raised together."""
    errors = Collector()
    resolver = _CoreResolver()
    stack: list[_Frame] = []
    result: Any = None
    docs = nodes = 0
    parser = _parser(text, pure)

    def attach(value: Any, loc: Loc, collection: bool, merge_key: bool) -> None:
        nonlocal result
        refused = value is _REFUSED
        if refused:
            value = None
        if not stack:
            result = value
            return
        frame = stack[-1]
        container = frame.value
        if isinstance(container, LocList):
            container.append(value)
            container.item_locs.append(loc)
        elif frame.key is _NO_KEY:
            frame.key, frame.key_loc = _SKIP, loc
            if refused:
                pass
            elif collection:
                errors.add(loc, "a mapping key must be a plain name, not a list or mapping")
            elif merge_key:
                errors.add(loc, "YAML merge keys (<<) are not supported", "write the keys out")
            elif not isinstance(value, str):
                # `1` and `true` are different keys in YAML but the same in a Python dict; no key of the
                # language is anything but a name, so say that, rather than "duplicate key `True`".
                shown = str(value).lower() if isinstance(value, bool) else value
                what = "null" if value is None else f"the {_TYPE_NAMES.get(type(value), 'value')} `{shown}`"
                errors.add(loc, f"a mapping key must be a name, not {what}", "quote it to make it a string")
            elif value in container:
                first = container.key_locs[value]
                errors.add(
                    loc, f"duplicate key `{value}` (first defined at line {first.line})", "each key may appear once"
                )
            else:
                frame.key = value
        else:
            if frame.key is not _SKIP:
                container.set(frame.key, value, frame.key_loc, loc)
            frame.key = _NO_KEY

    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, yaml.ScalarEvent):
                nodes += 1
                loc = _mark_loc(event.start_mark, file)
                if nodes > budget.max_nodes:
                    raise SpecError.at(loc, f"more than {budget.max_nodes} YAML values in one file")
                tag = event.tag
                if tag is None or tag == "!":
                    tag = resolver.resolve(ScalarNode, event.value, event.implicit)
                if tag not in _SCALAR_TAGS:
                    errors.add(loc, _tag_error(tag, "a scalar"), "specs are plain data: remove the tag")
                    value = _REFUSED
                else:
                    value = _scalar(tag, event.value, loc, errors)
                merge_key = event.value == "<<" and not event.style and event.tag is None
                attach(value, loc, False, merge_key)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                nodes += 1
                loc = _mark_loc(event.start_mark, file)
                if len(stack) + 1 > budget.max_depth:
                    raise SpecError.at(loc, f"nesting deeper than {budget.max_depth} levels")
                if nodes > budget.max_nodes:
                    raise SpecError.at(loc, f"more than {budget.max_nodes} YAML values in one file")
                mapping = isinstance(event, yaml.MappingStartEvent)
                tag = event.tag
                if tag is None or tag == "!":
                    tag = MAP if mapping else SEQ
                ok = tag == (MAP if mapping else SEQ)
                if not ok:
                    errors.add(
                        loc,
                        _tag_error(tag, "a mapping" if mapping else "a list"),
                        "specs are plain data: remove the tag",
                    )
                stack.append(_Frame(LocDict(loc=loc) if mapping else LocList(loc=loc), loc, ok))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                attach(frame.value if frame.ok else None, frame.loc, True, False)
            elif isinstance(event, yaml.AliasEvent):
                raise SpecError.at(
                    _mark_loc(event.start_mark, file),
                    f"YAML aliases (*{event.anchor}) are not supported",
                    "use a template to reuse a block",
                )
            elif isinstance(event, yaml.DocumentStartEvent):
                docs += 1
                if docs > 1:
                    raise SpecError.at(
                        _mark_loc(event.start_mark, file),
                        "a spec file holds exactly one YAML document; found a second one",
                    )
    except yaml.MarkedYAMLError as exc:
        if not pure and "maximum nesting depth" in str(exc.problem):
            # libyaml scans ahead and stops at its own limit (~1000 flow levels) before our
            # depth bound sees the events; the pure-Python parser reaches our bound first.
            parser.dispose()
            return _compose(text, file, budget, pure=True)
        raise _syntax_error(exc, text, file) from None
    except yaml.YAMLError as exc:
        raise SpecError.at(Loc(file, 1, 1), f"YAML error: {str(exc).splitlines()[0]}") from None
    finally:
        parser.dispose()
    errors.raise_if_any()
    return result


def _tag_error(tag: str, what: str) -> str:
    if tag in ALLOWED_TAGS:
        return f"YAML tag `{_tag_name(tag)}` does not fit {what}"
    return f"YAML tag `{_tag_name(tag)}` is not allowed"


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, file: str) -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    loc = _mark_loc(mark, file)
    problem = exc.problem or exc.context or "invalid YAML"
    context = f" ({exc.context})" if exc.context and exc.problem else ""
    hint = None
    if "cannot start any token" in problem:
        char = _char_at(text, loc.line, loc.col)
        if char:
            problem = f"found character {char!r} that cannot start any token"
        if char == "\t":
            hint = "YAML indents with spaces, not tabs"
    return SpecError.at(loc, f"YAML syntax error: {problem}{context}", hint)


def _char_at(text: str, line: int, col: int) -> str | None:
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return None
    index = start + col - 1
    return text[index] if index < len(text) and text[index] != "\n" else None


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


# Characters YAML forbids in a stream: C0 controls but tab, LF and CR; DEL; C1 controls but NEL; surrogates,
# U+FFFE and U+FFFF (what PyYAML's reader rejects, found here with a location).
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def decode(data: bytes, file: str) -> str:
    """Bytes to text: UTF-8 only, no NUL bytes (a binary file is a located error)."""
    if b"\x00" in data:
        line, col = _position(data.decode("latin-1"), data.index(b"\x00"))
        raise SpecError.at(Loc(file, line, col), "this is a binary file, not a YAML spec")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _position(data[: exc.start].decode("utf-8", "replace"), exc.start)
        raise SpecError.at(
            Loc(file, line, col), f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})"
        ) from None
    return text.removeprefix("\ufeff")


def parse_text(text: str, file: str, budget: Budget | None = None) -> Any:
    """Parse YAML text into LocDict/LocList/scalars with source positions."""
    budget = budget or Budget()
    bad = _NOT_PRINTABLE.search(text)
    if bad:
        line, col = _position(text, bad.start())
        raise SpecError.at(
            Loc(file, line, col),
            f"control character U+{ord(bad.group()):04X} is not allowed in YAML",
            "remove it, or write it as an escape in a double-quoted string",
        )
    return _compose(text, file, budget)


def load_file(path: Path, budget: Budget | None = None, display: str | None = None) -> Any:
    """Read and parse one spec file; SourceError (exit code 2) when it cannot be read.

    Only a regular file is read (:func:`inceptionspec.core.files.read_bounded`): at most
    ``max_file_bytes + 1`` bytes, whatever ``stat`` said (a file can grow, and ``/proc`` files say
    they are empty), never blocking."""
    budget = budget or Budget()
    file = display or str(path)
    limit = budget.max_file_bytes
    data = read_bounded(path, limit, file)
    if len(data) > limit:
        size = path.stat().st_size
        shown = f"{size} bytes" if size > limit else f"more than {limit} bytes"
        raise SpecError.at(Loc(file, 1, 1), f"the file is {shown}; specs are limited to {limit} bytes")
    return parse_text(decode(data, file), file, budget)


def located(value: Any, loc: Loc) -> Any:
    """Plain Python data (overrides given from Python) as located data, all at ``loc``."""
    if isinstance(value, dict):
        out = LocDict(loc=loc)
        for key, item in value.items():
            out.set(key, located(item, loc), loc, loc)
        return out
    if isinstance(value, (list, tuple)):
        seq = LocList([located(item, loc) for item in value], loc=loc)
        seq.item_locs = [loc] * len(seq)
        return seq
    return value


def copy_tree(value: Any) -> Any:
    """A copy of located data in which every mapping and list is new (scalars and locations are
    immutable and shared): edits to the copy never reach the original."""
    if isinstance(value, LocDict):
        out = LocDict({k: copy_tree(v) for k, v in value.items()}, loc=value.loc)
        out.key_locs, out.value_locs = dict(value.key_locs), dict(value.value_locs)
        return out
    if isinstance(value, LocList):
        seq = LocList([copy_tree(v) for v in value], loc=value.loc)
        seq.item_locs = list(value.item_locs)
        return seq
    if isinstance(value, dict):
        return {k: copy_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_tree(v) for v in value]
    return value


def to_plain(value: Any) -> Any:
    """Strip location wrappers (for dumping or comparison)."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value
