"""The ``inceptionspec`` command.

Exit codes: 0 success, 1 invalid spec, 2 usage or I/O error, 3 internal error (a bug).
No command on the static path (list, validate, expand, schema, summary) imports TensorFlow.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from .errors import Budget, SpecError, UsageError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INVALID, EXIT_USAGE, EXIT_BUG = 1, 2, 3


def _stderr(text: str) -> None:
    click.echo(text, err=True)


def _bug_report(exc: BaseException, spec: object) -> str:
    """What an unexpected exception tells the user: that it is a bug, which spec, where; no traceback
    (``INCEPTIONSPEC_TRACEBACK=1`` adds one, for the bug report)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f"{os.sep}inceptionspec{os.sep}" in f.filename] or frames
    where = f" at {Path(ours[-1].filename).name}:{ours[-1].lineno} in {ours[-1].name}" if ours else ""
    detail = str(exc).splitlines()[0][:200] if str(exc) else ""
    text = (
        f"internal error while processing {spec}: {type(exc).__name__}{': ' + detail if detail else ''}{where}\n"
        "this is a bug in inceptionspec, not a problem with the spec; please report it with the spec "
        "(set INCEPTIONSPEC_TRACEBACK=1 for the full trace)"
    )
    if os.environ.get("INCEPTIONSPEC_TRACEBACK"):
        text += "\n" + "".join(traceback.format_exception(exc))
    return text


def _guard(func: F) -> F:
    """Turn every failure into a message and an exit code; never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SpecError as err:
            _stderr(err.format())
            sys.exit(EXIT_INVALID)
        except UsageError as err:
            _stderr(f"error: {err}")
            sys.exit(EXIT_USAGE)
        except OSError as err:
            _stderr(f"error: {err.filename or ''}: {err.strerror or err}")
            sys.exit(EXIT_USAGE)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # a RecursionError too: every bound is checked first, so it is a bug
            spec = getattr(exc, "inceptionspec_spec", None)
            spec = spec or next((a for a in kwargs.get("specs", ()) or [kwargs.get("spec")] if a), "?")
            _stderr(_bug_report(exc, spec))
            sys.exit(EXIT_BUG)

    return wrapper  # type: ignore[return-value]


def _budget(max_params: int | None, allow_outside: bool = False) -> Budget:
    budget = Budget(allow_outside_extends=allow_outside)
    if max_params is not None:
        budget.max_params = max_params
    return budget


set_option = click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="PATH=VALUE",
    help="Override a value by name, e.g. inception_4c.n3x3=320 or heads.aux1=null (repeatable).",
)
aux_option = click.option("--no-aux", is_flag=True, help="Leave out training-only (auxiliary) heads.")
max_params_option = click.option(
    "--max-params",
    type=click.IntRange(min=1),
    default=None,
    help=f"Parameter budget (default {Budget().max_params:,}).",
)
outside_option = click.option(
    "--allow-outside-extends", is_flag=True, help="Let `extends` read files outside the spec's directory."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="inceptionspec")
def main() -> None:
    """Define, check, compare and build Inception-family networks from YAML specs.

    SPEC is a path to a YAML file or the name of a shipped spec (see `inceptionspec list`).
    """


@main.command("list")
@_guard
def list_specs() -> None:
    """List the shipped specs."""
    from rich.console import Console
    from rich.table import Table

    from .library import first_line_description, shipped

    table = Table(box=None, show_header=True, header_style="bold")
    table.add_column("name")
    table.add_column("description")
    for name, path in shipped().items():
        table.add_row(name, first_line_description(path))
    Console(soft_wrap=True).print(table)


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
    from .analysis import analyze
    from .pipeline import load

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
        except SpecError as err:
            worst = max(worst, EXIT_INVALID)
            results.append({"spec": source, "valid": False, "errors": [d.as_dict() for d in err.errors]})
            if fmt == "text":
                _stderr(err.format())
        except (UsageError, OSError) as err:
            message = f"{err.filename or source}: {err.strerror or err}" if isinstance(err, OSError) else str(err)
            worst = max(worst, EXIT_USAGE)
            results.append({"spec": source, "valid": False, "errors": [{"message": message}]})
            if fmt == "text":
                _stderr(f"error: {message}")
        except Exception as exc:
            exc.inceptionspec_spec = source  # type: ignore[attr-defined]  # _guard names it
            raise
    if fmt == "json":
        click.echo(json.dumps({"valid": worst == 0, "results": results}, indent=2))
    else:
        for r in results:
            if r["valid"]:
                click.echo(f"{r['spec']}: valid ({r['layers']} layers, {r['params']:,} parameters)")
    sys.exit(worst)


@main.command()
@click.argument("spec")
@set_option
@outside_option
@_guard
def expand(spec: str, sets: tuple[str, ...], allow_outside_extends: bool) -> None:
    """Print the fully resolved spec: what the compiler sees."""
    from .pipeline import dump, load

    click.echo(dump(load(spec, list(sets), _budget(None, allow_outside_extends))), nl=False)


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="Write to a file.")
@_guard
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the spec language."""
    from .schema import schema_json

    text = schema_json()
    if output:
        output.write_text(text, encoding="utf-8")
        _stderr(f"wrote {output}")
    else:
        click.echo(text, nl=False)


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
    from . import report
    from .analysis import analyze
    from .pipeline import load

    budget = _budget(max_params, allow_outside_extends)
    analysis = analyze(load(spec, list(sets), budget), include_aux=not no_aux, budget=budget)
    if fmt == "json":
        click.echo(json.dumps(analysis.as_dict(), indent=2))
    elif fmt == "markdown":
        click.echo(report.markdown(analysis, show_layers))
    else:
        report.table(analysis, show_layers)


