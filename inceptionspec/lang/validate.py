"""Stage 2 — validate located data against the pydantic models, with located errors.

pydantic reports a path through the data (plus union tags that are not YAML
keys); we walk the located data along that path to find the line and column,
fold the alternatives of a union into one message, and keep every error.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from inceptionspec.core.budget import Budget
from inceptionspec.core.errors import Collector, Diagnostic, Loc, SpecError, did_you_mean
from inceptionspec.core.names import NAME_PATTERN, NAME_RULE
from inceptionspec.lang.loader import YAML11_BOOLS, LocDict, LocList
from inceptionspec.lang.node import quote_key

M = TypeVar("M", bound=BaseModel)

_EXPECT = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "none_required": "null",
}


def describe_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def locate(root: Any, path: tuple[Any, ...], fallback: Loc, key: bool = False) -> Loc:
    """The position of the value at ``path``; parts that are not data keys (union tags) are skipped."""
    node, best = root, getattr(root, "loc", None) or fallback
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, dict) and part in node:
            loc = node.key_loc(part) if (key and last) else node.value_loc(part) if isinstance(node, LocDict) else None
            best = loc or best
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            best = (node.item_loc(part) if isinstance(node, LocList) else None) or best
            node = node[part]
    return best


def _data_path(root: Any, path: tuple[Any, ...]) -> tuple[Any, ...]:
    """The part of a pydantic error path that names data (drops union tags)."""
    node, out = root, []
    for part in path:
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
    return tuple(out)


def _expectation(err: dict[str, Any]) -> str | None:
    kind = err["type"]
    if kind in _EXPECT:
        return _EXPECT[kind]
    if kind == "literal_error":
        return "one of " + err["ctx"]["expected"].replace("'", "`")
    if kind == "string_pattern_mismatch":
        pattern = err["ctx"]["pattern"]
        if pattern.startswith("^\\$"):
            return "a `$parameter` (inside a template)"
        if pattern == NAME_PATTERN:
            return f"a name ({NAME_RULE})"
        return "an identifier (letters, digits and `_`, not starting with a digit)"
    return None


def _message(err: dict[str, Any]) -> tuple[str, str | None]:
    kind, value = err["type"], err.get("input")
    if kind == "missing":
        field = err["loc"][-1] if err["loc"] else "?"
        return f"missing required key `{field}`", None
    if kind == "extra_forbidden":
        return f"unknown key {quote_key(err['loc'][-1])}", None
    if kind == "literal_error":
        raw = [e.strip() for e in err["ctx"]["expected"].replace(" or ", ",").split(",")]
        expected = [e.strip(" '") for e in raw]
        if isinstance(value, str) and value.strip() in raw:  # `version: "1"`: the literal is a number
            return f"expected the number {value.strip()}, got the string {value!r}", "remove the quotes"
        hint = did_you_mean(value, expected)
        return f"{describe_value(value)} is not one of {', '.join(f'`{e}`' for e in expected)}", hint
    if kind in ("bool_type", "bool_parsing") and isinstance(value, str) and value in YAML11_BOOLS:
        return f"expected true or false, got the string {value!r}", "YAML 1.1's yes/no/on/off are strings here"
    if kind in ("int_type", "float_type") and isinstance(value, str):
        return f"expected {_EXPECT[kind]}, got the string {value!r}", "remove the quotes"
    expect = _expectation(err)
    if expect:
        return f"expected {expect}, got {describe_value(value)}", None
    if kind == "string_too_long" and isinstance(value, str):
        return f"at most {err['ctx']['max_length']:,} characters, got {len(value):,}", None
    if kind in ("value_error", "assertion_error"):
        return err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, "), None
    msg = err["msg"]
    replacements = {
        "Input should be greater than or equal to": "must be ≥",
        "Input should be greater than": "must be >",
        "Input should be less than or equal to": "must be ≤",
        "Input should be less than": "must be <",
    }
    for old, new in replacements.items():
        if msg.startswith(old):
            return f"{new}{msg[len(old) :]}, got {describe_value(value)}", None
    return msg[0].lower() + msg[1:] if msg else kind, None


_CONSTRAINT_KINDS = {
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "too_short",
    "too_long",
    "value_error",
    "assertion_error",
    "missing",
    "literal_error",
    "item",
    "block_body",
    "union_tag_invalid",
}


def diagnostics(exc: ValidationError, root: Any, fallback: Loc) -> list[Diagnostic]:
    """One diagnostic per located problem, folding union alternatives together."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    raw = exc.errors(include_url=False)
    # Every strict prefix of an error's data path: "another error lies deeper inside this value"
    # is then one set lookup, not a scan of all errors (a hostile file can hold tens of thousands).
    inner: set[tuple[Any, ...]] = set()
    for err in raw:
        data = _data_path(root, tuple(err["loc"]))
        inner.update(data[:i] for i in range(len(data)))
    for err in raw:
        path = _data_path(root, tuple(err["loc"]))
        if err["type"] == "missing":
            path = (*path, ("missing", err["loc"][-1]))
        groups[path].append(err)
    # A union member that failed on the value's type (a list where a mapping was
    # also allowed) says nothing when another member reports errors inside it.
    shallow = {"model_type", "dict_type", "list_type", "model_attributes_type"}
    for path in list(groups):
        if path in inner and all(e["type"] in shallow for e in groups[path]):
            del groups[path]
    out: list[Diagnostic] = []
    for path, errs in groups.items():
        data_path = tuple(p for p in path if not isinstance(p, tuple))
        specific = [e for e in errs if e["type"] in _CONSTRAINT_KINDS and not _is_ref_mismatch(e)]
        chosen = specific or errs
        is_key = chosen[0]["type"] == "extra_forbidden" or chosen[0]["loc"][-1:] == ("[key]",)
        loc = locate(root, data_path, fallback, key=is_key)
        if len(chosen) == 1 or specific:
            message, hint = _message(chosen[0])
        else:
            expects = []
            for e in chosen:
                x = _expectation(e)
                if x and x not in expects:
                    expects.append(x)
            value = chosen[0].get("input")
            yaml11 = isinstance(value, str) and value in YAML11_BOOLS
            if yaml11 and any(e["type"] in ("bool_type", "bool_parsing") for e in chosen):
                message, hint = _message({"type": "bool_type", "input": value, "loc": (), "msg": ""})
            elif expects:
                message, hint = f"expected {' or '.join(expects)}, got {describe_value(value)}", None
            else:
                message, hint = _message(chosen[0])
        if message.startswith("expected a mapping") and isinstance(chosen[0].get("input"), list):
            message, hint = _mapping_not_list(data_path, chosen[0]["input"], message, hint)
        out.append(Diagnostic(loc, message, hint))
    return out


