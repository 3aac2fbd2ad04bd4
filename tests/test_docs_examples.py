"""Every shell, console and Python example of README.md and docs/ runs, and prints what the page
shows; a block that cannot run in a test says why (``<!-- illustrative: WHY -->``).

The conventions are in docs/design.md ("The docs") and tests/docs_examples.py. Blocks that build
full-size Keras models are marked ``<!-- heavy -->`` and run with ``pytest -m heavy``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from docs_examples import (
    ROOT,
    Block,
    NotRunnable,
    blocks,
    describe,
    make_sandbox,
    output_matches,
    pages,
    plan,
    run_page,
)

PAGES = {path.relative_to(ROOT).as_posix(): blocks(path) for path in pages()}
HEAVY = [page for page, bs in PAGES.items() if any(b.marker == "heavy" for b in bs)]
RUN = [page for page, bs in PAGES.items() if any(b.kind and b.marker not in ("illustrative", "heavy") for b in bs)]


def _run(page: str, heavy: bool, tmp_path: Path, timeout: float) -> None:
    steps = plan(PAGES[page], heavy)
    results = run_page(make_sandbox(tmp_path), steps, timeout)
    ran = sum(1 for s in steps if s["kind"] != "file")
    assert all(r["ok"] for r in results), describe(results)
    assert len(results) == ran, f"{len(results)} of {ran} steps ran"


@pytest.mark.parametrize("page", RUN)
def test_page_examples_run(page, tmp_path):
    _run(page, False, tmp_path, timeout=300)


@pytest.mark.heavy
@pytest.mark.parametrize("page", HEAVY)
def test_page_examples_run_with_the_heavy_ones(page, tmp_path):
    _run(page, True, tmp_path, timeout=3600)


def test_every_example_runs_or_says_why_not():
    for page, bs in PAGES.items():
        for b in bs:
            if b.marker == "illustrative":
                assert b.reason, f"{b.where}: say why the block does not run: <!-- illustrative: WHY -->"
            if b.marker in ("illustrative", "heavy"):
                assert b.kind, f"{b.where}: a `{b.lang}` block is never run; the marker is misleading"
            assert b.lang, f"{b.where}: a fence names its language (```sh, ```console, ```python, ```text, ...)"


def test_a_block_that_installs_packages_is_never_run():
    install = Block("p.md", 3, "sh", 'pip install ".[render]"')
    with pytest.raises(NotRunnable, match="p.md:3: the block installs packages"):
        plan([install], heavy=True)
    install.marker, install.reason = "illustrative", "installs the package"
    assert plan([install], heavy=True) == []


def test_output_comparison_is_exact_but_for_ellipses():
    assert output_matches("a 1\nb 2\n", "a 1  \nb 2")
    assert not output_matches("a 1\nb 2", "a 1\nb 3")
    assert output_matches("total: … parameters", "total: 6,283,408 parameters")
    assert output_matches("first\n…\nlast", "first\nx\ny\nlast")
    assert output_matches("first\n…\nlast", "first\nlast")
    assert not output_matches("first\nlast", "first\nx\nlast")


def test_markers_and_outputs_are_read_from_the_markdown(tmp_path):
    page = tmp_path / "p.md"
    page.write_text(
        "<!-- illustrative: needs a GPU -->\n```sh\nnvidia-smi\n```\n\n"
        "<!-- spec(1): bad.yaml -->\n```yaml\nversion: 1\n```\n"
        "```python\nprint(6 * 7)\n```\n\n```text\n42\n```\n"
        "  ```console\n  $ inceptionspec diff a b  # exits 1\n  …\n  ```\n",
        encoding="utf-8",
    )
    import docs_examples

    old = docs_examples.ROOT
    docs_examples.ROOT = tmp_path
    try:
        found = blocks(page)
    finally:
        docs_examples.ROOT = old
    assert [(b.kind, b.marker, b.line) for b in found] == [
        ("sh", "illustrative", 2),
        ("spec", "spec", 7),
        ("python", "", 10),
        ("console", "", 17),
    ]
    assert found[0].reason == "needs a GPU" and found[1].reason == "bad.yaml" and found[1].spec_exit == 1
    assert found[2].output == "42"
    steps = plan(found, heavy=False)
    assert [s["kind"] for s in steps] == ["file", "spec", "python", "sh"]
    assert steps[-1]["exit"] == 1 and steps[-1]["output"] == "…"
