"""The reference for `inceptionspec train`: the same compiled model on the same files, fitted by a
hand-written ``model.fit`` on a plain ``tf.data`` pipeline (decode → resize → preprocess → cache →
shuffle → batch → prefetch), as the TensorFlow tutorials write it. Also measures the model's
compute-only speed (one batch, repeated: no input work at all).

``python -m bench.train_baseline DATA OUT.json EPOCHS BATCH SET...`` (run by bench.training).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import inceptionspec  # noqa: E402


class EpochTimer(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):  # type: ignore[no-untyped-def]
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):  # type: ignore[no-untyped-def]
        self.seconds.append(time.perf_counter() - self.start)


def main() -> None:
    data, out, epochs, batch, *sets = sys.argv[1:]
    epochs_n, batch_n = int(epochs), int(batch)
    spec = inceptionspec.load("examples/googlenet_cifar", sets)
    classes = sorted(p.name for p in Path(data).iterdir() if p.is_dir())
    files = [(str(f), i) for i, c in enumerate(classes) for f in sorted((Path(data) / c).iterdir())]
    height, width, channels = spec.input
    prep = spec.preprocessing
    mean = tf.constant(prep.mean, tf.float32)
    std = tf.constant(prep.std, tf.float32)

    def load(path, label):  # type: ignore[no-untyped-def]
        image = tf.io.decode_image(tf.io.read_file(path), channels=channels, expand_animations=False)
        image.set_shape([None, None, channels])
        image = tf.image.resize(image, (height, width))
        return (image - mean) / std, label

    def targets(x, label):  # type: ignore[no-untyped-def]
        return x, inceptionspec.targets(model, tf.one_hot(label, spec.classes))

    model = inceptionspec.build_model(spec, seed=0)
    steps = math.ceil(len(files) / batch_n)
    inceptionspec.compile_for_training(model, spec, steps_per_epoch=steps, epochs=epochs_n)
    paths, labels = zip(*files, strict=True)
    dataset = (
        tf.data.Dataset.from_tensor_slices((list(paths), list(labels)))
        .map(load, num_parallel_calls=tf.data.AUTOTUNE)
        .cache()
        .shuffle(len(files), seed=0)
        .batch(batch_n)
        .map(targets)
        .prefetch(tf.data.AUTOTUNE)
    )
    timer = EpochTimer()
    model.fit(dataset, epochs=epochs_n, callbacks=[timer], verbose=0)
    warm = timer.seconds[1:] or timer.seconds
    result = {"images_per_second": len(files) * len(warm) / sum(warm), "epoch_seconds": timer.seconds}

    # Compute only: one batch, kept in memory and repeated; the model does the same steps.
    one = dataset.take(1).cache().repeat()
    timer = EpochTimer()
    model.fit(one, epochs=3, steps_per_epoch=steps, callbacks=[timer], verbose=0)
    result["compute_images_per_second"] = batch_n * steps * 2 / sum(timer.seconds[1:])

    # inceptionspec's own pipeline (what `train` feeds fit), in this process, right after: the
    # share of its step time spent waiting for input, against the compute-only steps above.
    from inceptionspec.data import DataBudget
    from inceptionspec.data.read import read_data
    from inceptionspec.keras.train import pipeline

    folder = read_data(data, DataBudget(), classes=spec.classes)
    source = pipeline.load_folder(folder, tuple(spec.input), DataBudget(), False, lambda text: None)
    heads = pipeline.Targets(list(model.output), spec.classes, one_hot=True)
    ours = pipeline.training_dataset(source, batch_n, 0, 0, 3, prep, spec.training.augmentation, heads)
    timer = EpochTimer()
    model.fit(ours, epochs=3, steps_per_epoch=steps, callbacks=[timer], verbose=0)
    result["pipeline_images_per_second"] = len(files) * 2 / sum(timer.seconds[1:])
    Path(out).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
