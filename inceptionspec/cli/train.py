"""`train`: a spec and an image folder in, a run directory out."""

from __future__ import annotations

import os
from pathlib import Path

import click

from inceptionspec.cli import (
    _budget,
    _guard,
    _stderr,
    check_weights_options,
    main,
    max_params_option,
    outside_option,
    set_option,
    weights_options,
)

#: --strategy's choices (inceptionspec.keras.train.distribute, which imports TensorFlow, has them too).
STRATEGIES = ("auto", "one", "mirrored", "multi-worker")


@main.command()
@click.argument("spec")
@click.option(
    "--data",
    required=True,
    type=click.Path(path_type=Path),
    help="Training images: a folder with one sub-folder per class, or a .npz file with `x` and `y`.",
)
@click.option("--val", type=click.Path(path_type=Path), help="Validation images, like --data (default: --val-split).")
@click.option(
    "--val-split",
    type=click.FloatRange(0, 0.9),
    default=0.1,
    show_default=True,
    help="Fraction of each class of --data held out for validation when there is no --val (0: none).",
)
@click.option("--epochs", type=click.IntRange(1, 1_000_000), help="Epochs (default: the spec's training.epochs).")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 65_536),
    help="Images per step on all devices (default: training.batch_size).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="The run directory (default: runs/NAME-N; the same command continues an interrupted run).",
)
@set_option
@weights_options
@click.option(
    "--seed",
    type=click.IntRange(0, 2**31 - 1),
    default=None,
    help="Seed of the weights, the data order and the augmentation (default 0); also turns on "
    "deterministic ops, so the same seed gives the same weights.",
)
@click.option("--strategy", type=click.Choice(STRATEGIES), default="auto", show_default=True, help="Devices to use.")
@click.option("--skip-bad-images", is_flag=True, help="Leave out (and count) files that are not readable images.")
@click.option("--quiet", is_flag=True, help="No progress bar; only errors and the last line.")
@max_params_option
@outside_option
@_guard
def train(
    spec: str,
    data: Path,
    val: Path | None,
    val_split: float,
    epochs: int | None,
    batch_size: int | None,
    out: Path | None,
    sets: tuple[str, ...],
    weights_from: str | None,
    weights_layout: str | None,
    partial: bool,
    seed: int | None,
    strategy: str,
    skip_bad_images: bool,
    quiet: bool,
    max_params: int | None,
    allow_outside_extends: bool,
) -> None:
    """Train SPEC on an image folder; write model, curves and history to a run directory.

    The spec's `training` section gives the optimizer, schedule, loss, augmentation, epochs and
    batch size, its `preprocessing` section how pixels become inputs. Killed, the same command
    continues from the last completed epoch.
    """
    from inceptionspec.analysis import analyze_graph
    from inceptionspec.data import DataBudget
    from inceptionspec.data.read import align_classes, read_data
    from inceptionspec.ir import lower
    from inceptionspec.lang.pipeline import load

    def say(text: str) -> None:
        if not quiet:
            _stderr(text)

    check_weights_options(weights_from, weights_layout, partial)
    budget = _budget(max_params, allow_outside_extends)
    # --epochs and --batch-size are overrides like any other: spec.yaml records what was trained.
    edits = (
        [*sets]
        + ([f"training.epochs={epochs}"] if epochs else [])
        + ([f"training.batch_size={batch_size}"] if batch_size else [])
    )
    loaded = load(spec, edits, budget)
    graph = lower(loaded, include_aux=True, budget=budget)
    analyze_graph(graph, budget)  # the parameter budget, before Keras
    if weights_from:  # a checkpoint is read and checked against the spec before Keras loads
        from inceptionspec.weights import prepare_source

        prepare_source(weights_from, graph, weights_layout, partial)
    data_budget = DataBudget()
    train_data = read_data(data, data_budget, skip_bad_images, loaded.classes, say)
    val_data = None
    if val is not None:
        val_data = read_data(val, data_budget, skip_bad_images, None, say)
        align_classes(train_data.classes, val_data, "--data")

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from inceptionspec.keras.train.distribute import cluster_from_env
    from inceptionspec.keras.train.trainer import Request
    from inceptionspec.keras.train.trainer import train as run_training

    request = Request(
        loaded,
        train_data,
        val_data,
        val_split=val_split,
        seed=seed or 0,
        deterministic=seed is not None,
        strategy=strategy,
        out=out,
        weights_from=weights_from,
        weights_layout=weights_layout,
        partial=partial,
        skip_bad=skip_bad_images,
        quiet=quiet,
        cluster=cluster_from_env(),
        budget=data_budget,
    )
    metrics = run_training(request, say)
    if request.cluster.chief:
        final, best = metrics["final"], metrics["best"]
        accuracy = "val_accuracy" if final.get("val_accuracy") is not None else "accuracy"
        _stderr(
            f"{metrics['run']}: {accuracy} {final.get(accuracy) or 0:.4f} after {metrics['epochs']} epochs "
            f"(best {best.get(accuracy) or 0:.4f} at epoch {best.get('epoch')}), "
            f"{metrics['images_per_second'] or 0:.1f} images/s"
        )
