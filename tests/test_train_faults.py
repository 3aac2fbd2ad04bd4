"""A training run survives SIGKILL: the same command continues from the last completed epoch, and
with a seed ends with the very weights of a run that was never interrupted."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from inceptionspec.data.shapes import write_shapes  # noqa: E402

#: Small enough to train in seconds; dropout, an auxiliary head, a schedule with warm-up and
#: augmentation, so every source of randomness a resumed run must reproduce is there.
TINY_SPEC = """\
version: 1
name: tiny
input: [16, 16, 3]
classes: 4
defaults: {conv: {padding: same, activation: relu}}
stages:
  - conv: {name: c1, filters: 8, kernel: 3}
  - maxpool: {name: p1, size: 2, strides: 2}
  - mixed: {branches: {a: [conv: {filters: 8, kernel: 1}], b: [conv: {filters: 8, kernel: 3}]}}
  - conv: {name: c2, filters: 16, kernel: 3}
heads:
  main: {layers: [global_avgpool: , dropout: 0.3, dense: {units: $classes, activation: softmax}]}
  aux: {from: mixed, loss_weight: 0.3, training_only: true,
        layers: [global_avgpool: , dense: {units: $classes, activation: softmax}]}
training:
  optimizer: {kind: sgd, learning_rate: 0.05, momentum: 0.9}
  schedule: {kind: cosine, warmup_epochs: 1}
  augmentation: {random_resized_crop: {scale: [0.5, 1]}, horizontal_flip: true}
  batch_size: 8
"""


def command(spec, data, out, epochs=4):
    return [
        sys.executable, "-m", "inceptionspec.cli", "train", str(spec), "--data", str(data), "--out", str(out),
        "--epochs", str(epochs), "--seed", "3", "--val-split", "0.25",
    ]  # fmt: skip


def rows(run):
    path = run / "history.csv"
    return list(csv.DictReader(path.open())) if path.exists() else []


def weights(path):
    return [np.asarray(w) for w in keras.saving.load_model(path, safe_mode=True).weights]


def test_sigkill_during_epoch_2_then_the_same_command_finishes_with_the_same_weights(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY_SPEC)
    data = write_shapes(tmp_path / "data", per_class=40, size=20)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    plain = subprocess.Popen(command(spec, data, tmp_path / "plain"), env=env, stderr=subprocess.PIPE, text=True)
    victim = subprocess.Popen(command(spec, data, tmp_path / "killed"), env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(rows(tmp_path / "killed")) < 1 and victim.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    assert len(rows(tmp_path / "killed")) == 1, "killed during epoch 2: one epoch done"
    assert not (tmp_path / "killed" / "model.keras").exists()

    again = subprocess.run(
        command(spec, data, tmp_path / "killed"), env=env, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert "continuing" in again.stderr
    assert [r["epoch"] for r in rows(tmp_path / "killed")] == ["1", "2", "3", "4"]

    assert plain.wait(timeout=300) == 0, plain.stderr.read()[-3000:]
    assert rows(tmp_path / "killed") == rows(tmp_path / "plain")
    for a, b in zip(
        weights(tmp_path / "plain" / "model.keras"), weights(tmp_path / "killed" / "model.keras"), strict=True
    ):
        np.testing.assert_array_equal(a, b)
