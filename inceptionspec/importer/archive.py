"""Reading a ``.keras`` file as untrusted input: its ``config.json`` as plain data, nothing executed.

A ``.keras`` file is a zip archive holding ``config.json`` (the model's layers and how they connect),
``metadata.json`` and the weights. The importer needs only the config, so it never hands the file to
Keras: no layer class is looked up, no code deserialised, the weights are never read. Every bound is
checked before the work it bounds: the archive's directory before it is parsed (a directory of
millions of entries), ``config.json``'s size before it is decompressed (a zip bomb), the depth of
the JSON while it is parsed, the number of layers before any is looked at.
"""

from __future__ import annotations

import json
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inceptionspec.core.errors import Loc, SpecError, UsageError

#: Bytes of ``config.json`` once decompressed; Inception-ResNet-v2's is 0.7 MiB.
MAX_CONFIG_BYTES = 4 << 20
#: Entries in the archive; Keras writes three.
MAX_ENTRIES = 64
#: Bytes of the archive's central directory.
MAX_DIRECTORY_BYTES = 1 << 20
#: Nesting of JSON arrays and objects in ``config.json``; Keras writes about 12.
MAX_JSON_DEPTH = 64
#: JSON arrays and objects in ``config.json`` (they cost memory and time to parse; counted in the text, so
#: a bracket inside a string counts too); Inception-ResNet-v2's config has 14,457.
MAX_JSON_CONTAINERS = 200_000

_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_MAX_COMMENT = 0xFFFF


@dataclass(frozen=True)
class KerasConfig:
    """A model's serialised Keras config (``{"class_name": "Functional", "config": {...}}``) and where it came from."""

    data: dict[str, Any]
    display: str


def refuse(display: str, message: str, hint: str | None = None) -> SpecError:
    """The error for a model that cannot be imported: located at the file, one line."""
    return SpecError.at(Loc(display, 1, 1), message, hint)


def read_keras_file(path: str | Path, display: str | None = None) -> KerasConfig:
    """The config of a ``.keras`` file. SpecError for a file that is not a model we can read
    safely; UsageError (an I/O problem) for a file that cannot be opened."""
    path = Path(path)
    display = display or str(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise UsageError(f"{display}: {exc.strerror or exc}") from None
    with handle:
        _check_directory(handle, display)
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
            raise refuse(display, f"not a .keras file: {_first_line(exc)}") from None
        with archive:
            text = _member_text(archive, "config.json", MAX_CONFIG_BYTES, display)
    return KerasConfig(parse_config(text, display), display)


def _check_directory(handle: Any, display: str) -> None:
    """Bound the zip's central directory from its end record before ``zipfile`` reads it."""
    handle.seek(0, 2)
    size = handle.tell()
    tail_size = min(size, _EOCD_SIZE + _MAX_COMMENT)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < _EOCD_SIZE:
        raise refuse(display, "not a .keras file (not a zip archive)")
    _, _, _, _, entries, directory_bytes, _, _ = struct.unpack("<4s4H2LH", tail[at : at + _EOCD_SIZE])
    if entries == 0xFFFF or directory_bytes == 0xFFFFFFFF:
        return  # zip64: the sizes are in another record; zipfile reads it, and the limits below still hold
    if entries > MAX_ENTRIES:
        raise refuse(display, f"the archive has {entries} entries; a .keras file has a few (limit {MAX_ENTRIES})")
    if directory_bytes > MAX_DIRECTORY_BYTES:
        raise refuse(display, f"the archive's directory is {directory_bytes} bytes (limit {MAX_DIRECTORY_BYTES})")


def _member_text(archive: zipfile.ZipFile, member: str, limit: int, display: str) -> str:
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise refuse(display, f"the archive has {len(entries)} entries; a .keras file has a few (limit {MAX_ENTRIES})")
    info = next((e for e in entries if e.filename == member), None)
    if info is None:
        raise refuse(display, f"not a .keras file: no {member} in the archive")
    if info.file_size > limit:
        raise refuse(display, f"{member} decompresses to {info.file_size:,} bytes (limit {limit:,})")
    try:
        with archive.open(info) as stream:
            data = stream.read(limit + 1)  # whatever the header claims, never more than this
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
        raise refuse(display, f"cannot read {member}: {_first_line(exc)}") from None
    except RuntimeError as exc:  # an encrypted member
        raise refuse(display, f"cannot read {member}: {_first_line(exc)}") from None
    if len(data) > limit:
        raise refuse(display, f"{member} decompresses to more than {limit:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refuse(display, f"{member} is not UTF-8 text (byte {exc.start})") from None


def parse_config(text: str, display: str) -> dict[str, Any]:
    """JSON text → plain data, with the depth and the number of objects bounded, and no NaN."""
    containers = text.count("{") + text.count("[")
    if containers > MAX_JSON_CONTAINERS:
        raise refuse(display, f"config.json has {containers:,} JSON objects and arrays (limit {MAX_JSON_CONTAINERS:,})")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise refuse(display, f"config.json is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except ValueError as exc:  # JSONDecodeError, and Python's limit on digits of an integer
        raise refuse(display, f"config.json is not valid JSON: {_first_line(exc)}") from None
    depth = _depth(data)
    if depth > MAX_JSON_DEPTH:
        raise refuse(display, f"config.json is nested {depth} levels deep (limit {MAX_JSON_DEPTH})")
    if not isinstance(data, dict):
        raise refuse(display, "config.json does not hold a model (expected a JSON object)")
    return data


def _no_constant(name: str) -> Any:
    # Keras writes -Infinity (the -inf padding before a max pool); NaN has no use in a model's config.
    if name in ("Infinity", "-Infinity"):
        return float(name.replace("Infinity", "inf"))
    raise ValueError(f"{name} is not a number a model config may hold")


def _depth(value: Any) -> int:
    """Nesting depth, walked without recursion (json.loads already stopped anything deeper than ~1000)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            return depth
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
