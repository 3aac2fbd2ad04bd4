"""Shared helpers: write a YAML spec into tmp_path, run the CLI in a subprocess."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: The header every small test spec starts with (4 lines: version, name, input, classes).
HEADER = """\
version: 1
name: t
input: [32, 32, 3]
classes: 10
"""


@pytest.fixture
def write_spec(tmp_path: Path):
    """write_spec(text, name="spec.yaml") -> Path; text is dedented, str or bytes."""

    def write(text: str | bytes, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def run_cli(*args: str, cwd: str | Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m inceptionspec.cli ARGS...` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "inceptionspec.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


@pytest.fixture
def cli():
    return run_cli
