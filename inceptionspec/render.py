"""Stage 6 — render: the network as a picture (SVG, HTML) or as graph source (DOT, Mermaid).

The picture is drawn the way the Inception papers draw networks: the stem's layers one
under the other, each Inception block with its branches side by side and their merge
(concatenation, or the scaled residual add) at the bottom, output shapes on the arrows
between blocks, auxiliary heads branching off to the side where they tap, the main head at
the bottom.  A conv with its batch norm and activation is one box (``3×3 conv 192
+BN+ReLU``); consecutive identical blocks (``inception_b_1`` … ``inception_b_7``) are drawn
once as ``inception_b × 7`` unless ``collapse_repeats=False``.

Layout needs no Graphviz and no font metrics.  The expanded spec is series-parallel, so
a nested-box layout fits: sizes are computed bottom-up (a sequence stacks its items, a
block puts its branches side by side), positions top-down.  Every label is set in a
monospace font whose advance is 0.6 em, so a text's width is its length times
:data:`CHAR_W`.  :func:`layout` returns the placed boxes (the tests check them);
:func:`render` turns them into text.  Nothing here imports TensorFlow.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from .analysis import Analysis, LayerStats
from .models import InlineBlock, ResidualMerge, SequenceBlock
from .ops import Conv, Op, fmt_pair, fmt_shape
from .report import human

FORMATS = ("svg", "dot", "mermaid", "html")
DEPTHS = ("block", "layer")

# --- metrics (px) ---------------------------------------------------------------------

FONT = "'DejaVu Sans Mono', 'Menlo', 'Consolas', 'Liberation Mono', monospace"
FONT_SIZE = 12
SMALL_SIZE = 11
CHAR_W = 0.6 * FONT_SIZE + 0.1  # a monospace advance, with a little slack for other fonts
SMALL_CHAR_W = 0.6 * SMALL_SIZE + 0.1
LINE_H = 15  # baseline to baseline in multi-line boxes
PAD_X = 8  # text to box edge
UNIT_H = 22  # a one-line box
GAP_IN = 16  # the arrow between two layers inside a block
GAP_TOP = 34  # the arrow between two top-level rows (a shape label beside it)
SPLIT_H = 24  # block input → bar → branch tops
MERGE_H = 24  # branch bottoms → bar → first merge box
BAR = 8  # where the split / merge bar sits in those bands
BRANCH_GAP = 14
SHORTCUT_W = 26  # the lane of a residual block's shortcut
TITLE_H = 24
FRAME_PAD = 10
STACK = 4  # offset of each "card" behind a collapsed repeat
MARGIN = 20
HEADER_H = 46
SIDE_VGAP = 24


def text_w(text: str, small: bool = False) -> float:
    return len(text) * (SMALL_CHAR_W if small else CHAR_W)


# --- the drawing tree ----------------------------------------------------------------

Span = tuple[str, str]  # (text, style): "" plain, "b" bold, "s" small grey, "m" muted


def spans_w(spans: list[Span]) -> float:
    return sum(text_w(t, small=(c == "s")) for t, c in spans)


@dataclass(eq=False)
class Box:
    """A node of the layout: size (w, h), axis (x offset where arrows enter and leave),
    position (x, y: top-left, absolute). ``shape`` is the output shape it hands on."""

    w: float = 0.0
    h: float = 0.0
    ax: float = 0.0
    x: float = 0.0
    y: float = 0.0
    shape: tuple[int, ...] = ()

    def children(self) -> list[Box]:
        return []

    def measure(self) -> None:
        raise NotImplementedError

    def place(self, x: float, y: float) -> None:
        self.x, self.y = x, y

    @property
    def axis(self) -> float:
        return self.x + self.ax

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def walk(self) -> Iterator[Box]:
        yield self
        for child in self.children():
            yield from child.walk()


@dataclass(eq=False)
class Unit(Box):
    """One box: a layer (a conv unit folded with its BN and activation), a merge, a whole
    block at block depth, or the input / an output."""

    id: str = ""
    lines: list[list[Span]] = field(default_factory=list)
    style: str = "misc"
    tip: str = ""
    layers: tuple[str, ...] = ()
    names: tuple[str, ...] = ()  # block names a block box stands for

    def measure(self) -> None:
        self.w = max(spans_w(line) for line in self.lines) + 2 * PAD_X
        self.h = UNIT_H if len(self.lines) == 1 else len(self.lines) * LINE_H + 9
        self.ax = self.w / 2


@dataclass(eq=False)
class Seq(Box):
    """Items one under the other, aligned on their axes; ``labels[i]`` is written beside
    the arrow from item i to item i+1."""

    items: list[Box] = field(default_factory=list)
    gap: float = GAP_IN
    labels: list[str] | None = None

    def children(self) -> list[Box]:
        return list(self.items)

    def measure(self) -> None:
        for item in self.items:
            item.measure()
        left = max(i.ax for i in self.items)
        right = max(i.w - i.ax for i in self.items)
        if self.labels:
            left = max(left, max(text_w(t, small=True) for t in self.labels) + 12)
        self.w, self.ax = left + right, left
        self.h = sum(i.h for i in self.items) + self.gap * (len(self.items) - 1)
        self.shape = self.items[-1].shape

    def place(self, x: float, y: float) -> None:
        super().place(x, y)
        for item in self.items:
            item.place(x + self.ax - item.ax, y)
            y += item.h + self.gap


@dataclass(eq=False)
class Par(Box):
    """Branches side by side, then the merge boxes (concat; projection, add) under them."""

    branches: list[Seq] = field(default_factory=list)
    merges: list[Unit] = field(default_factory=list)
    residual: bool = False

    def children(self) -> list[Box]:
        return [*self.branches, *self.merges]

    @property
    def lane(self) -> float:
        return SHORTCUT_W if self.residual else 0.0

    def measure(self) -> None:
        for part in self.children():
            part.measure()
        self._bw = sum(b.w for b in self.branches) + BRANCH_GAP * (len(self.branches) - 1)
        self._bh = max(b.h for b in self.branches)
        content = max([self._bw, *(m.w for m in self.merges)])
        self.w = self.lane + content
        self.ax = self.lane + content / 2
        self.h = SPLIT_H + self._bh + (MERGE_H + sum(m.h for m in self.merges) + GAP_IN * (len(self.merges) - 1))
        if not self.merges:
            self.h = SPLIT_H + self._bh
        self.shape = self.merges[-1].shape if self.merges else self.branches[0].shape

    def place(self, x: float, y: float) -> None:
        super().place(x, y)
        bx = x + self.ax - self._bw / 2
        for branch in self.branches:
            branch.place(bx, y + SPLIT_H)
            bx += branch.w + BRANCH_GAP
        my = y + SPLIT_H + self._bh + MERGE_H
        for merge in self.merges:
            merge.place(x + self.ax - merge.ax, my)
            my += merge.h + GAP_IN


@dataclass(eq=False)
class Frame(Box):
    """A titled box around a block's body (a top-level block, a head, a collapsed repeat)."""

    id: str = ""
    title: list[Span] = field(default_factory=list)
    body: Box | None = None
    copies: int = 1
    tip: str = ""
    style: str = "frame"
    names: tuple[str, ...] = ()
    foldable: bool = False
    name: str = ""
    kind: str = ""
    params: int = 0

    def children(self) -> list[Box]:
        return [self.body] if self.body is not None else []

    @property
    def stack(self) -> float:
        return 2 * STACK if self.copies > 1 else 0.0

    @property
    def inner_w(self) -> float:
        return self.w - self.stack

    @property
    def summary(self) -> str:
        """What a folded frame shows on its right: ``17×17×1024 · 2.8M params``."""
        return f"{fmt_shape(self.shape)} · {human(self.params)} params"

    @property
    def folded_h(self) -> float:
        return TITLE_H + self.stack

    def title_x(self) -> float:
        return self.x + FRAME_PAD + (2 * CHAR_W if self.foldable else 0)

    def measure(self) -> None:
        assert self.body is not None
        self.body.measure()
        title = spans_w(self.title) + 2 * FRAME_PAD + (2 * CHAR_W if self.foldable else 0)
        inner = max(title, self.body.w + 2 * FRAME_PAD)
        self.w = inner + self.stack
        self.h = TITLE_H + FRAME_PAD + self.body.h + FRAME_PAD + self.stack
        self.ax = (inner - self.body.w) / 2 + self.body.ax
        self.shape = self.body.shape

    def place(self, x: float, y: float) -> None:
        super().place(x, y)
        assert self.body is not None
        self.body.place(x + self.ax - self.body.ax, y + TITLE_H + FRAME_PAD)


