"""`summary`: the static analysis as a table, markdown or JSON."""

from __future__ import annotations

import json

import click

from inceptionspec.cli import (
    _budget,
    _guard,
    _stdout,
    aux_option,
    main,
    max_params_option,
    outside_option,
    set_option,
)


@main.command()
@click.argument("spec")
@set_option
@aux_option
@click.option("--layers", "show_layers", is_flag=True, help="One row per layer instead of per block.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True)
@max_params_option
@outside_option
@_guard
def summary(
    spec: str,
    sets: tuple[str, ...],
    no_aux: bool,
    show_layers: bool,
    fmt: str,
    max_params: int | None,
    allow_outside_extends: bool,
) -> None:
    """Shapes, parameters and multiply-adds of every block (or layer), computed statically."""
    from inceptionspec.analysis import analyze, report
    from inceptionspec.importer import readable
    from inceptionspec.lang.pipeline import load

    budget = _budget(max_params, allow_outside_extends)
    analysis = analyze(load(readable(spec, budget), list(sets), budget), include_aux=not no_aux, budget=budget)
    if fmt == "json":
        _stdout(json.dumps(analysis.as_dict(), indent=2))
    elif fmt == "markdown":
        _stdout(report.markdown(analysis, show_layers))
    else:
        report.table(analysis, show_layers)
