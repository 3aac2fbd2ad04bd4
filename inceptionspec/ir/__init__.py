"""Stage 4 — the IR: a framework-free graph of primitive layers, shapes inferred.

Lowering walks the expanded spec once, in order.  Each op becomes one or more
primitive layers (``Op.lower``); each block becomes its branches plus a merge.
Every layer is named by its spec path (``inception_4c.3x3.conv``; backends use
``inception_4c__3x3__conv``, see :mod:`inceptionspec.core.names`) and remembers the
*unit* it came from — the op as written, or a block's merge — and its role there
(``main``, ``bn``, ``act``; ``concat``, ``projection``, ``add``); the graph indexes
units to layers and back. Each layer also carries its top-level block, the source
location that produced it, and its output shape. Shape mistakes are located errors
that name the sizes involved, all of them reported at once. Every backend
(analysis, Keras, diff, render) consumes this graph, never the YAML.
"""

from __future__ import annotations

from inceptionspec.ir.graph import INPUT, Block, Graph, Layer, Output, Unit
from inceptionspec.ir.lower import lower

__all__ = ["INPUT", "Block", "Graph", "Layer", "Output", "Unit", "lower"]
