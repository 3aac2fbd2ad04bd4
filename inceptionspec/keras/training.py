"""Compiling a built model for training from the spec's training section."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import keras

from inceptionspec.lang.models import Spec


def compile_for_training(
    model: keras.Model, spec: Spec, steps_per_epoch: int | None = None, epochs: int | None = None
) -> keras.Model:
    """Apply the spec's training section and the heads' loss weights.

    Every output gets the spec's loss, weighted by its head's ``loss_weight``, and its metrics plus
    ``crossentropy`` (the unsmoothed loss, averaged over images); auxiliary heads are trained on
    the same labels as the main head (:func:`inceptionspec.targets`). The
    learning-rate schedule counts epochs, so it needs ``steps_per_epoch`` (and ``epochs`` for
    cosine; default: the spec's); without it the optimizer keeps the initial rate, with a warning."""
    from inceptionspec.keras.train.schedules import learning_rate
    from inceptionspec.lang.models import Training

    training = spec.training or Training()
    opt = training.optimizer
    try:
        rate = learning_rate(training.schedule, opt.learning_rate, steps_per_epoch, epochs or training.epochs)
    except ValueError as exc:
        warnings.warn(f"{exc}; the optimizer keeps the initial rate {opt.learning_rate}", stacklevel=2)
        rate = opt.learning_rate
    optimizers: dict[str, Callable[[], keras.optimizers.Optimizer]] = {
        "sgd": lambda: keras.optimizers.SGD(
            rate, momentum=opt.momentum, nesterov=opt.nesterov, weight_decay=opt.weight_decay
        ),
        "adam": lambda: keras.optimizers.Adam(rate, weight_decay=opt.weight_decay),
        "adamw": lambda: keras.optimizers.AdamW(rate, weight_decay=opt.weight_decay or 0.004),
        "rmsprop": lambda: keras.optimizers.RMSprop(rate, momentum=opt.momentum, weight_decay=opt.weight_decay),
    }
    heads = {name: head for name, head in spec.heads.items() if name in model.output}
    names = list(model.output) if isinstance(model.output, dict) else ["output"]

    sparse = training.loss == "sparse_categorical_crossentropy"

    def loss() -> keras.losses.Loss:
        if sparse:
            return keras.losses.SparseCategoricalCrossentropy()
        return keras.losses.CategoricalCrossentropy(label_smoothing=training.label_smoothing)

    def crossentropy() -> keras.metrics.Metric:
        # Averaged over images: Keras' per-head `*_loss` averages over batches, which a smaller last batch skews.
        metric = keras.metrics.SparseCategoricalCrossentropy if sparse else keras.metrics.CategoricalCrossentropy
        return metric(name="crossentropy")

    model.compile(
        optimizer=optimizers[opt.kind](),
        loss={name: loss() for name in names},
        loss_weights={name: (heads[name].loss_weight if name in heads else 1.0) for name in names},
        metrics={name: [*training.metrics, crossentropy()] for name in names},
    )
    return model
