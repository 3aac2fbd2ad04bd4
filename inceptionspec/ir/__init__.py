"""Stage 4 — the IR: a framework-free graph of primitive layers, shapes inferred.

Lowering walks the expanded spec once, in order.  Each op becomes one or more
primitive layers (``Op.lower``); each block becomes its branches plus a merge.
Every layer gets a unique, stable, dotted name (``inception_4c.3x3.conv``,
valid as a Keras layer name), the top-level block it belongs to, the source
location that produced it, and its output shape.  Shape mistakes are located
errors that name the sizes involved.  Every backend (analysis, Keras, diff,
render) consumes this graph, never the YAML.
"""

from __future__ import annotations

from inceptionspec.ir.graph import INPUT, Block, Graph, Layer, Output
from inceptionspec.ir.lower import lower

__all__ = ["INPUT", "Block", "Graph", "Layer", "Output", "lower"]
