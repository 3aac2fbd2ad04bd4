"""Shared helpers: write a YAML spec into tmp_path, run the CLI in a subprocess; hypothesis profiles."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# The fuzzer's profiles (tests/test_fuzz.py), registered here so that pytest knows them when it
# reads `--hypothesis-profile=long` on the command line, before any test module is imported.
_RELAXED = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
# The suite is a gate: the same commit draws the same examples on every machine (derandomized, no
# example database), so a red CI run is reproducible and a green one is not luck. `explore` draws new
# examples each run, for looking for bugs rather than gating on them. Hypothesis itself activates
# `ci` when the CI environment variable is set.
settings.register_profile("default", derandomize=True, database=None)
settings.register_profile("ci", max_examples=300, derandomize=True, database=None, print_blob=True, **_RELAXED)
settings.register_profile("explore", max_examples=300, **_RELAXED)
settings.register_profile("long", max_examples=20_000, **_RELAXED)
settings.load_profile(settings.get_current_profile_name())

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
