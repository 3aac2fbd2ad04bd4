"""Building the drawing tree from an analysis, and placing it."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from inceptionspec.analysis import Analysis, LayerStats
from inceptionspec.analysis.report import human
from inceptionspec.ir.graph import ACT, ADD, CONCAT, PROJECTION
from inceptionspec.lang.tree import BlockNode, HeadNode, ItemNode, OpNode
from inceptionspec.ops import Conv, Op, fmt_pair, fmt_shape
from inceptionspec.render.tree import (
    DEPTHS,
    GAP_TOP,
    HEADER_H,
    LEGEND_H,
    LEGEND_W,
    MARGIN,
    SIDE_VGAP,
    TITLE_H,
    Box,
    Diagram,
    Frame,
    Par,
    Seq,
    Side,
    Span,
    Unit,
    spans_w,
    text_w,
)

# --- building the tree from the analysis ---------------------------------------------

_ACT_NAMES = {"relu": "ReLU", "relu6": "ReLU6", "gelu": "GELU", "silu": "SiLU", "elu": "ELU", "selu": "SELU"}
_STYLES = {
    "conv": "conv",
    "maxpool": "pool",
    "avgpool": "pool",
    "global_avgpool": "pool",
    "global_maxpool": "pool",
    "adaptive_avgpool": "pool",
    "dense": "dense",
    "concat": "merge",
    "residual_add": "add",
}


def _act(name: Any) -> str:
    return _ACT_NAMES.get(str(name), str(name))


def op_label(op: Op) -> tuple[str, str]:
    """(label, suffix): ``("3×3/2 V conv 64", "+BN+ReLU")``."""
    kind = op.kind
    if isinstance(op, Conv):
        parts = (["BN"] if op.norm == "bn" else []) + ([_act(op.activation)] if op.activation != "none" else [])
        if op.order == "act_norm":
            parts.reverse()
        return op.describe(), "".join(f"+{p}" for p in parts)
    args = op.attrs()
    if kind == "lrn":
        return f"LRN {args['size']}", ""
    if kind == "dropout":
        return f"dropout {args['rate']:g}", ""
    if kind == "act":
        return _act(args["fn"]), ""
    if kind == "bn":
        return "BN", ""
    if kind in ("global_avgpool", "global_maxpool"):
        return kind.replace("_", " "), ""
    if kind == "adaptive_avgpool":
        return f"adaptive avgpool {fmt_pair(args['size'])}", ""
    return op.describe(), ""


def _tip(title: str, subtitle: str, shape: tuple[int, ...], params: int, macs: int, extra: list[str]) -> str:
    lines = [title]
    if subtitle.strip():
        lines.append(subtitle.strip())
    lines.append(f"output {fmt_shape(shape)}")
    lines.append(f"params {params:,}" + (f" ({human(params)})" if params >= 1000 else ""))
    lines.append(f"MACs {macs:,}" + (f" ({human(macs)})" if macs >= 1000 else ""))
    return "\n".join(lines + extra)


_COPY = re.compile(r"^(?P<base>.+)_(?P<n>\d+)$")


def group_title(names: list[str]) -> str:
    """``inception_b × 7`` for inception_b_1 … inception_b_7, else ``a … b × n``."""
    matches = [_COPY.match(n) for n in names]
    if all(matches) and len({m["base"] for m in matches if m}) == 1:
        base = matches[0]["base"] if matches[0] else names[0]
        return f"{base} × {len(names)}"
    return f"{names[0]} … {names[-1]} × {len(names)}"


class _Builder:
    def __init__(self, analysis: Analysis, depth: str, collapse: bool, apart: Collection[str] = ()) -> None:
        self.a = analysis
        self.apart = frozenset(apart)
        self.graph = analysis.graph
        self.spec = analysis.graph.spec
        self.depth = depth
        self.collapse = collapse
        self.stats: dict[str, LayerStats] = {s.name: s for s in analysis.layers}
        self.block_stats = {b.name: b for b in analysis.blocks}
        self.graph_blocks = {b.name: b for b in self.graph.blocks}

    # Layers ------------------------------------------------------------------------
    def unit(
        self, uid: str, names: list[str], label: str, suffix: str, kind: str, subtitle: str = "", title: str = ""
    ) -> Unit:
        names = [n for n in names if n in self.stats]
        stats = [self.stats[n] for n in names]
        shape = stats[-1].output_shape if stats else ()
        params = sum(s.params for s in stats)
        macs = sum(s.macs for s in stats)
        spans: list[Span] = ([(title, "b"), ("  ", "")] if title else []) + [(label, "")]
        if suffix:
            spans.append((" " + suffix, "m"))
        extra = [f"layers: {', '.join(names)}"] if len(names) > 1 else []
        tip = _tip(uid, label + (" " + suffix if suffix else "") + subtitle, shape, params, macs, extra)
        return Unit(id=uid, lines=[spans], style=_STYLES.get(kind, "misc"), tip=tip, layers=tuple(names), shape=shape)

    def op_unit(self, node: OpNode, named: bool = False) -> Unit:
        """An op as written: one box for its layers (a conv with its batch norm and activation);
        ``named``: the box starts with the op's name (an op outside blocks has no frame to name it)."""
        unit = self.graph.unit(node.path)
        label, suffix = op_label(node.op)
        title = node.path.name if named else ""
        return self.unit(unit.name, list(unit.layers), label, suffix, node.op.kind, title=title)

    def items(self, nodes: tuple[ItemNode, ...]) -> list[Box]:
        out: list[Box] = []
        for node in nodes:
            if isinstance(node, OpNode):
                out.append(self.op_unit(node))
            elif node.is_sequence:
                out.extend(self.items(node.items))
            else:
                out.append(self.par(node))
        return out

    def par(self, node: BlockNode) -> Par:
        """Branches side by side over the merge: concat, projection, and the add with its activation."""
        branches = [Seq(items=self.items(branch.items)) for branch in node.branches]
        merge = self.graph.unit(node.merge_path)
        merges: list[Unit] = []
        concat = merge.layer(CONCAT)
        if concat is not None:
            merges.append(self.unit(concat, [concat], "concat", "", "concat"))
        residual = node.residual
        if residual is not None:
            proj = merge.layer(PROJECTION)
            if proj is not None:
                merges.append(self.unit(proj, [proj], self.stats[proj].label, "linear", "conv"))
            add = merge.layer(ADD)
            act = merge.layer(ACT)
            if add is not None:
                names = [add] + ([act] if act is not None else [])
                suffix = f"+{_act(residual.activation)}" if act is not None else ""
                merges.append(self.unit(add, names, self.stats[add].label, suffix, "residual_add"))
        return Par(branches=branches, merges=merges, residual=residual is not None)

    # Blocks ------------------------------------------------------------------------
    def block_numbers(self, names: list[str]) -> tuple[tuple[int, ...], int, int, str]:
        stats = [self.block_stats[n] for n in names]
        return stats[-1].output_shape, sum(s.params for s in stats), sum(s.macs for s in stats), stats[0].kind

    def block_box(self, uid: str, title: str, names: list[str], kind_label: str | None = None) -> Unit:
        shape, params, macs, kind = self.block_numbers(names)
        kind = kind_label or kind
        lines: list[list[Span]] = [
            [(title, "b")],
            [(f"{kind} · {fmt_shape(shape)}", "s")],
            [(f"{human(params)} params · {human(macs)} MACs", "s")],
        ]
        extra = [f"blocks: {', '.join(names)}"] if len(names) > 1 else []
        per = f" ({len(names)} copies)" if len(names) > 1 else ""
        tip = _tip(title, kind + per, shape, params, macs, extra)
        return Unit(id=uid, lines=lines, style="block", tip=tip, names=tuple(names), shape=shape)

    def frame(self, uid: str, title: str, kind: str, body: Box, names: list[str], foldable: bool) -> Frame:
        shape, params, macs, _ = self.block_numbers(names)
        extra = [f"blocks: {', '.join(names)}"] if len(names) > 1 else []
        per = ""
        if len(names) > 1:
            first = self.block_stats[names[0]]
            per = f" ({len(names)} copies of {human(first.params)} params, {human(first.macs)} MACs)"
        spans: list[Span] = [(title, "b")] + ([("  " + kind, "s")] if kind else [])
        return Frame(
            id=uid,
            title=spans,
            body=body,
            copies=len(names),
            tip=_tip(title, kind + per, shape, params, macs, extra),
            names=tuple(names),
            foldable=foldable,
            shape=shape,
            name=title,
            kind=kind,
            params=params,
        )

    def stage_row(self, node: ItemNode, names: list[str]) -> Box:
        """One row of the main column: an op, a block, or a run of identical blocks."""
        if isinstance(node, OpNode):
            return self.op_unit(node, named=True)
        name = node.path.name
        title = group_title(names) if len(names) > 1 else name
        if self.depth == "block":
            return self.block_box(name, title, names)
        inner: Box = Seq(items=self.items(node.items)) if node.is_sequence else self.par(node)
        kind = self.block_stats[name].kind
        base = title.split(" ")[0]
        if kind in ("block", "sequence") or kind == base:
            kind = ""
        return self.frame(name, title, kind, inner, names, foldable=True)

    def head_box(self, head: HeadNode, foldable: bool) -> Box:
        out = next(o for o in self.graph.outputs if o.name == head.name)
        notes = (["training only"] if out.training_only else []) + (
            [f"loss ×{out.loss_weight:g}"] if out.loss_weight != 1.0 else []
        )
        note = ", ".join(notes)
        if self.depth == "block":
            return self.block_box(head.name, f"{head.name} head", [head.name], f"head ({note})" if note else "head")
        body = Seq(items=self.items(head.items))
        return self.frame(head.name, f"{head.name} head", note, body, [head.name], foldable)

    def output_pill(self, name: str, shape: tuple[int, ...]) -> Unit:
        label = f"{name} output" if name != "output" else "output"
        return Unit(
            id=f"{name}:output", lines=[[(label, "b")]], style="io", tip=f"{label}\n{fmt_shape(shape)}", shape=shape
        )

    def runs(self) -> list[tuple[ItemNode, list[str]]]:
        """Stage items, consecutive identical blocks grouped."""
        out: list[tuple[ItemNode, list[str]]] = []
        last_sig: Any = None
        for node in self.graph.tree.stages:
            name = node.path.name
            if isinstance(node, BlockNode):
                apart = not self.collapse or name in self.apart
                sig = None if apart else (node.kind, self.graph.block_signature(name))
                if sig is not None and sig == last_sig:
                    out[-1][1].append(name)
                    continue
                out.append((node, [name]))
                last_sig = sig
            else:
                out.append((node, [name]))
                last_sig = None
        return out

    def build(self) -> Diagram:
        graph = self.graph
        inp = Unit(
            id="input",
            lines=[[("input ", "b"), (fmt_shape(graph.input_shape), "")]],
            style="io",
            tip=f"input\n{fmt_shape(graph.input_shape)}",
            shape=graph.input_shape,
        )
        rows: list[Box] = [inp]
        row_of: dict[str, int] = {}
        for item, names in self.runs():
            rows.append(self.stage_row(item, names))
            for n in names:
                row_of[n] = len(rows) - 1
        last_stage = rows[-1]
        end_names = set(getattr(last_stage, "names", ()) or ()) | {getattr(last_stage, "id", "")}
        sides: list[tuple[Seq, int]] = []
        main_done = False
        heads = {head.name: head for head in graph.tree.heads}
        for out in graph.outputs:
            if out.name not in heads:  # a network without heads
                rows.append(self.output_pill(out.name, out.shape))
                continue
            at_end = out.tap in end_names or not out.tap
            if at_end and not out.training_only and not main_done:
                main_done = True
                rows.append(self.head_box(heads[out.name], foldable=True))
                rows.append(self.output_pill(out.name, out.shape))
                continue
            tap = out.tap
            if tap not in row_of:  # a layer inside a block: the block's row
                try:
                    tap = graph.layer(tap).block
                except KeyError:
                    pass
            group = Seq(
                items=[self.head_box(heads[out.name], foldable=False), self.output_pill(out.name, out.shape)],
                gap=GAP_TOP,
                labels=[fmt_shape(out.shape)],
            )
            sides.append((group, row_of.get(tap, len(rows) - 1)))
        labels = [fmt_shape(r.shape) for r in rows[:-1]]
        column = Seq(items=rows, gap=GAP_TOP, labels=labels)
        a = self.a
        outputs = ", ".join(f"{o['name']} {fmt_shape(tuple(o['shape']))}" for o in a.outputs)
        subtitle = (
            f"{a.name} · input {fmt_shape(a.input_shape)} · {a.total_params:,} params · "
            f"{human(a.macs)} MACs · {len(a.layers)} layers · outputs: {outputs}"
        )
        sides.sort(key=lambda side: side[1])  # top to bottom, so stacked heads never cross
        diagram = Diagram(a.name, self.spec.title or a.name, subtitle, column, [Side(g, t) for g, t in sides])
        diagram.legend = legend(diagram)
        _place(diagram)
        return diagram


