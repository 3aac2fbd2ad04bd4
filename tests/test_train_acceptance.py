"""The issue's acceptance run: GoogLeNet for CIFAR learns a generated image folder (4 classes of
simple patterns, 100 images each) to ≥ 90 % validation accuracy in minutes on 2 CPU cores, and
`evaluate` and `predict` agree with the run. Heavy: about 3 minutes on an idle 2-core machine
(tests/test_train.py runs the same commands on a quarter-width model in the default suite)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from inceptionspec.data.shapes import write_shapes

pytestmark = pytest.mark.heavy


def cli(*args, timeout=1800):
    run = subprocess.run(
        [sys.executable, "-m", "inceptionspec.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def test_googlenet_cifar_learns_the_shapes_and_evaluate_and_predict_agree(tmp_path):
    data = write_shapes(tmp_path / "shapes", per_class=100, size=32, seed=0)
    val = write_shapes(tmp_path / "val", per_class=25, size=32, seed=1)
    run = tmp_path / "run"
    cli("train", "examples/googlenet_cifar", "--data", data, "--val", val, "--set", "classes=4", "--epochs", 10,
        "--seed", 0, "--out", run)  # fmt: skip
    rows = list(csv.DictReader((run / "history.csv").open()))
    metrics = json.loads((run / "metrics.json").read_text())
    print("history:", [(r["epoch"], round(float(r["val_accuracy"]), 3)) for r in rows])
    print("metrics:", metrics)
    assert metrics["best"]["val_accuracy"] >= 0.9 and float(rows[-1]["val_accuracy"]) >= 0.9

    result = json.loads(cli("evaluate", run, "--data", val, "--format", "json").stdout)
    assert result["accuracy"] == pytest.approx(float(rows[-1]["val_accuracy"]), abs=1e-6)
    assert result["loss"] == pytest.approx(float(rows[-1]["val_loss"]), rel=1e-3)
    images = sorted(val.rglob("*.*"))
    predictions = json.loads(cli("predict", run, *images, "--format", "json", "--top", 1).stdout)
    hits = [p["top"][0]["class"] == image.parent.name for p, image in zip(predictions, images, strict=True)]
    assert sum(hits) / len(hits) == pytest.approx(result["accuracy"])
