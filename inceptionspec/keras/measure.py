"""Measure a spec's inference speed on this machine: latency at batch 1, throughput at batch 8.

Multiply-adds are not latency: memory traffic, layer count and the kernels a framework picks
matter as much. ``sweep --measure`` builds each variant (the inference model, training-only heads
left out) and times ``predict_on_batch`` — the compiled predict step, not the Python loop around
it — on zeros: a few warm-up calls (tracing and first-call allocation) are not counted, then the
median of ``runs`` timed calls is reported.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import keras
import numpy as np

from inceptionspec.analysis import analyze_graph
from inceptionspec.ir import lower
from inceptionspec.keras.build import compile_graph
from inceptionspec.lang.models import Spec

#: Calls before timing starts.
WARMUP = 2
#: The batch sizes measured.
LATENCY_BATCH, THROUGHPUT_BATCH = 1, 8


@dataclass(frozen=True)
class Speed:
    """Median latency of one image (ms) and median throughput at batch 8 (images per second)."""

    latency_ms: float
    throughput: float


def _median_seconds(model: keras.Model, batch: np.ndarray, runs: int) -> float:
    for _ in range(WARMUP):
        model.predict_on_batch(batch)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        model.predict_on_batch(batch)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(spec: Spec, runs: int = 5) -> Speed:
    """Build the spec's inference model and time it (``runs`` timed calls per batch size)."""
    graph = lower(spec, include_aux=False)
    model = compile_graph(graph, seed=0, analysis=analyze_graph(graph))
    shape = tuple(graph.input_shape)
    try:
        one = _median_seconds(model, np.zeros((LATENCY_BATCH, *shape), dtype="float32"), runs)
        eight = _median_seconds(model, np.zeros((THROUGHPUT_BATCH, *shape), dtype="float32"), runs)
    finally:
        del model
        keras.backend.clear_session()
    return Speed(latency_ms=one * 1e3, throughput=THROUGHPUT_BATCH / eight)
