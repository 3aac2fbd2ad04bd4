"""The front end in one place: resolve once (read → extends → overrides → validate), expand many.

:func:`resolve` reads a spec with its ``extends`` chain, applies overrides and
validates what the user wrote, once.  The :class:`Resolved` it returns is
expanded as often as needed — with other overrides, a width multiplier or an
input size — without reading or validating the files again: each expansion
works on a copy, validates only what it changed (a knob's value; the edited
document when overrides are given) and then the expanded spec, which becomes
the :class:`~inceptionspec.lang.models.Spec`.  Sweeps expand one resolved spec
hundreds of times.

``load(source, overrides)`` is ``resolve(source, overrides).expand()``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field

from inceptionspec.core.budget import Budget
from inceptionspec.core.errors import Loc, SpecError
from inceptionspec.lang.depth import Depth
from inceptionspec.lang.expand import expand
from inceptionspec.lang.expanded import ExpandedSpec
from inceptionspec.lang.loader import LocDict, LocList, copy_tree, located, to_plain
from inceptionspec.lang.models import Spec, Width
from inceptionspec.lang.node import Node
from inceptionspec.lang.resolve import SpecText, apply_overrides, parse_set, read
from inceptionspec.lang.validate import describe_value, validate
from inceptionspec.ops import USER_OPS, Size

#: Overrides from Python: a mapping ``{path: value}`` or a list/tuple of ``"path=value"`` strings.
Overrides = Mapping[str, Any] | list[str] | tuple[str, ...] | None

OVERRIDES_LOC = Loc("<overrides>", 1, 1)


def override_edits(overrides: Overrides) -> list[tuple[str, Any, Loc]]:
    """The edits ``overrides`` asks for, or a :class:`SpecError` at ``<overrides>`` for any other shape
    (a single string is not read one character at a time)."""
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        bad = [key for key in overrides if not isinstance(key, str)]
        if bad:
            raise SpecError.at(OVERRIDES_LOC, f"override paths are strings, got {describe_value(bad[0])}")
        return [(key, located(value, OVERRIDES_LOC), OVERRIDES_LOC) for key, value in overrides.items()]
    if isinstance(overrides, (list, tuple)) and all(isinstance(text, str) for text in overrides):
        return [parse_set(text, i) for i, text in enumerate(overrides)]
    example = 'e.g. {"classes": 10} or ["classes=10"]'
    if isinstance(overrides, (list, tuple)):
        odd = next(text for text in overrides if not isinstance(text, str))
        got = f"a {type(overrides).__name__} holding {describe_value(odd)}"
    else:
        got = describe_value(overrides) if isinstance(overrides, (str, int, float)) else f"a {type(overrides).__name__}"
    hint = f"write [{overrides!r}]" if isinstance(overrides, str) and "=" in overrides else example
    raise SpecError.at(
        OVERRIDES_LOC, f'overrides are a mapping {{path: value}} or a list of "path=value" strings; got {got}', hint
    )


class _Knobs(Node):
    """The scaling knobs of :meth:`Resolved.expand`, validated on their own."""

    width: Width | None = None
    depth: Depth | None = None
    input: Annotated[list[Size], Field(min_length=3, max_length=3)] | None = None


@dataclasses.dataclass(frozen=True, eq=False)
class Resolved:
    """A spec with its ``extends`` chain and overrides applied, validated once; expand it as often as needed.

    Never changed after :func:`resolve` made it: every expansion works on a copy."""

    #: How the spec was named (a path, a shipped name, ``PATH@REV``).
    source: str
    budget: Budget
    _document: LocDict = dataclasses.field(repr=False)

    @property
    def name(self) -> str:
        return str(self._document.get("name", ""))

    @property
    def title(self) -> str:
        return str(self._document.get("title", ""))

    def document(self) -> LocDict:
        """A copy of the resolved, validated document (located data, before expansion)."""
        return copy_tree(self._document)

    def expanded_document(
        self,
        overrides: Overrides = None,
        *,
        width: float | Mapping[str, Any] | None = None,
        input_size: int | tuple[int, int] | list[int] | None = None,
        depth: float | None = None,
    ) -> LocDict:
        """The expanded document (located data), with these overrides and knobs applied first."""
        return self._expanded(self.budget.fresh(), overrides, width, input_size, depth)

    def _expanded(
        self, budget: Budget, overrides: Overrides, width: Any, input_size: Any, depth: Any = None
    ) -> LocDict:
        doc = self._document
        edits = override_edits(overrides)
        if edits:
            doc = apply_overrides(copy_tree(doc), None, edits, budget)
            _validate_written(doc, self.source, budget)
        if width is not None or input_size is not None or depth is not None:
            doc = self._with_knobs(doc, width, input_size, depth)
        return expand(doc, budget)

    def expand(
        self,
        overrides: Overrides = None,
        *,
        width: float | Mapping[str, Any] | None = None,
        input_size: int | tuple[int, int] | list[int] | None = None,
        depth: float | None = None,
    ) -> ExpandedSpec:
        """The expanded, validated :class:`Spec` (an :class:`ExpandedSpec`: concrete ops only).

        ``overrides`` are applied after the resolved ones (same shapes as :func:`load`'s);
        ``width`` is a width multiplier (or a mapping with ``multiplier``, ``divisor``,
        ``min_filters``) and ``input_size`` the input's height and width (an int or
        ``(h, w)``; the channels stay); ``depth`` a depth multiplier (every ``repeat``
        scaled, rounded up).  Only what these change is validated again.
        Raises :class:`SpecError`."""
        budget = self.budget.fresh()  # each expansion is its own network: its own count of work
        doc = self._expanded(budget, overrides, width, input_size, depth)
        return validate(ExpandedSpec, doc, doc.loc or Loc(self.source, 1, 1), budget=budget)

    def _with_knobs(self, doc: LocDict, width: Any, input_size: Any, depth: Any = None) -> LocDict:
        """The document with the knobs' values in place (a new top level; nothing below it is copied)."""
        knobs = LocDict(loc=Loc("<knobs>", 1, 1))
        if width is not None:
            loc = Loc("<width>", 1, 1)
            written = doc.get("width") if isinstance(doc.get("width"), LocDict) else LocDict()
            settings = LocDict(written, loc=loc)
            settings.key_locs, settings.value_locs = dict(written.key_locs), dict(written.value_locs)
            for key, value in (dict(width) if isinstance(width, Mapping) else {"multiplier": width}).items():
                settings.set(key, located(value, loc), loc, loc)
            knobs.set("width", settings, loc, loc)
        if depth is not None:
            loc = Loc("<depth>", 1, 1)
            settings = LocDict(loc=loc)
            settings.set("multiplier", located(depth, loc), loc, loc)
            knobs.set("depth", settings, loc, loc)
        if input_size is not None:
            loc = Loc("<input_size>", 1, 1)
            size = list(input_size) if isinstance(input_size, (list, tuple)) else [input_size, input_size]
            if len(size) != 2:
                raise SpecError.at(loc, f"input_size is an int or (height, width), got {len(size)} numbers")
            written = doc.get("input")
            channels = written[2] if isinstance(written, list) and len(written) == 3 else 3
            shape = LocList([*size, channels], loc=loc)
            shape.item_locs = [loc] * 3
            knobs.set("input", shape, loc, loc)
        validate(_Knobs, knobs, knobs.loc)
        out = LocDict(doc, loc=doc.loc)
        out.key_locs, out.value_locs = dict(doc.key_locs), dict(doc.value_locs)
        for key, value in knobs.items():
            out.set(key, value, knobs.key_locs[key], knobs.value_locs[key])
        return out


