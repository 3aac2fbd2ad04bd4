"""Checkpoint layouts: how one library's tensor names map onto a spec's layers (data, one file each).

A layout (``inceptionspec/weights/layouts/NAME.yaml``) lists the checkpoint's *modules* (name
prefixes such as ``features.6.branch1.0``) and the spec *unit* each one fills (the written op's
spec path, ``inception_a_1.branch_1.conv``, or a block's merge, ``block35_1.merge``), with the
module's PyTorch type. The type says which tensor fills which weight of which of the unit's layers,
by the layer's role in the IR (:data:`MODULE_TYPES`): ``conv.weight`` the ``main`` layer's kernel,
``bn.running_var`` the ``bn`` layer's moving variance. Repeated blocks are written once, as a *group* of modules
applied under each of ``features.{i}`` for i in a range. A new checkpoint layout is a new file;
no code changes.

A layout is recognised from a checkpoint's tensor names (:func:`recognise`), or named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from inceptionspec.ir.graph import PROJECTION

LAYOUTS_DIR = Path(__file__).parent / "layouts"

#: Which layer of a unit a tensor fills, by its role in the IR (:class:`inceptionspec.ir.Unit`): an op's
#: conv, dense or batch norm (``main``) or the batch norm after its conv (``bn``); a residual merge's
#: 1×1 ``projection``.
MAIN, BN = "main", "bn"

#: PyTorch module types: tensor name (after the module's prefix) → (part, Keras weight), or None for
#: a tensor with no Keras counterpart (the batch counter). A new module type is one entry.
MODULE_TYPES: dict[str, dict[str, tuple[str, str] | None]] = {
    # BasicConv2d / ConvNormAct: Conv2d (bias optional) → BatchNorm2d
    "conv_bn": {
        "conv.weight": (MAIN, "kernel"),
        "conv.bias": (MAIN, "bias"),
        "bn.weight": (BN, "gamma"),
        "bn.bias": (BN, "beta"),
        "bn.running_mean": (BN, "moving_mean"),
        "bn.running_var": (BN, "moving_variance"),
        "bn.num_batches_tracked": None,
    },
    "conv": {"weight": (MAIN, "kernel"), "bias": (MAIN, "bias")},
    "linear": {"weight": (MAIN, "kernel"), "bias": (MAIN, "bias")},
    # A BatchNorm2d of its own fills a written `bn` op, whose main layer is the batch norm.
    "bn": {
        "weight": (MAIN, "gamma"),
        "bias": (MAIN, "beta"),
        "running_mean": (MAIN, "moving_mean"),
        "running_var": (MAIN, "moving_variance"),
        "num_batches_tracked": None,
    },
    # The Conv2d of a residual block after its concat (timm's Block35 `conv2d`): the merge's projection.
    "projection": {"weight": (PROJECTION, "kernel"), "bias": (PROJECTION, "bias")},
}

#: The share of a checkpoint's tensor names a layout must explain to be recognised.
MIN_COVERAGE = 0.9

#: `features.{6..9}` in a module name: one module per index, 6 to 9; `{i-5}` in its spec path.
_RANGE = re.compile(r"\{(\d+)\.\.(\d+)\}")
_INDEX = re.compile(r"\{i([+-]\d+)?\}")


class LayoutError(ValueError):
    """A layout file is inconsistent (a bug in the package's data, caught by the tests)."""


class ModuleEntry(BaseModel):
    """One checkpoint module (or a range of them, or a group under each) → a spec path."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: str = Field(description="The spec path it fills; `{i}`, `{i+1}`, `{i-5}` take the module's index.")
    type: str = Field("conv_bn", description="The PyTorch module type (MODULE_TYPES).")
    group: str | None = Field(None, description="A group of modules under this one (the `groups` key).")

    @model_validator(mode="before")
    @classmethod
    def _short(cls, data: Any) -> Any:
        return {"to": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _known_type(self) -> ModuleEntry:
        if self.type not in MODULE_TYPES:
            raise ValueError(f"unknown module type `{self.type}` (known: {', '.join(MODULE_TYPES)})")
        return self


@dataclass(frozen=True)
class Target:
    """What one checkpoint tensor fills: a unit (spec path), its part, the Keras weight (None: ignored)."""

    unit: str
    part: str
    role: str | None
    module: str


class Preprocessing(BaseModel):
    """The input the published weights expect, on 0–255 pixels: (x − mean) / std per channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: str = "rgb"
    mean: float | tuple[float, float, float]
    std: float | tuple[float, float, float]


class Layout(BaseModel):
    """A checkpoint layout: provenance, conventions and the module → spec path table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    extends: str | None = Field(None, description="A layout whose tables this one shares (same tensor names).")
    spec: str = Field(description="The shipped spec this layout was written for.")
    library: str
    model: str = Field(description="The constructor of the model whose state dict this is.")
    checkpoints: list[str] = Field(default_factory=list, description="Published weights with this layout.")
    bn_epsilon: float | None = Field(None, description="The model's BatchNorm2d epsilon (not stored in files).")
    input: str = Field("", description="The input the published weights expect, in words (for the report).")
    preprocessing: Preprocessing | None = Field(None, description="The same, as numbers.")
    notes: str = ""
    modules: dict[str, ModuleEntry]
    groups: dict[str, dict[str, ModuleEntry]] = Field(default_factory=dict)

    _targets: dict[str, Target] | None = PrivateAttr(None)
    _reverse: dict[tuple[str, str, str], str] | None = PrivateAttr(None)

    @property
    def title(self) -> str:
        return f"{self.library} `{self.model}`"

    def targets(self) -> dict[str, Target]:
        """Every tensor name this layout knows → what it fills."""
        if self._targets is None:
            self._targets = _expand(self)
        return self._targets

    def key_for(self, unit: str, part: str, role: str) -> str | None:
        """The tensor name that fills (unit, part, role), if the layout has one."""
        if self._reverse is None:
            self._reverse = _reverse(self)
        return self._reverse.get((unit, part, role))


def _indices(pattern: str, entry: ModuleEntry) -> list[tuple[str, str]]:
    """(module name, spec path) for each index of a ranged entry (`features.{6..9}`), or the entry itself."""
    ranged = _RANGE.search(pattern)
    if ranged is None:
        if _INDEX.search(entry.to):
            raise LayoutError(f"`{pattern}` has no range `{{first..last}}` for the `{{i}}` in `{entry.to}`")
        return [(pattern, entry.to)]
    first, last = int(ranged.group(1)), int(ranged.group(2))
    return [
        (
            pattern[: ranged.start()] + str(i) + pattern[ranged.end() :],
            _INDEX.sub(lambda m, i=i: str(i + int(m.group(1) or 0)), entry.to),
        )
        for i in range(first, last + 1)
    ]


def _join(*parts: str) -> str:
    return ".".join(p for p in parts if p)


def _expand(layout: Layout) -> dict[str, Target]:
    out: dict[str, Target] = {}
    for pattern, entry in layout.modules.items():
        for module, path in _indices(pattern, entry):
            if entry.group is None:
                pairs = [(module, path, entry.type)]
            else:
                group = layout.groups.get(entry.group)
                if group is None:
                    raise LayoutError(f"{layout.name}: `{pattern}` names an unknown group `{entry.group}`")
                pairs = [(_join(module, sub), _join(path, e.to), e.type) for sub, e in group.items()]
            for mod, unit, kind in pairs:
                for suffix, fills in MODULE_TYPES[kind].items():
                    key = f"{mod}.{suffix}"
                    if key in out:
                        raise LayoutError(f"{layout.name}: tensor `{key}` is mapped twice")
                    out[key] = Target(unit, *(fills or (MAIN, None)), module=mod)
    return out


def _reverse(layout: Layout) -> dict[tuple[str, str, str], str]:
    out: dict[tuple[str, str, str], str] = {}
    for key, target in layout.targets().items():
        if target.role is None:
            continue
        slot = (target.unit, target.part, target.role)
        if slot in out:
            raise LayoutError(f"{layout.name}: `{out[slot]}` and `{key}` both fill {target.unit} {target.role}")
        out[slot] = key
    return out


# --- the shipped layouts ------------------------------------------------------------------


def _read(path: Path, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    parent = data.get("extends")
    if parent is None:
        return data
    if parent in seen:
        raise LayoutError(f"{path.name}: `extends` cycle through {parent}")
    base = _read(LAYOUTS_DIR / f"{parent}.yaml", (*seen, parent))
    return {**base, "extends": None, **data}


@cache
def layouts() -> dict[str, Layout]:
    """Every shipped layout, by name."""
    out = {}
    for path in sorted(LAYOUTS_DIR.glob("*.yaml")):
        try:
            layout = Layout.model_validate(_read(path))
        except ValidationError as exc:
            raise LayoutError(f"{path.name}: {exc}") from None
        if layout.name != path.stem:
            raise LayoutError(f"{path.name}: the layout is named `{layout.name}`; name the file after it")
        layout.key_for("", MAIN, "")  # expands the table: a mapping error surfaces here, once
        out[layout.name] = layout
    return out


@dataclass(frozen=True)
class Recognition:
    layout: Layout
    matched: int
    total: int
    #: Other layouts that read the same tensor names the same way (timm's and torchvision's Inception v3).
    same_as: tuple[str, ...] = ()


def score(layout: Layout, keys: list[str]) -> int:
    targets = layout.targets()
    return sum(1 for key in keys if key in targets)


def recognise(keys: list[str]) -> tuple[Recognition | None, Recognition | None]:
    """(the layout a checkpoint's tensor names follow, or None; the closest layout, for the message)."""
    known = layouts()
    # Best first; of layouts with equal scores, the one others extend (the origin of the names) first.
    scored = sorted(
        ((score(layout, keys), name) for name, layout in known.items()),
        key=lambda s: (-s[0], known[s[1]].extends is not None, s[1]),
    )
    if not scored:
        return None, None
    best_score, best_name = scored[0]
    best = Recognition(known[best_name], best_score, len(keys))
    own = sum(1 for t in known[best_name].targets().values() if t.role is not None)
    if best_score < MIN_COVERAGE * len(keys) or best_score < 0.5 * min(own, len(keys)):
        return None, best
    ties = [name for s, name in scored[1:] if s == best_score]
    mapping = {k: known[best_name].targets().get(k) for k in keys}
    same = tuple(n for n in ties if {k: known[n].targets().get(k) for k in keys} == mapping)
    if len(same) != len(ties):
        return None, best
    return Recognition(known[best_name], best_score, len(keys), same), best
