"""``--weights-from`` sources, told apart and checked before a framework is imported.

Every command that takes weights (``build``, ``train``, ``export``) reads its source here first:
a PyTorch checkpoint is opened and planned against the spec's IR (:func:`plan_checkpoint`), so
a wrong file, a wrong layout or a wrong shape is reported before TensorFlow loads; a Keras source
is recognised and its file checked. ``inceptionspec.keras.weights_sources.load_into`` then fills
the built model from the prepared source.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inceptionspec.core.errors import UsageError
from inceptionspec.ir import Graph
from inceptionspec.weights.checkpoint import READERS, is_checkpoint_path, open_checkpoint
from inceptionspec.weights.plan import LoadPlan, plan_checkpoint

KERAS_APPLICATION = "keras_application"
KERAS_MODEL = "keras_model"
KERAS_WEIGHTS = "keras_weights"
CHECKPOINT = "checkpoint"

ACCEPTED = (
    "keras:InceptionV3 / keras:InceptionResNetV2 (ImageNet weights; keras:NAME@none for random ones), "
    f"a .keras model, a .weights.h5 file, or a PyTorch checkpoint ({', '.join(READERS)})"
)


@dataclass(frozen=True)
class WeightsSource:
    """A ``--weights-from`` value, told apart (and, for a checkpoint, planned against the spec)."""

    text: str
    kind: str
    plan: LoadPlan | None = None


def source_kind(text: str) -> str:
    if text.startswith("keras:"):
        return KERAS_APPLICATION
    if text.endswith(".weights.h5"):
        return KERAS_WEIGHTS
    if is_checkpoint_path(text):
        return CHECKPOINT
    if Path(text).suffix.lower() in (".keras", ".h5"):
        return KERAS_MODEL
    raise UsageError(f"--weights-from {text}: not a weights source; expected {ACCEPTED}")


def prepare_source(text: str, graph: Graph, layout: str | None = None, partial: bool = False) -> WeightsSource:
    """Tell the source apart; open and plan a checkpoint (raises CheckpointError / CheckpointFileError)."""
    kind = source_kind(text)
    if kind == CHECKPOINT:
        return WeightsSource(text, kind, plan_checkpoint(graph, open_checkpoint(text), layout, partial))
    if layout is not None:
        raise UsageError(f"--weights-layout applies to PyTorch checkpoints ({', '.join(READERS)}), not to {text}")
    if kind != KERAS_APPLICATION and not Path(text).is_file():
        raise UsageError(f"--weights-from {text}: no such file")
    return WeightsSource(text, kind)
