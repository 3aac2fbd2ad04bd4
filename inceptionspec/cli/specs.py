"""Commands on specs: list, validate, expand, schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from inceptionspec.cli import (
    EXIT_INVALID,
    EXIT_USAGE,
    _budget,
    _guard,
    _stderr,
    _stdout,
    main,
    max_params_option,
    outside_option,
    set_option,
)
from inceptionspec.core import escape as esc
from inceptionspec.core.errors import SourceError, SpecError, UsageError
from inceptionspec.core.files import write_text


@main.command("list")
@_guard
def list_specs() -> None:
    """List the shipped specs."""
    from rich.table import Table

    from inceptionspec.lang.library import first_line_description, shipped

    table = Table(box=None, show_header=True, header_style="bold")
    table.add_column("name")
    table.add_column("title")
    for name, path in shipped().items():
        table.add_row(esc.term(name), esc.term(first_line_description(path)))
    esc.console().print(table)


@main.command()
@click.argument("specs", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@set_option
@max_params_option
@outside_option
@_guard
def validate(
    specs: tuple[str, ...], fmt: str, sets: tuple[str, ...], max_params: int | None, allow_outside_extends: bool
) -> None:
    """Check specs: syntax, keys, types, references and shapes. Exit 1 if any is invalid."""
    from inceptionspec.analysis import analyze
    from inceptionspec.lang.pipeline import load

    results = []
    worst = 0
    for source in specs:
        try:
            budget = _budget(max_params, allow_outside_extends)
            spec = load(source, list(sets), budget)
            analysis = analyze(spec, budget=budget)
            results.append(
                {
                    "spec": source,
                    "valid": True,
                    "errors": [],
                    "name": spec.name,
                    "params": analysis.total_params,
                    "layers": len(analysis.layers),
                }
            )
        except SourceError as err:
            worst = max(worst, EXIT_USAGE)
            results.append({"spec": source, "valid": False, "errors": [{"message": err.format()}]})
            if fmt == "text":
                _stderr(f"error: {err.format()}")
        except SpecError as err:
            worst = max(worst, EXIT_INVALID)
            results.append({"spec": source, "valid": False, "errors": [d.as_dict() for d in err.errors]})
            if fmt == "text":
                _stderr(err.format())
        except UsageError as err:
            worst = max(worst, EXIT_USAGE)
            results.append({"spec": source, "valid": False, "errors": [{"message": str(err)}]})
            if fmt == "text":
                _stderr(f"error: {err}")
        except Exception as exc:
            exc.inceptionspec_spec = source  # type: ignore[attr-defined]  # _guard names it
            raise
    if fmt == "json":
        _stdout(json.dumps({"valid": worst == 0, "results": results}, indent=2))
    else:
        for r in results:
            if r["valid"]:
                _stdout(esc.terminal(f"{r['spec']}: valid ({r['layers']} layers, {r['params']:,} parameters)"))
    sys.exit(worst)


@main.command()
@click.argument("spec")
@set_option
@outside_option
@_guard
def expand(spec: str, sets: tuple[str, ...], allow_outside_extends: bool) -> None:
    """Print the fully resolved spec: what the compiler sees."""
    from inceptionspec.lang.pipeline import dump, load

    _stdout(dump(load(spec, list(sets), _budget(None, allow_outside_extends))), nl=False)


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="Write to a file.")
@_guard
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the spec language."""
    from inceptionspec.lang.schema import schema_json

    text = schema_json()
    if output:
        write_text(output, text)
        _stderr(f"wrote {output}")
    else:
        _stdout(text, nl=False)
