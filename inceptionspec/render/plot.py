"""A sweep as a scatter plot: multiply-adds against parameters (or against measured latency).

Each valid combination is a point labelled with its values; the frontier — the combinations no
other beats, with as many multiply-adds or more for as few parameters (as little latency) or
fewer — is joined by a line and drawn filled. Made with matplotlib's object API and its Agg
canvas (no pyplot, no display, the process's backend untouched); the file type follows the
name: ``.svg`` or ``.png`` (``.pdf`` too). Labels are plain text: matplotlib's ``$…$`` maths
markup and control characters in a value are escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from inceptionspec.analysis.sweep import Row, frontier
from inceptionspec.core.errors import UsageError
from inceptionspec.core.escape import line

FORMATS = ("svg", "png", "pdf")
#: Characters of a point's label before it is shortened.
MAX_LABEL = 40
#: Points labelled; past this, only the frontier's points are.
MAX_LABELLED = 60


def plot_text(value: object, limit: int = MAX_LABEL) -> str:
    """Text matplotlib draws as it is: ``$`` escaped (no maths mode), controls visible, shortened."""
    text = line(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("\\", "\\\\").replace("$", r"\$")


def plot(rows: Sequence[Row], path: Path, title: str, x: str = "params") -> int:
    """Write the plot to ``path``; ``x`` is ``params`` or ``latency``. Returns the points drawn."""
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise UsageError(f"--plot {path}: the file name ends in .svg, .png or .pdf")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError('--plot needs matplotlib: pip install "inceptionspec"') from None

    valid = [row for row in rows if row.cost is not None and (x == "params" or row.latency_ms is not None)]
    xs = [row.cost.params / 1e6 if x == "params" else row.latency_ms for row in valid]  # type: ignore[union-attr]
    ys = [row.cost.macs / 1e9 for row in valid]  # type: ignore[union-attr]
    best = frontier(list(zip(xs, ys, strict=True)))
    figure = Figure(figsize=(8, 5.5), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    others = [i for i in range(len(valid)) if i not in best]
    axes.scatter([xs[i] for i in others], [ys[i] for i in others], s=36, facecolors="white", edgecolors="#4f7cb8")
    ordered = sorted(best, key=lambda i: xs[i])
    axes.plot(
        [xs[i] for i in ordered],
        [ys[i] for i in ordered],
        "-o",
        color="#c5221f",
        markersize=7,
        label=f"frontier: most multiply-adds for the {'parameters' if x == 'params' else 'latency'}",
    )
    labelled = range(len(valid)) if len(valid) <= MAX_LABELLED else ordered
    for i in labelled:
        axes.annotate(
            plot_text(valid[i].label),
            (xs[i], ys[i]),
            textcoords="offset points",
            xytext=(6, 4),
            fontsize=7.5,
            color="#9b1c1c" if i in best else "#3e4c59",
        )
    axes.set_xlabel("parameters (millions)" if x == "params" else "latency at batch 1 (ms, measured)")
    axes.set_ylabel("multiply-adds (billions)")
    axes.set_title(plot_text(title, 120), fontsize=11, loc="left")
    axes.grid(True, color="#e4e7eb", linewidth=0.8)
    if xs:  # room on the right for the labels of the outermost points
        low, high = min(xs), max(xs)
        span = (high - low) or abs(high) or 1.0
        axes.set_xlim(low - 0.06 * span, high + 0.3 * span)
    invalid = len(rows) - len(valid)
    note = f"{len(valid)} variants" + (f", {invalid} invalid or unmeasured (not drawn)" if invalid else "")
    axes.legend(title=note, loc="lower right", fontsize=8, title_fontsize=8)
    metadata = {"Date": None} if fmt == "svg" else {}
    figure.savefig(path, format=fmt, metadata=metadata)
    return len(valid)
