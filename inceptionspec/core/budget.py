"""The work budget: bounds on what a spec may cause, and the work counted against them.

One :class:`Budget` serves one command (the CLI makes one per spec it reads; the library makes one
per call unless given one). Its fields are the bounds; :meth:`Budget.spend` counts work as it is
done and stops it, with a located :class:`BudgetExceeded` naming the bound, the moment a count
passes its bound. docs/threat-model.md lists every bound (its table is checked against this class).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields

from inceptionspec.core.errors import Diagnostic, Loc, SpecError


class BudgetExceeded(SpecError):
    """A spec asked for more work than a bound of the :class:`Budget` allows (exit 1).

    ``bound`` names the field of :class:`Budget`, e.g. ``"max_name_bytes"``."""

    def __init__(self, loc: Loc, message: str, bound: str, hint: str | None = None) -> None:
        self.bound = bound
        super().__init__([Diagnostic(loc, message, hint)])


#: What each counted bound measures, as its message says it.
_UNITS = {
    "max_name_bytes": "bytes of layer and block names",
    "max_analysis_steps": "analysis steps (a layer and each of its inputs count one)",
    "max_variant_ops": "ops analysed across the variants of the spec",
    "max_diff_layers": "layers in the two specs together",
    "max_diff_work": "steps of aligning the two specs' blocks and layers",
    "max_render_boxes": "boxes to draw",
    "max_picture_pixels": "pixels in the picture",
    "max_picture_texts": "texts in the picture",
}


@dataclass
class Budget:
    """Bounds on the work a spec may cause (docs/threat-model.md lists and explains them).

    Each is checked before or while the thing it bounds is built: bytes before parsing, depth and
    values while parsing, repeats and layers before expansion, names while expanding, parameters
    before Keras; the counted ones (:meth:`spend`) as the work is done."""

    #: Bytes in one spec file (checked before it is read in full).
    max_file_bytes: int = 1 << 20
    #: Nesting of YAML mappings and lists; also the parts of an override path.
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
    #: Bytes of the dotted names of every layer and block (``inception_3a.3x3.conv``), counted while
    #: expanding, before any name is built; the largest shipped network has about 40,000.
    max_name_bytes: int = 4 << 20
    #: Characters compared by "did you mean" suggestions (a word against a candidate costs both their
    #: lengths); when they are spent the remaining errors come without a suggestion (this bound never
    #: fails a command).
    max_suggestions: int = 500_000
    #: Steps of the static analysis: one per layer and one per input of each layer.
    max_analysis_steps: int = 50_000
    #: Ops of every variant one command analyses (`scale`, `sweep`), counted as each variant is lowered: the
    #: ops written and expanded, and merges (a conv with its batch norm and activation is one; the work per
    #: variant follows ops, not primitive layers). 157 variants of Inception-ResNet-v2 (254 ops), 8 of a
    #: 5,000-op spec.
    max_variant_ops: int = 40_000
    #: Layers of the two specs one `diff` compares, together (a source given twice counts once): each
    #: side costs a load, a lowering and an analysis, so two specs at `max_layers` would cost twice
    #: what one command may.
    max_diff_layers: int = 6_000
    #: Steps of aligning two specs in `diff` (names and signatures looked up).
    max_diff_work: int = 1_000_000
    #: Boxes one picture may draw (layers, merges, block frames, inputs and outputs).
    max_render_boxes: int = 20_000
    #: Pixels of a PNG picture (at its 2× scale), or square points of a PDF one, counted before the
    #: SVG is converted: a PNG costs 4 bytes a pixel; Inception-ResNet-v2 drawn with every repeat is
    #: 47 million.
    max_picture_pixels: int = 50_000_000
    #: Texts of a PNG or PDF picture (the converter spends about a millisecond on each);
    #: Inception-ResNet-v2 drawn with every repeat has 435.
    max_picture_texts: int = 1_500
    #: Let `extends` name files outside the directory of the spec that extends them.
    allow_outside_extends: bool = False
    extra: dict[str, object] = field(default_factory=dict)
    #: Work counted so far, by bound name (the state of this budget; a fresh Budget has spent nothing).
    spent: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def spend(self, bound: str, amount: int, loc: Loc, hint: str | None = None) -> None:
        """Count ``amount`` units of work against ``bound`` (a field name such as
        ``"max_name_bytes"``); BudgetExceeded at ``loc`` once the total passes it."""
        total = self.spent.get(bound, 0) + amount
        self.spent[bound] = total
        limit = getattr(self, bound)
        if total > limit:
            unit = _UNITS.get(bound, "units of work")
            raise BudgetExceeded(
                loc,
                f"more than {limit:,} {unit} (the `{bound}` budget)",
                bound,
                hint or "the spec asks for more work than inceptionspec does for one command",
            )

    def allow(self, bound: str, amount: int) -> bool:
        """Count ``amount`` against ``bound`` if it fits, and say whether it did (for work that is
        skipped, not refused, when its budget is spent: suggestions)."""
        total = self.spent.get(bound, 0) + amount
        if total > getattr(self, bound):
            return False
        self.spent[bound] = total
        return True

    def fresh(self) -> Budget:
        """The same bounds with nothing spent (for one more network from the same spec)."""
        return dataclasses.replace(self, spent={})

    def left(self, bound: str) -> int:
        """What is left of ``bound``."""
        return max(0, getattr(self, bound) - self.spent.get(bound, 0))

    @classmethod
    def bounds(cls) -> list[str]:
        """The names of the numeric bounds, in the order documented."""
        return [f.name for f in fields(cls) if f.name.startswith("max_")]
