"""`diff`: what changed between two specs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from inceptionspec.cli import (
    EXIT_USAGE,
    _guard,
    _stderr,
    _stdout,
    aux_option,
    main,
    set_option,
)
from inceptionspec.core.errors import UsageError
from inceptionspec.core.files import write_text


@main.command("diff")
@click.argument("a")
@click.argument("b")
@set_option
@aux_option
@click.option("--layers", "show_layers", is_flag=True, help="List changed layers, not only blocks.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown", "html", "svg"]),
    default="text",
    show_default=True,
    help="`html`, `svg`: both networks drawn side by side, the differences marked.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write html or svg to a file.")
@_guard(invalid=EXIT_USAGE)
def diff_command(
    a: str, b: str, sets: tuple[str, ...], no_aux: bool, show_layers: bool, fmt: str, output: Path | None
) -> None:
    """What changed from A to B: blocks, layers, shapes, parameters, multiply-adds.

    A and B are paths, shipped names, or PATH@REV (the file at a git revision).
    Exit status as GNU diff: 0 identical, 1 different, 2 trouble."""
    if output is not None and fmt not in ("html", "svg"):
        raise UsageError("-o/--output writes --format html or svg; redirect the output of the other formats")
    from inceptionspec.compare import diff as compare
    from inceptionspec.compare import print_result

    result = compare(a, b, include_aux=not no_aux, overrides=list(sets))
    if fmt in ("html", "svg"):
        from inceptionspec.render.diffpicture import render_diff

        text = render_diff(result, fmt)
        if output is None:
            _stdout(text, nl=False)
        else:
            write_text(output, text)
            _stderr(f"wrote {output}")
    else:
        print_result(result, fmt, show_layers)
    sys.exit(0 if result.identical else 1)
