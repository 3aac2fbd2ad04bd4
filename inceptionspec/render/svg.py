"""The placed diagram as SVG (also embedded in the HTML page)."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from inceptionspec.ops import fmt_shape
from inceptionspec.render.tree import (
    BAR,
    FONT,
    FONT_SIZE,
    FRAME_PAD,
    GAP_TOP,
    LINE_H,
    MARGIN,
    SHORTCUT_W,
    SIDE_VGAP,
    SMALL_SIZE,
    SPLIT_H,
    STACK,
    TITLE_H,
    Box,
    Diagram,
    Frame,
    Par,
    Seq,
    Span,
    Unit,
    spans_w,
    text_w,
)

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


def _marked(box: Box) -> str:
    """A box's extra classes (set by the code, never from a spec), after a space."""
    return f" {escape(box.mark)}" if box.mark else ""


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
        self.add(f'<g class="u{_marked(u)}" data-id="{escape(u.id)}">')
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
            f'<rect class="fr{_marked(f)}" x="{_n(f.x)}" y="{_n(f.y)}" width="{_n(w)}" height="{_n(h)}" rx="6" '
            f'data-ho="{_n(h)}" data-hc="{_n(hc)}"/>'
        )
        r = 6
        x0, y0, x1, y1 = f.x + 0.5, f.y + 0.5, f.x + w - 0.5, f.y + TITLE_H
        self.add(
            f'<g class="ttl{_marked(f)}" data-id="{escape(f.id)}">'
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