@main.command()
@click.argument("spec")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the model (default: ./NAME.keras).",
)
@set_option
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of every initializer.")
@aux_option
@click.option(
    "--weights-from",
    "weights_from",
    metavar="SOURCE",
    help="Copy weights from a .keras / .weights.h5 file or keras:InceptionV3 / keras:InceptionResNetV2 "
    "(ImageNet weights; keras:NAME@none for random ones).",
)
@click.option("--compile", "compile_", is_flag=True, help="Compile with the spec's training section and loss weights.")
@max_params_option
@outside_option
@_guard
def build(
    spec: str,
    output: Path | None,
    sets: tuple[str, ...],
    seed: int,
    no_aux: bool,
    weights_from: str | None,
    compile_: bool,
    max_params: int | None,
    allow_outside_extends: bool,
) -> None:
    """Compile a spec into a Keras 3 model and save it as .keras."""
    from rich.console import Console

    from . import report
    from .analysis import analyze_graph
    from .ir import lower
    from .pipeline import load

    console = Console(stderr=True)
    budget = _budget(max_params, allow_outside_extends)
    with console.status("reading the spec") as status:
        loaded = load(spec, list(sets), budget)
        graph = lower(loaded, include_aux=not no_aux, budget=budget)
        analysis = analyze_graph(graph, budget)
        target = output or Path(f"{loaded.name}.keras")
        if target.suffix != ".keras":
            raise UsageError(f"{target}: the model file must end in .keras")
        status.update("importing Keras and TensorFlow")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no CUDA probing noise on CPU machines
        from . import keras_backend

        status.update(f"building {len(graph.layers)} layers")
        model = keras_backend.compile_graph(graph, seed, analysis)
        if weights_from:
            status.update(f"copying weights from {weights_from}")
            try:
                if weights_from.endswith(".weights.h5"):
                    model.load_weights(weights_from)
                    transfer = f"loaded weights from {weights_from}"
                else:
                    source = keras_backend.load_weights_source(weights_from)
                    transfer = str(keras_backend.transfer_weights(source, model))
            except (ValueError, OSError) as exc:
                raise UsageError(f"--weights-from {weights_from}: {exc}") from None
        if compile_:
            keras_backend.compile_for_training(model, loaded)
        status.update(f"saving {target}")
        model.save(target)
    report.table(analysis)
    if weights_from:
        console.print(transfer, highlight=False)
    outputs = ", ".join(model.output) if isinstance(model.output, dict) else "output"
    console.print(
        f"wrote {target} ({model.count_params():,} parameters, outputs: {outputs}, seed {seed})", highlight=False
    )


@main.command("diff")
@click.argument("a")
@click.argument("b")
@set_option
@aux_option
@click.option("--layers", "show_layers", is_flag=True, help="List changed layers, not only blocks.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
def diff_command(a: str, b: str, sets: tuple[str, ...], no_aux: bool, show_layers: bool, fmt: str) -> None:
    """What changed from A to B: blocks, layers, shapes, parameters, multiply-adds.

    A and B are paths, shipped names, or PATH@REV (the file at a git revision).
    Exit status as GNU diff: 0 identical, 1 different, 2 trouble."""
    from .diff import diff as compare
    from .diff import print_result

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
    print_result(result, fmt, show_layers)
    sys.exit(0 if result.identical else 1)


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
    from . import render as rendering
    from .analysis import analyze
    from .pipeline import load

    if fmt is None:
        suffix = output.suffix.lstrip(".").lower() if output else ""
        fmt = {"svg": "svg", "dot": "dot", "gv": "dot", "mmd": "mermaid", "html": "html", "htm": "html"}.get(
            suffix, "svg"
        )
    budget = _budget(None, allow_outside_extends)
    analysis = analyze(load(spec, list(sets), budget), include_aux=not no_aux, budget=budget)
    text = rendering.render(analysis, fmt=fmt, depth=depth, collapse_repeats=not expand_repeats)
    if output:
        output.write_text(text, encoding="utf-8")
        _stderr(f"wrote {output}")
    else:
        click.echo(text, nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
