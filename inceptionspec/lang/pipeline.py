"""The front end in one place: read → resolve → validate → expand → validate.

``load`` returns the expanded :class:`~inceptionspec.models.Spec`; every stage
after it (IR, analysis, Keras, diff, render) starts from there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from inceptionspec.core.budget import Budget
from inceptionspec.core.errors import Loc
from inceptionspec.lang.expand import expand
from inceptionspec.lang.loader import LocDict, located, to_plain
from inceptionspec.lang.models import Spec
from inceptionspec.lang.resolve import SpecText, apply_overrides, parse_set, read
from inceptionspec.lang.validate import validate
from inceptionspec.ops import USER_OPS

Overrides = Mapping[str, Any] | Iterable[str] | None


def _edits(overrides: Overrides) -> list[tuple[str, Any, Loc]]:
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        loc = Loc("<overrides>", 1, 1)
        return [(str(k), located(v, loc), loc) for k, v in overrides.items()]
    return [parse_set(text, i) for i, text in enumerate(overrides)]


def resolved_document(
    source: str | Path | SpecText, overrides: Overrides = None, budget: Budget | None = None
) -> LocDict:
    """The merged spec (extends and overrides applied), validated, before expansion."""
    budget = budget or Budget()
    doc = read(source, budget)
    doc = apply_overrides(doc, None, _edits(overrides), budget)
    fallback = doc.loc or Loc(str(source), 1, 1)
    templates = set(doc.get("templates") or {}) if isinstance(doc.get("templates"), dict) else set()
    validate(Spec, doc, fallback, {"templates": templates}, partial=True, budget=budget)
    return doc


def expanded_document(
    source: str | Path | SpecText, overrides: Overrides = None, budget: Budget | None = None
) -> LocDict:
    budget = budget or Budget()
    return expand(resolved_document(source, overrides, budget), budget)


def load(source: str | Path | SpecText, overrides: Overrides = None, budget: Budget | None = None) -> Spec:
    """Load a spec (a path or a shipped name), fully resolved and validated.

    ``overrides`` are applied after the file's own: a mapping ``{path: value}``
    or ``--set`` strings ``"path=value"``.  Raises :class:`SpecError`.
    """
    budget = budget or Budget()
    doc = expanded_document(source, overrides, budget)
    spec = validate(Spec, doc, doc.loc or Loc(str(source), 1, 1), {"templates": set()}, budget=budget)
    assert spec is not None
    return spec


class _Flow(dict):
    """A mapping dumped on one line (an op's arguments)."""


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # libyaml's emitter: 10 times faster
    pass


_Dumper.add_representer(_Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))


def _flow_ops(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in USER_OPS and isinstance(next(iter(value.values())), dict):
            kind, args = next(iter(value.items()))
            return {kind: _Flow(args)}
        return {k: _flow_ops(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_flow_ops(v) for v in value]
    return value


def dump(spec: Spec) -> str:
    """The spec as YAML (``inceptionspec expand`` prints this): one line per op."""
    data = spec.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=False)
    for key in ("templates", "extends", "overrides", "defaults", "width"):
        data.pop(key, None)
    return yaml.dump(
        _flow_ops(to_plain(data)),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        width=10_000,
        allow_unicode=True,
    )
