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

from inceptionspec.analysis import Analysis
from inceptionspec.core.budget import Budget
from inceptionspec.core.errors import Loc
from inceptionspec.render.build import layout
from inceptionspec.render.graph import _dot, _mermaid
from inceptionspec.render.html import _html
from inceptionspec.render.svg import _svg
from inceptionspec.render.tree import DEPTHS, FORMATS

# --- the entry point ----------------------------------------------------------------


def render(
    analysis: Analysis,
    fmt: str = "svg",
    depth: str = "layer",
    collapse_repeats: bool = True,
    budget: Budget | None = None,
) -> str:
    """Draw an analysed spec: ``svg`` (default), ``html`` (one self-contained page where
    blocks fold and layers show their numbers on hover), ``dot`` (Graphviz source) or
    ``mermaid`` (a Mermaid flowchart). Every box counts against ``budget.max_render_boxes``
    before anything is written; every string is escaped for its format
    (:mod:`inceptionspec.core.escape`)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    budget = budget or Budget()
    diagram = layout(analysis, depth, collapse_repeats)
    loc = analysis.graph.spec.loc or Loc(analysis.name, 1, 1)
    budget.spend("max_render_boxes", sum(1 for _ in diagram.boxes()), loc, "draw it with --depth block")
    if fmt == "svg":
        return _svg(diagram)
    if fmt == "html":
        return _html(diagram)
    if fmt == "dot":
        return _dot(diagram)
    return _mermaid(diagram)


__all__ = ["FORMATS", "DEPTHS", "Diagram", "layout", "render", "op_label"]