#: The abbreviations of the boxes: each with a test on a piece of a box's text and what it means.
_ABBREVIATIONS: list[tuple[str, re.Pattern[str], str]] = [
    ("3×3/2", re.compile(r"\d+×\d+/\d"), "kernel 3×3, stride 2 (no /: stride 1)"),
    ("V", re.compile(r"(^| )V( |$)"), "valid padding (none); no letter: same"),
    ("p1,1", re.compile(r"(^| )p\d+,\d+( |$)"), "explicit zero padding: rows, columns on each side"),
    ("ceil", re.compile(r"(^| )ceil( |$)"), "output size rounded up (Caffe, PyTorch ceil_mode)"),
    ("+BN+ReLU", re.compile(r"^ ?\+\w"), "the conv's batch norm and activation, in order"),
    ("LRN", re.compile(r"^LRN "), "local response normalization"),
    ("add ×0.2", re.compile(r"^add ×"), "residual added, scaled by 0.2"),
    ("linear", re.compile(r"^ ?linear$"), "1×1 projection, no activation"),
    ("× 7", re.compile(r" × \d+$"), "identical blocks, drawn once"),
]


def legend(d: Diagram) -> list[tuple[str, str]]:
    """(abbreviation, meaning) of those the diagram's boxes use, in a fixed order."""
    texts: set[str] = set()
    for box in d.boxes():
        lines = box.lines if isinstance(box, Unit) else [box.title] if isinstance(box, Frame) else []
        texts.update(text for line in lines for text, _ in line)
    return [(abbr, meaning) for abbr, test, meaning in _ABBREVIATIONS if any(test.search(t) for t in texts)]


