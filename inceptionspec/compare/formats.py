"""A diff as text (rich), markdown and JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from inceptionspec.analysis.report import human
from inceptionspec.compare.network import _relative
from inceptionspec.compare.records import ADDED, CHANGED, REMOVED, RENAMED, SHAPE, BlockDiff, Change, Count, Diff
from inceptionspec.core import escape as esc
from inceptionspec.core.errors import UsageError
from inceptionspec.ops import OPS, Kernel, fmt_shape

if TYPE_CHECKING:
    from rich.console import Console

# --- presentation ------------------------------------------------------------------------

MARKS = {ADDED: "+", REMOVED: "-", CHANGED: "~", RENAMED: "~"}
STYLES = {ADDED: "green", REMOVED: "red", CHANGED: "yellow", RENAMED: "cyan"}

#: Argument types written as windows: ``kernel: 5`` reads ``5×5``.
_WINDOW_TYPES = (Kernel, Kernel | None)


def _is_window(op: str | None, field: str | None) -> bool:
    model = OPS.get(op or "")
    info = model.model_fields.get(field or "") if model else None
    return info is not None and info.annotation in _WINDOW_TYPES


def fmt_value(value: Any, op: str | None = None, field: str | None = None) -> str:
    """A value as a person reads it: ``5×5`` for a kernel of 5, ``14×14×512`` for a shape."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        joiner = "×" if all(isinstance(v, int) and not isinstance(v, bool) for v in value) else ", "
        return joiner.join(fmt_value(v) for v in value)
    if isinstance(value, int) and _is_window(op, field):
        return f"{value}×{value}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _commas(n: int) -> str:
    return f"{n:,}"


def fmt_count(count: Count, number: Callable[[int], str] = _commas) -> str:
    """``867,328 → 1,014,784 (+147,456, +17.00 %)``; one number when it did not change."""
    a = "—" if count.a is None else number(count.a)
    b = "—" if count.b is None else number(count.b)
    if not count.delta:
        return a if a == b else f"{a} → {b}"
    pct = "" if count.pct is None else f", {fmt_pct(count)}"
    return f"{a} → {b} ({fmt_delta(count, number)}{pct})"


def fmt_delta(count: Count, number: Callable[[int], str] = _commas) -> str:
    """``+147,456``, ``-3.10M``, ``=``."""
    if not count.delta:
        return "="
    return ("+" if count.delta > 0 else "-") + number(abs(count.delta))


def fmt_pct(count: Count) -> str:
    return "" if count.pct is None else f"{count.pct:+.2f} %"


def _fmt_shapes(shapes: tuple[Any, Any]) -> str:
    a, b = (None if s is None else fmt_shape(tuple(s)) for s in shapes)
    if a == b:
        return a or "—"
    return f"{a or '—'} → {b or '—'}"


def _attribute(change: Change) -> str:
    old, new = fmt_value(change.old, change.op, change.field), fmt_value(change.new, change.op, change.field)
    return f"{change.field} {old} → {new}"


def _part(change: Change) -> str:
    """A part a layer gains or loses: ``gains batch norm (momentum 0.9, epsilon 0.001)``."""
    return f"gains {change.new}" if change.kind == ADDED else f"loses {change.old}"


@dataclass(frozen=True)
class _Row:
    """One line of a report: a block, a layer or an output."""

    status: str
    name: str
    what: str
    output: str = ""
    params: str = ""
    macs: str = ""


def _plain(text: str) -> str:
    return text


def _code(name: str) -> str:
    return esc.md_code(name) if name else name


def _block_row(block: BlockDiff, quote: Callable[[str], str] = _plain, text: Callable[[str], str] = _plain) -> _Row:
    """A block's line; ``quote`` marks up names (code spans in markdown), ``text`` escapes the
    other words that come from the specs (labels, values)."""
    return _Row(
        block.status,
        block.name,
        "; ".join(_block_phrases(block, quote, text)) or "—",
        _fmt_shapes(block.output_shape),
        fmt_count(block.params),
        fmt_count(block.macs, human),
    )


def _block_phrases(
    block: BlockDiff, quote: Callable[[str], str] = _plain, text: Callable[[str], str] = _plain
) -> list[str]:
    """What changed in a block, in words; attribute changes shared by several layers are counted once."""
    if block.status in (ADDED, REMOVED):
        return [f"{block.status} ({text(block.kind)})"]
    phrases: list[str] = []
    shared: dict[str, list[str]] = {}
    for change in block.changes:
        where = quote(_relative(change.path, block.name))
        if change.entity == "block" and change.kind == RENAMED:
            phrases.append(f"renamed from {quote(change.old)}")
        elif change.entity == "block" and change.field == "input" and change.kind == CHANGED:
            phrases.append(f"reads {quote(change.new)} (was {quote(change.old)})")
        elif change.entity == "block" and change.field == "input_shape":
            phrases.append(f"input {text(_fmt_shapes((change.old, change.new)))}")
        elif change.entity == "layer" and change.kind in (ADDED, REMOVED) and change.field:
            shared.setdefault(text(_part(change)), []).append(where)
        elif change.entity == "layer" and change.kind in (ADDED, REMOVED):
            phrases.append(f"{MARKS[change.kind]}{where} ({text(change.new or change.old)})")
        elif change.entity == "layer" and change.kind == RENAMED:
            phrases.append(f"{quote(_relative(change.old, block.old_name or block.name))} renamed {where}")
        elif change.entity == "layer" and change.kind == CHANGED:
            shared.setdefault(text(_attribute(change)), []).append(where)
    for attribute, places in shared.items():
        named = ", ".join(place for place in places if place)
        phrases.append(f"{named} {attribute}".strip() if len(places) <= 3 else f"{attribute} ({len(places)} layers)")
    return phrases


