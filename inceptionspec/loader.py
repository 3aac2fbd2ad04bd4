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
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from .errors import Budget, Collector, Loc, SpecError

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"
ALLOWED_TAGS = {STR, INT, FLOAT, BOOL, NULL, SEQ, MAP}

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


def _check_events(text: str, file: str, budget: Budget) -> None:
    """A streaming pre-pass: depth, aliases and size are checked before composing,
    because PyYAML's composer is recursive and expands aliases."""
    depth = 0
    nodes = 0
    docs = 0
    loader = _Loader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.DocumentStartEvent):
                docs += 1
                if docs > 1:
                    raise SpecError.at(
                        _mark_loc(event.start_mark, file),
                        "a spec file holds exactly one YAML document; found a second one",
                    )
            elif isinstance(event, yaml.AliasEvent):
                raise SpecError.at(
                    _mark_loc(event.start_mark, file),
                    f"YAML aliases (*{event.anchor}) are not supported",
                    "use a template to reuse a block",
                )
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                nodes += 1
                if depth > budget.max_depth:
                    raise SpecError.at(
                        _mark_loc(event.start_mark, file),
                        f"nesting deeper than {budget.max_depth} levels",
                    )
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.ScalarEvent):
                nodes += 1
            if nodes > budget.max_nodes:
                raise SpecError.at(
                    _mark_loc(event.start_mark, file),
                    f"more than {budget.max_nodes} YAML values in one file",
                )
    finally:
        loader.dispose()


def _scalar(node: ScalarNode, file: str, errors: Collector) -> Any:
    tag, value = node.tag, node.value
    if tag == STR:
        return value
    if tag == NULL:
        return None
    if tag == BOOL:
        if value in _BOOL_WORDS:
            return _BOOL_WORDS[value]
        errors.add(node_loc(node, file), f"`{value}` is not a boolean", "write true or false")
        return None
    if tag == INT:
        text = value.replace("_", "")
        if not _INT_RE.match(text):
            errors.add(node_loc(node, file), f"`{value}` is not a decimal integer")
            return None
        if len(text.lstrip("+-")) > 30:
            errors.add(node_loc(node, file), f"integer `{value[:20]}…` is too large")
            return None
        return int(text)
    if tag == FLOAT:
        text = value.lower()
        if text.endswith("inf") or text.endswith("nan"):
            errors.add(node_loc(node, file), f"`{value}` is not a finite number")
            return None
        try:
            number = float(text)
        except ValueError:
            errors.add(node_loc(node, file), f"`{value}` is not a number")
            return None
        if not math.isfinite(number):
            errors.add(node_loc(node, file), f"`{value}` is not a finite number")
            return None
        return number
    return value


def _construct(node: Node, file: str, errors: Collector) -> Any:
    if node.tag not in ALLOWED_TAGS:
        errors.add(
            node_loc(node, file),
            f"YAML tag `{node.tag.replace('tag:yaml.org,2002:', '!!')}` is not allowed",
            "specs are plain data: remove the tag",
        )
        return None
    if isinstance(node, ScalarNode):
        return _scalar(node, file, errors)
    if isinstance(node, SequenceNode):
        seq = LocList(loc=node_loc(node, file))
        for item in node.value:
            seq.append(_construct(item, file, errors))
            seq.item_locs.append(node_loc(item, file))
        return seq
    if isinstance(node, MappingNode):
        mapping = LocDict(loc=node_loc(node, file))
        for key_node, value_node in node.value:
            key = _construct(key_node, file, errors)
            key_loc = node_loc(key_node, file)
            if isinstance(key, (list, dict)):
                errors.add(key_loc, "a mapping key must be a plain name, not a list or mapping")
                continue
            if isinstance(key_node, ScalarNode) and key_node.style is None and key_node.value == "<<":
                errors.add(key_loc, "YAML merge keys (<<) are not supported")
                continue
            if key in mapping:
                first = mapping.key_locs[key]
                errors.add(
                    key_loc,
                    f"duplicate key `{key}` (first defined at line {first.line})",
                    "each key may appear once",
                )
                continue
            mapping.set(key, _construct(value_node, file, errors), key_loc, node_loc(value_node, file))
        return mapping
    return None  # pragma: no cover - PyYAML only composes the three node kinds


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


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
    try:
        _check_events(text, file, budget)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        raise SpecError.at(_mark_loc(mark, file), f"YAML syntax error: {problem}{context}") from None
    except yaml.YAMLError as exc:
        raise SpecError.at(Loc(file, 1, 1), f"YAML error: {exc}") from None
    if node is None:
        return None
    errors = Collector()
    value = _construct(node, file, errors)
    errors.raise_if_any()
    return value


def load_file(path: Path, budget: Budget | None = None, display: str | None = None) -> Any:
    """Read and parse one spec file. I/O problems raise OSError (exit code 2)."""
    budget = budget or Budget()
    file = display or str(path)
    size = path.stat().st_size
    if size > budget.max_file_bytes:
        raise SpecError.at(
            Loc(file, 1, 1),
            f"the file is {size} bytes; specs are limited to {budget.max_file_bytes} bytes",
        )
    return parse_text(decode(path.read_bytes(), file), file, budget)


def to_plain(value: Any) -> Any:
    """Strip location wrappers (for dumping or comparison)."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value