@dataclass(eq=False)
class Side:
    """A head drawn beside the main column, tapping row ``tap``."""

    group: Seq
    tap: int
    conn_y: float = 0.0
    gutter_x: float = 0.0


@dataclass(eq=False)
class Diagram:
    name: str
    title: str
    subtitle: str
    column: Seq
    sides: list[Side]
    width: float = 0.0
    height: float = 0.0

    @property
    def rows(self) -> list[Box]:
        return self.column.items

    def boxes(self) -> Iterator[Box]:
        yield from self.column.walk()
        for side in self.sides:
            yield from side.group.walk()


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


def _signature(analysis: Analysis, block: Any) -> tuple:
    """What makes two blocks copies of each other: their layers' relative names, ops and
    arguments, and the shapes they see."""
    graph = analysis.graph
    cut = len(block.name) + 1
    return tuple(
        (
            name[cut:],
            graph.layer(name).kind,
            json.dumps(graph.layer(name).op.attrs(), sort_keys=True, default=str),
            graph.layer(name).input_shapes,
        )
        for name in block.layers
    )


_COPY = re.compile(r"^(?P<base>.+)_(?P<n>\d+)$")


def group_title(names: list[str]) -> str:
    """``inception_b × 7`` for inception_b_1 … inception_b_7, else ``a … b × n``."""
    matches = [_COPY.match(n) for n in names]
    if all(matches) and len({m["base"] for m in matches if m}) == 1:
        base = matches[0]["base"] if matches[0] else names[0]
        return f"{base} × {len(names)}"
    return f"{names[0]} … {names[-1]} × {len(names)}"


