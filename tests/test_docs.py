"""The documentation's generated pages and checked examples, without mkdocs installed.

The mkdocs hook (docs/_hooks/inceptionspec_docs.py) generates the spec-keys reference from the
JSON Schema, the CLI reference from the click commands and each network's page with the renderer; it also
validates every example spec in the pages and runs the commands they show. These tests call the
same functions, so a drift fails here even where `mkdocs build` is not run.
"""

from __future__ import annotations

import importlib.util
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from inceptionspec.lang.library import shipped
from inceptionspec.lang.schema import schema

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _load_hook():
    spec = importlib.util.spec_from_file_location("inceptionspec_docs_hook", DOCS / "_hooks" / "inceptionspec_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hook = _load_hook()


def test_language_reference_lists_every_key_of_the_schema():
    s = schema()
    page = hook.language_reference(s)
    keys = hook.schema_keys(s)
    assert len(keys) > 100
    missing = sorted(f"{owner}.{key}" for owner, key in keys if f"`{key}`" not in page)
    assert not missing, f"keys missing from the reference: {missing}"
    # Every definition with keys has its own section (op items and per-op defaults are tabulated).
    for name, d in s["$defs"].items():
        if d.get("properties") and not name.endswith(("Item", "Defaults")):
            assert f"{{ #def-{name.lower()} }}" in page, name
    # Each key's row carries a type, a default and a description.
    row = next(line for line in page.splitlines() if line.startswith("| `classes` |"))
    assert "integer ≥ 1" in row and "`1000`" in row and "Number of classes" in row


def test_reference_follows_the_schema_not_a_copy():
    s = schema()
    s["$defs"]["Conv"]["properties"]["groups"] = {"type": "integer", "default": 1, "description": "New."}
    assert "| `groups` | integer | `1` | New. |" in hook.language_reference(s)


def test_cli_reference_lists_every_command_and_option():
    page = hook.cli_reference()
    names = hook.cli_names()
    assert {"validate", "summary", "build", "render", "diff"} <= set(names)
    for command, options in names.items():
        assert f"## `{command}`" in page
        for option in options:
            assert f"`{option}`" in page, (command, option)
    assert "`--expand-repeats`" in page and "one of `svg`, `dot`, `mermaid`, `html`" in page


def test_every_shipped_network_has_one_page_with_its_notes_numbers_and_pictures():
    files = hook.network_files()
    for name in shipped():
        notes_path = DOCS / "specs" / f"{name}.md"
        assert notes_path.is_file(), f"{name}: no docs/specs/{name}.md (its notes; the site adds the rest)"
        notes = notes_path.read_text(encoding="utf-8")
        page = hook.network_page(name, notes)
        assert page.startswith(notes.split("\n## ", 1)[0].rstrip())  # the notes' title and introduction first
        assert "## At a glance" in page and "**parameters**" in page and "**multiply-adds**" in page
        assert "## Picture" in page and f"{name.rsplit('/', 1)[-1]}.svg" in page and "## The spec" in page
        assert page.count("## Blocks") == 1  # the notes' own block table, or a generated one
        for suffix in (".svg", "-blocks.svg"):
            ET.fromstring(files[f"specs/{name}{suffix}"])
        assert "<!DOCTYPE html>" in files[f"specs/{name}.html"]
    assert "inception_b × 7" in files["specs/inception_v4.svg"]
    index = hook.networks_index((DOCS / "specs" / "README.md").read_text(encoding="utf-8"))
    for name in shipped():
        assert f"| [{name}]({name}.md) |" in index


def _own_pages() -> list[Path]:
    others = {DOCS / "diff.md", DOCS / "threat-model.md"}
    return [p for p in sorted(DOCS.rglob("*.md")) if p not in others and "specs" not in p.relative_to(DOCS).parts]


@pytest.mark.parametrize("page", _own_pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_pages_examples_validate_and_their_commands_run(page):
    text = page.read_text(encoding="utf-8")
    out = hook.expand_directives(text, page.relative_to(DOCS).as_posix())
    # Directives are replaced, and the examples' markers stay off the site.
    assert not re.search(r"^\s*<!-- (spec|console|exec|render|illustrative|heavy)\b", out, re.M)


def test_a_wrong_example_fails_the_build():
    bad = "<!-- spec: x.yaml -->\n```yaml\nversion: 1\nname: x\ninput: [8, 8, 3]\nstages: [cnov: {filters: 3}]\n```\n"
    with pytest.raises(hook.DocsError, match="x.yaml does not validate"):
        hook.expand_directives(bad, "t.md")
    with pytest.raises(hook.DocsError, match="exited 2, not 0"):
        hook.expand_directives("<!-- console: inceptionspec validate nosuchspec_xyz -->", "t.md")


def _nav_pages(entry):
    if isinstance(entry, str):
        yield entry
    elif isinstance(entry, list):
        for e in entry:
            yield from _nav_pages(e)
    elif isinstance(entry, dict):
        for v in entry.values():
            yield from _nav_pages(v)


def test_navigation_names_only_pages_that_exist_and_each_network_once():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["hooks"] == ["docs/_hooks/inceptionspec_docs.py"]
    nav = hook._nav_filter(config["nav"])
    listed = list(_nav_pages(nav))
    assert "reference/language.md" in listed and "api.md" in listed
    for page in listed:
        assert (DOCS / page).is_file(), page
    assert len(listed) == len(set(listed)), "a page is listed twice"
    for name in shipped():
        assert listed.count(f"specs/{name}.md") == 1, name
    assert not any(p.startswith("gallery/") for p in listed)


def test_links_to_repository_files_point_at_published_copies():
    text = "the [spec](../../specs/googlenet.yaml), [a page](other.md), [web](https://example.org/x.yaml)"
    out = hook.repo_links(text, "specs/googlenet.md")
    assert out == "the [spec](../repo/specs/googlenet.yaml), [a page](other.md), [web](https://example.org/x.yaml)"
    assert hook.repo_file("index.md", "../specs/nosuch.yaml") is None
    assert hook.repo_file("index.md", "../../outside.txt") is None
