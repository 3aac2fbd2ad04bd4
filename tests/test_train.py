"""Training from the spec: the served model, targets, schedules, and the `train`, `evaluate` and
`predict` commands on a generated image folder (tiny models; the full-size runs are `heavy`)."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

keras = pytest.importorskip("keras")

import inceptionspec  # noqa: E402
from inceptionspec.cli import main  # noqa: E402
from inceptionspec.data.shapes import write_shapes  # noqa: E402
from inceptionspec.keras.train.schedules import EpochSchedule, learning_rate  # noqa: E402
from inceptionspec.lang.training import CosineSchedule, StepSchedule  # noqa: E402

#: GoogLeNet for CIFAR at a quarter width, 4 classes, small auxiliary heads: trains in seconds.
TINY = ["classes=4", "width.multiplier=0.25", "templates.aux_classifier.fc.units=32"]


@pytest.fixture(scope="module")
def tiny():
    return inceptionspec.load("examples/googlenet_cifar", TINY)


# --- the model to serve ---------------------------------------------------------------


def test_the_served_model_predicts_exactly_what_the_trained_main_head_does(tiny, tmp_path):
    model = inceptionspec.compile_for_training(inceptionspec.build_model(tiny, seed=1), tiny)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 32, 32, 3)).astype("float32")
    labels = keras.utils.to_categorical(rng.integers(0, 4, 16), 4)
    model.fit(x, inceptionspec.targets(model, labels), epochs=1, batch_size=8, verbose=0)
    served = inceptionspec.inference_model(model)
    assert list(served.output) == ["main"] and list(model.output) == ["main", "aux1", "aux2"]
    np.testing.assert_array_equal(served.predict(x, verbose=0)["main"], model.predict(x, verbose=0)["main"])
    # Saved and loaded in safe mode, then served: the same numbers; the loaded file still knows its aux heads.
    model.save(tmp_path / "trained.keras")
    loaded = keras.saving.load_model(tmp_path / "trained.keras", safe_mode=True)
    assert inceptionspec.keras.training_only_heads(loaded) == ["aux1", "aux2"]
    inceptionspec.inference_model(loaded).save(tmp_path / "served.keras")
    again = keras.saving.load_model(tmp_path / "served.keras", safe_mode=True)
    assert list(again.output) == ["main"]
    np.testing.assert_array_equal(again.predict(x, verbose=0)["main"], model.predict(x, verbose=0)["main"])
    assert again.count_params() == inceptionspec.build_model(tiny, include_aux=False).count_params()


def test_a_model_without_training_only_heads_is_served_as_it_is(tiny):
    model = inceptionspec.build_model(tiny, include_aux=False)
    assert inceptionspec.inference_model(model) is model


def test_targets_give_every_head_the_labels():
    model = inceptionspec.build_model(inceptionspec.load("examples/googlenet_cifar", TINY))
    labels = np.zeros((2, 4))
    targets = inceptionspec.targets(model, labels)
    assert list(targets) == ["main", "aux1", "aux2"] and all(t is labels for t in targets.values())


# --- schedules ------------------------------------------------------------------------


def rates(schedule: EpochSchedule, epochs: list[float]) -> list[float]:
    return [float(schedule(int(e * schedule.steps_per_epoch))) for e in epochs]


def test_googlenets_schedule_loses_four_percent_every_eight_epochs():
    spec = inceptionspec.load("googlenet")
    assert spec.training.schedule.model_dump() == StepSchedule(kind="step", every=8, factor=0.96).model_dump()
    schedule = learning_rate(spec.training.schedule, 0.01, steps_per_epoch=10, epochs=40)
    got = rates(schedule, [0, 7.9, 8, 16, 24.5])
    np.testing.assert_allclose(got, [0.01, 0.01, 0.0096, 0.009216, 0.01 * 0.96**3], rtol=1e-6)


def test_cosine_warms_up_then_falls_to_its_final_fraction():
    schedule = learning_rate(CosineSchedule(kind="cosine", warmup_epochs=2, final=0.1), 1.0, 100, 12)
    got = rates(schedule, [0, 0.99, 2, 7, 12])
    np.testing.assert_allclose(got, [0.005, 0.5, 1.0, 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 2)), 0.1], atol=1e-5)


def test_a_schedule_round_trips_through_keras_serialization():
    schedule = EpochSchedule(0.1, 50, 10, "exponential", every=2.0, factor=0.5)
    again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert rates(again, [0, 2, 3]) == pytest.approx([0.1, 0.05, 0.1 * 0.5**1.5], rel=1e-6)


def test_a_constant_rate_needs_no_steps_and_a_schedule_without_them_warns(tiny):
    assert learning_rate(None, 0.01, None, 5) == 0.01
    spec = inceptionspec.load("googlenet")
    with pytest.warns(UserWarning, match="counts epochs: pass steps_per_epoch"):
        inceptionspec.compile_for_training(inceptionspec.build_model(tiny), spec)


# --- the commands ---------------------------------------------------------------------


def invoke(*args: object) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny run: 4 classes × 12 images, 3 epochs, validation on a separate folder."""
    root = tmp_path_factory.mktemp("train")
    write_shapes(root / "data", per_class=12, size=36, seed=1)
    write_shapes(root / "val", per_class=5, size=36, seed=2)
    run = root / "run"
    invoke(
        "train", "examples/googlenet_cifar", "--data", root / "data", "--val", root / "val", "--out", run,
        "--epochs", 3, "--batch-size", 16, "--quiet", *sum((["--set", s] for s in TINY), []),
    )  # fmt: skip
    return root, run