class _Builder:
    def __init__(self, analysis: Analysis, depth: str, collapse: bool) -> None:
        self.a = analysis
        self.graph = analysis.graph
        self.spec = analysis.graph.spec
        self.depth = depth
        self.collapse = collapse
        self.stats: dict[str, LayerStats] = {s.name: s for s in analysis.layers}
        self.block_stats = {b.name: b for b in analysis.blocks}
        self.graph_blocks = {b.name: b for b in self.graph.blocks}

    # Layers ------------------------------------------------------------------------
    def unit(self, uid: str, names: list[str], label: str, suffix: str, kind: str, subtitle: str = "") -> Unit:
        names = [n for n in names if n in self.stats]
        stats = [self.stats[n] for n in names]
        shape = stats[-1].output_shape if stats else ()
        params = sum(s.params for s in stats)
        macs = sum(s.macs for s in stats)
        spans: list[Span] = [(label, "")]
        if suffix:
            spans.append((" " + suffix, "m"))
        extra = [f"layers: {', '.join(names)}"] if len(names) > 1 else []
        tip = _tip(uid, label + (" " + suffix if suffix else "") + subtitle, shape, params, macs, extra)
        return Unit(id=uid, lines=[spans], style=_STYLES.get(kind, "misc"), tip=tip, layers=tuple(names), shape=shape)

    def op_unit(self, op: Op, prefix: str) -> Unit:
        names = [f"{prefix}{op.name}{suffix}" for suffix, _ in op.lower()]
        label, suffix = op_label(op)
        return self.unit(names[0], names, label, suffix, op.kind)

    def items(self, items: list, prefix: str) -> list[Box]:
        out: list[Box] = []
        for item in items:
            if not isinstance(item, dict):
                op = getattr(item, next(iter(type(item).model_fields)))
                out.append(self.op_unit(op, prefix))
                continue
            ((name, body),) = item.items()
            if isinstance(body, SequenceBlock):
                out.extend(self.items(body.layers, f"{prefix}{name}."))
            elif isinstance(body, InlineBlock):
                out.append(self.par(body, f"{prefix}{name}"))
        return out

    def par(self, body: InlineBlock, full: str) -> Par:
        branches = []
        for bname, branch in body.branches.items():
            items = branch if isinstance(branch, list) else branch.layers
            branches.append(Seq(items=self.items(items, f"{full}.{bname}.")))
        merges: list[Unit] = []
        residual = isinstance(body.merge, ResidualMerge)
        if f"{full}.concat" in self.stats:
            merges.append(self.unit(f"{full}.concat", [f"{full}.concat"], "concat", "", "concat"))
        if residual:
            res = body.merge.residual  # type: ignore[union-attr]
            proj = f"{full}.projection"
            if proj in self.stats:
                merges.append(self.unit(proj, [proj], self.stats[proj].label, "linear", "conv"))
            add = f"{full}.add"
            names = [add] + ([f"{full}.{res.activation}"] if res.activation != "none" else [])
            suffix = f"+{_act(res.activation)}" if res.activation != "none" else ""
            merges.append(
                self.unit(add, names, self.stats[add].label if add in self.stats else "add", suffix, "residual_add")
            )
        return Par(branches=branches, merges=merges, residual=residual)

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

    def stage_row(self, item: Any, names: list[str]) -> Box:
        """One row of the main column: an op, a block, or a run of identical blocks."""
        if not isinstance(item, dict):
            op = getattr(item, next(iter(type(item).model_fields)))
            return self.op_unit(op, "")
        ((name, body),) = item.items()
        title = group_title(names) if len(names) > 1 else name
        if self.depth == "block":
            return self.block_box(name, title, names)
        if isinstance(body, InlineBlock):
            inner: Box = self.par(body, name)
        else:
            inner = Seq(items=self.items(body.layers, f"{name}."))
        kind = self.block_stats[name].kind
        base = title.split(" ")[0]
        if kind in ("block", "sequence") or kind == base:
            kind = ""
        return self.frame(name, title, kind, inner, names, foldable=True)

    def head_box(self, head: str, foldable: bool) -> Box:
        spec_head = self.spec.heads[head]
        out = next(o for o in self.graph.outputs if o.name == head)
        notes = (["training only"] if out.training_only else []) + (
            [f"loss ×{out.loss_weight:g}"] if out.loss_weight != 1.0 else []
        )
        note = ", ".join(notes)
        if self.depth == "block":
            return self.block_box(head, f"{head} head", [head], f"head ({note})" if note else "head")
        body = Seq(items=self.items(spec_head.layers, f"{head}."))
        return self.frame(head, f"{head} head", note, body, [head], foldable)

    def output_pill(self, name: str, shape: tuple[int, ...]) -> Unit:
        label = f"{name} output" if name != "output" else "output"
        return Unit(
            id=f"{name}:output", lines=[[(label, "b")]], style="io", tip=f"{label}\n{fmt_shape(shape)}", shape=shape
        )

    def runs(self) -> list[tuple[Any, list[str]]]:
        """Stage items, consecutive identical blocks grouped."""
        out: list[tuple[Any, list[str]]] = []
        last_sig: tuple | None = None
        for item in self.spec.stages or []:
            if isinstance(item, dict):
                ((name, _),) = item.items()
                block = self.graph_blocks[name]
                sig = (block.kind, _signature(self.a, block)) if self.collapse else None
                if sig is not None and sig == last_sig:
                    out[-1][1].append(name)
                    continue
                out.append((item, [name]))
                last_sig = sig
            else:
                op = getattr(item, next(iter(type(item).model_fields)))
                out.append((item, [op.name]))
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
        for out in graph.outputs:
            if out.name not in self.spec.heads:  # a network without heads
                rows.append(self.output_pill(out.name, out.shape))
                continue
            at_end = out.tap in end_names or not out.tap
            if at_end and not out.training_only and not main_done:
                main_done = True
                rows.append(self.head_box(out.name, foldable=True))
                rows.append(self.output_pill(out.name, out.shape))
                continue
            tap = out.tap
            if tap not in row_of:  # a layer inside a block: the block's row
                try:
                    tap = graph.layer(tap).block
                except KeyError:
                    pass
            group = Seq(
                items=[self.head_box(out.name, foldable=False), self.output_pill(out.name, out.shape)],
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
        _place(diagram)
        return diagram


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
    col.place(MARGIN, HEADER_H + MARGIN)
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
    head_w = max(text_w(d.title) + 4, text_w(d.subtitle, small=True))
    d.width = max(width, MARGIN + head_w) + MARGIN
    d.height = bottom + MARGIN


def layout(analysis: Analysis, depth: str = "layer", collapse_repeats: bool = True) -> Diagram:
    """The placed drawing tree of an analysed spec (what every format is made from)."""
    if depth not in DEPTHS:
        raise ValueError(f"depth must be one of {', '.join(DEPTHS)}, not {depth!r}")
    return _Builder(analysis, depth, collapse_repeats).build()


# --- SVG ----------------------------------------------------------------------------

_CSS = f"""
text{{font-family:{FONT};font-size:{FONT_SIZE}px;fill:#1f2933}}
.s{{font-size:{SMALL_SIZE}px;fill:#65717e}}
.m{{fill:#5c6b7a}}
.b{{font-weight:bold}}
.hd{{font-size:14px;font-weight:bold}}
.e{{fill:none;stroke:#59636e;stroke-width:1.2}}
.sc{{fill:none;stroke:#3f8f3f;stroke-width:1.3;stroke-dasharray:5 3}}
.cn{{fill:none;stroke:#8a5aab;stroke-width:1.3;stroke-dasharray:5 3}}
.lb{{font-size:{SMALL_SIZE}px;fill:#3e4c59}}
.u rect{{stroke-width:1}}
.conv{{fill:#dbe8f7;stroke:#4f7cb8}}
.pool{{fill:#fde3cf;stroke:#c5733a}}
.merge{{fill:#fff1bf;stroke:#b8952b}}
.add{{fill:#d9f0d9;stroke:#3f8f3f}}
.dense{{fill:#ece0f5;stroke:#8a5aab}}
.misc{{fill:#eef0f2;stroke:#8a949e}}
.io{{fill:#ffffff;stroke:#3e4c59;stroke-width:1.4}}
.block{{fill:#eef4fb;stroke:#4f7cb8}}
.fr{{fill:#fafbfc;stroke:#9aa5b1}}
.sh{{fill:#eef0f3;stroke:#aab3bc}}
.tb{{fill:#e6ebf1}}
.dot{{fill:#59636e}}
"""


def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


class _Svg:
    def __init__(self, html: bool) -> None:
        self.out: list[str] = []
        self.html = html

    def add(self, text: str) -> None:
        self.out.append(text)

    def line(self, x1: float, y1: float, x2: float, y2: float, cls: str = "e", arrow: bool = False) -> None:
        if abs(x1 - x2) < 0.01 and abs(y1 - y2) < 0.01:
            return
        marker = ' marker-end="url(#ah)"' if arrow else ""
        self.add(f'<path class="{cls}" d="M{_n(x1)} {_n(y1)}L{_n(x2)} {_n(y2)}"{marker}/>')

    def text(self, x: float, y: float, spans: list[Span], anchor: str = "start", cls: str = "") -> None:
        attrs = f' class="{cls}"' if cls else ""
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        inner = "".join(f'<tspan class="{c}">{escape(t)}</tspan>' if c else escape(t) for t, c in spans)
        self.add(f'<text x="{_n(x)}" y="{_n(y)}"{attrs} xml:space="preserve">{inner}</text>')

    def title(self, tip: str) -> None:
        self.add(f"<title>{escape(tip)}</title>")

    # Boxes -------------------------------------------------------------------------
    def box(self, b: Box) -> None:
        if isinstance(b, Unit):
            self.unit(b)
        elif isinstance(b, Seq):
            self.seq(b)
        elif isinstance(b, Par):
            self.par(b)
        elif isinstance(b, Frame):
            self.frame(b)

    def unit(self, u: Unit) -> None:
        self.add(f'<g class="u" data-id="{escape(u.id)}">')
        self.title(u.tip)
        r = 11 if u.style == "io" else 4
        self.add(f'<rect class="{u.style}" x="{_n(u.x)}" y="{_n(u.y)}" width="{_n(u.w)}" height="{_n(u.h)}" rx="{r}"/>')
        if len(u.lines) == 1:
            self.text(u.x + u.w / 2, u.y + u.h / 2 + 4, u.lines[0], "middle")
        else:
            for i, line in enumerate(u.lines):
                self.text(u.x + u.w / 2, u.y + 4.5 + LINE_H * (i + 1) - 3.5, line, "middle")
        self.add("</g>")

    def seq(self, s: Seq) -> None:
        for i, (a, b) in enumerate(zip(s.items, s.items[1:], strict=False)):
            self.line(s.axis, a.bottom, s.axis, b.y, arrow=True)
            if s.labels:
                mid = (a.bottom + b.y) / 2 + 4
                self.text(s.axis - 7, mid, [(s.labels[i], "")], "end", "lb")
        for item in s.items:
            self.box(item)

    def par(self, p: Par) -> None:
        ax = p.axis
        bar_top = p.y + BAR
        axes = [b.axis for b in p.branches]
        lane_x = p.x + SHORTCUT_W / 2
        self.line(ax, p.y, ax, bar_top)
        lo, hi = min(axes + [ax]), max(axes + [ax])
        if p.residual:
            lo = lane_x
        self.line(lo, bar_top, hi, bar_top)
        for bx, branch in zip(axes, p.branches, strict=True):
            self.line(bx, bar_top, bx, branch.y, arrow=True)
            self.box(branch)
        if p.merges:
            bar = p.y + SPLIT_H + p._bh + BAR
            for bx, branch in zip(axes, p.branches, strict=True):
                self.line(bx, branch.bottom, bx, bar)
            self.line(min(axes + [ax]), bar, max(axes + [ax]), bar)
            self.line(ax, bar, ax, p.merges[0].y, arrow=True)
            for a, b in zip(p.merges, p.merges[1:], strict=False):
                self.line(ax, a.bottom, ax, b.y, arrow=True)
            if p.residual:
                add = p.merges[-1]
                mid = add.y + add.h / 2
                self.add(
                    f'<path class="sc" d="M{_n(lane_x)} {_n(bar_top)}L{_n(lane_x)} {_n(mid)}L{_n(add.x)} {_n(mid)}" '
                    f'marker-end="url(#ahg)"><title>shortcut: the block input</title></path>'
                )
            for m in p.merges:
                self.unit(m)

    def frame(self, f: Frame, fold: bool = False) -> None:
        w, h = f.inner_w, f.h - f.stack
        hc = TITLE_H
        for k in (2, 1)[: 2 if f.copies > 1 else 0]:
            self.add(
                f'<rect class="sh" x="{_n(f.x + k * STACK)}" y="{_n(f.y + k * STACK)}" width="{_n(w)}" '
                f'height="{_n(h)}" rx="6" data-ho="{_n(h)}" data-hc="{_n(hc)}"/>'
            )
        self.add(
            f'<rect class="fr" x="{_n(f.x)}" y="{_n(f.y)}" width="{_n(w)}" height="{_n(h)}" rx="6" '
            f'data-ho="{_n(h)}" data-hc="{_n(hc)}"/>'
        )
        r = 6
        x0, y0, x1, y1 = f.x + 0.5, f.y + 0.5, f.x + w - 0.5, f.y + TITLE_H
        self.add(
            f'<g class="ttl" data-id="{escape(f.id)}">'
            f'<path class="tb" d="M{_n(x0)} {_n(y1)}V{_n(y0 + r)}Q{_n(x0)} {_n(y0)} {_n(x0 + r)} {_n(y0)}'
            f'H{_n(x1 - r)}Q{_n(x1)} {_n(y0)} {_n(x1)} {_n(y0 + r)}V{_n(y1)}Z"/>'
        )
        self.title(f.tip)
        if f.foldable and self.html:
            self.text(f.x + FRAME_PAD, f.y + 16, [("▾", "")], cls="tg")
            summary = f.summary
            if f.title_x() + spans_w(f.title) + text_w(summary, small=True) + 3 * FRAME_PAD <= f.x + w:
                self.text(f.x + w - FRAME_PAD, f.y + 16, [(summary, "")], "end", "s fs")
        self.text(f.title_x(), f.y + 16, f.title)
        self.add("</g>")
        assert f.body is not None
        self.add('<g class="body">')
        self.line(f.x + f.ax, f.y + TITLE_H, f.x + f.ax, f.body.y)
        self.box(f.body)
        self.line(f.x + f.ax, f.body.bottom, f.x + f.ax, f.bottom)
        self.add("</g>")


def _svg(d: Diagram, html: bool = False) -> str:
    s = _Svg(html)
    col = d.column
    meta = {
        "gap": GAP_TOP,
        "title": TITLE_H,
        "vgap": SIDE_VGAP,
        "margin": MARGIN,
        "top": round(col.items[0].y, 1),
        "axis": round(col.axis, 1),
        "sides": [{"tap": side.tap, "gx": round(side.gutter_x, 1), "sx": round(side.group.x, 1)} for side in d.sides],
    }
    ns = "" if html else ' xmlns="http://www.w3.org/2000/svg"'
    s.add(
        f'<svg{ns} class="isr" width="{_n(d.width)}" height="{_n(d.height)}" '
        f'viewBox="0 0 {_n(d.width)} {_n(d.height)}" data-layout="{escape(json.dumps(meta), {chr(34): "&quot;"})}">'
    )
    s.add(f"<title>{escape(d.title)}</title>")
    s.add(f"<style>{_CSS}</style>")
    s.add(
        "<defs>"
        '<marker id="ah" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
        '<path d="M0 1L10 5L0 9Z" fill="#59636e"/></marker>'
        '<marker id="ahg" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
        '<path d="M0 1L10 5L0 9Z" fill="#3f8f3f"/></marker>'
        '<marker id="ahp" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
        '<path d="M0 1L10 5L0 9Z" fill="#8a5aab"/></marker>'
        "</defs>"
    )
    s.add(f'<rect x="0" y="0" width="{_n(d.width)}" height="{_n(d.height)}" fill="#ffffff" class="bg"/>')
    s.text(MARGIN, MARGIN + 8, [(d.title, "")], cls="hd")
    s.text(MARGIN, MARGIN + 27, [(d.subtitle, "")], cls="s")
    # The main column, one group per row so the HTML page can fold rows and move the rest.
    for i, row in enumerate(col.items):
        fold = isinstance(row, Frame) and row.foldable
        attrs = f' data-y0="{_n(row.y)}" data-ho="{_n(row.h)}"'
        if fold:
            attrs += f' data-hc="{_n(row.folded_h)}"'  # type: ignore[union-attr]
        s.add(f'<g class="row{" fold" if fold else ""}" data-i="{i}"{attrs}>')
        if i:
            prev = col.items[i - 1]
            mid = prev.bottom + GAP_TOP / 2
            s.line(col.axis, prev.bottom, col.axis, row.y, arrow=True)
            s.text(col.axis - 7, mid + 4, [(fmt_shape(prev.shape), "")], "end", "lb")
        s.box(row)
        s.add("</g>")
    for j, side in enumerate(d.sides):
        top = side.group.y
        mid = top + TITLE_H / 2
        s.add(
            f'<path class="cn" data-side="{j}" d="M{_n(col.axis)} {_n(side.conn_y)}H{_n(side.gutter_x)}'
            f'V{_n(mid)}H{_n(side.group.x)}" marker-end="url(#ahp)"/>'
        )
        s.add(f'<circle class="dot" data-side="{j}" cx="{_n(col.axis)}" cy="{_n(side.conn_y)}" r="3"/>')
        s.add(f'<g class="side" data-j="{j}" data-y0="{_n(top)}" data-h="{_n(side.group.h)}">')
        s.box(side.group)
        s.add("</g>")
    s.add("</svg>")
    return "\n".join(s.out) + "\n"


# --- HTML ---------------------------------------------------------------------------

_PAGE_CSS = """
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;background:#f6f7f9;color:#1f2933}
header{padding:8px 16px;background:#fff;border-bottom:1px solid #dde2e7;position:sticky;top:0;z-index:2}
header span{font-size:13px;color:#52606d;margin-left:8px}
header button{margin:0 6px 0 0;font:inherit;font-size:12px;padding:3px 10px;border:1px solid #b8c2cc;
  border-radius:4px;background:#fff;cursor:pointer}
header button:hover{background:#eef2f6}
main{padding:16px;overflow:auto}
svg.isr{background:#fff;box-shadow:0 1px 3px rgba(0,0,0,.12);display:block}
svg .ttl{cursor:pointer}
svg .ttl:hover .tb{fill:#d5dee8}
svg .tg{fill:#52606d}
svg .folded .body{display:none}
svg .fs{display:none}
svg .folded .fs{display:inline}
svg .u:hover rect{stroke-width:2.2}
#tip{position:fixed;pointer-events:none;background:#1f2933;color:#fff;font:12px/1.45 monospace;
  padding:6px 9px;border-radius:4px;white-space:pre-wrap;overflow-wrap:anywhere;display:none;z-index:5;max-width:72ch}
"""

_PAGE_JS = """
(function(){
  var svg=document.querySelector('svg.isr'), L=JSON.parse(svg.getAttribute('data-layout'));
  var rows=[].slice.call(svg.querySelectorAll('g.row')), sides=[].slice.call(svg.querySelectorAll('g.side'));
  var tip=document.getElementById('tip');
  [].slice.call(svg.querySelectorAll('g.u > title, g.ttl > title, path > title')).forEach(function(t){
    t.parentNode.setAttribute('data-tip', t.textContent); t.parentNode.removeChild(t);
  });
  function relayout(){
    var y=L.top, bottoms=[], bottom=0;
    rows.forEach(function(r,i){
      if(i) y+=L.gap;
      var folded=r.classList.contains('folded');
      r.setAttribute('transform','translate(0,'+(y-parseFloat(r.getAttribute('data-y0')))+')');
      [].slice.call(r.querySelectorAll('[data-hc]')).forEach(function(e){
        if(e===r) return; e.setAttribute('height', e.getAttribute(folded?'data-hc':'data-ho'));
      });
      y+=parseFloat(r.getAttribute(folded?'data-hc':'data-ho')); bottoms.push(y);
    });
    bottom=y; var prev=L.top-L.vgap;
    sides.forEach(function(s,j){
      var m=L.sides[j], conn=bottoms[m.tap]+L.gap/2, h=parseFloat(s.getAttribute('data-h'));
      var top=Math.max(conn-L.title/2, prev+L.vgap); prev=top+h; bottom=Math.max(bottom, prev);
      s.setAttribute('transform','translate(0,'+(top-parseFloat(s.getAttribute('data-y0')))+')');
      var c=svg.querySelector('path.cn[data-side="'+j+'"]'), d=svg.querySelector('circle[data-side="'+j+'"]');
      c.setAttribute('d','M'+L.axis+' '+conn+'H'+m.gx+'V'+(top+L.title/2)+'H'+m.sx); d.setAttribute('cy',conn);
    });
    var H=bottom+L.margin, W=parseFloat(svg.getAttribute('width'));
    svg.setAttribute('height',H); svg.setAttribute('viewBox','0 0 '+W+' '+H);
    svg.querySelector('rect.bg').setAttribute('height',H);
  }
  function setFold(r,on){
    r.classList.toggle('folded',on);
    var t=r.querySelector('.tg'); if(t) t.textContent=on?'\\u25b8':'\\u25be';
  }
  rows.forEach(function(r){
    if(!r.classList.contains('fold')) return;
    r.querySelector('.ttl').addEventListener('click',function(){
      setFold(r,!r.classList.contains('folded')); relayout();
    });
  });
  function all(on){ rows.forEach(function(r){ if(r.classList.contains('fold')) setFold(r,on); }); relayout(); }
  document.getElementById('fold-all').onclick=function(){all(true);};
  document.getElementById('unfold-all').onclick=function(){all(false);};
  svg.addEventListener('mousemove',function(ev){
    var t=ev.target.closest ? ev.target.closest('[data-tip]') : null;
    if(!t){ tip.style.display='none'; return; }
    tip.textContent=t.getAttribute('data-tip'); tip.style.display='block';
    var x=ev.clientX+14, y=ev.clientY+14, w=tip.offsetWidth, h=tip.offsetHeight;
    if(x+w>window.innerWidth-4) x=ev.clientX-w-10;
    if(y+h>window.innerHeight-4) y=ev.clientY-h-10;
    tip.style.left=x+'px'; tip.style.top=y+'px';
  });
  svg.addEventListener('mouseleave',function(){ tip.style.display='none'; });
  relayout();
})();
"""


def _html(d: Diagram) -> str:
    svg = _svg(d, html=True)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(d.name)} — inceptionspec</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<style>{_PAGE_CSS}</style>\n</head>\n<body>\n<header>\n"
        '<button id="fold-all" type="button">fold all blocks</button>'
        '<button id="unfold-all" type="button">unfold all blocks</button>\n'
        "<span>Click a block's title to fold or unfold it; hover a layer for its shape, parameters and "
        "multiply-adds.</span>\n</header>\n"
        f'<main>\n{svg}</main>\n<div id="tip"></div>\n<script>{_PAGE_JS}</script>\n</body>\n</html>\n'
    )


