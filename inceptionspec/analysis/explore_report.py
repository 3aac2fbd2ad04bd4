"""The outputs of ``scale`` and ``sweep`` as text: the before/after table, the variant file, sweep rows
as a terminal table, CSV and JSON.

Every string a spec or the command line can influence is escaped for where it lands: terminal
cells show control characters as visible escapes, and CSV cells that a spreadsheet would read as
a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) are prefixed with
``'`` unless they are plain numbers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import yaml

from inceptionspec.analysis.cost import Cost
from inceptionspec.analysis.family import Family, Member
from inceptionspec.analysis.fit import Fit, Point
from inceptionspec.analysis.report import human
from inceptionspec.analysis.sweep import Row, short_value
from inceptionspec.core import escape as esc
from inceptionspec.core.escape import line
from inceptionspec.ops import fmt_shape

# --- scale ------------------------------------------------------------------------------------


def knobs(family: Family, member: Member) -> dict[str, Any]:
    """The knob values of a member (the spec's own where the member keeps them)."""
    height, width = member.size if member.size is not None else family.input[:2]
    return {
        "width": family.width if member.width is None else member.width,
        "depth": family.depth if member.depth is None else member.depth,
        "input": [height, width, *family.input[2:]],
    }


def cost_dict(cost: Cost) -> dict[str, Any]:
    return {
        "params": cost.params,
        "macs": cost.macs,
        "peak_activation_bytes": cost.peak_activation_bytes,
        "layers": cost.layers,
    }


def point_dict(family: Family, point: Point | None) -> dict[str, Any] | None:
    if point is None:
        return None
    out = {**knobs(family, point.member), **cost_dict(point.cost)}
    if point.phi is not None:
        out["phi"] = point.phi
    return out


def variant(fit: Fit, family: Family, name: str, extends: str) -> str:
    """The variant file: ``extends`` and the knobs that changed, nothing copied from the parent."""
    member, cost = fit.after.member, fit.after.cost
    limits = [f"{what} ≤ {v:,}" for what, v in (("MACs", fit.budget.macs), ("params", fit.budget.params)) if v]
    model = "with its training-only heads" if family.include_aux else "inference model"
    doc: dict[str, Any] = {
        "version": 1,
        "name": name,
        "extends": extends,
        "description": (
            f"{family.name} scaled by {fit.axis} to {', '.join(limits)} ({model}): {cost.macs:,} multiply-adds, "
            f"{cost.params:,} parameters. Written by `inceptionspec scale`."
        ),
    }
    if member.width is not None:
        doc["width"] = {"multiplier": member.width}
    if member.depth is not None:
        doc["depth"] = {"multiplier": member.depth}
    if member.size is not None:
        doc["input"] = [*member.size, *family.input[2:]]
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


class _Dumper(yaml.SafeDumper):
    """Lists of scalars on one line (``input: [160, 160, 3]``)."""


def _flow_list(dumper: yaml.SafeDumper, value: list) -> yaml.Node:
    flow = all(not isinstance(v, (list, dict)) for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flow)


_Dumper.add_representer(list, _flow_list)


def _share(value: int, limit: int | None) -> str:
    return "—" if limit is None else f"{human(limit)} ({100 * value / limit:.1f} %)"


def scale_lines(fit: Fit, family: Family) -> list[tuple[str, str, str, str]]:
    """The before/after table: (what, before, after, budget) rows."""
    before, after = knobs(family, fit.before.member), knobs(family, fit.after.member)
    b, a = fit.before.cost, fit.after.cost
    return [
        ("MACs", human(b.macs), human(a.macs), _share(a.macs, fit.budget.macs)),
        ("parameters", human(b.params), human(a.params), _share(a.params, fit.budget.params)),
        ("peak activations", _bytes(b.peak_activation_bytes), _bytes(a.peak_activation_bytes), ""),
        ("layers", str(b.layers), str(a.layers), ""),
        ("width multiplier", f"{before['width']:g}", f"{after['width']:g}", ""),
        ("depth multiplier", f"{before['depth']:g}", f"{after['depth']:g}", ""),
        ("input", fmt_shape(tuple(before["input"])), fmt_shape(tuple(after["input"])), ""),
    ]


def scale_text(fit: Fit, family: Family, source: str, name: str) -> str:
    """The terminal report of ``scale``: a heading, the table and a note on granularity."""
    limits = [f"{what} ≤ {human(v)}" for what, v in (("MACs", fit.budget.macs), ("params", fit.budget.params)) if v]
    model = "with training-only heads" if family.include_aux else "inference model"
    how = f"by {fit.axis}"
    if fit.coefficients is not None:
        alpha, beta, gamma = fit.coefficients
        how += f" (α {alpha:g}, β {beta:g}, γ {gamma:g}; φ {fit.after.phi:g})"
    rows = scale_lines(fit, family)
    heads = ("", "before", "after", "budget")
    widths = [max(len(r[i]) for r in [heads, *rows]) for i in range(4)]
    out = [f"{line(source)} → {line(name)}, {how}: {', '.join(limits)} ({model})", ""]
    for row in [heads, *rows]:
        out.append(
            "  ".join(
                [row[0].ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))]
            ).rstrip()
        )
    out.append("")
    shares = fit.budget.shares(fit.after.cost)
    used = max(shares.values())
    if fit.close:
        out.append(f"uses {100 * used:.1f} % of the budget ({fit.analyses} static analyses)")
    elif fit.above is None:
        out.append(f"uses {100 * used:.1f} % of the budget: no larger variant by {fit.axis} is valid")
    else:
        out.append(f"uses {100 * used:.1f} % of the budget: the family's steps are coarser than 5 % here")
    if fit.above is not None:
        step = knobs(family, fit.above.member)
        what = {"width": f"width {step['width']:g}", "depth": f"depth {step['depth']:g}"}.get(
            fit.axis, f"input {fmt_shape(tuple(step['input']))}"
        )
        if fit.axis == "compound":
            what = f"width {step['width']:g}, depth {step['depth']:g}, input {fmt_shape(tuple(step['input']))}"
        out.append(
            f"the next step up ({what}) costs {human(fit.above.cost.macs)} MACs, {human(fit.above.cost.params)} params"
        )
    return "\n".join(out)


