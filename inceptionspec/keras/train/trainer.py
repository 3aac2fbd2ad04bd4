"""`inceptionspec train`: a spec, checked data and settings in; a run directory out.

The order matters: the strategy first (a multi-worker strategy must configure TensorFlow before
any op runs), then the data decoded once (bad files found before the first step), the model
built and compiled in the strategy's scope, restored from the last completed epoch when the
run is continued, and ``fit`` with the callbacks that make the run directory.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from inceptionspec.core.errors import SpecError, UsageError
from inceptionspec.data.arrays import Arrays
from inceptionspec.data.errors import DataBudget, shown
from inceptionspec.data.folders import ImageFolder
from inceptionspec.keras.build import build_model
from inceptionspec.keras.inference import inference_model, training_only_heads
from inceptionspec.keras.train import pipeline
from inceptionspec.keras.train.callbacks import EpochSeeds, Recorder, save_keras
from inceptionspec.keras.train.distribute import Cluster, every_value, make_strategy, split_batches
from inceptionspec.keras.train.run import STATE, State, choose, fingerprint, write_atomic
from inceptionspec.keras.train.schedules import learning_rate
from inceptionspec.keras.training import compile_for_training
from inceptionspec.keras.weights_sources import load_into
from inceptionspec.lang.models import Spec, Training
from inceptionspec.lang.pipeline import dump


@dataclass
class Request:
    """What `inceptionspec train` was asked to do, with its data already scanned and checked."""

    spec: Spec
    data: ImageFolder | Arrays
    val: ImageFolder | Arrays | None = None
    val_split: float = 0.1
    epochs: int | None = None
    batch_size: int | None = None
    seed: int = 0
    deterministic: bool = False
    strategy: str = "auto"
    out: Path | None = None
    weights_from: str | None = None
    #: The checkpoint layout of ``weights_from`` (None: recognised from its tensor names).
    weights_layout: str | None = None
    #: Load what fits from ``weights_from``; layers of other shapes keep their initial weights.
    partial: bool = False
    skip_bad: bool = False
    quiet: bool = False
    cluster: Cluster = field(default_factory=Cluster)
    budget: DataBudget = field(default_factory=DataBudget)

    @property
    def training(self) -> Training:
        return self.spec.training or Training()

    def settings(self) -> dict[str, Any]:
        """What makes a second invocation the same run (and so continue it)."""

        def where(data: ImageFolder | Arrays | None) -> str | None:
            return (
                None if data is None else str(Path(data.root if isinstance(data, ImageFolder) else data.path).resolve())
            )

        recorded: dict[str, Any] = {
            "spec": dump(self.spec),
            "data": where(self.data),
            "val": where(self.val),
            "val_split": None if self.val is not None else self.val_split,
            "epochs": self.epochs or self.training.epochs,
            "batch_size": self.batch_size or self.training.batch_size,
            "seed": self.seed,
            "deterministic": self.deterministic,
            "weights_from": self.weights_from,
            "skip_bad_images": self.skip_bad,
        }
        if self.weights_layout:
            recorded["weights_layout"] = self.weights_layout
        if self.partial:
            recorded["partial"] = True
        return recorded


def _source(data: ImageFolder | Arrays, request: Request, say: Callable[[str], None]) -> pipeline.Source:
    shape = tuple(request.spec.input)
    if isinstance(data, Arrays):
        return pipeline.load_arrays(data.x, data.y, shape)  # type: ignore[arg-type]
    return pipeline.load_folder(data, shape, request.budget, request.skip_bad, say)  # type: ignore[arg-type]


def train(request: Request, say: Callable[[str], None]) -> dict[str, Any]:
    """Run (or continue) the training run; returns what ``metrics.json`` holds."""
    spec, cluster = request.spec, request.cluster
    if os.environ.get("INCEPTIONSPEC_TRACEBACK"):
        keras.config.disable_traceback_filtering()  # the whole trace, for a bug report
    strategy, strategy_name = make_strategy(request.strategy, cluster)
    if request.deterministic:
        keras.utils.set_random_seed(request.seed)
        tf.config.experimental.enable_op_determinism()
    epochs = request.epochs or request.training.epochs
    batch = request.batch_size or request.training.batch_size
    problem = pipeline.check_preprocessing(spec.preprocessing, spec.input[2])
    if problem:
        raise SpecError.at(spec.preprocessing.loc or spec.loc, problem)  # type: ignore[union-attr,arg-type]

    # The run directory: the chief's is RUN_DIR; another worker keeps its checkpoint inside it.
    print_ = say if cluster.chief and not request.quiet else (lambda text: None)
    fp = fingerprint(request.settings())
    if cluster.workers > 1 and request.out is None:
        raise UsageError("with several workers, give every worker the same --out RUN_DIR")
    if cluster.chief:
        run, _ = choose(request.out, spec.name, fp)
        root = run
    else:
        run = request.out  # type: ignore[assignment]
        root = run / cluster.name
        root.mkdir(parents=True, exist_ok=True)
    state = State.read(root)
    if state is not None and (state.fingerprint != fp or state.finished):
        raise UsageError(f"{shown(root)}: holds a {'finished run' if state.finished else 'run with other settings'}")
    state = state or State(fp, request.seed)
    done = every_value(strategy, state.epoch)
    if len(set(done)) > 1:
        raise UsageError(
            f"the workers' run directories stop at different epochs ({', '.join(map(str, done))}): "
            "each worker continues from its own RUN_DIR, which must survive the restart"
        )
    print_(
        f"{'continuing' if state.epoch else 'starting'} {shown(run)} with {strategy_name} "
        f"({strategy.num_replicas_in_sync} replica{'s' if strategy.num_replicas_in_sync > 1 else ''})"
    )

    # Data: decoded once, bad files found before the first step.
    source = _source(request.data, request, print_)
    if request.val is not None:
        val_source: pipeline.Source | None = _source(request.val, request, print_)
    elif request.val_split > 0:
        source, val_source = pipeline.split(source, request.val_split, request.seed)
    else:
        val_source = None
    classes = request.data.classes
    if cluster.chief:
        write_atomic(run / "classes.json", json.dumps(classes, indent=1, ensure_ascii=False))
        write_atomic(run / "spec.yaml", dump(spec))
    steps = math.ceil(len(source) / batch)

    with strategy.scope():
        model = build_model(spec, include_aux=True, seed=request.seed)
        transfer = None
        if request.weights_from and not state.epoch:  # every source, as `build --weights-from`
            transfer = str(
                load_into(model, request.weights_from, spec, partial=request.partial, layout=request.weights_layout)
            )
        compile_for_training(model, spec, steps_per_epoch=steps, epochs=epochs)
        if state.weights:
            model.optimizer.build(model.trainable_variables)
            model.load_weights(root / STATE.parent / state.weights)
    if transfer:
        print_(transfer)
    training = request.training
    rate = learning_rate(training.schedule, training.optimizer.learning_rate, steps, epochs)
    heads = list(model.output)
    main = next(h for h in heads if h not in training_only_heads(model))
    targets = pipeline.Targets(heads, spec.classes, request.training.loss == "categorical_crossentropy")
    prep, aug = spec.preprocessing, request.training.augmentation
    train_data = pipeline.training_dataset(source, batch, request.seed, state.epoch, epochs, prep, aug, targets)
    val_data = pipeline.plain_dataset(val_source, batch, prep, targets) if val_source is not None else None

    if strategy_name == "multi-worker":
        with strategy.scope():
            _multi_worker_fit(model, strategy, next(iter(train_data)))
        train_data = split_batches(strategy, train_data)
        val_data = split_batches(strategy, val_data) if val_data is not None else None

    recorder = Recorder(root, state, main, rate, len(source), spec.name, write_outputs=cluster.chief)
    callbacks: list[keras.callbacks.Callback] = [EpochSeeds(request.seed), recorder]
    if cluster.chief and importlib.util.find_spec("tensorboard") is not None:
        callbacks.append(
            keras.callbacks.TensorBoard(
                str(run / "tensorboard"), update_freq="epoch", write_graph=False, profile_batch=0
            )
        )
    elif cluster.chief:
        print_("no TensorBoard logs: `pip install tensorboard` for them")
    recorder.publish()  # a continued run's history.csv holds exactly the committed epochs
    if state.epoch < epochs:
        model.fit(
            train_data,
            epochs=epochs,
            initial_epoch=state.epoch,
            steps_per_epoch=steps,
            shuffle=False,  # the data set shuffles itself, by (seed, epoch)
            validation_data=val_data,
            validation_steps=math.ceil(len(val_source) / batch) if val_source is not None else None,
            callbacks=callbacks,
            # the bar on a terminal; one line per epoch in a log file
            verbose=(1 if sys.stdout.isatty() else 2) if cluster.chief and not request.quiet else 0,
        )
    return finish(model, run, root, state, request, strategy_name, len(source), len(val_source or []), classes)


def _multi_worker_fit(model: keras.Model, strategy: tf.distribute.Strategy, batch: Any) -> None:
    """Make ``fit`` work under MultiWorkerMirroredStrategy, which Keras 3 (3.15 still) breaks in two
    places (keras-team/keras#20585): before the first step it reduces a whole nested batch with
    ``strategy.reduce``, and after each step it reduces the scalar logs along an axis they do not
    have. So: build the model's metrics, losses and optimizer from one local batch and skip that
    first reduction, and give ``fit`` step functions that average the logs over the replicas."""
    model._symbolic_build(data_batch=batch)  # noqa: SLF001
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None  # noqa: SLF001

    def steps(step: Callable[[Any], Any]) -> Callable[[Any], Any]:
        @tf.function(reduce_retracing=True)
        def one(data: Any) -> Any:
            logs = strategy.run(step, args=(data,))
            return tf.nest.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), logs)

        def function(iterator: Any) -> Any:
            data = iterator.get_next_as_optional()  # every worker agrees when the data ends
            if not data.has_value():
                raise StopIteration
            return one(data.get_value())

        return function

    model.train_function = steps(model.train_step)
    model.test_function = steps(model.test_step)


def finish(
    model: keras.Model,
    run: Path,
    root: Path,
    state: State,
    request: Request,
    strategy: str,
    train_images: int,
    val_images: int,
    classes: list[str],
) -> dict[str, Any]:
    """model.keras (inference heads only), metrics.json; the checkpoint's weights removed."""
    rows = state.rows
    warm = [r for r in rows if r.get("warm")] or rows
    seconds = sum(r["train_seconds"] for r in warm)
    final = rows[-1] if rows else {}
    best = next((r for r in rows if state.best and r["epoch"] == state.best["epoch"]), final)
    pick = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy")
    metrics = {
        "run": str(run),
        "final": {k: final.get(k) for k in pick},
        "best": {k: best.get(k) for k in pick},
        "epochs": len(rows),
        "images_per_second": round(sum(r["images"] for r in warm) / seconds, 2) if seconds else None,
        "wall_time_seconds": round(state.wall_seconds, 2),
        "train_images": train_images,
        "val_images": val_images,
        "skipped_images": [str(p.path) for p in getattr(request.data, "skipped", [])],
        "classes": len(classes),
        "strategy": strategy,
        "replicas": model.distribute_strategy.num_replicas_in_sync,
    }
    if request.cluster.chief:
        save_keras(inference_model(model), run / "model.keras")
        write_atomic(run / "metrics.json", json.dumps(metrics, indent=1))
    state.finished = True
    state.write(root)
    if state.weights:
        (root / STATE.parent / state.weights).unlink(missing_ok=True)
    if not request.cluster.chief:
        shutil.rmtree(root, ignore_errors=True)
    return metrics
