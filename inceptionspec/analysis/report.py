"""Human-readable views of an analysis: a terminal table (rich) and markdown."""

from __future__ import annotations

from inceptionspec.analysis import Analysis
from inceptionspec.core import escape as esc
from inceptionspec.ops import fmt_shape


def human(n: int) -> str:
    """1234567 → 1.23M."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.2f}{unit}"
    return str(n)


def _rows(analysis: Analysis, layers: bool) -> list[tuple[str, str, str, str, str]]:
    if layers:
        return [(s.name, s.label, fmt_shape(s.output_shape), f"{s.params:,}", human(s.macs)) for s in analysis.layers]
    return [(b.name, b.kind, fmt_shape(b.output_shape), f"{b.params:,}", human(b.macs)) for b in analysis.blocks]


def _totals(analysis: Analysis) -> list[str]:
    outputs = ", ".join(f"{o['name']} {fmt_shape(tuple(o['shape']))}" for o in analysis.outputs)
    return [
        f"total parameters: {analysis.total_params:,} "
        f"(trainable {analysis.trainable_params:,}, non-trainable {analysis.non_trainable_params:,})",
        f"multiply-adds: {analysis.macs:,} ({human(analysis.macs)})",
        f"outputs: {outputs}",
    ]


def table(analysis: Analysis, layers: bool = False) -> None:
    """The terminal table: every cell a rich ``Text`` made by :func:`esc.term` (never markup)."""
    from rich.table import Table

    console = esc.console(soft_wrap=False)
    title = esc.term(f"{analysis.name}: input {fmt_shape(analysis.input_shape)}")
    t = Table(title=title, title_justify="left", header_style="bold")
    t.add_column("layer" if layers else "block")
    t.add_column("op" if layers else "type")
    t.add_column("output", justify="right")
    t.add_column("params", justify="right")
    t.add_column("MACs", justify="right")
    for row in _rows(analysis, layers):
        t.add_row(*map(esc.term, row))
    console.print(t)
    for line in _totals(analysis):
        console.print(esc.term(line))


def markdown(analysis: Analysis, layers: bool = False) -> str:
    """A markdown table; every cell :func:`esc.md_text` (no user text can start markup)."""
    head = "| layer | op | output | params | MACs |" if layers else "| block | type | output | params | MACs |"
    title = f"**{esc.md_text(analysis.name)}** — input {esc.md_text(fmt_shape(analysis.input_shape))}"
    lines = [title, "", head, "|---|---|--:|--:|--:|"]
    lines += ["| " + " | ".join(map(esc.md_text, row)) + " |" for row in _rows(analysis, layers)]
    lines.append("")
    lines += [f"- {esc.md_text(line)}" for line in _totals(analysis)]
    return "\n".join(lines)
