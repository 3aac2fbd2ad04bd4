"""The committed JSON Schema, the shipped specs as package data, and the static path's imports."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from inceptionspec.lang.library import shipped
from inceptionspec.lang.schema import schema_json

ROOT = Path(__file__).resolve().parent.parent


def test_committed_schema_is_in_sync_with_the_models():
    committed = (ROOT / "inceptionspec.schema.json").read_text(encoding="utf-8")
    assert committed == schema_json(), "run `inceptionspec schema -o inceptionspec.schema.json`"


@pytest.mark.parametrize("name", sorted(shipped()))
def test_every_shipped_spec_points_editors_at_the_schema(name):
    path = shipped()[name]
    first = path.read_text(encoding="utf-8").splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    target = (path.parent / first[len(prefix) :].strip()).resolve()
    # In a checkout the modeline resolves to the committed schema.
    if (ROOT / "specs") in path.parents:
        assert target == (ROOT / "inceptionspec.schema.json").resolve()


def test_summary_of_every_shipped_spec_never_imports_tensorflow():
    code = (
        "import sys, inceptionspec\n"
        "from inceptionspec.lang.library import shipped\n"
        "for name in shipped():\n"
        "    inceptionspec.analyze(name)\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert run.stdout.strip() == "[]"


def test_parameter_budget_is_checked_statically(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "inceptionspec.cli", "summary", "googlenet", "--max-params", "1000000"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert "exceeds the parameter budget of 1,000,000" in run.stderr
    assert "specs/googlenet.yaml:" in run.stderr


def test_installed_console_script_finds_shipped_specs_by_name(tmp_path):
    # Run from an empty directory so the installed package (not the checkout) is used.
    exe = shutil.which("inceptionspec")
    if exe is None:
        pytest.skip("the console script is not on PATH")
    run = subprocess.run(
        [exe, "validate", "googlenet", "--format", "json"], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["valid"] is True


def _properties(node: object, where: str = "Spec"):
    """(where, key, schema) of every property of a JSON Schema, in $defs and nested schemas too."""
    if isinstance(node, dict):
        for key, value in (node.get("properties") or {}).items():
            yield where, key, value
            yield from _properties(value, f"{where}.{key}")
        for key, value in node.items():
            if key == "$defs":
                for name, definition in value.items():
                    yield from _properties(definition, name)
            elif key != "properties":
                yield from _properties(value, where)
    elif isinstance(node, list):
        for value in node:
            yield from _properties(value, where)


def test_every_key_of_the_schema_has_a_description_from_the_models():
    from inceptionspec.lang.schema import schema

    found = list(_properties(schema()))
    assert len(found) > 150
    undescribed = [f"{where}.{key}" for where, key, value in found if not str(value.get("description", "")).strip()]
    assert not undescribed, f"write Field(description=...) for: {undescribed}"


def test_schema_id_is_an_identifier_not_a_made_up_web_address():
    from urllib.parse import urlparse

    from inceptionspec.lang.schema import schema

    schema_id = schema()["$id"]
    assert urlparse(schema_id).scheme == "urn", schema_id  # a URN: no domain that nobody owns
    assert json.loads((ROOT / "inceptionspec.schema.json").read_text(encoding="utf-8"))["$id"] == schema_id
