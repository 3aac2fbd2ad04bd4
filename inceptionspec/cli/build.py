"""`build`: compile a spec into a Keras model file."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import click

from inceptionspec.cli import (
    EXIT_INVALID,
    _budget,
    _guard,
    aux_option,
    check_weights_options,
    main,
    max_params_option,
    outside_option,
    set_option,
    weights_options,
)
from inceptionspec.core import escape as esc
from inceptionspec.core.errors import UsageError


@main.command()
@click.argument("spec")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the model (default: ./NAME.keras; NAME-no-aux.keras with --no-aux, "
    "NAME-set-HASH.keras with --set edits).",
)
@set_option
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of every initializer.")
@aux_option
@weights_options
@click.option("--compile", "compile_", is_flag=True, help="Compile with the spec's training section and loss weights.")
@click.option(
    "--fold-bn",
    is_flag=True,
    help="Fold each conv → batch-norm pair into the conv: an inference model (implies --no-aux; not with --compile).",
)
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
    weights_layout: str | None,
    partial: bool,
    compile_: bool,
    fold_bn: bool,
    max_params: int | None,
    allow_outside_extends: bool,
) -> None:
    """Compile a spec into a Keras 3 model and save it as .keras."""
    from inceptionspec.analysis import analyze_graph, report
    from inceptionspec.ir import lower
    from inceptionspec.lang.pipeline import load

    console = esc.console(stderr=True)
    budget = _budget(max_params, allow_outside_extends)
    if fold_bn and compile_:
        raise UsageError("--fold-bn makes an inference model; it cannot be compiled for training (drop --compile)")
    check_weights_options(weights_from, weights_layout, partial)
    no_aux = no_aux or fold_bn
    with console.status("reading the spec") as status:
        loaded = load(spec, list(sets), budget)
        graph = lower(loaded, include_aux=not no_aux, budget=budget)
        analysis = analyze_graph(graph, budget)
        target = output or default_output(loaded.name, no_aux, sets)
        if target.suffix != ".keras":
            raise UsageError(f"{target}: the model file must end in .keras")
        if weights_from:  # a checkpoint is read and checked against the spec before Keras loads
            from inceptionspec.weights import prepare_source

            status.update(esc.term(f"checking {weights_from}"))
            source = prepare_source(weights_from, graph, weights_layout, partial)
        status.update("importing Keras")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no CUDA probing noise on CPU machines
        import inceptionspec.keras as keras_backend

        status.update(f"building {len(graph.layers)} layers")
        model = keras_backend.compile_graph(graph, seed, analysis)
        if weights_from:
            from inceptionspec.keras.weights_sources import load_into

            status.update(esc.term(f"loading weights from {weights_from}"))
            transfer = load_into(model, source, loaded, partial=partial)
        if fold_bn:
            status.update("folding batch norms into convs")
            model, folded, fold_check = fold_and_check(model, graph)
        if compile_:
            keras_backend.compile_for_training(model, loaded)
        status.update(esc.term(f"saving {target}"))
        replaced = target.exists()
        model.save(target)
    report.table(analysis)
    if weights_from:
        console.print(esc.terminal(str(transfer)))  # several lines: the skipped layers, the notes
    if fold_bn:
        console.print(esc.term(folded))
        console.print(esc.term(fold_check))
    if replaced:
        console.print(esc.term(f"note: {target} existed and was replaced"))
    outputs = ", ".join(model.output) if isinstance(model.output, dict) else "output"
    console.print(
        esc.term(
            f"wrote {target} ({model.count_params():,} parameters, outputs: {outputs}, seed {seed}, "
            f"{keras_backend.backend.describe()})"
        )
    )
    if fold_bn and not fold_check.passed:
        sys.exit(EXIT_INVALID)


def fold_and_check(model: Any, graph: Any) -> tuple[Any, str, Any]:
    """The model with batch norms folded (``graph``, its IR, pairs each conv with its batch norm), what
    was folded, and its outputs checked against ``model``'s."""
    from inceptionspec.keras.export import compare_models
    from inceptionspec.keras.fold import fold_batch_norm

    folded, report = fold_batch_norm(model, graph)
    return folded, str(report), compare_models(model, folded, "the folded model")


def default_output(name: str, no_aux: bool, sets: tuple[str, ...] | list[str]) -> Path:
    """The model file `build` writes without ``-o``: ``NAME.keras``, named after what makes it another
    model than the spec's — ``-no-aux``, and for ``--set`` edits ``-set-`` and a short hash of them
    (stable: the same edits, in the same order, name the same file)."""
    parts = [name] + (["no-aux"] if no_aux else [])
    if sets:
        parts.append("set-" + hashlib.sha256("\n".join(sets).encode("utf-8")).hexdigest()[:8])
    return Path("-".join(parts) + ".keras")
