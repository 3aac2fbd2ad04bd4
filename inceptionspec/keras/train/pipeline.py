"""The input pipeline: checked files or arrays → ``tf.data`` batches the network can take.

Every image becomes ``uint8`` pixels at the spec's input size (decoded in parallel, channels
converted, resized bilinearly and rounded) in one place, :meth:`Source.pixels`, for training,
validation, ``evaluate`` and ``predict`` alike, so they see the same numbers. A data set whose
pixels fit in :attr:`DataBudget.max_cache_bytes` is decoded once, while it is checked, and kept
in memory; a larger one is decoded again each epoch (parallel reads, prefetch).

Each epoch's order and each image's augmentation are functions of (seed, epoch, image), not of
a random state: a run resumed after a crash sees the same batches as one that never stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import tensorflow as tf

from inceptionspec.data.errors import DataBudget, DataError, Problem
from inceptionspec.data.folders import ImageFolder
from inceptionspec.lang.training import Augmentation, Preprocessing

AUTOTUNE = tf.data.AUTOTUNE


@dataclass
class Source:
    """Labelled images: file paths, or pixels already in memory (``uint8`` N×H×W×C)."""

    labels: np.ndarray
    shape: tuple[int, int, int]
    files: list[str] | None = None
    images: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray) -> Source:
        files = [self.files[i] for i in index] if self.files is not None else None
        images = self.images[index] if self.images is not None else None
        return Source(self.labels[index], self.shape, files, images)

    # Pixels ------------------------------------------------------------------------------
    def _tensors(self) -> Any:
        if self.images is not None:
            return tf.constant(self.images)
        return tf.constant(self.files or [], dtype=tf.string)

    def raw(self, table: Any, i: Any) -> Any:
        """Image ``i`` as stored: decoded pixels (any size, the spec's channels)."""
        if self.images is not None:
            return tf.gather(table, i)
        return decode(tf.io.read_file(tf.gather(table, i)), self.shape[2])

    def pixels(self, image: Any) -> Any:
        """Stored pixels → ``uint8`` at the input size."""
        return to_input_size(image, self.shape)


def decode(data: Any, channels: int) -> Any:
    """JPEG, PNG, BMP or GIF bytes → uint8 H×W×channels (grayscale and RGBA converted; a GIF's first frame)."""
    image = tf.io.decode_image(data, channels=3 if channels == 3 else 1, expand_animations=False)
    image.set_shape([None, None, 3 if channels == 3 else 1])
    return image


def to_input_size(image: Any, shape: tuple[int, int, int]) -> Any:
    height, width, _ = shape
    if image.shape[0] == height and image.shape[1] == width:
        return tf.cast(image, tf.uint8)
    resized = tf.image.resize(image, (height, width), method="bilinear")
    return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)


def preprocess(pixels: Any, prep: Preprocessing | None) -> Any:
    """uint8 pixels → the network's input, as the spec's `preprocessing` says (default: 0–1)."""
    prep = prep or Preprocessing()
    x = tf.cast(pixels, tf.float32)
    if prep.channels == "bgr" and x.shape[-1] == 3:
        x = x[..., ::-1]
    mean = tf.constant(prep.mean, tf.float32)
    std = tf.constant(prep.std, tf.float32)
    return (x - mean) / std


def check_preprocessing(prep: Preprocessing | None, channels: int) -> str | None:
    """Why ``prep`` does not fit an input of ``channels``, or None."""
    for name in ("mean", "std"):
        value = getattr(prep, name, None)
        if isinstance(value, list) and len(value) not in (1, channels):
            return f"`preprocessing.{name}` has {len(value)} values; the input has {channels} channels"
    return None


# --- reading and checking every image once ---------------------------------------------------


def load_folder(
    folder: ImageFolder, shape: tuple[int, int, int], budget: DataBudget, skip_bad: bool, report: Callable[[str], None]
) -> Source:
    """Decode every image of ``folder`` once (in parallel): the ones TensorFlow cannot decode are
    errors (or, with ``skip_bad``, left out and counted); the pixels are kept when they fit."""
    start = time.monotonic()
    count = len(folder.files)
    keep = count * int(np.prod(shape)) <= budget.max_cache_bytes
    paths = tf.constant([str(f) for f in folder.files], dtype=tf.string)

    def read(i: Any) -> Any:
        return i, to_input_size(decode(tf.io.read_file(paths[i]), shape[2]), shape)

    dataset = tf.data.Dataset.range(count).map(read, num_parallel_calls=AUTOTUNE, deterministic=False)
    dataset = dataset.ignore_errors().batch(256).prefetch(2)
    images = np.empty((count, *shape), np.uint8) if keep else None
    good = np.zeros(count, bool)
    for index, batch in dataset.as_numpy_iterator():
        good[index] = True
        if images is not None:
            images[index] = batch
    if not good.all():
        bad = [
            Problem(folder.files[i], "not a readable image (TensorFlow cannot decode it)")
            for i in np.flatnonzero(~good)
        ]
        if not skip_bad:
            raise DataError(bad, "--skip-bad-images leaves such files out (and counts them)")
        folder.skipped += bad
    report(
        f"decoded {int(good.sum()):,} images in {time.monotonic() - start:.1f} s" + (", kept in memory" if keep else "")
    )
    labels = np.asarray(folder.labels, np.int64)[good]
    files = [str(f) for f, ok in zip(folder.files, good, strict=True) if ok]
    folder.keep(list(good))
    return Source(labels, shape, None if keep else files, images[good] if images is not None else None)


