"""`render`: draw the network."""

from __future__ import annotations

from pathlib import Path

import click

from inceptionspec.cli import (
    _budget,
    _guard,
    _stderr,
    _stdout,
    aux_option,
    main,
    outside_option,
    set_option,
)
from inceptionspec.core.files import write_text


@main.command()
@click.argument("spec")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["svg", "dot", "mermaid", "html"]),
    default=None,
    help="Default: from the output's extension, else svg.",
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
    """Draw the network: blocks with their branches side by side, shapes on the edges."""
    from inceptionspec import render as rendering
    from inceptionspec.analysis import analyze
    from inceptionspec.lang.pipeline import load

    if fmt is None:
        suffix = output.suffix.lstrip(".").lower() if output else ""
        fmt = {"svg": "svg", "dot": "dot", "gv": "dot", "mmd": "mermaid", "html": "html", "htm": "html"}.get(
            suffix, "svg"
        )
    budget = _budget(None, allow_outside_extends)
    analysis = analyze(load(spec, list(sets), budget), include_aux=not no_aux, budget=budget)
    text = rendering.render(analysis, fmt=fmt, depth=depth, collapse_repeats=not expand_repeats, budget=budget)
    if output:
        write_text(output, text)
        _stderr(f"wrote {output}")
    else:
        _stdout(text, nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
