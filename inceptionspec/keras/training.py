"""Compiling a built model for training from the spec's training section."""

from __future__ import annotations

from collections.abc import Callable

import keras

from inceptionspec.lang.models import Spec


def compile_for_training(model: keras.Model, spec: Spec) -> keras.Model:
    """Apply the spec's training section and the heads' loss weights."""
    from inceptionspec.lang.models import Training

    training = spec.training or Training()
    opt = training.optimizer
    optimizers: dict[str, Callable[[], keras.optimizers.Optimizer]] = {
        "sgd": lambda: keras.optimizers.SGD(
            opt.learning_rate, momentum=opt.momentum, nesterov=opt.nesterov, weight_decay=opt.weight_decay
        ),
        "adam": lambda: keras.optimizers.Adam(opt.learning_rate, weight_decay=opt.weight_decay),
        "adamw": lambda: keras.optimizers.AdamW(opt.learning_rate, weight_decay=opt.weight_decay or 0.004),
        "rmsprop": lambda: keras.optimizers.RMSprop(
            opt.learning_rate, momentum=opt.momentum, weight_decay=opt.weight_decay
        ),
    }
    heads = {name: head for name, head in spec.heads.items() if name in model.output}
    names = list(model.output) if isinstance(model.output, dict) else ["output"]

    def loss() -> keras.losses.Loss:
        if training.loss == "sparse_categorical_crossentropy":
            return keras.losses.SparseCategoricalCrossentropy()
        return keras.losses.CategoricalCrossentropy(label_smoothing=training.label_smoothing)

    model.compile(
        optimizer=optimizers[opt.kind](),
        loss={name: loss() for name in names},
        loss_weights={name: (heads[name].loss_weight if name in heads else 1.0) for name in names},
        metrics={name: list(training.metrics) for name in names},
    )
    return model
