"""`scale` and `sweep`: explore a spec's design space with the static analysis."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import click

from inceptionspec.cli import _budget, _guard, _stderr, _stdout, main, max_params_option, outside_option
from inceptionspec.core import escape as esc
from inceptionspec.core.errors import Loc, SpecError, UsageError
from inceptionspec.core.escape import line

_COUNT = re.compile(
    r"^\s*(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?P<exp>[eE][+-]?[0-9]{1,3})?\s*(?P<unit>[kKmMgGtT])?\s*$"
)
_UNITS = {"": 1, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}
#: The largest budget taken (multiply-adds or parameters).
MAX_COUNT = 10**18


class CountType(click.ParamType):
    """A count like ``600M``, ``1.5G``, ``5e6`` or ``3000000`` (K, M, G, T are powers of 1000)."""

    name = "N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value)
        match = _COUNT.match(text) if len(text) <= 40 else None
        if match is None:
            self.fail(f"expected a count like 600M, 1.5G or 5e6, got {text[:40]!r}", param, ctx)
        number = float(match["number"] + (match["exp"] or "")) * _UNITS[(match["unit"] or "").lower()]
        if not math.isfinite(number) or number < 1 or number > MAX_COUNT:
            self.fail(f"{text!r} is not between 1 and {MAX_COUNT:.0e}", param, ctx)
        return round(number)


COUNT = CountType()
_NAME = re.compile(r"[^A-Za-z0-9_]+")


def _variant_name(output: Path | None, base: str, axis: str) -> str:
    if output is not None:
        stem = _NAME.sub("_", output.stem).strip("_")[:64]
        if stem:
            return stem
    return f"{base}_{axis}"[:64]


def _extends(spec: str, directory: Path) -> str:
    """How the variant names its parent: a shipped name as it is, a file relative to the variant."""
    path = Path(spec)
    if not path.is_file():
        return spec
    return Path(os.path.relpath(path.resolve(), directory.resolve())).as_posix()


@main.command()
@click.argument("spec")
@click.option("--macs", type=COUNT, help="Most multiply-adds, e.g. 600M, 1.5G, 5e6.")
@click.option("--params", "params_budget", type=COUNT, help="Most parameters, e.g. 3M.")
@click.option(
    "--by",
    "axis",
    type=click.Choice(["width", "depth", "resolution", "compound"]),
    default="width",
    show_default=True,
    help="What to scale: filters, repeats, input size, or all three by EfficientNet's rule.",
)
@click.option("--alpha", type=click.FloatRange(1.0, 4.0), default=1.2, show_default=True, help="Compound: depth base.")
@click.option("--beta", type=click.FloatRange(1.0, 4.0), default=1.1, show_default=True, help="Compound: width base.")
@click.option("--gamma", type=click.FloatRange(1.0, 4.0), default=1.15, show_default=True, help="Compound: input base.")
@click.option("--with-aux", is_flag=True, help="Count the training-only (auxiliary) heads too.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the variant here.")
@click.option("--name", help="The variant's name (default: from the output file).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@max_params_option
@outside_option
@_guard
def scale(
    spec: str,
    macs: int | None,
    params_budget: int | None,
    axis: str,
    alpha: float,
    beta: float,
    gamma: float,
    with_aux: bool,
    output: Path | None,
    name: str | None,
    fmt: str,
    max_params: int | None,
    allow_outside_extends: bool,
) -> None:
    """Fit a budget: the largest variant of SPEC by width, depth, input size or all three whose
    multiply-adds and parameters are within --macs / --params.

    Each candidate is one static analysis (no Keras). Writes a variant that `extends` SPEC and sets
    only the knobs it changed; prints the before/after table. Exit 1 if the budget is below the
    smallest variant."""
    from inceptionspec.analysis import explore_report as report
    from inceptionspec.analysis.family import Family, Member
    from inceptionspec.analysis.fit import Budget, Unreachable, fit
    from inceptionspec.lang.pipeline import resolve
    from inceptionspec.lang.resolve import SpecText

    if macs is None and params_budget is None:
        raise UsageError("give a budget: --macs N, --params N, or both")
    if name is not None and not re.fullmatch(r"[A-Za-z0-9_]{1,64}", name):
        raise UsageError("--name: letters, digits and underscores, at most 64")
    budget = _budget(max_params, allow_outside_extends)
    family = Family(resolve(spec, None, budget), include_aux=with_aux, budget=budget)
    target = Budget(macs, params_budget)
    try:
        result = fit(family, target, axis, (alpha, beta, gamma))
    except Unreachable as exc:
        small = exc.smallest.cost
        limit = target.macs if exc.over == "macs" else target.params
        what = "multiply-adds" if exc.over == "macs" else "parameters"
        raise SpecError.at(
            Loc(f"<--{'macs' if exc.over == 'macs' else 'params'}>", 1, 1),
            f"{limit:,} {what} is out of reach by {axis}: the smallest variant of {family.name} has "
            f"{small.macs:,} multiply-adds and {small.params:,} parameters",
            "raise the budget, or try another --by",
        ) from None
    variant_name = name or _variant_name(output, family.name, axis)
    directory = output.parent if output is not None else Path.cwd()
    text = report.variant(result, family, variant_name, _extends(spec, directory))
    # The file as written must load and cost what the search found (a bug otherwise).
    written = SpecText(text, directory / f"{variant_name}.yaml", str(output or "<variant>"))
    check = Family(resolve(written, None, budget), include_aux=with_aux, budget=budget).cost(Member())
    if (check.macs, check.params) != (result.after.cost.macs, result.after.cost.params):
        raise RuntimeError(
            f"the written variant costs {check.macs:,} MACs, the search found {result.after.cost.macs:,}"
        )
    if output is not None:
        output.write_text(text, encoding="utf-8")
    if fmt == "json":
        data = {
            "spec": spec,
            "name": variant_name,
            "by": axis,
            "budget": {"macs": target.macs, "params": target.params},
            "include_aux": with_aux,
            "coefficients": dict(zip(("alpha", "beta", "gamma"), result.coefficients, strict=True))
            if result.coefficients
            else None,
            "before": report.point_dict(family, result.before),
            "after": report.point_dict(family, result.after),
            "next": report.point_dict(family, result.above),
            "close": result.close,
            "analyses": result.analyses,
            "output": str(output) if output is not None else None,
            "variant": text,
        }
        _stdout(json.dumps(data, indent=2))
    else:
        _stdout(esc.terminal(report.scale_text(result, family, spec, variant_name)))
        if output is None:
            _stdout("\n# the variant (write it with -o FILE.yaml):\n" + text, nl=False)
    if output is not None:
        _stderr(f"wrote {line(str(output))}")


@main.command()
@click.argument("spec")
@click.option(
    "--vary",
    "varies",
    multiple=True,
    required=True,
    metavar="PATH=[V1, V2, ...]",
    help="A path and a YAML list of its values, e.g. 'width.multiplier=[0.5, 0.75, 1]' (repeatable).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path), help="Draw FILE.svg or FILE.png.")
@click.option("--measure", is_flag=True, help="Build each variant (Keras) and time it: latency, throughput.")
@click.option("--runs", type=click.IntRange(1, 100), default=5, show_default=True, help="Timed runs per batch size.")
@click.option("--with-aux", is_flag=True, help="Count the training-only (auxiliary) heads too.")
@max_params_option
@outside_option
@_guard
def sweep(
    spec: str,
    varies: tuple[str, ...],
    fmt: str,
    plot_path: Path | None,
    measure: bool,
    runs: int,
    with_aux: bool,
    max_params: int | None,
    allow_outside_extends: bool,
) -> None:
    """One row per combination of the --vary values: parameters, multiply-adds, peak activation
    memory, or why the combination is invalid; computed statically unless --measure."""
    from inceptionspec.analysis import explore_report as report
    from inceptionspec.analysis.family import Family
    from inceptionspec.analysis.sweep import check_size, member_of, parse_vary
    from inceptionspec.analysis.sweep import sweep as run_sweep
    from inceptionspec.lang.pipeline import resolve

    parsed = [parse_vary(text, i) for i, text in enumerate(varies)]
    check_size(parsed)
    budget = _budget(max_params, allow_outside_extends)
    family = Family(resolve(spec, None, budget), include_aux=with_aux, budget=budget)
    rows = run_sweep(family, parsed)
    if measure:
        rows = _measured(rows, family, runs, member_of)
    paths = [vary.path for vary in parsed]
    if plot_path is not None:
        from inceptionspec.render.plot import plot

        title = f"{spec}: multiply-adds against {'latency' if measure else 'parameters'}"
        plot(rows, plot_path, title, "latency" if measure else "params")
        _stderr(f"wrote {line(str(plot_path))}")
    if fmt == "json":
        _stdout(json.dumps([row.as_dict() for row in rows], indent=2))
    elif fmt == "csv":
        _stdout(report.sweep_csv(rows, paths), nl=False)
    else:
        report.sweep_table(rows, paths, f"{spec}: {len(rows)} variants")


def _measured(rows: list, family: Any, runs: int, member_of: Any) -> list:
    import dataclasses

    try:
        from inceptionspec.keras.measure import measure
    except ImportError as exc:  # pragma: no cover - tensorflow is a core dependency
        raise UsageError(f'--measure needs Keras and TensorFlow ({exc}): pip install "inceptionspec"') from None
    out = []
    for i, row in enumerate(rows):
        if row.cost is not None:
            _stderr(f"measuring {i + 1}/{len(rows)}: {line(row.label)}")
            speed = measure(family.spec(member_of(family, row.overrides)), runs)
            row = dataclasses.replace(row, latency_ms=speed.latency_ms, throughput=speed.throughput)
        out.append(row)
    return out
