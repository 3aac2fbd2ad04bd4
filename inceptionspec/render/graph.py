"""The diagram as graph source: DOT (Graphviz) and Mermaid."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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
