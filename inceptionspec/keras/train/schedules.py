"""The spec's learning-rate schedules as a Keras ``LearningRateSchedule``.

Schedules are written in epochs; the optimizer counts steps, so the schedule knows the steps of
an epoch. The rate is a function of the step alone: a resumed run follows the same curve as one
that was never interrupted.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops as K

from inceptionspec.keras.layers import PACKAGE
from inceptionspec.lang.training import ConstantSchedule, CosineSchedule, ExponentialSchedule, StepSchedule


@keras.saving.register_keras_serializable(package=PACKAGE)
class EpochSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """``learning_rate`` shaped by a spec schedule (``kind``: constant, step, exponential, cosine),
    with an optional linear warm-up; ``epochs`` is the length of the run (cosine ends there)."""

    def __init__(
        self,
        learning_rate: float,
        steps_per_epoch: int,
        epochs: int,
        kind: str = "constant",
        every: float = 1.0,
        factor: float = 1.0,
        final: float = 0.0,
        warmup_epochs: float = 0.0,
    ) -> None:
        self.learning_rate = float(learning_rate)
        self.steps_per_epoch = int(steps_per_epoch)
        self.epochs = int(epochs)
        self.kind, self.every, self.factor = kind, float(every), float(factor)
        self.final, self.warmup_epochs = float(final), float(warmup_epochs)

    def __call__(self, step: Any) -> Any:
        step = K.cast(step, "float32")
        epoch = step / self.steps_per_epoch  # epochs done before this step, fractional
        if self.kind == "step":
            decay = K.power(self.factor, K.floor(epoch / self.every))
        elif self.kind == "exponential":
            decay = K.power(self.factor, epoch / self.every)
        elif self.kind == "cosine":
            span = max(self.epochs - self.warmup_epochs, 1e-9)
            progress = K.clip((epoch - self.warmup_epochs) / span, 0.0, 1.0)
            decay = self.final + (1.0 - self.final) * 0.5 * (1.0 + K.cos(math.pi * progress))
        else:
            decay = K.ones_like(epoch)
        rate = self.learning_rate * decay
        if self.warmup_epochs > 0:
            warmup_steps = self.warmup_epochs * self.steps_per_epoch
            rate = rate * K.minimum(1.0, (step + 1.0) / warmup_steps)
        return rate

    def get_config(self) -> dict[str, Any]:
        return {
            "learning_rate": self.learning_rate,
            "steps_per_epoch": self.steps_per_epoch,
            "epochs": self.epochs,
            "kind": self.kind,
            "every": self.every,
            "factor": self.factor,
            "final": self.final,
            "warmup_epochs": self.warmup_epochs,
        }


Schedule = ConstantSchedule | StepSchedule | ExponentialSchedule | CosineSchedule


def learning_rate(
    schedule: Schedule | None, base: float, steps_per_epoch: int | None, epochs: int
) -> float | EpochSchedule:
    """What the optimizer gets: the base rate when it never changes, else an :class:`EpochSchedule`."""
    if schedule is None or (isinstance(schedule, ConstantSchedule) and not schedule.warmup_epochs):
        return base
    if steps_per_epoch is None:
        raise ValueError(
            f"the spec's `{schedule.kind}` schedule counts epochs: pass steps_per_epoch "
            "(`inceptionspec train` does) to apply it"
        )
    fields = schedule.model_dump(exclude={"kind"})
    return EpochSchedule(base, steps_per_epoch, epochs, schedule.kind, **fields)
