"""A diff as a picture: both networks drawn side by side with the renderer's layout, the differences marked.

``inceptionspec diff A B --format html`` (or ``svg``) draws A and B as ``render`` draws them
(:func:`~inceptionspec.render.layout`), each beside the other, and marks what the diff found
(:class:`~inceptionspec.compare.Diff`, the same :class:`~inceptionspec.compare.Change` records the
JSON diff prints):

* added blocks and layers (on B's side) in green, removed ones (on A's side) in red;
* changed ones outlined in orange, on both sides — a changed block's frame dashed;
* consecutive identical blocks collapsed as ``render`` collapses them, except blocks that
  changed, which are drawn on their own;
* hovering a marked box shows what changed, old → new: attributes, output shape, parameters and
  multiply-adds. The HTML page also carries the marks as JSON data (``<script id="diff-data">``)
  and lists the blocks that differ under the picture.

Both files are self-contained: inline CSS and script, no fonts or scripts fetched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from inceptionspec.analysis.report import human
from inceptionspec.compare.formats import MARKS, _block_row, _part, fmt_count, fmt_value
from inceptionspec.compare.records import ADDED, CHANGED, COST, REMOVED, RENAMED, SHAPE, BlockDiff, Change, Count, Diff
from inceptionspec.core.escape import script_json, xml_attr, xml_text
from inceptionspec.ir import Graph
from inceptionspec.render.build import layout
from inceptionspec.render.svg import _svg
from inceptionspec.render.tree import FONT, Box, Diagram, Frame, Unit

#: The CSS class of each kind of mark.
#: A box whose only differences are effects of changes elsewhere (its output shape, its costs).
AFFECTED = "affected"
CLASSES = {ADDED: "dadd", REMOVED: "drem", CHANGED: "dchg", AFFECTED: "deff"}
#: Between the two pictures, and above them.
GAP = 40
TOP = 74

_CSS = f"""
.dh{{font-family:{FONT};font-size:15px;font-weight:bold;fill:#1f2933}}
.ds{{font-family:{FONT};font-size:11px;fill:#52606d}}
.u.dadd rect{{fill:#c8efcc;stroke:#1e8e3e;stroke-width:2.2}}
.u.drem rect{{fill:#f9d0cd;stroke:#c5221f;stroke-width:2.2;stroke-dasharray:5 2}}
.u.dchg rect{{stroke:#e37400;stroke-width:3}}
.u.deff rect{{stroke:#e8a33d;stroke-width:1.8;stroke-dasharray:4 2}}
rect.fr.dadd{{fill:#effaf0;stroke:#1e8e3e;stroke-width:2.2}}
rect.fr.drem{{fill:#fdeeed;stroke:#c5221f;stroke-width:2.2;stroke-dasharray:6 3}}
rect.fr.dchg{{stroke:#e37400;stroke-width:2;stroke-dasharray:6 3}}
rect.fr.deff{{stroke:#e8a33d;stroke-width:1.5;stroke-dasharray:3 3}}
.ttl.dadd .tb{{fill:#c8efcc}}
.ttl.drem .tb{{fill:#f9d0cd}}
.ttl.dchg .tb{{fill:#fde3c4}}
.lg.dadd{{fill:#c8efcc;stroke:#1e8e3e;stroke-width:2}}
.lg.drem{{fill:#f9d0cd;stroke:#c5221f;stroke-width:2}}
.lg.dchg{{fill:#ffffff;stroke:#e37400;stroke-width:3}}
.lg.deff{{fill:#ffffff;stroke:#e8a33d;stroke-width:1.8;stroke-dasharray:4 2}}
"""


@dataclass
class Mark:
    """What one box of one side shows: its status and the changes that concern it."""

    side: str
    id: str
    status: str
    changes: list[Change] = field(default_factory=list)
    block: BlockDiff | None = None
    pair: str | None = None
    tip: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "id": self.id,
            "status": self.status,
            "pair": self.pair,
            "tip": self.tip,
            "changes": [change.as_dict() for change in self.changes],
        }


# --- which box each change lands on ----------------------------------------------------------


def _boxes(diagram: Diagram) -> Iterator[Box]:
    yield from diagram.boxes()


class _Side:
    """One side's diagram, indexed: IR layer → unit, block name → row box."""

    def __init__(self, key: str, diagram: Diagram, graph: Graph) -> None:
        self.key = key
        self.diagram = diagram
        self.graph = graph
        self.unit_of_layer: dict[str, Unit] = {}
        self.box_of_block: dict[str, Box] = {}
        self.units: dict[str, Unit] = {}
        for box in _boxes(diagram):
            if isinstance(box, Unit):
                self.units[box.id] = box
                for layer in box.layers:
                    self.unit_of_layer.setdefault(layer, box)
                for name in box.names:
                    self.box_of_block[name] = box
            elif isinstance(box, Frame):
                for name in box.names:
                    self.box_of_block[name] = box
        for box in diagram.rows:  # a top-level op is a block of its own name
            if isinstance(box, Unit) and box.id not in self.box_of_block:
                self.box_of_block[box.id] = box
        self.marks: dict[int, Mark] = {}

    def box_for(self, change: Change, name: str) -> Box | None:
        if change.entity == "layer":
            # A diff's layer is an IR unit: an op (named as its first layer) or a block's merge (`x.merge`).
            try:
                layers = self.graph.unit(name).layers
            except KeyError:
                layers = (name,)
            return next((self.unit_of_layer[layer] for layer in layers if layer in self.unit_of_layer), None)
        if change.entity == "block":
            return self.box_of_block.get(name)
        if change.entity == "output":
            return self.units.get(f"{name}:output")
        return self.units.get("input")  # the network's input shape

    def mark(self, box: Box, change: Change | None, status: str, block: BlockDiff | None = None) -> Mark:
        mark = self.marks.get(id(box))
        if mark is None:
            mark = self.marks[id(box)] = Mark(self.key, getattr(box, "id", ""), status)
        if status in (ADDED, REMOVED):
            mark.status = status
        if change is not None:
            mark.changes.append(change)
        if block is not None:
            mark.block = block
        return mark


def _old_names(result: Diff) -> tuple[dict[str, str], dict[str, str]]:
    """B's names → A's: blocks renamed, and layers renamed."""
    blocks = {b.name: b.old_name for b in result.blocks if b.old_name and b.old_name != b.name}
    layers = {c.new: c.old for c in result.changes if c.entity == "layer" and c.kind == RENAMED}
    return blocks, layers


def _a_name(change: Change, blocks: dict[str, str], layers: dict[str, str]) -> str:
    if change.entity == "layer":
        if change.path in layers:
            return layers[change.path]
        block = change.block or ""
        if block in blocks and change.path.startswith(block + "."):
            return blocks[block] + change.path[len(block) :]
        return change.path
    if change.entity == "block":
        return blocks.get(change.path, change.path)
    return change.path


def marks(result: Diff, a: Diagram, b: Diagram) -> list[Mark]:
    """Every marked box of both sides, with the changes that concern it (A's side first)."""
    sides = {"a": _Side("a", a, result.a.analysis.graph), "b": _Side("b", b, result.b.analysis.graph)}
    blocks, layers = _old_names(result)
    by_block = {block.name: block for block in result.blocks}
    for change in result.changes:
        if change.kind in (ADDED, REMOVED) and change.field:  # a part (batch norm) on one side: changed
            targets = [("a", _a_name(change, blocks, layers), CHANGED), ("b", change.path, CHANGED)]
        elif change.kind == ADDED:
            targets = [("b", change.path, ADDED)]
        elif change.kind == REMOVED:
            targets = [("a", change.path, REMOVED)]
        else:
            targets = [("a", _a_name(change, blocks, layers), CHANGED), ("b", change.path, CHANGED)]
        for key, name, status in targets:
            side = sides[key]
            box = side.box_for(change, name)
            if box is not None:
                block = by_block.get(change.path) if change.entity == "block" else None
                side.mark(box, change, status, block)
    out: list[Mark] = []
    for side in sides.values():
        other = sides["b" if side.key == "a" else "a"]
        for mark in side.marks.values():
            if mark.status == CHANGED:  # every change here is on both sides
                counterpart = next(
                    (m for m in other.marks.values() if m.changes and m.changes[0] is mark.changes[0]), None
                )
                mark.pair = counterpart.id if counterpart else None
            out.append(mark)
    for side in sides.values():
        for mark in side.marks.values():
            # A block counts every change inside it; a layer its own.
            changes = mark.block.changes if mark.block is not None else mark.changes
            if mark.status == CHANGED and all(change.kind in (SHAPE, COST) for change in changes):
                mark.status = AFFECTED
        for box in _boxes(side.diagram):
            mark = side.marks.get(id(box))
            if mark is not None:
                box.mark = CLASSES[mark.status]
                mark.tip = _tip(mark, getattr(box, "tip", ""))
                if isinstance(box, (Unit, Frame)):
                    box.tip = mark.tip
    return out


# --- what a hover says ------------------------------------------------------------------------


def change_line(change: Change, prefix: str = "") -> str:
    """One change as a line of a tooltip: ``filters 64 → 96``, ``output 56×56×64 → 56×56×96``."""
    where = f"{prefix}: " if prefix else ""
    if change.kind in (ADDED, REMOVED) and change.field:  # a part a layer gains or loses
        return f"{where}{_part(change)}"
    if change.kind == ADDED:
        return f"{where}added ({fmt_value(change.new)})"
    if change.kind == REMOVED:
        return f"{where}removed ({fmt_value(change.old)})"
    if change.kind == RENAMED:
        return f"{where}renamed {change.old} → {change.new}"
    if change.kind == COST:
        number = human if change.field == "macs" else (lambda n: f"{n:,}")
        label = "MACs" if change.field == "macs" else "params"
        return f"{where}{label} {fmt_count(Count(change.old, change.new), number)}"
    label = "output" if change.kind == SHAPE and change.field == "output_shape" else change.field
    old, new = fmt_value(change.old, change.op, change.field), fmt_value(change.new, change.op, change.field)
    return f"{where}{label} {old} → {new}"


def _tip(mark: Mark, own: str) -> str:
    lines = [f"{mark.id} — {mark.status}"]
    if mark.block is not None and mark.status in (CHANGED, AFFECTED):
        lines.append(_block_row(mark.block).what)
    for change in mark.changes:
        if change.entity == "block" and change.kind == CHANGED and mark.block is not None:
            continue  # said by the block's line above
        prefix = change.path if change.entity == "layer" and change.path != mark.id else ""
        lines.append(change_line(change, prefix))
    own_lines = own.splitlines()[1:]
    return "\n".join(lines + ([""] + own_lines if own_lines else []))


# --- the picture ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Picture:
    """The two placed diagrams and their marks."""

    result: Diff
    a: Diagram
    b: Diagram
    marks: tuple[Mark, ...]

    @property
    def width(self) -> float:
        return self.a.width + GAP + self.b.width

    @property
    def height(self) -> float:
        return TOP + max(self.a.height, self.b.height)

    def data(self) -> dict[str, Any]:
        """The marks as JSON data (what the page's hover shows, with the changes behind it)."""
        result = self.result
        return {
            "a": result.a.source,
            "b": result.b.source,
            "identical": result.identical,
            "marks": [mark.as_dict() for mark in self.marks],
        }


def picture(result: Diff, depth: str = "layer") -> Picture:
    """Lay both sides out (changed blocks kept out of collapsed runs) and mark them."""
    apart_a = {b.old_name or b.name for b in result.blocks}
    apart_b = {b.name for b in result.blocks}
    a = layout(result.a.analysis, depth, True, apart_a)
    b = layout(result.b.analysis, depth, True, apart_b)
    return Picture(result, a, b, tuple(marks(result, a, b)))


def _totals(result: Diff) -> str:
    t = result.totals
    parts = [
        f"params {fmt_count(t.params)}",
        f"MACs {fmt_count(t.macs, human)}",
        f"layers {fmt_count(t.layers)}",
    ]
    return " · ".join(parts)


def _legend(x: float, y: float) -> list[str]:
    out = []
    legend = (
        (ADDED, "added (in B)"),
        (REMOVED, "removed (from A)"),
        (CHANGED, "changed"),
        (AFFECTED, "shape or cost only"),
    )
    for status, label in legend:
        out.append(f'<rect class="lg {CLASSES[status]}" x="{x:.0f}" y="{y - 10:.0f}" width="14" height="12" rx="2"/>')
        out.append(f'<text class="ds" x="{x + 20:.0f}" y="{y:.0f}">{xml_text(label)}</text>')
        x += 20 + 7 * len(label) + 18
    return out


def svg(pic: Picture) -> str:
    """The picture as one SVG file (hover a box for its changes, as the browser shows titles)."""
    result = pic.result
    w, h = pic.width, pic.height
    title = f"{result.a.source} → {result.b.source}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="isd" width="{w:.0f}" height="{h:.0f}" '
        f'viewBox="0 0 {w:.0f} {h:.0f}">',
        f"<title>{xml_text(title)}</title>",
        f"<style>{_CSS}</style>",
        f'<rect x="0" y="0" width="{w:.0f}" height="{h:.0f}" fill="#ffffff"/>',
        f'<text class="dh" x="20" y="28">{xml_text("diff: " + title)}</text>',
        f'<text class="ds" x="20" y="47">{xml_text(_totals(result))}</text>',
        *_legend(20, 66),
        f'<g transform="translate(0,{TOP})">{_svg(pic.a)}</g>',
        f'<g transform="translate({pic.a.width + GAP:.0f},{TOP})">{_svg(pic.b)}</g>',
        "</svg>",
    ]
    return "\n".join(out) + "\n"


_PAGE_CSS = """
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',sans-serif;background:#f6f7f9;color:#1f2933}
main{padding:12px 16px;overflow:auto}
svg.isd{background:#fff;box-shadow:0 1px 3px rgba(0,0,0,.12);display:block}
body.fit main{padding:4px} body.fit svg.isd{width:100%;height:auto}
svg .u.hl rect,svg .ttl.hl .tb{stroke:#1a73e8 !important;stroke-width:3.5 !important}
table.changes{border-collapse:collapse;margin:16px 0;font-size:13px;background:#fff}
table.changes td,table.changes th{border:1px solid #dde2e7;padding:4px 8px;text-align:left;vertical-align:top}
table.changes td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
table.changes tr[data-id]{cursor:pointer} table.changes tr[data-id]:hover{background:#eef4fb}
td.added{color:#1e8e3e;font-weight:bold} td.removed{color:#c5221f;font-weight:bold}
td.changed,td.renamed{color:#e37400;font-weight:bold}
#tip{position:fixed;pointer-events:none;background:#1f2933;color:#fff;font:12px/1.45 monospace;
  padding:6px 9px;border-radius:4px;white-space:pre-wrap;overflow-wrap:anywhere;display:none;z-index:5;max-width:80ch}
"""

_PAGE_JS = """
(function(){
  var data=JSON.parse(document.getElementById('diff-data').textContent), tip=document.getElementById('tip');
  var byKey={}; data.marks.forEach(function(m){ byKey[m.side+' '+m.id]=m; });
  var pics=[].slice.call(document.querySelectorAll('svg.isd svg.isr'));
  [].slice.call(document.querySelectorAll('svg.isr g.u > title, svg.isr g.ttl > title')).forEach(function(t){
    t.parentNode.setAttribute('data-tip', t.textContent); t.parentNode.removeChild(t);
  });
  function sideOf(el){ return pics.indexOf(el.closest('svg.isr'))===0 ? 'a' : 'b'; }
  function find(side,id){
    var pic=pics[side==='a'?0:1]; if(!pic||!id) return null;
    var all=[].slice.call(pic.querySelectorAll('[data-id]'));
    return all.filter(function(e){ return e.getAttribute('data-id')===id; })[0]||null;
  }
  var lit=null;
  document.addEventListener('mousemove',function(ev){
    var t=ev.target.closest ? ev.target.closest('[data-tip]') : null;
    if(lit){ lit.classList.remove('hl'); lit=null; }
    if(!t){ tip.style.display='none'; return; }
    var side=sideOf(t), m=byKey[side+' '+t.getAttribute('data-id')];
    tip.textContent=m ? m.tip : t.getAttribute('data-tip'); tip.style.display='block';
    if(m && m.pair){ lit=find(side==='a'?'b':'a', m.pair); if(lit) lit.classList.add('hl'); }
    var x=ev.clientX+14, y=ev.clientY+14, w=tip.offsetWidth, h=tip.offsetHeight;
    if(x+w>window.innerWidth-4) x=ev.clientX-w-10;
    if(y+h>window.innerHeight-4) y=ev.clientY-h-10;
    tip.style.left=x+'px'; tip.style.top=y+'px';
  });
  function show(side,id){
    var el=find(side,id); if(!el) return;
    el.scrollIntoView({block:'center',inline:'center'});
    el.classList.add('hl'); setTimeout(function(){ el.classList.remove('hl'); }, 1500);
  }
  [].slice.call(document.querySelectorAll('tr[data-id]')).forEach(function(row){
    row.addEventListener('click',function(){ show(row.getAttribute('data-side'), row.getAttribute('data-id')); });
  });
  // In a frame (a notebook): both sides fit its width, and it opens at the first change's row.
  if(window.self!==window.top){
    document.body.classList.add('fit');
    var first=data.marks[0], el=first && find(first.side, first.id);
    if(el) el=el.closest('g.row')||el;
    if(el) window.scrollTo(0, Math.max(0, el.getBoundingClientRect().top + window.scrollY - 24));
  }
})();
"""


def change_table(result: Diff) -> str:
    """The blocks that differ, one row each (HTML), as the text diff lists them."""
    if result.identical:
        return f"<p>{xml_text(result.a.source)} and {xml_text(result.b.source)} are identical.</p>"
    rows = ["<tr><th></th><th>block</th><th>what changed</th><th>output</th><th>params</th><th>MACs</th></tr>"]
    for block in result.blocks:
        row = _block_row(block)
        side, name = ("a", block.old_name or block.name) if block.status == REMOVED else ("b", block.name)
        rows.append(
            f'<tr data-side="{side}" data-id="{xml_attr(name)}">'
            f'<td class="{xml_attr(row.status)}">{xml_text(MARKS[row.status])}</td>'
            f"<td><code>{xml_text(row.name)}</code></td><td>{xml_text(row.what)}</td>"
            f'<td class="n">{xml_text(row.output)}</td><td class="n">{xml_text(row.params)}</td>'
            f'<td class="n">{xml_text(row.macs)}</td></tr>'
        )
    return '<table class="changes">' + "".join(rows) + "</table>"


def html(pic: Picture, changes: bool = True) -> str:
    """One self-contained page: the two pictures, hover details, and (``changes``) the change list."""
    result = pic.result
    title = f"{result.a.source} → {result.b.source}"
    listing = f"<h3>Blocks that differ</h3>\n{change_table(result)}\n" if changes else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{xml_text('diff: ' + title)} — inceptionspec</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<style>{_PAGE_CSS}</style>\n</head>\n<body>\n<main>\n{svg(pic)}{listing}</main>\n"
        '<div id="tip"></div>\n'
        f'<script type="application/json" id="diff-data">{script_json(pic.data())}</script>\n'
        f"<script>{_PAGE_JS}</script>\n</body>\n</html>\n"
    )


def render_diff(result: Diff, fmt: str = "html") -> str:
    """``html`` (a page with hover details and the change list) or ``svg``."""
    pic = picture(result)
    if fmt == "svg":
        return svg(pic)
    if fmt == "html":
        return html(pic)
    raise ValueError(f"a diff picture is html or svg, not {fmt!r}")