def _validate_written(doc: LocDict, source: object, budget: Budget) -> None:
    """Validate the document as written (the written language's models leave an op's required arguments
    optional: defaults may supply them; the expanded spec's models require them)."""
    fallback = doc.loc or Loc(str(source), 1, 1)
    templates = set(doc.get("templates") or {}) if isinstance(doc.get("templates"), dict) else set()
    validate(Spec, doc, fallback, {"templates": templates}, budget=budget)


def resolve(source: str | Path | SpecText, overrides: Overrides = None, budget: Budget | None = None) -> Resolved:
    """Read a spec (a path, a shipped name or a :class:`SpecText`) with its ``extends`` chain, apply
    ``overrides`` and validate the result once. Raises :class:`SpecError`."""
    budget = budget if budget is not None else Budget()  # the command's: what resolving spends counts
    edits = override_edits(overrides)
    doc = apply_overrides(read(source, budget), None, edits, budget)
    _validate_written(doc, source, budget)
    return Resolved(str(source), budget, doc)


def resolved_document(
    source: str | Path | SpecText, overrides: Overrides = None, budget: Budget | None = None
) -> LocDict:
    """The merged spec (extends and overrides applied), validated, before expansion."""
    return resolve(source, overrides, budget).document()


def expanded_document(
    source: str | Path | SpecText, overrides: Overrides = None, budget: Budget | None = None
) -> LocDict:
    return resolve(source, overrides, budget).expanded_document()


def load(source: str | Path | SpecText, overrides: Overrides = None, budget: Budget | None = None) -> ExpandedSpec:
    """Load a spec (a path or a shipped name), fully resolved and validated.

    ``overrides`` are applied after the file's own, in one of two shapes: a mapping
    ``{"inception_4c.n3x3": 320}`` (values as Python data), or a list or tuple of
    ``--set`` strings ``["inception_4c.n3x3=320"]`` (values read as YAML).  Anything
    else — a bare string included — is a :class:`SpecError` located at ``<overrides>``.
    To expand one spec many ways, :func:`resolve` it once and call
    :meth:`Resolved.expand`.  Raises :class:`SpecError`."""
    return resolve(source, overrides, budget).expand()


class _Flow(dict):
    """A mapping dumped on one line (an op's arguments)."""


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # libyaml's emitter: 10 times faster
    pass


_Dumper.add_representer(_Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))


def _flow_ops(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in USER_OPS and isinstance(next(iter(value.values())), dict):
            kind, args = next(iter(value.items()))
            if args.get("norm") == "none":  # batch-norm settings without batch norm do nothing: not shown
                args = {k: v for k, v in args.items() if k != "bn"}
            return {kind: _Flow(args)}
        return {k: _flow_ops(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_flow_ops(v) for v in value]
    return value


def dump(spec: Spec) -> str:
    """The spec as YAML (``inceptionspec expand`` prints this): one line per op."""
    data = spec.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=False)
    for key in ("templates", "extends", "overrides", "defaults", "width", "depth"):
        data.pop(key, None)
    return yaml.dump(
        _flow_ops(to_plain(data)),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        width=10_000,
        allow_unicode=True,
    )
