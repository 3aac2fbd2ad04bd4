"""What happens at the edges of an epoch: reseeding, timing, checkpoints, the run's files."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np

from inceptionspec.keras.inference import inference_model
from inceptionspec.keras.train.run import STATE, State, history_csv, plot_curves, write_atomic


class EpochSeeds(keras.callbacks.Callback):
    """Sets every random-number state of the model (dropout's) from (seed, epoch) as an epoch
    begins: Keras does not save those states, so without this a resumed run would draw other
    dropout masks than one that was never interrupted."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.seed = seed

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        weights = {id(w) for w in self.model.weights}
        states = [v for v in self.model.variables if id(v) not in weights]
        for k, state in enumerate(states):
            digest = hashlib.sha256(f"{self.seed}:{epoch}:{k}".encode()).digest()
            value = np.frombuffer(digest[:4], np.uint32)[0]
            state.assign(np.array([value, 0], dtype=state.dtype))


def save_keras(model: keras.Model, path: Path) -> None:
    """Save ``model`` to ``path`` whole or not at all."""
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    model.save(tmp)
    tmp.replace(path)


class Recorder(keras.callbacks.Callback):
    """At the end of each epoch, in this order: the weights (with the optimizer's state) to a new
    checkpoint file, ``best.keras`` when validation accuracy improved, ``state.json`` (the commit),
    ``history.csv`` and ``curves.png`` from the committed history, then the old checkpoint removed.
    A crash before the commit repeats the epoch; after it, nothing is lost or repeated."""

    def __init__(
        self,
        run: Path,
        state: State,
        main: str,
        rate: Any,
        images: int,
        title: str,
        write_outputs: bool = True,
    ) -> None:
        super().__init__()
        self.run, self.state, self.main, self.rate = run, state, main, rate
        self.images, self.title, self.write_outputs = images, title, write_outputs
        self.started = time.monotonic()
        self.first_epoch = True
        self.epoch_start = self.train_end = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch_start = time.monotonic()
        self.train_end = 0.0

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.train_end = self.train_end or time.monotonic()

    def _metric(self, logs: dict[str, Any], name: str, prefix: str = "") -> float | None:
        for key in (f"{prefix}{self.main}_{name}", f"{prefix}{name}"):
            if key in logs:
                return float(logs[key])
        return None

    def learning_rate(self) -> float:
        optimizer = self.model.optimizer
        if callable(self.rate):
            return float(self.rate(max(int(optimizer.iterations.numpy()) - 1, 0)))
        return float(self.rate)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        now = time.monotonic()
        row = {
            "epoch": epoch + 1,
            "loss": self._metric(logs, "crossentropy"),
            "accuracy": self._metric(logs, "accuracy"),
            "val_loss": self._metric(logs, "crossentropy", "val_"),
            "val_accuracy": self._metric(logs, "accuracy", "val_"),
            "learning_rate": self.learning_rate(),
            "train_seconds": (self.train_end or now) - self.epoch_start,
            "images": self.images,
            "warm": not self.first_epoch,  # the first epoch of a process also traces the step and fills caches
        }
        self.first_epoch = False
        state = self.state
        checkpoint = self.run / STATE.parent
        checkpoint.mkdir(parents=True, exist_ok=True)
        weights = f"epoch-{epoch + 1:04d}.weights.h5"
        self.model.save_weights(checkpoint / weights)
        score = row["val_accuracy"] if row["val_accuracy"] is not None else row["accuracy"]
        improved = state.best is None or (score is not None and score > state.best["score"])
        if improved:
            if self.write_outputs:
                save_keras(inference_model(self.model), self.run / "best.keras")
            state.best = {"epoch": epoch + 1, "score": score}
        old = state.weights
        state.epoch, state.weights = epoch + 1, weights
        state.rows.append(row)
        state.wall_seconds += now - self.started
        self.started = now
        state.write(self.run)
        self.publish()
        if old and old != weights:
            (checkpoint / old).unlink(missing_ok=True)

    def publish(self) -> None:
        """history.csv and curves.png from the committed rows."""
        if not self.write_outputs:
            return
        write_atomic(self.run / "history.csv", history_csv(self.state.rows))
        if self.state.rows:
            plot_curves(self.state.rows, self.run / "curves.png", self.title)
