"""Synthetic checkpoints for the tests: the committed manifests' names and shapes, cheap values.

:func:`write_safetensors` writes a real .safetensors file tensor by tensor (the format is an
8-byte header length, a JSON header and the raw bytes). Unless ``fill`` gives a tensor its
values, only its first element is written — the tensor's number in the manifest plus one, a
fingerprint that says where each tensor went — and the rest of the file is left sparse, so an
Inception-ResNet-v2-sized file (220 MB) costs neither the disk nor the time to write it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).parent / "fixtures" / "checkpoints"
DTYPES = {"float32": ("F32", np.float32), "int64": ("I64", np.int64), "float16": ("F16", np.float16)}

Fill = Callable[[str, tuple[int, ...]], "np.ndarray | None"]


def manifest(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def tensors(name: str) -> list[tuple[str, tuple[int, ...], str]]:
    return [(key, tuple(shape), dtype) for key, shape, dtype in manifest(name)["tensors"]]


def fingerprint(index: int) -> float:
    return float(index + 1)


def write_safetensors(
    path: Path, entries: list[tuple[str, tuple[int, ...], str]], fill: Fill | None = None
) -> dict[str, int]:
    """Write ``entries`` (name, shape, dtype) as a .safetensors file; return name → fingerprint index."""
    header: dict[str, dict] = {}
    offset = 0
    for key, shape, dtype in entries:
        size = int(np.prod(shape, dtype=np.int64)) * np.dtype(DTYPES[dtype][1]).itemsize
        header[key] = {"dtype": DTYPES[dtype][0], "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with path.open("wb") as f:
        f.write(len(text).to_bytes(8, "little") + text)
        start = f.tell()
        for index, (key, shape, dtype) in enumerate(entries):
            begin = start + header[key]["data_offsets"][0]
            values = fill(key, shape) if fill else None
            f.seek(begin)
            if values is not None:
                f.write(np.ascontiguousarray(values, dtype=DTYPES[dtype][1]).tobytes())
            elif np.prod(shape) > 0:
                f.write(np.array([fingerprint(index)], dtype=DTYPES[dtype][1]).tobytes())
        f.truncate(start + offset)
    return {key: i for i, (key, _, _) in enumerate(entries)}


def unit_gamma(key: str, shape: tuple[int, ...]) -> np.ndarray | None:
    """Gamma 1 everywhere (tf-slim's ported checkpoints), fingerprints elsewhere."""
    return np.ones(shape, np.float32) if key.endswith("bn.weight") else None
