"""The JSON Schema of the spec language, generated from the pydantic models.

Committed as ``inceptionspec.schema.json`` (a test keeps it in sync); every
shipped spec points editors at it with a ``# yaml-language-server`` line.
"""

from __future__ import annotations

import json
from typing import Any

from typing_extensions import TypeAliasType

from inceptionspec.lang import params
from inceptionspec.lang.models import Spec
from inceptionspec.lang.params import required_fields
from inceptionspec.ops import USER_OPS, base

SCHEMA_ID = "urn:inceptionspec:schema:v1"  # an identifier, not a location: the file ships with the package


def schema() -> dict[str, Any]:
    out = Spec.model_json_schema(by_alias=True)
    defs = out.get("$defs", {})
    # Shared types are aliases for pydantic's sake; editors and the docs read them inline.
    aliases = set(params.ALIASES) | {v.__name__ for v in vars(base).values() if isinstance(v, TypeAliasType)}
    inline = {name: defs.pop(name) for name in list(defs) if name in aliases}
    out = _inlined(out, inline)
    # An op's required arguments may come from `defaults`: optional here, without a default.
    for op in USER_OPS.values():
        properties = out["$defs"].get(op.__name__, {}).get("properties", {})
        for name in required_fields(op):
            properties.get(name, {}).pop("default", None)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **out}


def _inlined(node: Any, inline: dict[str, Any]) -> Any:
    """``node`` with references to ``inline`` replaced by their (inlined) schemas, and nested
    ``anyOf`` flattened (an alias of a union inside a union), each alternative once."""
    if isinstance(node, list):
        return [_inlined(item, inline) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref", "").removeprefix("#/$defs/")
    if ref in inline:
        extra = {k: _inlined(v, inline) for k, v in node.items() if k != "$ref"}
        return {**_inlined(inline[ref], inline), **extra}
    out = {key: _inlined(value, inline) for key, value in node.items()}
    if "anyOf" in out:
        flat: list[Any] = []
        for option in out["anyOf"]:
            nested = option.get("anyOf") if set(option) == {"anyOf"} else None
            for choice in nested or [option]:
                if choice not in flat:
                    flat.append(choice)
        # `$param`, then null, last: as the language reference reads it.
        flat.sort(key=lambda choice: (choice.get("pattern") == params.PARAM_PATTERN) + 2 * (choice == {"type": "null"}))
        out["anyOf"] = flat
    return out


def schema_json() -> str:
    return json.dumps(schema(), indent=2, sort_keys=False) + "\n"
