"""The diagram as graph source: DOT (Graphviz) and Mermaid."""

from __future__ import annotations

from dataclasses import dataclass, field

from inceptionspec.core import escape as esc
from inceptionspec.ops import fmt_shape
from inceptionspec.render.tree import Box, Diagram, Frame, Par, Seq, Unit

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
            title = box.name + (" (" + box.kind + ")" if box.kind else "")
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


def _dot(d: Diagram) -> str:
    """Graphviz source: every name, label and tooltip a DOT string made by :func:`esc.dot`;
    the header comments one line each (:func:`esc.line`)."""
    g = _graph(d)
    out = [
        f"// {esc.line(d.title)}",
        f"// {esc.line(d.subtitle)}",
        f"digraph {esc.dot(d.name)} {{",
        "  rankdir=TB; newrank=true; nodesep=0.25; ranksep=0.35;",
        f'  label={esc.dot(d.title)}; labelloc=t; fontname="DejaVu Sans Mono"; fontsize=14;',
        '  node [shape=box, style="rounded,filled", fontname="DejaVu Sans Mono", fontsize=11, height=0.3];',
        '  edge [fontname="DejaVu Sans Mono", fontsize=9, color="#59636e", arrowsize=0.6];',
    ]

    def cluster(c: _Cluster, indent: str) -> None:
        for nid in c.nodes:
            text, style, tip = g.nodes[nid]
            fill, stroke = _FILL.get(style, _FILL["misc"])
            out.append(
                indent + f"{esc.dot(nid)} [label={esc.dot(text)}, fillcolor={esc.dot(esc.color(fill))}, "
                f"color={esc.dot(esc.color(stroke))}, tooltip={esc.dot(tip)}];"
            )
        for sub in c.clusters:
            out.append(indent + f"subgraph {esc.dot('cluster_' + sub.id)} {{")
            out.append(
                indent + f'  label={esc.dot(sub.label)}; tooltip={esc.dot(sub.tip)}; style="rounded,filled"; '
                'fillcolor="#fafbfc"; color="#9aa5b1"; fontsize=12; labeljust=l;'
            )
            if len(sub.names) > 1:
                out.append(indent + f"  // {esc.line(sub.label + ': ' + ', '.join(sub.names))}")
            cluster(sub, indent + "  ")
            out.append(indent + "}")

    cluster(g.root, "  ")
    for a, b, label, kind in g.edges:
        attrs = ""
        if kind == "shortcut":
            attrs = ' [style=dashed, color="#3f8f3f", constraint=false]'
        elif label:
            attrs = f" [label={esc.dot(' ' + label)}]"
        out.append(f"  {esc.dot(a)} -> {esc.dot(b)}" + attrs + ";")
    out.append("}")
    return "\n".join(out) + "\n"


class _MermaidIds:
    """Mermaid node ids: the name with every character but letters, digits and ``_`` replaced,
    made unique with ``_2``, ``_3`` ... in linear time (2,000 names that differ only in ``-``
    and ``_`` once took 13 s)."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.taken: set[str] = set()
        self.next: dict[str, int] = {}

    def __call__(self, name: str, prefix: str = "n") -> str:
        key = prefix + ":" + name
        found = self.ids.get(key)
        if found is not None:
            return found
        base = prefix + "_" + esc.mermaid_id(name)
        candidate, k = base, self.next.get(base, 2)
        while candidate in self.taken:
            candidate, k = f"{esc.mermaid_id(base)}_{esc.num(k)}", k + 1
        if candidate != base:
            self.next[base] = k
        self.taken.add(candidate)
        self.ids[key] = candidate
        return candidate


def _mermaid(d: Diagram) -> str:
    """A Mermaid flowchart: ids from :class:`_MermaidIds`, labels by :func:`esc.mermaid_label`,
    comments one line each."""
    g = _graph(d)
    mid = _MermaidIds()
    out = [f"%% {esc.mermaid_comment(d.title)}", f"%% {esc.mermaid_comment(d.subtitle)}", "flowchart TB"]
    styles: dict[str, list[str]] = {}

    def cluster(c: _Cluster, indent: str) -> None:
        for nid in c.nodes:
            label, style, _ = g.nodes[nid]
            if style == "io":
                out.append(indent + f'{esc.mermaid_id(mid(nid))}(["{esc.mermaid_label(label)}"])')
            else:
                out.append(indent + f'{esc.mermaid_id(mid(nid))}["{esc.mermaid_label(label)}"]')
            styles.setdefault(style, []).append(mid(nid))
        for sub in c.clusters:
            if len(sub.names) > 1:
                out.append(indent + f"%% {esc.mermaid_comment(sub.label + ': ' + ', '.join(sub.names))}")
            out.append(indent + f'subgraph {esc.mermaid_id(mid(sub.id, "s"))}["{esc.mermaid_label(sub.label)}"]')
            out.append(indent + "  direction TB")
            cluster(sub, indent + "  ")
            out.append(indent + "end")

    cluster(g.root, "  ")
    for a, b, label, kind in g.edges:
        arrow = "-.->" if kind == "shortcut" else "-->"
        lab = f'|"{esc.mermaid_label(label)}"|' if label and kind != "shortcut" else ""
        out.append(f"  {esc.mermaid_id(mid(a))} " + arrow + lab + f" {esc.mermaid_id(mid(b))}")
    for style, members in styles.items():
        fill, stroke = _FILL.get(style, _FILL["misc"])
        out.append(
            f"  classDef {esc.mermaid_id(style)} fill:{esc.color(fill)},stroke:{esc.color(stroke)},color:#1f2933"
        )
        out.append("  class " + ",".join(esc.mermaid_id(m) for m in members) + f" {esc.mermaid_id(style)}")
    return "\n".join(out) + "\n"
