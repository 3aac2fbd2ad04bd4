"""How specs, analyses and diffs show themselves in Jupyter (``_repr_html_``).

* a :class:`~inceptionspec.lang.models.Spec` or its :class:`~inceptionspec.analysis.Analysis`: the
  summary (totals and one row per block, as ``summary`` prints it) and the interactive picture
  (``render --format html``: blocks fold, layers show their numbers on hover);
* a :class:`~inceptionspec.compare.Diff`: the blocks that differ and the side-by-side picture of
  ``diff --format html``.

Each picture is the self-contained page the command writes, inside an ``<iframe srcdoc>`` with
``sandbox="allow-scripts"``: its script and styles cannot touch the notebook, and several outputs
in one notebook do not interfere. Only the static path is imported (no TensorFlow).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inceptionspec.analysis.report import human
from inceptionspec.core.escape import xml_attr, xml_text
from inceptionspec.ops import fmt_shape

if TYPE_CHECKING:
    from inceptionspec.analysis import Analysis
    from inceptionspec.compare import Diff
    from inceptionspec.lang.models import Spec

#: The tallest a picture's frame gets in a notebook (it scrolls inside).
MAX_FRAME_HEIGHT = 720

_STYLE = """<style>
.isn{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2933;max-width:100%}
.isn h4{margin:4px 0;font-size:15px}
.isn p.t{margin:2px 0 8px;font-size:12.5px;color:#52606d}
.isn details{margin:4px 0 10px}
.isn summary{cursor:pointer;font-size:13px;color:#3e4c59}
.isn table{border-collapse:collapse;font-size:12.5px;margin-top:4px}
.isn th,.isn td{border:1px solid #dde2e7;padding:2px 8px;text-align:left}
.isn td.n,.isn th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.isn iframe{width:100%;border:1px solid #dde2e7;background:#f6f7f9}
.isn td.added{color:#1e8e3e;font-weight:bold} .isn td.removed{color:#c5221f;font-weight:bold}
.isn td.changed,.isn td.renamed{color:#e37400;font-weight:bold}
</style>"""


def frame(page: str, height: float, title: str) -> str:
    """A self-contained page in a sandboxed iframe (scripts run, nothing reaches the notebook)."""
    shown = int(min(MAX_FRAME_HEIGHT, max(200, height)))
    return (
        f'<iframe sandbox="allow-scripts" title="{xml_attr(title)}" height="{shown}" '
        f'srcdoc="{xml_attr(page)}"></iframe>'
    )


def summary_table(analysis: Analysis) -> str:
    """One row per block: name, type, output shape, parameters, multiply-adds."""
    rows = [
        '<tr><th>block</th><th>type</th><th class="n">output</th><th class="n">params</th><th class="n">MACs</th></tr>'
    ]
    for block in analysis.blocks:
        rows.append(
            f"<tr><td><code>{xml_text(block.name)}</code></td><td>{xml_text(block.kind)}</td>"
            f'<td class="n">{xml_text(fmt_shape(block.output_shape))}</td>'
            f'<td class="n">{block.params:,}</td><td class="n">{xml_text(human(block.macs))}</td></tr>'
        )
    return "<table>" + "".join(rows) + "</table>"


def analysis_html(analysis: Analysis) -> str:
    """The summary and the interactive picture of an analysed spec."""
    from inceptionspec.render import layout
    from inceptionspec.render.html import _html

    diagram = layout(analysis)
    outputs = ", ".join(f"{o['name']} {fmt_shape(tuple(o['shape']))}" for o in analysis.outputs)
    totals = (
        f"input {fmt_shape(analysis.input_shape)} · {analysis.total_params:,} parameters "
        f"({analysis.trainable_params:,} trainable) · {human(analysis.macs)} multiply-adds · "
        f"{len(analysis.layers)} layers · outputs: {outputs}"
    )
    return (
        f'{_STYLE}<div class="isn"><h4>{xml_text(diagram.title)}</h4><p class="t">{xml_text(totals)}</p>'
        f"<details><summary>{len(analysis.blocks)} blocks</summary>{summary_table(analysis)}</details>"
        f"{frame(_html(diagram), diagram.height + 60, diagram.title)}</div>"
    )


def spec_html(spec: Spec) -> str:
    """A loaded spec: analysed with every head (auxiliary ones too), then as :func:`analysis_html`."""
    from inceptionspec.analysis import analyze
    from inceptionspec.core.errors import SpecError

    try:
        analysis = analyze(spec, include_aux=True)
    except SpecError as err:
        return f'{_STYLE}<div class="isn"><h4>{xml_text(spec.name)}</h4><pre>{xml_text(err.format())}</pre></div>'
    return analysis_html(analysis)


def diff_html(result: Diff) -> str:
    """The blocks that differ, then the two networks side by side with the differences marked."""
    from inceptionspec.compare.formats import fmt_count
    from inceptionspec.render.diffpicture import change_table, html, picture

    title = f"{result.a.source} → {result.b.source}"
    totals = result.totals
    line = (
        f"params {fmt_count(totals.params)} · MACs {fmt_count(totals.macs, human)} · layers {fmt_count(totals.layers)}"
    )
    if result.identical:
        return f'{_STYLE}<div class="isn"><h4>{xml_text(title)}</h4>{change_table(result)}</div>'
    pic = picture(result)
    return (
        f'{_STYLE}<div class="isn"><h4>{xml_text("diff: " + title)}</h4><p class="t">{xml_text(line)}</p>'
        f"<details open><summary>{len(result.blocks)} blocks differ</summary>{change_table(result)}</details>"
        f"{frame(html(pic, changes=False), pic.height + 40, title)}</div>"
    )