def _layer_rows(block: BlockDiff) -> list[_Row]:
    """The block's layers that differ, one row each (shape and cost columns blank when unchanged)."""
    by_layer: dict[str, list[Change]] = {}
    for change in block.changes:
        if change.entity == "layer":
            by_layer.setdefault(change.path, []).append(change)
    return [_layer_row(path, changes, block) for path, changes in by_layer.items()]


def _layer_row(path: str, changes: list[Change], block: BlockDiff) -> _Row:
    status = next((c.kind for c in changes if c.kind in (ADDED, REMOVED) and not c.field), CHANGED)
    words, output, params, macs = [], "", "", ""
    for change in changes:
        if change.kind in (ADDED, REMOVED) and change.field:
            words.append(_part(change))
        elif change.kind in (ADDED, REMOVED):
            words.append(f"{change.kind}: {change.new or change.old}")
        elif change.kind == RENAMED:
            words.append(f"renamed from {_relative(change.old, block.old_name or block.name)}")
        elif change.kind == CHANGED:
            words.append(_attribute(change))
        elif change.kind == SHAPE:
            output = _fmt_shapes((change.old, change.new))
        elif change.field == "params":
            params = fmt_count(Count(change.old, change.new))
        else:
            macs = fmt_count(Count(change.old, change.new), human)
    return _Row(status, _relative(path, block.name) or path, "; ".join(words), output, params, macs)


def _output_rows(result: Diff) -> list[_Row]:
    by_output: dict[str, list[Change]] = {}
    for change in result.changes:
        if change.entity == "output":
            by_output.setdefault(change.path, []).append(change)
    rows = []
    for name, changes in by_output.items():
        status = next((c.kind for c in changes if c.kind in (ADDED, REMOVED)), CHANGED)
        words = [
            f"{c.kind}: {c.new or c.old}"
            if c.kind in (ADDED, REMOVED)
            else f"{c.field} {fmt_value(c.old)} → {fmt_value(c.new)}"
            for c in changes
        ]
        rows.append(_Row(status, name, "; ".join(words)))
    return rows


def _total_rows(result: Diff) -> list[tuple[str, str, str, str, str]]:
    totals = result.totals
    rows = [("parameters", totals.params, _commas), ("MACs", totals.macs, human), ("layers", totals.layers, _commas)]
    return [
        (
            label,
            number(count.a or 0),
            number(count.b or 0),
            fmt_delta(count, number),
            fmt_pct(count) if count.delta else "",
        )
        for label, count, number in rows
    ]


def _title(result: Diff) -> str:
    return f"{result.a.source} → {result.b.source}"


def _same(result: Diff) -> str:
    analysis = result.b.analysis
    return (
        f"{result.a.source} and {result.b.source} are identical: {len(analysis.layers)} layers, "
        f"{analysis.total_params:,} parameters, {human(analysis.macs)} MACs"
    )


def json_text(result: Diff) -> str:
    return json.dumps(result.as_dict(), indent=2)


def markdown(result: Diff, show_layers: bool = False) -> str:
    """A pull-request comment: totals, the blocks that differ, outputs, and (optionally) layers."""
    if result.identical:
        return f"**Architecture diff**: {esc.md_text(_same(result))}."
    lines = [f"### Architecture diff: {esc.md_code(result.a.source)} → {esc.md_code(result.b.source)}", ""]
    lines += ["| | A | B | Δ | % |", "|---|--:|--:|--:|--:|"]
    lines += ["| " + " | ".join(map(esc.md_text, row)) + " |" for row in _total_rows(result)]
    blocks = [_block_row(block, _code, esc.md_text) for block in result.blocks]
    if blocks:
        lines += ["", "| | block | change | output | params | MACs |", "|---|---|---|---|--:|--:|"]
        lines += [_markdown_row(row) for row in blocks]
    outputs = _output_rows(result)
    if outputs:
        lines += ["", "**Outputs**", ""]
        lines += [f"- {esc.md_code(row.name)} {esc.md_text(row.what)}" for row in outputs]
    network = [c for c in result.changes if c.entity == "network"]
    if network:
        lines += ["", "**Network**", ""]
        lines += [f"- {esc.md_text(c.path)}: {esc.md_text(_fmt_shapes((c.old, c.new)))}" for c in network]
    if show_layers:
        rows = [(block.name, row) for block in result.blocks for row in _layer_rows(block)]
        if rows:
            lines += ["", f"<details><summary>Layers that differ ({esc.num(len(rows))})</summary>", ""]
            lines += ["| | block | layer | change | output | params | MACs |", "|---|---|---|---|---|--:|--:|"]
            for block_name, row in rows:
                cells = [esc.md_code(block_name), esc.md_code(row.name), esc.md_text(row.what), esc.md_text(row.output)]
                numbers = [esc.md_text(row.params), esc.md_text(row.macs)]
                lines.append(f"| {MARKS[row.status]} | " + " | ".join([*cells, *numbers]) + " |")
            lines += ["", "</details>"]
    return "\n".join(lines)