def test_a_run_directory_holds_everything_the_issue_lists(trained):
    _, run = trained
    names = {p.name for p in run.iterdir()}
    assert {
        "model.keras",
        "best.keras",
        "history.csv",
        "metrics.json",
        "curves.png",
        "classes.json",
        "spec.yaml",
    } <= names
    assert any((run / "tensorboard").rglob("events.out.tfevents.*"))
    assert json.loads((run / "classes.json").read_text()) == ["across", "checkerboard", "disc", "down"]
    rows = list(csv.DictReader((run / "history.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert list(rows[0]) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs"] == 3 and metrics["images_per_second"] > 0 and metrics["train_images"] == 48
    assert metrics["final"]["val_accuracy"] == pytest.approx(float(rows[-1]["val_accuracy"]))
    served = keras.saving.load_model(run / "model.keras", safe_mode=True)
    assert list(served.output) == ["main"]
    spec = inceptionspec.load(run / "spec.yaml")
    assert spec.training.epochs == 3 and spec.training.batch_size == 16 and spec.classes == 4
    assert (run / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_and_predict_agree_with_the_run(trained):
    root, run = trained
    result = json.loads(invoke("evaluate", run, "--data", root / "val", "--format", "json"))
    assert set(result) == {"loss", "accuracy", "per_class", "count"}  # no top-5 with 4 classes
    assert result["count"] == 20 and set(result["per_class"]) == {"across", "checkerboard", "disc", "down"}
    last = list(csv.DictReader((run / "history.csv").open()))[-1]
    assert result["accuracy"] == pytest.approx(float(last["val_accuracy"]), abs=1e-6)
    assert result["loss"] == pytest.approx(float(last["val_loss"]), rel=1e-4)
    images = sorted((root / "val").rglob("*.*"))
    predictions = json.loads(invoke("predict", run, *images, "--top", 2, "--format", "json"))
    assert [p["image"] for p in predictions] == [str(i) for i in images]
    assert all(len(p["top"]) == 2 and p["top"][0]["probability"] >= p["top"][1]["probability"] for p in predictions)
    hits = [p["top"][0]["class"] == image.parent.name for p, image in zip(predictions, images, strict=True)]
    assert np.mean(hits) == pytest.approx(result["accuracy"])
    text = invoke("predict", run / "model.keras", images[0], "--top", 1)
    assert text.splitlines()[0] == str(images[0]) and "%" in text.splitlines()[1]
