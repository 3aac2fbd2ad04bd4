"""The shipped specs: found by name in the installed package or in the source tree."""

from __future__ import annotations

import os
from pathlib import Path

from inceptionspec.core.errors import SourceError, did_you_mean
from inceptionspec.core.files import regular_file


def specs_dir() -> Path:
    """Where the shipped specs live: ``inceptionspec/specs`` when installed (package data),
    ``specs/`` beside the package in a checkout or an editable install."""
    here = Path(__file__).resolve().parents[1]  # the inceptionspec package
    packaged = here / "specs"
    if packaged.is_dir() and any(packaged.glob("*.yaml")):
        return packaged
    return here.parent / "specs"


def shipped() -> dict[str, Path]:
    """Shipped spec names (``googlenet``, ``examples/googlenet_cifar``) and their files."""
    root = specs_dir()
    return {path.relative_to(root).with_suffix("").as_posix(): path for path in sorted(root.rglob("*.yaml"))}


def find(source: str | Path) -> Path:
    """A spec given as a path or a shipped name; SourceError when neither exists, or when the path
    is not a regular file (a directory, a FIFO, a device)."""
    path = Path(source)
    try:
        exists = os.path.lexists(path)
    except ValueError:  # a NUL byte (the API takes any string)
        raise SourceError(str(source), "not a file name") from None
    if exists:
        return regular_file(path)
    name = str(source).removesuffix(".yaml")
    specs = shipped()
    if name in specs:
        return specs[name]
    hint = did_you_mean(name, specs)
    raise SourceError(
        str(source), "no such file or shipped spec" + (f"; {hint}" if hint else " (see `inceptionspec list`)")
    )


def first_line_description(path: Path) -> str:
    """A spec's title, read cheaply from its `title:` line (for `list`); a variant without one is
    ``name — extends parent``, as loading it titles it."""
    top: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and key in ("title", "name", "extends") and key not in top:
            top[key] = value.strip().strip("'\"")
    if "title" in top:
        return top["title"]
    if "extends" in top:
        return f"{top.get('name') or path.stem} — extends {top['extends']}"
    return ""