# --- DOT and Mermaid ----------------------------------------------------------------

_FILL = {
    "conv": ("#dbe8f7", "#4f7cb8"),
    "pool": ("#fde3cf", "#c5733a"),
    "merge": ("#fff1bf", "#b8952b"),
    "add": ("#d9f0d9", "#3f8f3f"),
    "dense": ("#ece0f5", "#8a5aab"),
    "misc": ("#eef0f2", "#8a949e"),
    "io": ("#ffffff", "#3e4c59"),
    "block": ("#eef4fb", "#4f7cb8"),
}


@dataclass
class _Cluster:
    id: str
    label: str
    tip: str
    names: tuple[str, ...]
    nodes: list[str] = field(default_factory=list)
    clusters: list[_Cluster] = field(default_factory=list)


@dataclass
class _Graph:
    """A format-neutral graph: nodes (id, label, style, tip), edges, nested clusters."""

    nodes: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    edges: list[tuple[str, str, str, str]] = field(default_factory=list)  # (a, b, label, kind)
    root: _Cluster = field(default_factory=lambda: _Cluster("", "", "", ()))
    pending: str = ""  # the shape label of the next edge made (one label per arrow between rows)

    def emit(self, box: Box, preds: list[str], cluster: _Cluster, label: str = "") -> list[str]:
        if label:
            self.pending = label
        if isinstance(box, Unit):
            text = " ".join("".join(t for t, _ in line) for line in box.lines[:1])
            if len(box.lines) > 1:
                text = "\n".join("".join(t for t, _ in line) for line in box.lines)
            self.nodes[box.id] = (text.strip(), box.style, box.tip)
            cluster.nodes.append(box.id)
            for p in preds:
                self.edges.append((p, box.id, self.pending, ""))
                self.pending = ""
            return [box.id]
        if isinstance(box, Seq):
            for item in box.items:
                preds = self.emit(item, preds, cluster)
            return preds
        if isinstance(box, Par):
            outs: list[str] = []
            for branch in box.branches:
                outs += self.emit(branch, preds, cluster)
            for k, merge in enumerate(box.merges):
                outs = self.emit(merge, outs, cluster)
                if box.residual and k == len(box.merges) - 1:
                    self.edges.extend((p, merge.id, "shortcut", "shortcut") for p in preds)
            return outs
        if isinstance(box, Frame):
            title = box.name + (f" ({box.kind})" if box.kind else "")
            sub = _Cluster(box.id, title, box.tip, box.names)
            cluster.clusters.append(sub)
            assert box.body is not None
            return self.emit(box.body, preds, sub, label)
        raise TypeError(type(box))


