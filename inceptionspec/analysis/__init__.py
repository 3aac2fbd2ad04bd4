"""Stage 5 — analyse: parameters, multiply-adds, activations, receptive fields; and their tables."""

from __future__ import annotations

from inceptionspec.analysis.stats import Analysis, BlockStats, LayerStats, analyze, analyze_graph

__all__ = ["Analysis", "BlockStats", "LayerStats", "analyze", "analyze_graph"]
