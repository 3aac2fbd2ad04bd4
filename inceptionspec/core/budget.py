"""The work budget: bounds on what a spec may cause (docs/threat-model.md)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Budget:
    """Bounds on the work a spec may cause (docs/threat-model.md lists and explains them).

    Each is checked before the thing it bounds is built: bytes before parsing, depth and
    values while parsing, repeats and layers before expansion, parameters before Keras."""

    #: Bytes in one spec file (checked before it is read in full).
    max_file_bytes: int = 1 << 20
    #: Nesting of YAML mappings and lists.
    max_depth: int = 64
    #: YAML values (scalars, mappings, lists, keys included) in one file; the largest shipped spec has 680.
    max_nodes: int = 50_000
    #: `repeat` of one block.
    max_repeat: int = 1000
    #: Layers of the network: ops after expansion, and primitive layers of the IR; the largest shipped network
    #: (Inception-ResNet-v2) has 781.
    max_layers: int = 5_000
    #: Blocks inside blocks once templates are expanded (a template calling a template counts one more level).
    max_block_depth: int = 32
    #: Files in one `extends` chain.
    max_extends_depth: int = 16
    #: Parameters (weights) of the model, counted from the shapes before any framework is imported.
    max_params: int = 2_000_000_000
    #: Let `extends` name files outside the directory of the spec that extends them.
    allow_outside_extends: bool = False
    extra: dict[str, object] = field(default_factory=dict)
