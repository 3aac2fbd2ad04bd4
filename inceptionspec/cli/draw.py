"""`render`: draw the network."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from inceptionspec.cli import (
    _budget,
    _guard,
    _stderr,
    _stdout_bytes,
    aux_option,
    main,
    outside_option,
    set_option,
)
from inceptionspec.core.errors import UsageError
from inceptionspec.core.files import write_bytes

#: What each output file extension means, and the extension of each format.
SUFFIXES = {
    "svg": "svg",
    "html": "html",
    "htm": "html",
    "png": "png",
    "pdf": "pdf",
    "dot": "dot",
    "gv": "dot",
    "mmd": "mermaid",
}
EXTENSIONS = {"svg": "svg", "html": "html", "png": "png", "pdf": "pdf", "dot": "dot", "mermaid": "mmd"}
#: Formats a terminal should not be shown: markup and binary pictures go to `<name>.<ext>` instead.
NOT_FOR_TERMINALS = ("svg", "html", "png", "pdf")


def _format_of(output: Path | None) -> str:
    if output is None or not output.suffix:
        return "svg"
    suffix = output.suffix.lstrip(".").lower()
    if suffix not in SUFFIXES:
        known = ", ".join(f".{s}" for s in SUFFIXES)
        raise UsageError(
            f"{output}: unknown picture format `.{suffix}`; the extension is one of {known}, or use --format"
        )
    return SUFFIXES[suffix]


@main.command()
@click.argument("spec")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["svg", "dot", "mermaid", "html", "png", "pdf"]),
    default=None,
    help="Default: from the output's extension, else svg. png and pdf need the `render` extra.",
)
@click.option(
    "--depth",
    type=click.Choice(["block", "layer"]),
    default="layer",
    show_default=True,
    help="`block`: one box per block; `layer`: branches and layers inside blocks.",
)
@click.option("--expand-repeats", is_flag=True, help="Draw every copy of a repeated block.")
@set_option
@aux_option
@outside_option
@_guard
def render(
    spec: str,
    output: Path | None,
    fmt: str | None,
    depth: str,
    expand_repeats: bool,
    sets: tuple[str, ...],
    no_aux: bool,
    allow_outside_extends: bool,
) -> None:
    """Draw the network: blocks with their branches side by side, shapes on the edges.

    The format follows -o's extension (.svg, .html, .png, .pdf, .dot, .mmd) or --format. Without
    -o the picture goes to standard output, except on a terminal: there SVG, HTML, PNG and PDF are
    written to a file named after the spec (googlenet.svg) in the current directory."""
    from inceptionspec import render as rendering
    from inceptionspec.analysis import analyze
    from inceptionspec.importer import readable
    from inceptionspec.lang.pipeline import load
    from inceptionspec.render.raster import RASTER_FORMATS, convert

    fmt = fmt or _format_of(output)
    budget = _budget(None, allow_outside_extends)
    analysis = analyze(load(readable(spec, budget), list(sets), budget), include_aux=not no_aux, budget=budget)
    text = rendering.render(
        analysis,
        fmt="svg" if fmt in RASTER_FORMATS else fmt,
        depth=depth,
        collapse_repeats=not expand_repeats,
        budget=budget,
    )
    loc = analysis.graph.spec.loc
    data = convert(text, fmt, budget, loc) if fmt in RASTER_FORMATS else text.encode("utf-8")
    note = ""
    if output is None and fmt in NOT_FOR_TERMINALS and sys.stdout.isatty():
        output = Path(f"{analysis.name}.{EXTENSIONS[fmt]}")
        note = " (not shown on a terminal; -o FILE names the file, a pipe gets the text)"
    if output is None:
        _stdout_bytes(data)
        return
    replaced = " (replaced)" if output.exists() else ""
    write_bytes(output, data)
    _stderr(f"wrote {output}{replaced}{note}")


if __name__ == "__main__":  # pragma: no cover
    main()
