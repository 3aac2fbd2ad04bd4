"""NumPy ``.npz`` data: ``x`` (images, 0–255) and ``y`` (class indices), optionally ``classes``.

The arrays' headers are read first and their size bounded; nothing is unpickled
(``allow_pickle=False``), so an object array is refused rather than executed.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inceptionspec.data.errors import DataBudget, DataError


@dataclass
class Arrays:
    """Images ``x`` (N, H, W, C) and labels ``y`` (N,) of class ``classes[y[i]]``."""

    path: Path
    x: np.ndarray
    y: np.ndarray
    classes: list[str]


def _header(archive: zipfile.ZipFile, member: str, path: Path) -> tuple[tuple[int, ...], np.dtype[Any]]:
    with archive.open(member) as f:
        try:
            version = np.lib.format.read_magic(f)
            reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = reader(f)
        except ValueError as exc:
            raise DataError.at(path, f"`{member}` is not a NumPy array ({exc})") from None
    return shape, dtype


def read_npz(path: str | Path, budget: DataBudget | None = None, classes: int | None = None) -> Arrays:
    """The arrays of a .npz file, checked: ``x`` of 0–255 pixels as (N, H, W) or (N, H, W, C) with
    C 1, 3 or 4; ``y`` of N class indices (or N one-hot rows); ``classes`` names, optional."""
    budget = budget or DataBudget()
    path = Path(path)
    if not path.is_file():
        raise DataError.at(path, "no such file" if not path.exists() else "not a file")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataError.at(path, f"not a .npz file ({exc})") from None
    with archive:
        members = set(archive.namelist())
        for name in ("x", "y"):
            if f"{name}.npy" not in members:
                raise DataError.at(path, f"no array `{name}` (expected `x`: images, `y`: labels)")
        total = 0
        for member in sorted(m for m in members if m in ("x.npy", "y.npy", "classes.npy")):
            shape, dtype = _header(archive, member, path)
            if dtype.hasobject:
                raise DataError.at(path, f"`{member[:-4]}` holds Python objects; only numbers (and strings) are read")
            total += int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if total > budget.max_array_bytes:
            raise DataError.at(path, f"arrays of {total / 2**30:.1f} GiB, more than {budget.max_array_bytes >> 30} GiB")
    with np.load(path, allow_pickle=False) as data:
        x, y = data["x"], data["y"]
        names = [str(c) for c in data["classes"]] if "classes" in data.files else None
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3, 4) or x.dtype.kind not in "uif":
        raise DataError.at(
            path, f"`x` is {x.dtype} {x.shape}; expected images as (N, H, W) or (N, H, W, C), C 1, 3 or 4"
        )
    if y.ndim == 2:
        y = y.argmax(axis=1)
    if y.ndim != 1 or y.dtype.kind not in "ui" or len(y) != len(x):
        raise DataError.at(path, f"`y` is {y.dtype} {y.shape}; expected {len(x)} class indices")
    count = len(names) if names is not None else classes if classes is not None else int(y.max(initial=-1)) + 1
    if len(y) and (y.min() < 0 or y.max() >= count):
        raise DataError.at(path, f"labels run from {y.min()} to {y.max()}, outside 0–{count - 1} ({count} classes)")
    return Arrays(path, x, y.astype(np.int64), names or [str(i) for i in range(count)])
