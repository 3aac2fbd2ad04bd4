"""Devices and machines: which ``tf.distribute`` strategy a run uses, and which worker this is.

``multi-worker`` is ``tf.distribute.MultiWorkerMirroredStrategy``, configured by ``TF_CONFIG``
as TensorFlow clusters (and Kubernetes' TF operators) set it on every worker:
``{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}``.
The chief (worker 0, or the task of type ``chief``) writes the run directory; the others keep
their own checkpoint in ``RUN_DIR/worker-N`` so each can resume.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import tensorflow as tf

from inceptionspec.core.errors import UsageError

STRATEGIES = ("auto", "one", "mirrored", "multi-worker")


@dataclass
class Cluster:
    """This process's place in a cluster: the single process of a one-machine run is the chief."""

    workers: int = 1
    task_type: str = "worker"
    task_index: int = 0
    has_chief: bool = False

    @property
    def chief(self) -> bool:
        return self.task_type == "chief" or (self.task_type == "worker" and self.task_index == 0 and not self.has_chief)

    @property
    def name(self) -> str:
        return f"{self.task_type}-{self.task_index}"


def cluster_from_env() -> Cluster:
    """The cluster ``TF_CONFIG`` describes (one worker when it is unset)."""
    text = os.environ.get("TF_CONFIG", "").strip()
    if not text:
        return Cluster()
    try:
        config = json.loads(text)
        cluster = config.get("cluster", {})
        task = config.get("task", {})
        workers = sum(len(cluster.get(kind, [])) for kind in ("chief", "worker"))
        return Cluster(workers, str(task.get("type", "worker")), int(task.get("index", 0)), bool(cluster.get("chief")))
    except (ValueError, AttributeError, TypeError) as exc:
        raise UsageError(f"TF_CONFIG is not a TensorFlow cluster description ({exc})") from None


def make_strategy(name: str, cluster: Cluster) -> tuple[tf.distribute.Strategy, str]:
    """The strategy ``--strategy NAME`` asks for, and the name of the one chosen. Must run before
    any other TensorFlow op: the multi-worker strategy configures the runtime's collectives."""
    if name == "auto":
        if cluster.workers > 1:
            name = "multi-worker"
        else:
            name = "mirrored" if len(tf.config.list_physical_devices("GPU")) > 1 else "one"
    if name == "multi-worker":
        if cluster.workers < 1 or not os.environ.get("TF_CONFIG"):
            raise UsageError(
                "--strategy multi-worker needs TF_CONFIG describing the cluster (see docs/tutorials/training.md)"
            )
        return tf.distribute.MultiWorkerMirroredStrategy(), name
    if name == "mirrored":
        return tf.distribute.MirroredStrategy(), name
    return tf.distribute.get_strategy(), name


def every_value(strategy: tf.distribute.Strategy, value: int) -> list[int]:
    """``value`` as every replica of every worker has it (one collective)."""
    if strategy.num_replicas_in_sync == 1:
        return [value]

    def local() -> Any:
        return tf.constant([value], tf.int64)

    return [int(v) for v in strategy.gather(strategy.run(local), axis=0).numpy()]


def split_batches(strategy: tf.distribute.Strategy, batches: tf.data.Dataset) -> Any:
    """``batches`` spread over the replicas of every worker: replica p of P takes rows
    [p·n/P, (p+1)·n/P) of each batch of n, so one step of P replicas sees exactly the batch one
    process would (TensorFlow's own sharding of in-memory data is left out of the question)."""
    replicas = strategy.num_replicas_in_sync

    def per_worker(context: tf.distribute.InputContext) -> tf.data.Dataset:
        local = replicas // context.num_input_pipelines
        first = context.input_pipeline_id * local

        def piece(p: Any, x: Any, y: Any) -> Any:
            size, p = tf.shape(x, out_type=tf.int64)[0], tf.cast(p, tf.int64)
            begin, end = (size * p) // replicas, (size * (p + 1)) // replicas
            return tf.nest.map_structure(lambda t: t[begin:end], (x, y))

        def pieces(x: Any, y: Any) -> tf.data.Dataset:
            return tf.data.Dataset.range(first, first + local).map(lambda p: piece(p, x, y))

        return batches.flat_map(pieces).prefetch(tf.data.AUTOTUNE)

    return strategy.distribute_datasets_from_function(per_worker)
