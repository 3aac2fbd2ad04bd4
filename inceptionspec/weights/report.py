"""What loading weights did: one report for every source (checkpoints and Keras models alike)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: How many names a report prints per list before summarising the rest.
SHOWN = 8


def shown(text: str, limit: int = 120) -> str:
    """A name from a file as it may be printed: control characters escaped, long names cut."""
    safe = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(text))
    return safe if len(safe) <= limit else safe[: limit - 1] + "…"


def listing(names: list[str], limit: int = SHOWN) -> str:
    text = ", ".join(shown(n) for n in names[:limit])
    return text + (f", … ({len(names) - limit} more)" if len(names) > limit else "")


@dataclass(frozen=True)
class Skipped:
    """A layer that kept its initial weights (``--partial``): why, and the tensors it would have taken."""

    layer: str
    reason: str
    keys: tuple[str, ...] = ()


@dataclass
class LoadReport:
    """Loaded ``tensors`` weights (``values`` numbers) into ``layers`` layers from ``source``."""

    source: str
    layers: int
    tensors: int
    values: int
    #: The checkpoint layout used (None for Keras sources).
    layout: str | None = None
    skipped: list[Skipped] = field(default_factory=list)
    #: Checkpoint tensors nothing in the model took (an auxiliary head the spec lacks, unknown names).
    unused: list[str] = field(default_factory=list)
    #: Facts worth knowing: dropped all-ones gammas, ignored batch counters, the expected input.
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        via = f" (layout {self.layout})" if self.layout else ""
        counts = f"{self.layers} layers ({self.tensors} tensors, {self.values:,} values)"
        lines = [f"loaded {counts} from {shown(self.source)}{via}"]
        if self.skipped:
            n = len(self.skipped)
            lines.append(f"skipped {n} layer{'' if n == 1 else 's'} (--partial; initial weights kept):")
            lines += [f"  {shown(s.layer)}: {shown(s.reason, 300)}" for s in self.skipped[:SHOWN]]
            if len(self.skipped) > SHOWN:
                lines.append(f"  … and {len(self.skipped) - SHOWN} more")
        if self.unused:
            lines.append(f"unused checkpoint tensors ({len(self.unused)}): {listing(self.unused)}")
        lines += self.notes
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "layout": self.layout,
            "layers": self.layers,
            "tensors": self.tensors,
            "values": self.values,
            "skipped": [{"layer": s.layer, "reason": s.reason, "keys": list(s.keys)} for s in self.skipped],
            "unused": list(self.unused),
            "notes": list(self.notes),
        }
