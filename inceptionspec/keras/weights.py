"""Weight transfer between models of the same structure, and weight sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from inceptionspec.core.names import spec_path
from inceptionspec.keras.init import to_backend
from inceptionspec.keras.layers import CUSTOM_OBJECTS

# --- weight transfer ------------------------------------------------------------------


@dataclass
class TransferReport:
    """What :func:`transfer_weights` did. ``pairs`` and ``skipped`` hold Keras layer names (for a
    model built here, backend names such as ``aux1__fc``); the text shows them as spec paths."""

    pairs: list[tuple[str, str]]
    skipped: list[str]
    tensors: int
    values: int
    #: With ``partial``: (destination layer, why) for pairs whose weight shapes differ.
    mismatched: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"transferred {len(self.pairs)} layers ({self.tensors} tensors, {self.values:,} values)"
        if self.mismatched:
            text += f"; {len(self.mismatched)} layers differ in shape and kept their initial weights: "
            text += ", ".join(name for name, _ in self.mismatched[:5]) + (" …" if len(self.mismatched) > 5 else "")
        if self.skipped:
            text += f"; {len(self.skipped)} layers of the destination kept their initial weights: "
            text += ", ".join(spec_path(name) for name in self.skipped[:5]) + (" …" if len(self.skipped) > 5 else "")
        return text


class TransferError(ValueError):
    """The two models' structures differ; names the first differing layer."""


def _structural_order(model: keras.Model) -> list[keras.layers.Layer]:
    """Layers with weights, in a canonical order: depth-first from the first output,
    visiting each merge's inputs in order.  Two models with the same structure
    give the same sequence whatever their layer names or creation order."""
    order: list[keras.layers.Layer] = []
    seen: set[int] = set()
    # Heads in the spec's order (main first): Keras sorts `model.outputs` of a dict by key.
    outputs = list(model.output.values()) if isinstance(model.output, dict) else list(model.outputs)
    stack: list[tuple[Any, bool]] = [(t._keras_history.operation, False) for t in reversed(outputs)]
    while stack:
        op, expanded = stack.pop()
        if id(op) in seen and not expanded:
            continue
        if expanded:
            if op.weights:
                order.append(op)
            continue
        seen.add(id(op))
        stack.append((op, True))
        nodes = getattr(op, "_inbound_nodes", [])
        if nodes:
            parents = [t._keras_history.operation for t in nodes[0].input_tensors]
            for parent in reversed(parents):
                if id(parent) not in seen:
                    stack.append((parent, False))
    return order


def transfer_weights(src: keras.Model, dst: keras.Model, partial: bool = False) -> TransferReport:
    """Copy weights from ``src`` into ``dst``, pairing layers by graph structure.

    Layers are paired in the canonical structural order of both models (from
    their first output).  Refuses, before changing anything, if a pair differs
    in layer kind or weight shapes, naming the first difference; with
    ``partial``, such pairs are skipped and listed (a 10-class classifier on a
    1000-class source) and extra source layers are ignored.  Destination
    layers beyond the source's (auxiliary heads) keep their weights."""
    a, b = _structural_order(src), _structural_order(dst)
    pairs = []
    mismatched = []
    for i, (s, d) in enumerate(zip(a, b, strict=False)):
        s_shapes = [tuple(w.shape) for w in s.weights]
        d_shapes = [tuple(w.shape) for w in d.weights]
        if s_shapes != d_shapes:
            if partial:
                mismatched.append((d.name, f"the source's `{s.name}` has weights {s_shapes}, this layer {d_shapes}"))
                continue
            raise TransferError(
                f"layer {i + 1} differs: {type(s).__name__} `{spec_path(s.name)}` has weights {s_shapes}, "
                f"{type(d).__name__} `{spec_path(d.name)}` has {d_shapes}"
            )
        pairs.append((s, d))
    if len(a) > len(b) and not partial:
        raise TransferError(
            f"the source has {len(a)} layers with weights, the destination only {len(b)}; "
            f"first without a partner: `{spec_path(a[len(b)].name)}`"
        )
    tensors = values = 0
    for s, d in pairs:
        for sw, dw in zip(s.weights, d.weights, strict=True):
            # A copy, not the source's buffer: JAX donates a model's buffers to its compiled predict step,
            # which would delete them under the other model.
            dw.assign(to_backend(keras.ops.convert_to_numpy(sw)))
            tensors += 1
            values += int(np.prod(sw.shape))
    skipped = [layer.name for layer in b[len(a) :]]
    return TransferReport([(s.name, d.name) for s, d in pairs], skipped, tensors, values, mismatched)


def load_weights_source(source: str) -> keras.Model:
    """A model to take weights from: ``keras:InceptionV3`` (ImageNet weights), or a file."""
    if source.startswith("keras:"):
        name, _, weights = source[len("keras:") :].partition("@")
        factory = getattr(keras.applications, name, None) if name.isidentifier() else None
        if factory is None or name not in KERAS_APPLICATIONS:
            raise ValueError(f"unknown keras.applications model `{name}`; known: {', '.join(KERAS_APPLICATIONS)}")
        try:
            return factory(weights=None if weights == "none" else "imagenet")
        except Exception as exc:  # download failures surface as many exception types
            raise ValueError(
                f"could not fetch ImageNet weights for {name} ({exc.__class__.__name__}: {exc}); "
                f"use `keras:{name}@none` for random weights, or a local .keras / .weights.h5 file"
            ) from None
    return keras.saving.load_model(source, safe_mode=True, custom_objects=CUSTOM_OBJECTS)


KERAS_APPLICATIONS = ("InceptionV3", "InceptionResNetV2")
