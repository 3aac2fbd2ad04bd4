"""`diff`: what changed between two specs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from inceptionspec.cli import (
    EXIT_BUG,
    EXIT_USAGE,
    _bug_report,
    _stderr,
    aux_option,
    main,
    set_option,
)
from inceptionspec.core.errors import SpecError, UsageError


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
def diff_command(
    a: str, b: str, sets: tuple[str, ...], no_aux: bool, show_layers: bool, fmt: str, output: Path | None
) -> None:
    """What changed from A to B: blocks, layers, shapes, parameters, multiply-adds.

    A and B are paths, shipped names, or PATH@REV (the file at a git revision).
    Exit status as GNU diff: 0 identical, 1 different, 2 trouble."""
    if output is not None and fmt not in ("html", "svg"):
        _stderr("error: -o/--output writes --format html or svg; redirect the output of the other formats")
        sys.exit(EXIT_USAGE)
    from inceptionspec.compare import diff as compare
    from inceptionspec.compare import print_result

    try:
        result = compare(a, b, include_aux=not no_aux, overrides=list(sets))
    except SpecError as err:
        _stderr(err.format())
        sys.exit(EXIT_USAGE)
    except (UsageError, OSError) as err:
        _stderr(f"error: {err}")
        sys.exit(EXIT_USAGE)
    except Exception as exc:
        _stderr(_bug_report(exc, f"{a} and {b}"))
        sys.exit(EXIT_BUG)
    if fmt in ("html", "svg"):
        from inceptionspec.render.diffpicture import render_diff

        try:
            text = render_diff(result, fmt)
        except Exception as exc:
            _stderr(_bug_report(exc, f"{a} and {b}"))
            sys.exit(EXIT_BUG)
        if output is None:
            click.echo(text, nl=False)
        else:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as err:
                _stderr(f"error: {output}: {err.strerror or err}")
                sys.exit(EXIT_USAGE)
            _stderr(f"wrote {output}")
    else:
        print_result(result, fmt, show_layers)
    sys.exit(0 if result.identical else 1)
