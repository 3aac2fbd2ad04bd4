"""`evaluate` and `predict`: a trained model on labelled images, or on single images."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from inceptionspec.cli import _guard, _stderr, _stdout, main
from inceptionspec.core import escape as esc

format_option = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format."
)
spec_option = click.option(
    "--spec", "spec_source", metavar="SPEC", help="Preprocessing from this spec (default: spec.yaml beside the model)."
)
batch_option = click.option(
    "--batch-size", type=click.IntRange(1, 65_536), help="Images per step (default: the spec's training.batch_size)."
)


def _served(model: Path, spec_source: str | None, batch_size: int | None):  # type: ignore[no-untyped-def]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from inceptionspec.keras.train.evaluate import load_served
    from inceptionspec.lang.pipeline import load

    served = load_served(model, load(spec_source) if spec_source else None, batch_size)
    for note in served.notes:
        _stderr(f"note: {note}")
    return served


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option(
    "--data",
    required=True,
    type=click.Path(path_type=Path),
    help="Labelled images: a class folder tree or a .npz file.",
)
@format_option
@spec_option
@batch_option
@click.option("--skip-bad-images", is_flag=True, help="Leave out (and count) files that are not readable images.")
@_guard
def evaluate(
    model: Path, data: Path, fmt: str, spec_source: str | None, batch_size: int | None, skip_bad_images: bool
) -> None:
    """Loss, top-1 and top-5 accuracy and per-class accuracy of MODEL (a .keras file or a run directory)."""
    from inceptionspec.data import DataBudget, shown
    from inceptionspec.data.read import align_classes, read_data

    budget = DataBudget()
    images = read_data(data, budget, skip_bad_images)
    served = _served(model, spec_source, batch_size)
    from inceptionspec.keras.train.evaluate import evaluate as run_evaluation
    from inceptionspec.keras.train.evaluate import source_of

    align_classes(served.classes, images, "the model")
    result = run_evaluation(served, source_of(images, served, budget, skip_bad_images, lambda text: None))
    if fmt == "json":
        _stdout(json.dumps(result, indent=1))
        return
    line = f"{result['count']:,} images: loss {result['loss']:.4f}, accuracy {result['accuracy']:.2%}"
    if "top5_accuracy" in result:
        line += f", top-5 {result['top5_accuracy']:.2%}"
    _stdout(esc.terminal(line))
    width = max(len(shown(c)) for c in result["per_class"])
    for name, accuracy in result["per_class"].items():
        _stdout(esc.terminal(f"  {shown(name):<{width}}  {accuracy:7.2%}"))


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--top", type=click.IntRange(1, 1000), default=5, show_default=True, help="Classes shown per image.")
@format_option
@spec_option
@batch_option
@_guard
def predict(
    model: Path, images: tuple[Path, ...], top: int, fmt: str, spec_source: str | None, batch_size: int | None
) -> None:
    """The most probable classes of each IMAGE under MODEL (a .keras file or a run directory)."""
    from inceptionspec.data import DataBudget, DataError, ImageFolder, shown
    from inceptionspec.data.images import check_images

    budget = DataBudget()
    bad = check_images(list(images), budget)
    if bad:
        raise DataError(bad)
    served = _served(model, spec_source, batch_size)
    from inceptionspec.keras.train.evaluate import predict as run_prediction
    from inceptionspec.keras.train.evaluate import source_of

    folder = ImageFolder(Path("."), served.classes, list(images), [0] * len(images))
    result = run_prediction(
        served, source_of(folder, served, budget, False, lambda text: None), [str(i) for i in images], top
    )
    if fmt == "json":
        _stdout(json.dumps(result, indent=1))
        return
    for item in result:
        _stdout(esc.terminal(shown(item["image"])))
        for guess in item["top"]:
            _stdout(esc.terminal(f"  {guess['probability']:7.2%}  {shown(guess['class'])}"))
