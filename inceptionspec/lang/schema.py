"""The JSON Schema of the spec language, generated from the pydantic models.

Committed as ``inceptionspec.schema.json`` (a test keeps it in sync); every
shipped spec points editors at it with a ``# yaml-language-server`` line.
"""

from __future__ import annotations

import json
from typing import Any

from inceptionspec.lang.models import Spec
from inceptionspec.ops import USER_OPS

SCHEMA_ID = "urn:inceptionspec:schema:v1"  # an identifier, not a location: the file ships with the package


def schema() -> dict[str, Any]:
    out = Spec.model_json_schema(by_alias=True)
    # An op's required arguments may come from `defaults`, so editors must not demand them.
    for op in USER_OPS.values():
        definition = out.get("$defs", {}).get(op.__name__)
        if definition is not None:
            definition.pop("required", None)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **out}


def schema_json() -> str:
    return json.dumps(schema(), indent=2, sort_keys=False) + "\n"
