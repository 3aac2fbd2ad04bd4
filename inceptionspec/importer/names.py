"""Names for the imported spec: taken from the source where they mean something, generated otherwise,
always valid spec names (:data:`inceptionspec.core.names.NAME_PATTERN`) and unique in their scope.

A source name means something when it is not one Keras made up (``conv2d_7``, ``batch_normalization``
— the class name in snake case, with a counter). Names of models compiled by inceptionspec are spec
paths (``inception_3a.3x3.reduce``, or ``inception_3a__3x3__reduce``), whose parts give the block,
branch and layer names back.
"""

from __future__ import annotations

import hashlib
import re

from inceptionspec.core.names import BACKEND_SEP, MAX_NAME_LENGTH, SPEC_SEP, SpecPath, is_name
from inceptionspec.importer.kgraph import KLayer
from inceptionspec.lang.models import BLOCK_KEYS
from inceptionspec.ops import USER_OPS

#: Suffixes Keras code commonly gives a block's merge layers (``block35_1_mixed``, ``mixed_5b_concat``).
MERGE_SUFFIXES = ("mixed", "concat", "concatenate", "merge", "add", "ac", "act", "activation", "relu", "out", "output")
#: Words a name may not be: op kinds (an item keyed by one is an op) and the keys of a block's body.
RESERVED = frozenset(USER_OPS) | frozenset(BLOCK_KEYS)
_LANG_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def snake_case(text: str) -> str:
    """Keras' default layer name for a class (``Conv2D`` → ``conv2d``, ``ReLU`` → ``re_lu``)."""
    text = re.sub(r"\W+", "", text)
    text = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", text)
    return re.sub("([a-z])([A-Z])", r"\1_\2", text).lower()


def is_generated(layer: KLayer) -> bool:
    """Whether Keras made the layer's name up (class name in snake case, maybe with a counter)."""
    base = re.escape(snake_case(layer.cls))
    return re.fullmatch(rf"{base}(_\d+)?", layer.name) is not None


def path_parts(layer: KLayer) -> list[str] | None:
    """The parts of a spec-path name (``a.b.c`` or ``a__b__c``), or None for any other name."""
    name = layer.name
    if BACKEND_SEP in name:
        parts = SpecPath.from_backend(name).parts
    elif SPEC_SEP in name:
        parts = SpecPath.parse(name).parts
    else:
        return None
    return list(parts) if all(is_name(p) and _LANG_NAME.match(p) for p in parts) else None


def meaningful(layer: KLayer) -> str | None:
    """The layer's own name when it means something, as a valid name; None when Keras made it up."""
    parts = path_parts(layer)
    if parts is not None:
        return parts[-1]
    if is_generated(layer):
        return None
    return sanitize(layer.name)


def sanitize(text: str) -> str | None:
    """A valid name from any text: letters and digits kept, every other run becomes one ``_``,
    no ``_`` at either end, at most 64 characters (a long name keeps a hash of the whole)."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")
    if not name:
        return None
    if len(name) > MAX_NAME_LENGTH:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        name = name[: MAX_NAME_LENGTH - 9].rstrip("_") + "_" + digest
    return name


def block_name(name: str) -> str:
    """A name a block or template may have: not an op kind, not a key of a block's body."""
    return f"{name}_block" if name in RESERVED else name


def common_block_name(names: list[str]) -> str | None:
    """A block's name from its merge layers' names: their common prefix (``block35_1_mixed`` and
    ``block35_1_conv`` → ``block35_1``), or one name without a merge suffix (``mixed_5b_concat`` → ``mixed_5b``)."""
    names = [n for n in names if n]
    if not names:
        return None
    if len(names) == 1:
        parts = names[0].split("_")
        if len(parts) > 1 and parts[-1].lower() in MERGE_SUFFIXES:
            parts = parts[:-1]
        return sanitize("_".join(parts))
    split = [n.split("_") for n in names]
    common: list[str] = []
    for column in zip(*split, strict=False):
        if len(set(column)) != 1:
            break
        common.append(column[0])
    return sanitize("_".join(common)) if common else sanitize(names[0])


def unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3`` … the first not in ``taken`` (which it joins)."""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(candidate)
    return candidate


def param_name(parts: list[str]) -> str:
    """A template parameter from where it is used: ``["3x3", "reduce"]`` → ``n3x3_reduce``."""
    name = sanitize("_".join(p for p in parts if p)) or "value"
    if not re.match(r"^[A-Za-z_]", name):
        name = "n" + name
    return name