def _graph(d: Diagram) -> _Graph:
    g = _Graph()
    col = d.column
    exits: list[list[str]] = []
    preds: list[str] = []
    for i, row in enumerate(col.items):
        label = fmt_shape(col.items[i - 1].shape) if i else ""
        preds = g.emit(row, preds, g.root, label)
        exits.append(preds)
    for side in d.sides:
        label = fmt_shape(col.items[side.tap].shape)
        g.emit(side.group, exits[side.tap], g.root, label)
    return g


def _dot_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot(d: Diagram) -> str:
    g = _graph(d)
    out = [
        f"// {d.title}",
        f"// {d.subtitle}",
        f"digraph {_dot_str(d.name)} {{",
        "  rankdir=TB; newrank=true; nodesep=0.25; ranksep=0.35;",
        f'  label={_dot_str(d.title)}; labelloc=t; fontname="DejaVu Sans Mono"; fontsize=14;',
        '  node [shape=box, style="rounded,filled", fontname="DejaVu Sans Mono", fontsize=11, height=0.3];',
        '  edge [fontname="DejaVu Sans Mono", fontsize=9, color="#59636e", arrowsize=0.6];',
    ]

    def cluster(c: _Cluster, indent: str) -> None:
        for nid in c.nodes:
            text, style, tip = g.nodes[nid]
            fill, stroke = _FILL.get(style, _FILL["misc"])
            out.append(
                f"{indent}{_dot_str(nid)} [label={_dot_str(text)}, fillcolor={_dot_str(fill)}, "
                f"color={_dot_str(stroke)}, tooltip={_dot_str(tip)}];"
            )
        for sub in c.clusters:
            out.append(f"{indent}subgraph {_dot_str('cluster_' + sub.id)} {{")
            out.append(
                f'{indent}  label={_dot_str(sub.label)}; tooltip={_dot_str(sub.tip)}; style="rounded,filled"; '
                'fillcolor="#fafbfc"; color="#9aa5b1"; fontsize=12; labeljust=l;'
            )
            if len(sub.names) > 1:
                out.append(f"{indent}  // {sub.label}: {', '.join(sub.names)}")
            cluster(sub, indent + "  ")
            out.append(f"{indent}}}")

    cluster(g.root, "  ")
    for a, b, label, kind in g.edges:
        attrs = []
        if label and kind != "shortcut":
            attrs.append(f"label={_dot_str(' ' + label)}")
        if kind == "shortcut":
            attrs.append('style=dashed, color="#3f8f3f", constraint=false')
        out.append(f"  {_dot_str(a)} -> {_dot_str(b)}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    out.append("}")
    return "\n".join(out) + "\n"


