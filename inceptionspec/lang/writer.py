"""Writing a spec as text, the way the shipped specs are written, from a plain-Python draft.

The draft (:class:`Draft`: ops, blocks, templates, heads, defaults) says *what* to write; this module
decides only how it looks: one line per op (``- conv: {filters: 64, kernel: 3}``), a branch of short
ops on one line, blocks and templates as nested mappings. Every string is written so that it reads
back as the same string: a name that YAML could take for a number, a boolean or null, and any text
with other characters, is quoted; comment lines hold printable ASCII only. Nothing here knows where
the draft came from (the importer builds it); ``inceptionspec import`` reads the text back through
the whole front end before it writes a file.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from inceptionspec.ops import USER_OPS

#: Lines longer than this are broken (a flow mapping or list becomes a block one).
LINE_WIDTH = 110
INDENT = 2

_PLAIN = re.compile(r"^(?:\$?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*|[1-9][0-9]*x[0-9]+[A-Za-z0-9_]*)$")
_PLAIN_WORDS = frozenset(
    {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "inf", "nan", "infinity"}
)  # read as booleans, null or numbers by one YAML parser or another


@dataclass
class OpItem:
    """``- kind: {args}``; ``args`` are the arguments to write (defaults already left out)."""

    kind: str
    args: dict[str, Any] = field(default_factory=dict)
    name: str | None = None


@dataclass
class BlockItem:
    """``- name: ...``: inline branches (with a merge), a sequence of ``layers``, or a template call."""

    name: str
    branches: dict[str, list[Item]] | None = None
    merge: Any = "concat"
    layers: list[Item] | None = None
    template: str | None = None
    #: A template call's arguments, positional (None: the template has no parameters).
    args: list[Any] | None = None
    repeat: int = 1


Item = OpItem | BlockItem


@dataclass
class TemplateDef:
    params: list[str] = field(default_factory=list)
    branches: dict[str, list[Item]] | None = None
    merge: Any = "concat"
    layers: list[Item] | None = None


@dataclass
class HeadDef:
    layers: list[Item]
    tap: str | None = None
    training_only: bool = False


@dataclass
class Draft:
    name: str
    input: list[int]
    stages: list[Item]
    classes: int | None = None
    title: str | None = None
    #: Comment lines at the top (written as printable ASCII).
    header: list[str] = field(default_factory=list)
    defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    templates: dict[str, TemplateDef] = field(default_factory=dict)
    heads: dict[str, HeadDef] = field(default_factory=dict)


# --- scalars and flow values -----------------------------------------------------------------


def scalar(value: Any) -> str:
    """A scalar as YAML that reads back as the same value (and type)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value!r} in a spec")
        return repr(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _PLAIN_WORDS:
        return text
    return json.dumps(text, ensure_ascii=True)  # a JSON string is a valid YAML double-quoted scalar


def flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def comment(text: str) -> str:
    """A comment line: printable ASCII only (no line break can end it early)."""
    safe = "".join(c if 32 <= ord(c) < 127 else "?" for c in text)
    return f"# {safe}".rstrip()


def op_text(op: OpItem, in_flow: bool = False) -> str:
    """``conv: {filters: 64, kernel: 3}``, ``dropout: 0.4``, ``flatten:`` (``flatten: null`` inside ``[...]``)."""
    args = dict(op.args)
    if op.name is not None:
        args = {"name": op.name, **args}
    shorthand = USER_OPS[op.kind].shorthand if op.kind in USER_OPS else None
    if not args:
        return f"{op.kind}: null" if in_flow else f"{op.kind}:"
    if op.name is None and shorthand and list(args) == [shorthand] and not isinstance(args[shorthand], dict):
        return f"{op.kind}: {flow(args[shorthand])}"
    return f"{op.kind}: {flow(args)}"


# --- blocks ------------------------------------------------------------------------------------


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def line(self, indent: int, text: str) -> None:
        self.lines.append(" " * indent + text)

    def mapping_value(self, indent: int, key: str, value: Any) -> None:
        """``key: {flow}`` when it fits, else a block mapping."""
        text = f"{scalar(key)}: {flow(value)}"
        if len(text) + indent <= LINE_WIDTH or not isinstance(value, dict):
            self.line(indent, text)
            return
        self.line(indent, f"{scalar(key)}:")
        for k, v in value.items():
            self.mapping_value(indent + INDENT, k, v)

    def items(self, indent: int, items: list[Item]) -> None:
        for item in items:
            if isinstance(item, OpItem):
                self.line(indent, "- " + op_text(item))
            else:
                self.block(indent, item)

    def block(self, indent: int, block: BlockItem) -> None:
        key = scalar(block.name)
        if block.template is not None:
            call: dict[str, Any] = {block.template: block.args}
            if block.repeat > 1:
                call["repeat"] = block.repeat
            self.line(indent, f"- {key}: {flow(call)}")
            return
        self.line(indent, f"- {key}:")
        self.body(indent + 4, block.branches, block.merge, block.layers, block.repeat)

    def body(
        self, indent: int, branches: dict[str, list[Item]] | None, merge: Any, layers: list[Item] | None, repeat: int
    ) -> None:
        if repeat > 1:
            self.line(indent, f"repeat: {repeat}")
        if branches is not None:
            self.line(indent, "branches:")
            for name, items in branches.items():
                self.branch(indent + INDENT, name, items)
            if merge != "concat":
                self.line(indent, f"merge: {flow(merge)}")
        else:
            self.line(indent, "layers:")
            self.items(indent + INDENT, layers or [])

    def branch(self, indent: int, name: str, items: list[Item]) -> None:
        if all(isinstance(i, OpItem) for i in items):
            text = f"{scalar(name)}: [" + ", ".join(op_text(i, in_flow=True) for i in items) + "]"  # type: ignore[arg-type]
            if len(text) + indent <= LINE_WIDTH:
                self.line(indent, text)
                return
        self.line(indent, f"{scalar(name)}:")
        self.items(indent + INDENT, items)


def write(draft: Draft) -> str:
    """The spec text of a draft."""
    w = _Writer()
    for text in draft.header:
        w.lines.append(comment(text))
    w.line(0, "version: 1")
    w.line(0, f"name: {scalar(draft.name)}")
    if draft.title:
        w.line(0, f"title: {scalar(draft.title)}")
    w.line(0, f"input: {flow(draft.input)}")
    if draft.classes is not None:
        w.line(0, f"classes: {draft.classes}")
    if draft.defaults:
        w.lines.append("")
        w.line(0, "defaults:")
        for kind, args in draft.defaults.items():
            w.mapping_value(INDENT, kind, args)
    if draft.templates:
        w.lines.append("")
        w.line(0, "templates:")
        for name, template in draft.templates.items():
            w.line(INDENT, f"{scalar(name)}:")
            if template.params:
                w.line(2 * INDENT, f"params: {flow(template.params)}")
            w.body(2 * INDENT, template.branches, template.merge, template.layers, 1)
    w.lines.append("")
    w.line(0, "stages:")
    w.items(INDENT, draft.stages)
    if draft.heads:
        w.lines.append("")
        w.line(0, "heads:")
        for name, head in draft.heads.items():
            w.line(INDENT, f"{scalar(name)}:")
            if head.tap is not None:
                w.line(2 * INDENT, f"from: {scalar(head.tap)}")
            if head.training_only:
                w.line(2 * INDENT, "training_only: true")
            w.line(2 * INDENT, "layers:")
            w.items(3 * INDENT, head.layers)
    return "\n".join(w.lines) + "\n"
