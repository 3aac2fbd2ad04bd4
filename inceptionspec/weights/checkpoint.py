"""Checkpoint files: tensor names, shapes and dtypes first, the values one tensor at a time.

A checkpoint is read as a flat mapping of names to tensors (a PyTorch state dict). Nothing in
a file is executed: ``.safetensors`` files are read with the safetensors package's NumPy API
(a JSON header and raw bytes), and ``.pth`` / ``.pt`` / ``.bin`` files only with
``torch.load(weights_only=True)`` (:mod:`inceptionspec.weights.torch_file`), never with an
unrestricted unpickler. The work is bounded: the header is checked before any value is read,
and a value is read only once its shape is the one the spec needs.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inceptionspec.core.errors import UsageError

#: Files larger than this are refused before anything is read (the largest Inception checkpoint is ~220 MB).
MAX_CHECKPOINT_BYTES = 8 << 30
#: Tensors in one checkpoint (Inception-ResNet v2 has 1,306 with its batch counters).
MAX_TENSORS = 100_000
#: Characters in one tensor name.
MAX_KEY_LENGTH = 1000
#: Dimensions of one tensor.
MAX_RANK = 8

#: Dtypes (by safetensors' names) of weights, read as float32, and of counters (num_batches_tracked).
FLOAT_DTYPES = {"F64", "F32", "F16", "BF16"}
INT_DTYPES = {"I64", "I32", "I16", "I8", "U8", "BOOL"}

PIP_WEIGHTS = 'pip install "inceptionspec[weights]"'


class CheckpointFileError(UsageError):
    """A checkpoint that cannot be read: missing, truncated, not a checkpoint, unsafe (exit 2)."""


@dataclass(frozen=True)
class TensorInfo:
    shape: tuple[int, ...]
    dtype: str  # safetensors' dtype names: F32, F16, I64, ...


class Checkpoint:
    """A read-only mapping of tensor names to (shape, dtype), with values read on request."""

    def __init__(
        self, path: Path, infos: dict[str, TensorInfo], read: Callable[[str], Any], notes: tuple[str, ...] = ()
    ) -> None:
        self.path = path
        self.infos = infos
        self._read = read
        #: What the reader did that the report should say (a wrapper dict unpacked, entries left out).
        self.notes = notes

    def __contains__(self, key: object) -> bool:
        return key in self.infos

    def __iter__(self) -> Iterator[str]:
        return iter(self.infos)

    def __len__(self) -> int:
        return len(self.infos)

    def keys(self) -> list[str]:
        return list(self.infos)

    def shape(self, key: str) -> tuple[int, ...]:
        return self.infos[key].shape

    def read(self, key: str) -> np.ndarray:
        """The tensor's values as float32 (a weight) or its own integer dtype (a counter)."""
        info = self.infos[key]
        if info.dtype not in FLOAT_DTYPES and info.dtype not in INT_DTYPES:
            raise CheckpointFileError(f"{self.path}: tensor `{key}` has dtype {info.dtype}, not a number type")
        try:
            value = np.asarray(self._read(key))
        except Exception as exc:  # the readers raise their own error types on corrupt data
            raise CheckpointFileError(
                f"{self.path}: cannot read tensor `{key}` ({info.dtype}): {_first_line(exc)}; "
                "if it is bfloat16, save the checkpoint again as float32 (tensor.float())"
            ) from None
        if tuple(value.shape) != info.shape:
            raise CheckpointFileError(f"{self.path}: tensor `{key}` holds {value.shape}, its header says {info.shape}")
        return value.astype(np.float32) if info.dtype in FLOAT_DTYPES else value


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def check_header(path: Path, infos: dict[str, TensorInfo]) -> dict[str, TensorInfo]:
    """The bounds every reader applies to a header before any value is read."""
    if len(infos) > MAX_TENSORS:
        raise CheckpointFileError(f"{path}: {len(infos):,} tensors; checkpoints are limited to {MAX_TENSORS:,}")
    if not infos:
        raise CheckpointFileError(f"{path}: the checkpoint holds no tensors")
    for key, info in infos.items():
        if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH:
            raise CheckpointFileError(f"{path}: a tensor name is longer than {MAX_KEY_LENGTH} characters")
        if len(info.shape) > MAX_RANK or any(d < 0 for d in info.shape):
            raise CheckpointFileError(f"{path}: tensor `{key}` has an impossible shape {info.shape}")
    return infos


# --- safetensors ------------------------------------------------------------------------


def open_safetensors(path: Path) -> Checkpoint:
    """A ``.safetensors`` file, through the safetensors package (no torch needed)."""
    if importlib.util.find_spec("safetensors") is None:
        raise CheckpointFileError(f"{path}: reading .safetensors files needs the safetensors package: {PIP_WEIGHTS}")
    from safetensors import SafetensorError, safe_open

    with path.open("rb") as f:
        head = f.read(9)
    if len(head) < 9 or head[8:9] != b"{":
        raise CheckpointFileError(f"{path}: not a safetensors file (no safetensors header)")
    try:
        handle = safe_open(str(path), framework="numpy")
        keys = handle.keys()
        if len(keys) > MAX_TENSORS:
            raise CheckpointFileError(f"{path}: {len(keys):,} tensors; checkpoints are limited to {MAX_TENSORS:,}")
        infos = {}
        for key in keys:
            sliced = handle.get_slice(key)
            infos[key] = TensorInfo(tuple(int(d) for d in sliced.get_shape()), str(sliced.get_dtype()))
    except SafetensorError as exc:
        raise CheckpointFileError(f"{path}: not a valid safetensors file ({_first_line(exc)})") from None
    return Checkpoint(path, check_header(path, infos), handle.get_tensor)


# --- dispatch ---------------------------------------------------------------------------


def _open_torch(path: Path) -> Checkpoint:
    from inceptionspec.weights.torch_file import open_torch_file

    return open_torch_file(path)


#: File suffix → reader. A new format is one entry here.
READERS: dict[str, Callable[[Path], Checkpoint]] = {
    ".safetensors": open_safetensors,
    ".pth": _open_torch,
    ".pt": _open_torch,
    ".bin": _open_torch,
}


def is_checkpoint_path(source: str) -> bool:
    """Whether a ``--weights-from`` value names a PyTorch checkpoint file (by its suffix)."""
    return Path(source).suffix.lower() in READERS


def open_checkpoint(source: str | Path) -> Checkpoint:
    """Open a checkpoint file; :class:`CheckpointFileError` when it cannot be read safely."""
    path = Path(source)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise CheckpointFileError(f"{path}: not a checkpoint file (expected {', '.join(READERS)})")
    if not path.is_file():
        raise CheckpointFileError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    size = path.stat().st_size
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckpointFileError(f"{path}: {size:,} bytes; checkpoints are limited to {MAX_CHECKPOINT_BYTES:,}")
    return reader(path)


def describe_value(value: Any) -> str:
    """A short, safe description of a non-tensor value found in a state dict."""
    kind = type(value).__name__
    return f"a {kind}" if not isinstance(value, (int, float, bool)) else f"the {kind} {value!r}"
