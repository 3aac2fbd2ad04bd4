"""Human-readable views of an analysis: a terminal table (rich) and markdown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inceptionspec.analysis import Analysis
from inceptionspec.core import escape as esc

if TYPE_CHECKING:
    from rich.text import Text
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


def elide(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, shortened in the middle (``mixed_5b.bra…0.conv``), so
    both the block a name starts with and the layer it ends with stay readable."""
    if len(text) <= width:
        return text
    if width < 3:
        return text[:width]
    tail = (width - 1) // 2
    return f"{text[: width - 1 - tail]}…{text[len(text) - tail :]}"


#: The name column never gets narrower than this, however narrow the terminal.
MIN_NAME_WIDTH = 16
#: Tables longer than this print as aligned columns: rich's table costs 0.4 ms a row, 2 s for a
#: network at the layer bound.
RICH_ROWS = 1000
_RIGHT = (False, False, True, True, True)


def table(analysis: Analysis, layers: bool = False) -> None:
    """The terminal table: every cell shown safely (:func:`esc.line`) in a rich ``Text`` (never
    markup)."""
    from rich.cells import cell_len
    from rich.table import Table

    console = esc.console(soft_wrap=False)
    title = esc.term(f"{analysis.name}: input {fmt_shape(analysis.input_shape)}")
    headers = ("layer" if layers else "block", "op" if layers else "type", "output", "params", "MACs")
    rows = [tuple(map(esc.line, row)) for row in _rows(analysis, layers)]
    widths = [max(cell_len(cell) for cell in column) for column in zip(headers, *rows, strict=False)]
    # The other columns keep their width; the name column gets the rest of the line (a table of
    # n columns spends 3n + 1 cells on borders and padding) and long names lose their middle.
    room = max(MIN_NAME_WIDTH, console.width - (3 * len(headers) + 1) - sum(widths[1:]))
    if widths[0] > room:
        rows = [(elide(row[0], room), *row[1:]) for row in rows]
    if len(rows) > RICH_ROWS:
        esc.print_lines(console, _columns(title, headers, rows))
    else:
        t = Table(title=title, title_justify="left", header_style="bold")
        t.add_column(headers[0], no_wrap=True)
        t.add_column(headers[1])
        for header in headers[2:]:
            t.add_column(header, justify="right", no_wrap=True)
        for row in rows:
            t.add_row(*map(esc.term, row))
        console.print(t)
    for line in _totals(analysis):
        console.print(esc.term(line))


def _columns(title: Text, heads: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[Text]:
    """A long table as aligned columns, one Text a line."""
    from rich.cells import cell_len
    from rich.text import Text

    cells = [[esc.line(cell) for cell in row] for row in rows]
    widths = [max([cell_len(h), *(cell_len(row[i]) for row in cells)]) for i, h in enumerate(heads)]

    def line(values: list[str] | tuple[str, ...]) -> str:
        padded = [
            " " * (w - cell_len(v)) + v if right else v + " " * (w - cell_len(v))
            for v, w, right in zip(values, widths, _RIGHT, strict=True)
        ]
        return "  ".join(padded).rstrip()

    rule = Text("  ".join("─" * w for w in widths))
    return [title, esc.term(line(heads), style="bold"), rule, *(Text(line(row)) for row in cells)]


def markdown(analysis: Analysis, layers: bool = False) -> str:
    """A markdown table; every cell :func:`esc.md_text` (no user text can start markup)."""
    head = "| layer | op | output | params | MACs |" if layers else "| block | type | output | params | MACs |"
    title = f"**{esc.md_text(analysis.name)}** — input {esc.md_text(fmt_shape(analysis.input_shape))}"
    lines = [title, "", head, "|---|---|--:|--:|--:|"]
    lines += ["| " + " | ".join(map(esc.md_text, row)) + " |" for row in _rows(analysis, layers)]
    lines.append("")
    lines += [f"- {esc.md_text(line)}" for line in _totals(analysis)]
    return "\n".join(lines)
