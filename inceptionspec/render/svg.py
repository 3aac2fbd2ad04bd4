"""The placed diagram as SVG (also embedded in the HTML page)."""

from __future__ import annotations

from inceptionspec.core import escape as esc
from inceptionspec.ops import fmt_shape
from inceptionspec.render.tree import (
    BAR,
    FONT,
    FONT_SIZE,
    FRAME_PAD,
    GAP_TOP,
    LEGEND_H,
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


def _classes(base: str, box: Box) -> str:
    """``base`` and a box's extra classes (``box.mark``: set by the code, never from a spec)."""
    return " ".join((base, box.mark)) if box.mark else base


class _Svg:
    """The SVG as a list of lines. Every element is made by :mod:`inceptionspec.core.escape`'s
    builders (attributes and text escaped by construction); coordinates are numbers."""

    def __init__(self, html: bool) -> None:
        self.out: list[str] = []
        self.html = html

    def add(self, markup: esc.Markup) -> None:
        if not isinstance(markup, esc.Markup):  # escaping by construction: only the builders make Markup
            raise TypeError("SVG output must be built with inceptionspec.core.escape (Markup), not a plain str")
        self.out.append(markup)

    def line(self, x1: float, y1: float, x2: float, y2: float, cls: str = "e", arrow: bool = False) -> None:
        if abs(x1 - x2) < 0.01 and abs(y1 - y2) < 0.01:
            return
        d = esc.path_data("M", x1, y1, "L", x2, y2)
        self.add(esc.empty("path", class_=cls, d=d, marker_end="url(#ah)" if arrow else None))

    def text(self, x: float, y: float, spans: list[Span], anchor: str = "start", cls: str = "") -> None:
        parts = [esc.element("tspan", t, class_=c) if c else esc.xml_text(t) for t, c in spans]
        anchor_attr = None if anchor == "start" else anchor
        self.add(
            esc.element("text", *parts, x=x, y=y, class_=cls or None, text_anchor=anchor_attr, xml_space="preserve")
        )

    def title(self, tip: str) -> None:
        self.add(esc.element("title", tip))

    def rect(self, x: float, y: float, w: float, h: float, **extra: object) -> None:
        self.add(esc.empty("rect", x=x, y=y, width=w, height=h, **extra))

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
        self.add(esc.start("g", class_=_classes("u", u), data_id=u.id))
        self.title(u.tip)
        r = 11 if u.style == "io" else 4
        self.add(esc.empty("rect", class_=u.style, x=u.x, y=u.y, width=u.w, height=u.h, rx=r))
        if len(u.lines) == 1:
            self.text(u.x + u.w / 2, u.y + u.h / 2 + 4, u.lines[0], "middle")
        else:
            for i, line in enumerate(u.lines):
                self.text(u.x + u.w / 2, u.y + 4.5 + LINE_H * (i + 1) - 3.5, line, "middle")
        self.add(esc.end("g"))

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
                d = esc.path_data("M", lane_x, bar_top, "L", lane_x, mid, "L", add.x, mid)
                tip = esc.element("title", "shortcut: the block input")
                self.add(esc.element("path", tip, class_="sc", d=d, marker_end="url(#ahg)"))
            for m in p.merges:
                self.unit(m)

    def frame(self, f: Frame, fold: bool = False) -> None:
        w, h = f.inner_w, f.h - f.stack
        hc = TITLE_H
        for k in (2, 1)[: 2 if f.copies > 1 else 0]:
            self.rect(f.x + k * STACK, f.y + k * STACK, w, h, class_="sh", rx=6, data_ho=h, data_hc=hc)
        self.rect(f.x, f.y, w, h, class_=_classes("fr", f), rx=6, data_ho=h, data_hc=hc)
        r = 6
        x0, y0, x1, y1 = f.x + 0.5, f.y + 0.5, f.x + w - 0.5, f.y + TITLE_H
        self.add(esc.start("g", class_=_classes("ttl", f), data_id=f.id))
        d = esc.path_data(
            *("M", x0, y1, "V", y0 + r, "Q", x0, y0, x0 + r, y0),
            *("H", x1 - r, "Q", x1, y0, x1, y0 + r, "V", y1, "Z"),
        )
        self.add(esc.empty("path", class_="tb", d=d))
        self.title(f.tip)
        if f.foldable and self.html:
            self.text(f.x + FRAME_PAD, f.y + 16, [("▾", "")], cls="tg")
            summary = f.summary
            if f.title_x() + spans_w(f.title) + text_w(summary, small=True) + 3 * FRAME_PAD <= f.x + w:
                self.text(f.x + w - FRAME_PAD, f.y + 16, [(summary, "")], "end", "s fs")
        self.text(f.title_x(), f.y + 16, f.title)
        self.add(esc.end("g"))
        assert f.body is not None
        self.add(esc.start("g", class_="body"))
        self.line(f.x + f.ax, f.y + TITLE_H, f.x + f.ax, f.body.y)
        self.box(f.body)
        self.line(f.x + f.ax, f.body.bottom, f.x + f.ax, f.bottom)
        self.add(esc.end("g"))


_DEFS = esc.Markup(
    "<defs>"
    '<marker id="ah" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
    '<path d="M0 1L10 5L0 9Z" fill="#59636e"/></marker>'
    '<marker id="ahg" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
    '<path d="M0 1L10 5L0 9Z" fill="#3f8f3f"/></marker>'
    '<marker id="ahp" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
    '<path d="M0 1L10 5L0 9Z" fill="#8a5aab"/></marker>'
    "</defs>"
)


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
    s.add(
        esc.start(
            "svg",
            xmlns=None if html else "http://www.w3.org/2000/svg",
            class_="isr",
            width=d.width,
            height=d.height,
            viewBox=f"0 0 {esc.num(d.width)} {esc.num(d.height)}",
            data_layout=esc.script_json(meta),
        )
    )
    s.title(d.title)
    s.add(esc.element("style", esc.Markup(_CSS)))
    s.add(_DEFS)
    s.add(esc.empty("rect", x=0, y=0, width=d.width, height=d.height, fill="#ffffff", class_="bg"))
    s.text(MARGIN, MARGIN + 8, [(d.title, "")], cls="hd")
    s.text(MARGIN, MARGIN + 27, [(d.subtitle, "")], cls="s")
    for i, line in enumerate(d.legend_lines):  # what the abbreviations in the boxes mean
        s.text(MARGIN, MARGIN + 27 + LEGEND_H * (i + 1), line)
    # The main column, one group per row so the HTML page can fold rows and move the rest.
    for i, row in enumerate(col.items):
        fold = isinstance(row, Frame) and row.foldable
        folded_h = row.folded_h if fold else None  # type: ignore[union-attr]
        cls = "row fold" if fold else "row"
        s.add(esc.start("g", class_=cls, data_i=i, data_y0=row.y, data_ho=row.h, data_hc=folded_h))
        if i:
            prev = col.items[i - 1]
            mid = prev.bottom + GAP_TOP / 2
            s.line(col.axis, prev.bottom, col.axis, row.y, arrow=True)
            s.text(col.axis - 7, mid + 4, [(fmt_shape(prev.shape), "")], "end", "lb")
        s.box(row)
        s.add(esc.end("g"))
    for j, side in enumerate(d.sides):
        top = side.group.y
        mid = top + TITLE_H / 2
        path = esc.path_data("M", col.axis, side.conn_y, "H", side.gutter_x, "V", mid, "H", side.group.x)
        s.add(esc.empty("path", class_="cn", data_side=j, d=path, marker_end="url(#ahp)"))
        s.add(esc.empty("circle", class_="dot", data_side=j, cx=col.axis, cy=side.conn_y, r=3))
        s.add(esc.start("g", class_="side", data_j=j, data_y0=top, data_h=side.group.h))
        s.box(side.group)
        s.add(esc.end("g"))
    s.add(esc.end("svg"))
    return esc.Markup("\n").join(s.out) + esc.Markup("\n")