def _legend_lines(entries: list[tuple[str, str]], width: float) -> list[list[Span]]:
    lines: list[list[Span]] = []
    for abbr, meaning in entries:
        item: list[Span] = [(abbr, "b"), (" " + meaning, "s")]
        if lines and spans_w(lines[-1]) + spans_w(item) + text_w("   ", small=True) <= width:
            lines[-1] += [("   ", "s"), *item]
        else:
            lines.append(item)
    return lines


def _side_positions(
    bottoms: list[float], heights: list[float], taps: list[int], top_limit: float
) -> list[tuple[float, float]]:
    """(connector y, head top) of each side head — mirrored by the HTML page's script."""
    out = []
    prev = top_limit
    for h, tap in zip(heights, taps, strict=True):
        conn = bottoms[tap] + GAP_TOP / 2
        top = max(conn - TITLE_H / 2, prev + SIDE_VGAP)
        out.append((conn, top))
        prev = top + h
    return out


def _place(d: Diagram) -> None:
    col = d.column
    col.measure()
    for side in d.sides:
        side.group.measure()
    d.legend_lines = _legend_lines(d.legend, max(LEGEND_W, col.w + sum(s.group.w for s in d.sides)))
    col.place(MARGIN, HEADER_H + MARGIN + LEGEND_H * len(d.legend_lines))
    right = col.x + col.w
    n = len(d.sides)
    side_x = right + max(48, 28 + 10 * n)
    bottoms = [r.bottom for r in col.items]
    taps = [s.tap for s in d.sides]
    positions = _side_positions(bottoms, [s.group.h for s in d.sides], taps, col.y - SIDE_VGAP)
    side_w = max((s.group.w for s in d.sides), default=0.0)
    for j, (side, (conn, top)) in enumerate(zip(d.sides, positions, strict=True)):
        side.conn_y = conn
        side.gutter_x = right + 14 + 10 * j
        side.group.place(side_x, top)
    bottom = max([col.bottom] + [s.group.bottom for s in d.sides])
    width = (side_x + side_w) if d.sides else right
    head_w = max(text_w(d.title) + 4, text_w(d.subtitle, small=True), *(spans_w(line) for line in d.legend_lines))
    d.width = max(width, MARGIN + head_w) + MARGIN
    d.height = bottom + MARGIN


def layout(
    analysis: Analysis, depth: str = "layer", collapse_repeats: bool = True, apart: Collection[str] = ()
) -> Diagram:
    """The placed drawing tree of an analysed spec (what every format is made from); blocks named in
    ``apart`` are never collapsed into a run of copies (a diff picture keeps changed blocks apart)."""
    if depth not in DEPTHS:
        raise ValueError(f"depth must be one of {', '.join(DEPTHS)}, not {depth!r}")
    return _Builder(analysis, depth, collapse_repeats, apart).build()