def _bytes(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


# --- sweep ------------------------------------------------------------------------------------


def csv_cell(value: Any) -> str:
    """A CSV cell: numbers as numbers; text a spreadsheet would run as a formula (starting with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return) gets a ``'`` in front; lists and mappings as JSON."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return short_value(value)
    if isinstance(value, (list, dict)):
        text = line(json.dumps(value, ensure_ascii=False))
    else:
        text = line(value) if isinstance(value, str) else short_value(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def sweep_csv(rows: Sequence[Row], paths: Sequence[str]) -> str:
    measured = any(row.latency_ms is not None for row in rows)
    head = [*paths, "params", "macs", "peak_activation_bytes", "valid", "error"]
    if measured:
        head += ["latency_ms", "throughput"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_cell(h) for h in head])
    for row in rows:
        d = row.as_dict()
        cells: list[Any] = [csv_cell(row.overrides[p]) for p in paths]
        cells += [d["params"], d["macs"], d["peak_activation_bytes"], str(row.valid).lower(), csv_cell(row.error or "")]
        if measured:
            cells += [_round(row.latency_ms, 3), _round(row.throughput, 2)]
        writer.writerow(["" if c is None else c for c in cells])
    return out.getvalue()


def _round(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


def sweep_table(rows: Sequence[Row], paths: Sequence[str], title: str) -> None:
    """The rows as a terminal table (rich, markup off; every cell escaped)."""
    from rich.table import Table
    from rich.text import Text

    measured = any(row.latency_ms is not None for row in rows)
    table = Table(title=line(title), title_justify="left", header_style="bold")
    for path in paths:
        table.add_column(line(path), no_wrap=True)
    for head in ("params", "MACs", "peak act."):
        table.add_column(head, justify="right", no_wrap=True)
    if measured:
        table.add_column("latency (b=1)", justify="right", no_wrap=True)
        table.add_column("img/s (b=8)", justify="right", no_wrap=True)
    table.add_column("valid", no_wrap=True)
    notes: dict[str, int] = {}  # each distinct error once, under the table
    for row in rows:
        cells = [line(short_value(row.overrides[p])) for p in paths]
        if row.cost is not None:
            cells += [human(row.cost.params), human(row.cost.macs), _bytes(row.cost.peak_activation_bytes)]
        else:
            cells += ["—", "—", "—"]
        if measured:
            cells += [
                "—" if row.latency_ms is None else f"{row.latency_ms:.1f} ms",
                "—" if row.throughput is None else f"{row.throughput:.1f}",
            ]
        if row.valid:
            cells.append("yes")
        else:
            cells.append(f"no ({notes.setdefault(row.error or '', len(notes) + 1)})")
        table.add_row(*(Text(cell) for cell in cells))
    console = esc.console(soft_wrap=False)
    console.print(table)
    for error, number in notes.items():
        console.print(Text(f"({number}) {line(error)}"), soft_wrap=True)