def load_arrays(x: np.ndarray, y: np.ndarray, shape: tuple[int, int, int]) -> Source:
    """Images from a .npz file, with the spec's channels (kept at their size: resized as they are read)."""
    pixels = np.clip(np.rint(x), 0, 255).astype(np.uint8) if x.dtype != np.uint8 else x
    channels = shape[2]
    if pixels.shape[-1] == 4:
        pixels = pixels[..., :3]
    if channels == 3 and pixels.shape[-1] == 1:
        pixels = np.repeat(pixels, 3, axis=-1)
    elif channels == 1 and pixels.shape[-1] == 3:
        pixels = tf.cast(tf.round(tf.image.rgb_to_grayscale(tf.cast(pixels, tf.float32))), tf.uint8).numpy()
    return Source(np.asarray(y, np.int64), shape, None, np.ascontiguousarray(pixels))


def split(source: Source, fraction: float, seed: int) -> tuple[Source, Source]:
    """A validation set of ``fraction`` of each class (at least one image), chosen by ``seed``."""
    rng = np.random.default_rng([seed, 0x5EED])
    val: list[int] = []
    for label in np.unique(source.labels):
        members = np.flatnonzero(source.labels == label)
        take = min(len(members) - 1, max(1, round(len(members) * fraction)))
        val += list(rng.choice(members, take, replace=False)) if take > 0 else []
    mask = np.zeros(len(source), bool)
    mask[val] = True
    return source.subset(np.flatnonzero(~mask)), source.subset(np.flatnonzero(mask))


# --- datasets --------------------------------------------------------------------------------


@dataclass
class Targets:
    """How a label becomes each output's target: one-hot for categorical losses, for every head."""

    heads: list[str]
    classes: int
    one_hot: bool

    def __call__(self, x: Any, label: Any) -> tuple[Any, dict[str, Any]]:
        y = tf.one_hot(label, self.classes) if self.one_hot else label
        return x, {head: y for head in self.heads}


def augment(image: Any, seed: Any, aug: Augmentation | None, shape: tuple[int, int, int]) -> Any:
    """The spec's augmentation of one stored image, with stateless randomness from ``seed``."""
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    if aug is not None and aug.random_resized_crop is not None:
        rrc = aug.random_resized_crop
        begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
            tf.shape(image),
            bounding_boxes=tf.constant([[[0.0, 0.0, 1.0, 1.0]]]),
            seed=crop_seed,
            min_object_covered=0.0,
            aspect_ratio_range=tuple(rrc.ratio),
            area_range=tuple(rrc.scale),
            max_attempts=10,
            use_image_if_no_bounding_boxes=True,
        )
        image = tf.slice(image, begin, size)
    image = to_input_size(image, shape)
    if aug is not None and aug.horizontal_flip:
        image = tf.image.stateless_random_flip_left_right(image, flip_seed)
    return image


def training_dataset(
    source: Source,
    batch: int,
    seed: int,
    first_epoch: int,
    epochs: int,
    prep: Preprocessing | None,
    aug: Augmentation | None,
    targets: Targets,
) -> tf.data.Dataset:
    """Epochs ``first_epoch`` … ``epochs - 1``, each a fresh order of every image in batches (the last
    may be smaller): ``steps_per_epoch = ceil(N / batch)`` batches per epoch."""
    table = source._tensors()
    labels = tf.constant(source.labels)
    count = len(source)
    base = tf.constant([seed, 0], tf.int64)

    def one(i: Any, epoch: Any) -> Any:
        image_seed = tf.random.experimental.stateless_fold_in(tf.random.experimental.stateless_fold_in(base, epoch), i)
        image = augment(source.raw(table, i), image_seed, aug, source.shape)
        return preprocess(image, prep), tf.gather(labels, i)

    def epoch_data(epoch: Any) -> tf.data.Dataset:
        order = tf.random.experimental.stateless_shuffle(
            tf.range(count, dtype=tf.int64), tf.random.experimental.stateless_fold_in(base, epoch + 1_000_003)
        )
        items = tf.data.Dataset.from_tensor_slices(order).map(lambda i: (i, epoch))
        return items.map(one, num_parallel_calls=AUTOTUNE).batch(batch)

    dataset = tf.data.Dataset.range(first_epoch, epochs).flat_map(epoch_data)
    return _finish(dataset.map(targets, num_parallel_calls=AUTOTUNE))


def plain_dataset(source: Source, batch: int, prep: Preprocessing | None, targets: Targets | None = None) -> Any:
    """Every image once, in order, without augmentation: validation, evaluate, predict."""
    table = source._tensors()
    labels = tf.constant(source.labels)

    def one(i: Any) -> Any:
        return preprocess(source.pixels(source.raw(table, i)), prep), tf.gather(labels, i)

    dataset = tf.data.Dataset.range(len(source)).map(one, num_parallel_calls=AUTOTUNE).batch(batch)
    if targets is not None:
        dataset = dataset.map(targets, num_parallel_calls=AUTOTUNE)
    return _finish(dataset)


def _finish(dataset: tf.data.Dataset) -> tf.data.Dataset:
    options = tf.data.Options()
    # In-memory data cannot be split by file between workers: each takes its share of every batch.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options).prefetch(AUTOTUNE)
