"""The documentation's generated pages and checked examples, without mkdocs installed.

The mkdocs hook (docs/_hooks/inceptionspec_docs.py) generates the spec-keys reference from the
JSON Schema, the CLI reference from the click commands and the gallery with the renderer; it also
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


def test_gallery_has_a_page_and_pictures_for_every_shipped_spec():
    files = hook.gallery()
    index = files["gallery/index.md"]
    for name in shipped():
        page = files[f"gallery/{name}.md"]
        assert f"# {name}" in page and "parameters" in page and "multiply-adds" in page
        assert f"({name}.md)" in index
        for suffix in (".svg", "-blocks.svg"):
            ET.fromstring(files[f"gallery/{name}{suffix}"])
        assert "<!DOCTYPE html>" in files[f"gallery/{name}.html"]
    assert "inception_b × 7" in files["gallery/inception_v4.svg"]


def _own_pages() -> list[Path]:
    others = {DOCS / "diff.md", DOCS / "threat-model.md"}
    return [p for p in sorted(DOCS.rglob("*.md")) if p not in others and "specs" not in p.relative_to(DOCS).parts]


@pytest.mark.parametrize("page", _own_pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_pages_examples_validate_and_their_commands_run(page):
    text = page.read_text(encoding="utf-8")
    out = hook.expand_directives(text, page.relative_to(DOCS).as_posix(), exists=lambda target: True)
    assert "<!-- spec" not in out and "<!-- console" not in out and "<!-- exec" not in out


def test_a_wrong_example_fails_the_build():
    bad = "<!-- spec: x.yaml -->\n```yaml\nversion: 1\nname: x\ninput: [8, 8, 3]\nstages: [cnov: {filters: 3}]\n```\n"
    with pytest.raises(hook.DocsError, match="x.yaml does not validate"):
        hook.expand_directives(bad, "t.md")
    with pytest.raises(hook.DocsError, match="exited 2, not 0"):
        hook.expand_directives("<!-- console: inceptionspec validate nosuchspec_xyz -->", "t.md")


def test_optional_links_wait_for_their_page():
    text = "see [the diff](?../diff.md#json) and [x](?nope.md)"
    out = hook.expand_directives(text, "tutorials/a.md", exists=lambda target: target == "diff.md")
    assert out == "see [the diff](../diff.md#json) and x"


def test_navigation_names_only_pages_that_exist_or_are_generated():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["hooks"] == ["docs/_hooks/inceptionspec_docs.py"]
    nav = hook._nav_filter(config["nav"], DOCS)
    generated = {"reference/language.md", "reference/cli.md", *hook.gallery_paths()}

    def pages(entry):
        if isinstance(entry, str):
            yield entry
        elif isinstance(entry, list):
            for e in entry:
                yield from pages(e)
        elif isinstance(entry, dict):
            for v in entry.values():
                yield from pages(v)

    listed = list(pages(nav))
    assert "reference/language.md" in listed and "gallery/googlenet.md" in listed
    for page in listed:
        assert (DOCS / page).is_file() or page in generated, page
    # Pages linked from hand-written pages exist too (optional `(?page)` links excepted).
    for md in _own_pages():
        for target in re.findall(r"\]\((?!\?|https?:|#|data:)([^)#\s]+\.md)", md.read_text(encoding="utf-8")):
            resolved = (md.parent / target).resolve().relative_to(DOCS.resolve()).as_posix()
            assert (DOCS / resolved).is_file() or resolved in generated, f"{md.name}: {target}"


def test_links_to_repository_files_point_at_published_copies():
    text = "the [spec](../../specs/googlenet.yaml), [a page](other.md), [web](https://example.org/x.yaml)"
    out = hook.repo_links(text, "specs/googlenet.md")
    assert out == "the [spec](../repo/specs/googlenet.yaml), [a page](other.md), [web](https://example.org/x.yaml)"
    assert hook.repo_file("index.md", "../specs/nosuch.yaml") is None
    assert hook.repo_file("index.md", "../../outside.txt") is None
