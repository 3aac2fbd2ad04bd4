"""`export`: a spec or a .keras model as ONNX, a TensorFlow SavedModel or LiteRT, checked after writing."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from inceptionspec.cli import (
    EXIT_INVALID,
    _budget,
    _guard,
    check_weights_options,
    main,
    max_params_option,
    outside_option,
    set_option,
    weights_options,
)
from inceptionspec.core import escape as esc
from inceptionspec.core.errors import UsageError

#: For the help text only; the command validates against ``inceptionspec.keras.export.FORMATS``
#: (importing it loads TensorFlow), and a test keeps the two equal.
FORMAT_NAMES = ("onnx", "saved_model", "litert")


@main.command()
@click.argument("source", metavar="SPEC|MODEL.keras")
@click.option(
    "-f", "--format", "format_name", required=True, metavar="FORMAT", help=f"One of: {', '.join(FORMAT_NAMES)}."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Where to write (default: ./NAME.onnx, ./NAME_saved_model/, ./NAME.tflite).",
)
@set_option
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of every initializer.")
@weights_options
@click.option("--batch", type=click.IntRange(min=1), default=None, help="A fixed batch size (default: any batch size).")
@click.option("--fold-bn", is_flag=True, help="Fold each conv → batch-norm pair into the conv before exporting.")
@click.option("--no-check", is_flag=True, help="Skip running the artifact against the Keras model.")
@max_params_option
@outside_option
@_guard
def export(
    source: str,
    format_name: str,
    output: Path | None,
    sets: tuple[str, ...],
    seed: int,
    weights_from: str | None,
    weights_layout: str | None,
    partial: bool,
    batch: int | None,
    fold_bn: bool,
    no_check: bool,
    max_params: int | None,
    allow_outside_extends: bool,
) -> None:
    """Export a spec or a .keras model for another runtime (training-only heads left out).

    The artifact runs without inceptionspec. After writing, the command loads it in its own runtime
    (ONNX Runtime, tf.saved_model.load, the LiteRT interpreter), runs a random batch through it and
    through the Keras model, prints the worst relative error and exits 1 if it is above 1e-4."""
    check_weights_options(weights_from, weights_layout, partial)
    console = esc.console(stderr=True)
    chosen = os.environ.get("KERAS_BACKEND")
    if chosen and chosen != "tensorflow" and "keras" not in sys.modules:
        console.print(
            esc.term(
                f"note: export runs on TensorFlow, whose converters write the formats (KERAS_BACKEND={chosen} ignored)"
            )
        )
    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with console.status("reading") as status:
        graph = _graph(source, sets, max_params, allow_outside_extends)
        prepared: Any = weights_from
        if weights_from and graph is not None:  # a checkpoint is read and checked before Keras loads
            from inceptionspec.weights import prepare_source

            status.update(esc.term(f"checking {weights_from}"))
            prepared = prepare_source(weights_from, graph, weights_layout, partial)
        status.update("importing Keras and TensorFlow")
        from inceptionspec.keras.export import export_model, get_format

        fmt = get_format(format_name)
        fmt.require()
        model, name, heads = _model(source, graph, seed, status)
        if weights_from:  # as `build --weights-from`: Keras models and files, PyTorch checkpoints
            from inceptionspec.keras.weights_sources import load_into

            status.update(esc.term(f"loading weights from {weights_from}"))
            loaded = load_into(model, prepared, partial=partial, layout=weights_layout)
            console.print(esc.terminal(str(loaded)))
        target = output or fmt.default_path(name)
        status.update(esc.term(f"writing {target}" + ("" if no_check else f" and checking it with {fmt.runtime}")))
        report = export_model(model, target, fmt.name, batch, fold_bn, check=not no_check, heads=heads, graph=graph)
    if report.fold:
        console.print(esc.term(report.fold))
    console.print(esc.term(f"wrote {target} ({fmt.name}, outputs: {', '.join(report.heads)}, batch {batch or 'any'})"))
    if report.check:
        console.print(esc.term(report.check))
        if not report.check.passed:
            sys.exit(EXIT_INVALID)


def _graph(source: str, sets: tuple[str, ...], max_params: int | None, allow_outside: bool) -> Any:
    """The inference IR of a spec (training-only heads left out); None for a .keras model."""
    if source.endswith(".keras"):
        if sets:
            raise UsageError("--set edits a spec; it does not apply to a .keras model")
        if not Path(source).is_file():
            raise UsageError(f"{source}: no such file")
        return None
    from inceptionspec.ir import lower
    from inceptionspec.lang.pipeline import load

    budget = _budget(max_params, allow_outside)
    return lower(load(source, list(sets), budget), include_aux=False, budget=budget)


def _model(source: str, graph: Any, seed: int, status: Any) -> tuple[Any, str, list[str] | None]:
    """The Keras model to export, its name, and the heads to keep (None: all but training-only ones)."""
    if graph is None:
        from inceptionspec.keras import load_weights_source

        status.update(esc.term(f"loading {source}"))
        try:
            model = load_weights_source(source)  # keras.saving.load_model in safe mode
        except (ValueError, OSError) as exc:
            raise UsageError(f"{source}: cannot load the model: {exc}") from None
        return model, Path(source).stem, None
    from inceptionspec.keras import compile_graph

    status.update(f"building {len(graph.layers)} layers")
    return compile_graph(graph, seed), graph.name, [o.name for o in graph.outputs]