def _mapping_not_list(
    path: tuple[Any, ...], value: list[Any], message: str, hint: str | None
) -> tuple[str, str | None]:
    """A list where a mapping belongs: the message names the key, and when the list holds one-key
    mappings (`- conv: {...}` under `defaults:`) the hint says to drop the dashes."""
    key = next((part for part in reversed(path) if isinstance(part, str)), None)
    if key is not None:
        message = f"{quote_key(key)}: {message}"
    if value and all(isinstance(item, dict) and len(item) == 1 for item in value):
        keys = ", ".join(quote_key(next(iter(item))) for item in value[:3]) + (", …" if len(value) > 3 else "")
        where = f" of {quote_key(key)}" if key is not None else ""
        keys_are = f"{keys} as a key" if len(value) == 1 else f"{keys} as keys"
        hint = hint or f"write {keys_are}{where}, without the `- ` in front"
    return message, hint


def _is_ref_mismatch(err: dict[str, Any]) -> bool:
    return err["type"] == "string_pattern_mismatch" and err["ctx"]["pattern"].startswith("^\\$")


def validate(
    model: type[M], data: Any, fallback: Loc, context: dict[str, Any] | None = None, budget: Budget | None = None
) -> M:
    """Validate located data; raise SpecError with every problem found.

    Before expansion (the written language's models) an op's required arguments are
    optional, as ``defaults`` may supply them; the expanded spec's models require them.
    ``budget`` pays for the suggestions."""
    collector = Collector()
    try:
        context = {**(context or {}), "collector": collector, "budget": budget}
        result = model.model_validate(data, context=context)
    except ValidationError as exc:
        for d in diagnostics(exc, data, fallback):
            collector.add(d.loc, d.message, d.hint)
        raise SpecError(_in_file_order(collector)) from None
    if collector.errors:
        raise SpecError(_in_file_order(collector))
    return result


def _in_file_order(collector: Collector) -> list[Diagnostic]:
    kept = sorted(collector.errors, key=lambda d: (d.loc.file, d.loc.line, d.loc.col))
    return kept + collector.all()[len(collector.errors) :]
