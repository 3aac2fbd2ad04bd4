"""Comparing one model's outputs across backends and artifacts, the same way everywhere.

The export check, the cross-backend tests and the benchmarks use these: one measure of
disagreement, one way to give batch normalisation statistics that make outputs mean something,
and one digest of a model's weights.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np

#: Probabilities below this are compared at this value (log 0 is -inf in every runtime).
TINY = 1e-30


def as_outputs(value: Any, names: list[str] | None = None) -> dict[str, np.ndarray]:
    """A model's outputs as ``{head: float64 array}`` (a single output is called ``output``)."""
    if isinstance(value, Mapping):
        return {str(k): np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float64) for k, v in value.items()}
    if isinstance(value, list | tuple):
        names = names or [f"output_{i}" for i in range(len(value))]
        return {
            n: np.asarray(keras.ops.convert_to_numpy(v), dtype=np.float64) for n, v in zip(names, value, strict=True)
        }
    return {(names or ["output"])[0]: np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64)}


def _is_probability(values: np.ndarray) -> bool:
    return bool(values.ndim >= 1 and np.all(values >= 0) and np.allclose(values.sum(axis=-1), 1.0, atol=1e-3))


def relative_error(reference: np.ndarray, other: np.ndarray) -> float:
    """How far ``other`` is from ``reference``, relative to the reference's size.

    Probabilities (non-negative rows summing to one: every softmax head) are compared as
    log-probabilities, the quantity a loss or a top-k reads: max |log p − log q| / max |log p|.
    Any other output: max |a − b| / max |a|."""
    a, b = np.asarray(reference, dtype=np.float64), np.asarray(other, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    if _is_probability(a):
        a, b = np.log(np.maximum(a, TINY)), np.log(np.maximum(b, TINY))
    scale = float(np.max(np.abs(a))) if a.size else 0.0
    return float(np.max(np.abs(a - b)) / scale) if scale > 0 else float(np.max(np.abs(b), initial=0.0))


def worst_relative_error(reference: Mapping[str, np.ndarray], other: Mapping[str, np.ndarray]) -> dict[str, float]:
    """:func:`relative_error` per head; the heads must match."""
    if set(reference) != set(other):
        raise ValueError(f"outputs differ: {sorted(reference)} and {sorted(other)}")
    return {name: relative_error(reference[name], other[name]) for name in reference}


def randomize_batch_norm(model: keras.Model, seed: int = 0) -> int:
    """Give every batch normalisation layer random, plausible statistics and affine terms.

    Fresh statistics (mean 0, variance 1) make BN an identity and deep nets' outputs nearly
    uniform, so any comparison is blind; these are drawn by NumPy (the same on every backend).
    Returns the number of layers changed."""
    rng = np.random.default_rng(seed)
    changed = 0
    for layer in model.layers:
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        for variable in layer.weights:
            shape = tuple(variable.shape)
            name = variable.path.rsplit("/", 1)[-1]
            if name == "moving_variance":
                value = rng.uniform(0.5, 2.0, shape)
            elif name == "gamma":
                value = rng.uniform(0.5, 1.5, shape)
            else:  # moving_mean, beta
                value = rng.normal(0.0, 0.2, shape)
            variable.assign(value.astype(np.float32))
        changed += 1
    return changed


def weights_digest(model: keras.Model) -> str:
    """SHA-256 over every weight's path-free position, shape, dtype and bytes: equal digests mean
    bit-identical weights in the same order."""
    digest = hashlib.sha256()
    for i, variable in enumerate(model.weights):
        value = np.ascontiguousarray(keras.ops.convert_to_numpy(variable))
        digest.update(f"{i}:{value.shape}:{value.dtype}:".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()
