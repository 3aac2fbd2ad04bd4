"""The documentation as a reader meets it, on the site and in the repository: links that resolve,
lists that nest, a Python API page, the public API in `dir(inceptionspec)`, one picture readable
on the home page, console tables that line up."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import inceptionspec

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(p for p in DOCS.rglob("*.md") if "_hooks" not in p.parts)]

_FENCED = re.compile(r"^([ \t]*)(`{3,}|~{3,}).*?^\1\2[ \t]*$", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+).+?\1", re.S)
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?(?P<target>[^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _prose(text: str) -> str:
    """The markdown without code blocks and code spans, where links are only examples."""
    return _CODE_SPAN.sub("", _FENCED.sub("", text))


def _relative_links(page: Path) -> list[str]:
    targets = [m["target"] for m in _LINK.finditer(_prose(page.read_text(encoding="utf-8")))]
    return [t for t in targets if not re.match(r"^([a-z][a-z0-9+.-]*:|#)", t)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves_to_a_file_in_the_repository(page):
    """Links are plain relative links to files, so they work on the site and in the repository."""
    for target in _relative_links(page):
        assert not target.startswith("?"), f"{page.name}: ({target}) is not a link a repository can follow"
        path = (page.parent / target.split("#", 1)[0]).resolve()
        assert path.is_file(), f"{page.relative_to(ROOT)}: ({target}) does not resolve to a file"


def test_the_link_check_sees_links_and_ignores_code(tmp_path):
    page = tmp_path / "p.md"
    page.write_text(
        "[a](x.md#y) ![b](img/p.svg) [web](https://example.org) [top](#top)\n"
        "`[no](code.md)`\n```md\n[no](fence.md)\n```\n",
        encoding="utf-8",
    )
    assert _relative_links(page) == ["x.md#y", "img/p.svg"]


# --- lists ----------------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_nested_lists_are_indented_by_four_spaces(page):
    """Python-Markdown (the site) nests a list only under 4 spaces; 2 render flat, and a wrapped
    line starting `128. ` becomes a list item of its own."""
    text = _FENCED.sub(lambda m: "\n" * m.group(0).count("\n"), page.read_text("utf-8"))  # lines keep their numbers
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(r"^( +)([-*+]|\d+\.) ", line)
        assert not (m and len(m[1]) % 4), f"{page.relative_to(ROOT)}:{n}: a list item indented by {len(m[1])}"


def test_the_block_forms_render_as_a_nested_list():
    markdown = pytest.importorskip("markdown", reason="Python-Markdown, the site's renderer: pip install '.[docs]'")
    html = markdown.markdown((DOCS / "language.md").read_text(encoding="utf-8"), extensions=["tables"])
    block = html[html.index("keyed by its name") :]
    block = block[: block.index("</ul>\n<p>A branch may hold")]
    nested = block[block.index("<ul>") :]
    assert nested.count("<li>") == 3, "the three block forms nest under the block bullet"
    assert "a template call" in nested and "a sequence" in nested
    # `repeat: N` is a paragraph of the block bullet, not glued to its last form.
    assert re.search(r"</ul>\s*<p><code>repeat: N</code>", block)


# --- the Python API ---------------------------------------------------------------------------


def test_dir_lists_the_public_api():
    listed = dir(inceptionspec)
    for name in inceptionspec.__all__:
        assert name in listed
    assert "load" in listed and "build_model" in listed and "__version__" not in inceptionspec.__all__


def test_the_api_page_documents_every_public_name_without_importing_tensorflow():
    """mkdocstrings reads the source with griffe; the page's every object resolves that way, and
    nothing imports TensorFlow on the way."""
    page = (DOCS / "api.md").read_text(encoding="utf-8")
    paths = re.findall(r"^::: (\S+)$", page, re.M)
    documented = {p.rsplit(".", 1)[-1] for p in paths}
    assert documented == set(inceptionspec.__all__)
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert any("mkdocstrings" in (p if isinstance(p, str) else next(iter(p))) for p in config["plugins"])
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^docs = \[.*"mkdocstrings\[python\]', pyproject, re.M)
    pytest.importorskip("griffe", reason="the docs extra: pip install '.[docs]'")
    code = (
        "import sys, griffe\n"
        f"package = griffe.load('inceptionspec', search_paths=[{str(ROOT)!r}], allow_inspection=False)\n"
        f"for path in {paths!r}:\n"
        "    obj = package[path.removeprefix('inceptionspec.')]\n"
        "    assert obj.docstring and obj.docstring.value.strip(), path\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- the home page and the console tables --------------------------------------------------------


def test_the_home_page_picture_is_drawn_at_its_own_size_below_its_text():
    page = (DOCS / "index.md").read_text(encoding="utf-8")
    assert "on the right" not in page
    section = page[page.index("## What it draws") :].split("\n## ", 1)[0]
    assert "the picture below" in section
    assert "<!-- render: inceptionspec googlenet --depth block -->" in section
    assert "width=" not in section


def test_console_tables_are_set_in_fonts_with_box_drawing_at_the_letters_advance():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    css = (DOCS / config["extra_css"][0]).read_text(encoding="utf-8")
    stack = re.search(r"--md-code-font-family:\s*([^;]+);", css)
    assert stack, "the code font stack is set"
    first = stack[1].split(",")[0].strip().strip("\"'")
    assert first == "DejaVu Sans Mono"
    # The first font's box-drawing characters advance as far as its letters.
    ttlib = pytest.importorskip("fontTools.ttLib", reason="fontTools reads the font's advances")
    matplotlib = pytest.importorskip("matplotlib", reason="matplotlib ships DejaVu Sans Mono")
    font = ttlib.TTFont(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSansMono.ttf")
    cmap, metrics = font.getBestCmap(), font["hmtx"].metrics
    letter = metrics[cmap[ord("a")]][0]
    for char in "┏━┳┓┃│┡╇┩└┴┘─×":
        assert metrics[cmap[ord(char)]][0] == letter, char