def _mermaid(d: Diagram) -> str:
    g = _graph(d)
    ids: dict[str, str] = {}

    def mid(name: str, prefix: str = "n") -> str:
        key = prefix + ":" + name
        if key not in ids:
            base = prefix + "_" + re.sub(r"[^A-Za-z0-9_]", "_", name)
            candidate, k = base, 2
            while candidate in ids.values():
                candidate, k = f"{base}_{k}", k + 1
            ids[key] = candidate
        return ids[key]

    def text(s: str) -> str:
        return s.replace('"', "#quot;").replace("\n", "<br/>")

    out = [f"%% {d.title}", f"%% {d.subtitle}", "flowchart TB"]
    styles: dict[str, list[str]] = {}

    def cluster(c: _Cluster, indent: str) -> None:
        for nid in c.nodes:
            label, style, _ = g.nodes[nid]
            shape = ('(["', '"])') if style == "io" else ('["', '"]')
            out.append(f"{indent}{mid(nid)}{shape[0]}{text(label)}{shape[1]}")
            styles.setdefault(style, []).append(mid(nid))
        for sub in c.clusters:
            if len(sub.names) > 1:
                out.append(f"{indent}%% {sub.label}: {', '.join(sub.names)}")
            out.append(f'{indent}subgraph {mid(sub.id, "s")}["{text(sub.label)}"]')
            out.append(f"{indent}  direction TB")
            cluster(sub, indent + "  ")
            out.append(f"{indent}end")

    cluster(g.root, "  ")
    for a, b, label, kind in g.edges:
        arrow = "-.->" if kind == "shortcut" else "-->"
        lab = f'|"{text(label)}"|' if label and kind != "shortcut" else ""
        out.append(f"  {mid(a)} {arrow}{lab} {mid(b)}")
    for style, members in styles.items():
        fill, stroke = _FILL.get(style, _FILL["misc"])
        out.append(f"  classDef {style} fill:{fill},stroke:{stroke},color:#1f2933")
        out.append(f"  class {','.join(members)} {style}")
    return "\n".join(out) + "\n"


# --- the entry point ----------------------------------------------------------------


def render(analysis: Analysis, fmt: str = "svg", depth: str = "layer", collapse_repeats: bool = True) -> str:
    """Draw an analysed spec: ``svg`` (default), ``html`` (one self-contained page where
    blocks fold and layers show their numbers on hover), ``dot`` (Graphviz source) or
    ``mermaid`` (a Mermaid flowchart)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    diagram = layout(analysis, depth, collapse_repeats)
    if fmt == "svg":
        return _svg(diagram)
    if fmt == "html":
        return _html(diagram)
    if fmt == "dot":
        return _dot(diagram)
    return _mermaid(diagram)


__all__ = ["FORMATS", "DEPTHS", "Diagram", "layout", "render", "op_label"]
