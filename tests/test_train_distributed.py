"""Several machines: two worker processes on 127.0.0.1 (MultiWorkerMirroredStrategy, TF_CONFIG)
train to the loss one process reaches with the same global batch."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("tensorflow")

#: No dropout and no batch norm: those draw per replica (masks, batch statistics), so only with
#: them left out must two workers compute what one process does.
SPEC = """\
version: 1
name: mw
input: [16, 16, 3]
classes: 3
defaults: {conv: {padding: same, activation: relu}}
stages:
  - conv: {name: c1, filters: 8, kernel: 3}
  - maxpool: {name: p1, size: 2, strides: 2}
  - conv: {name: c2, filters: 16, kernel: 3}
heads:
  main: {layers: [global_avgpool: , dense: {units: $classes, activation: softmax}]}
  aux: {from: p1, loss_weight: 0.3, training_only: true,
        layers: [global_avgpool: , dense: {units: $classes, activation: softmax}]}
training:
  optimizer: {kind: adam, learning_rate: 0.01}
"""

#: |loss of two workers − loss of one process|, relative: the all-reduce sums gradients in
#: another order than one process, so the last bits differ (1e-7 measured); a wrong split of the
#: batch (each worker taking all of it, or the same half) is off by percents.
TOLERANCE = 1e-4


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def last_row(run):
    return list(csv.DictReader((run / "history.csv").open()))[-1]


def test_two_workers_reach_the_loss_of_one_process_with_the_same_global_batch(tmp_path):
    spec = tmp_path / "mw.yaml"
    spec.write_text(SPEC)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 96)
    x = rng.integers(0, 60, (96, 16, 16, 3)).astype(np.uint8)
    for i, label in enumerate(labels):
        x[i, :, label * 5 : label * 5 + 5] += 150  # the class is where the bright band is
    np.savez(tmp_path / "data.npz", x=x, y=labels)
    base = [
        sys.executable, "-m", "inceptionspec.cli", "train", str(spec), "--data", str(tmp_path / "data.npz"),
        "--epochs", "3", "--batch-size", "16", "--val-split", "0.25", "--seed", "0", "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_CONFIG", None)
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    procs = [
        subprocess.Popen(
            [*base, "--strategy", "one", "--out", str(tmp_path / "one")], env=env, stderr=subprocess.PIPE, text=True
        )
    ]
    for index in range(2):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        procs.append(
            subprocess.Popen(
                [*base, "--strategy", "multi-worker", "--out", str(tmp_path / "two")],
                env={**env, "TF_CONFIG": json.dumps(config)},
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        outcomes = [(p.wait(timeout=400), p.stderr.read()) for p in procs]
    finally:
        for p in procs:
            p.kill()
    for code, err in outcomes:
        assert code == 0, err[-3000:]
    one, two = last_row(tmp_path / "one"), last_row(tmp_path / "two")
    print("one process:", one, "\ntwo workers:", two)
    for key in ("loss", "val_loss"):
        assert float(two[key]) == pytest.approx(float(one[key]), rel=TOLERANCE)
    assert float(two["val_accuracy"]) == float(one["val_accuracy"])
    assert not (tmp_path / "two" / "worker-1").exists(), "the other worker cleans up after itself"
    metrics = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert metrics["strategy"] == "multi-worker" and metrics["replicas"] == 2