def _markdown_row(row: _Row) -> str:
    """A block's row: ``row.what`` is already markdown (names as code spans, words escaped)."""
    cells = [esc.md_code(row.name), row.what, esc.md_text(row.output), esc.md_text(row.params), esc.md_text(row.macs)]
    return f"| {MARKS[row.status]} | " + " | ".join(cells) + " |"


def print_text(result: Diff, show_layers: bool = False, console: Console | None = None) -> None:
    """The terminal view (rich): colour only on a terminal, and never with NO_COLOR set."""
    from rich.table import Table
    from rich.text import Text

    console = console or esc.console()
    if result.identical:
        console.print(esc.term(_same(result)))
        return
    console.print(esc.term(_title(result), style="bold"))
    totals = Table.grid(padding=(0, 2))
    for justify in ("left", "right", "right", "right", "right"):
        totals.add_column(justify=justify)  # type: ignore[arg-type]
    totals.add_row("", *(esc.term(head, style="bold") for head in ("A", "B", "Δ", "")))
    for row in _total_rows(result):
        totals.add_row(*map(esc.term, row))
    console.print(totals)
    # A print per line costs rich 0.1 ms: 1 s for 10,000 blocks. The lines are printed at once.
    lines: list[Text] = [esc.term(f"{change.path}: {_fmt_shapes((change.old, change.new))}")
                         for change in result.changes if change.entity == "network"]  # fmt: skip
    width = max((len(block.name) for block in result.blocks), default=0)
    if result.blocks:
        lines.append(Text())
    for block in result.blocks:
        row = _block_row(block)
        lines.append(esc.term(f"{MARKS[row.status]} {row.name.ljust(width)}  ", style=STYLES[row.status]))
        lines[-1].append_text(esc.term(row.what))
        effects = _effects(block, row)
        if effects:
            lines.append(esc.term(" " * (width + 4) + effects, style="dim"))
        if show_layers:
            for layer in _layer_rows(block):
                lines.append(Text(" " * 4))
                lines[-1].append_text(esc.term(f"{MARKS[layer.status]} {layer.name}", style=STYLES[layer.status]))
                details = [layer.what, *(" ".join(pair) for pair in _layer_effects(layer) if pair[1])]
                lines[-1].append_text(esc.term("  " + " · ".join(d for d in details if d)))
    outputs = _output_rows(result)
    if outputs:
        lines += [Text(), esc.term("outputs", style="bold")]
        for row in outputs:
            lines.append(esc.term(f"{MARKS[row.status]} {row.name}  ", style=STYLES[row.status]))
            lines[-1].append_text(esc.term(row.what))
    esc.print_lines(console, lines)


def _effects(block: BlockDiff, row: _Row) -> str:
    """The shape and cost effects under a block's line."""
    parts = []
    if block.output_shape[0] != block.output_shape[1]:
        parts.append(f"output {row.output}")
    if block.params.delta:
        parts.append(f"params {row.params}")
    if block.macs.delta:
        parts.append(f"MACs {row.macs}")
    return " · ".join(parts)


def _layer_effects(row: _Row) -> list[tuple[str, str]]:
    return [("output", row.output), ("params", row.params), ("MACs", row.macs)]


def _print_json(result: Diff, show_layers: bool) -> None:
    click.echo(json_text(result))


def _print_markdown(result: Diff, show_layers: bool) -> None:
    click.echo(markdown(result, show_layers))


PRINTERS: dict[str, Callable[[Diff, bool], None]] = {
    "text": print_text,
    "json": _print_json,
    "markdown": _print_markdown,
}


def print_result(result: Diff, fmt: str, show_layers: bool) -> None:
    """Print a diff as ``text`` (rich), ``json`` (nothing else on stdout) or ``markdown``."""
    try:
        printer = PRINTERS[fmt]
    except KeyError:
        raise UsageError(f"unknown diff format {fmt!r}; choose text, json or markdown") from None
    printer(result, show_layers)
