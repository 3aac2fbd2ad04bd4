"""Escaping by construction: one function per output context, and every writer goes through it.

Three kinds of checks:

* the functions themselves (each context's metacharacters, control characters made visible);
* the writers' syntax trees: an f-string in a writer module interpolates only calls of
  ``inceptionspec.core.escape`` (or ALL-CAPS constants); no module but ``core/escape.py``
  imports another escaping library or makes a rich ``Console``; SVG and HTML are built only
  from ``Markup`` (the SVG writer refuses a plain string at run time);
* every writer fed hostile strings in every field it writes (ids, labels, tooltips, titles, names,
  values), its output read back with the format's own parser: XML, markdown-it, a DOT tokenizer,
  Mermaid's line grammar, the terminal's bytes.
"""

from __future__ import annotations

import ast
import dataclasses
import io
import json
import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest

from inceptionspec import analyze, diff, load
from inceptionspec.analysis import report
from inceptionspec.core import escape as esc
from inceptionspec.render import layout
from inceptionspec.render.graph import _dot, _mermaid, _MermaidIds
from inceptionspec.render.html import _html
from inceptionspec.render.svg import _Svg, _svg
from inceptionspec.render.tree import Frame, Seq, Unit

PACKAGE = Path(__file__).resolve().parents[1] / "inceptionspec"
#: Modules that write an output format: every f-string in them interpolates escape calls only.
WRITERS = ["render/svg.py", "render/html.py", "render/graph.py"]
#: Modules that write markdown and terminal text from rows of plain strings: their writer
#: functions must escape every cell (checked on their output below, and their f-strings are
#: checked like the writers'.
CELL_WRITERS = {
    "compare/formats.py": ["markdown", "_markdown_row", "print_text"],
    "analysis/report.py": ["table", "markdown"],
}

#: Strings that try each output context: attribute and element breakouts, script, DOT and
#: Mermaid statements on a new line, terminal control sequences, bidi overrides, rich markup and
#: emoji codes, markdown syntax, characters XML cannot hold.
HOSTILE = [
    'x" onmouseover="document.documentElement.setAttribute(\'data-pwned\',1)" y="',
    "</title><script>document.documentElement.setAttribute('data-pwned',1)</script>",
    "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned',1)\">",
    "' onload='document.documentElement.setAttribute(`data-pwned`,1)",
    'a\nb"]; evil [label="x"]; c -> d [label="',
    "\x1b[2K\r\x1b]0;pwned\x07 valid",
    "\u202eevil\u2066",
    "[/x][bold red]x[/bold red] :smile:",
    "`|*_#<>&\\ [link](javascript:alert(1)) | cell",
    '%%{init: {"securityLevel": "loose"}}%%\nclick n call alert()',
    '-->|"x"| n_evil\nend\nsubgraph s["',
    "\x00\x85\u2028\ud800\ufffe",
]
PAYLOAD_MARKERS = ("onmouseover", "onerror", "onload", "<script", "<img", "evil", "pwned", "alert")


# --- the functions ---------------------------------------------------------------------------------


def test_terminal_shows_control_characters_and_bidi_overrides_as_visible_escapes():
    assert esc.terminal("a\x1b[2Kb\x07\u202ec\x85") == "a\\x1b[2Kb\\x07\\u202ec\\x85"
    assert esc.terminal("two\nlines\tand a tab") == "two\nlines\tand a tab"
    assert esc.line("two\nlines\tx") == "two\\x0alines\\x09x"
    assert esc.terminal("naïve 名前 ×") == "naïve 名前 ×"
    assert esc.line(esc.line("\x1b")) == esc.line("\x1b"), "escaping twice changes nothing"


def test_xml_text_and_attributes_escape_their_metacharacters_and_what_xml_cannot_hold():
    assert esc.xml_text("<a href='x'>&") == "&lt;a href='x'&gt;&amp;"
    assert esc.xml_attr("\"'<>&\n") == "&quot;&#39;&lt;&gt;&amp;&#10;"
    assert esc.xml_text("\x00\ud800\ufffe") == "\\x00\\ud800\\ufffe"
    assert esc.xml_attr(3.25) == "3.2" and esc.xml_attr(3) == "3"
    # An attribute value is text even when it holds markup (a page in an iframe's srcdoc).
    assert esc.xml_attr(esc.Markup("<b>&lt;</b>")) == "&lt;b&gt;&amp;lt;&lt;/b&gt;"


def test_markup_escapes_the_plain_text_it_is_joined_with():
    tag = esc.element("g", "<b>", esc.element("i", "x"), data_id='a"b', class_="u")
    assert tag == '<g data-id="a&quot;b" class="u">&lt;b&gt;<i>x</i></g>'
    assert esc.Markup("<p>") + "<b>" == "<p>&lt;b&gt;"
    assert esc.Markup(",").join(["<a>", esc.Markup("<b/>")]) == "&lt;a&gt;,<b/>"
    with pytest.raises(ValueError):
        esc.start("g", **{"on mouseover": "x"})
    with pytest.raises(TypeError):
        _Svg(html=False).add('<g id="plain str">')  # the SVG writer takes only Markup


def test_script_json_cannot_close_the_script_element_or_end_a_line():
    text = esc.script_json({"a": "</script><!-- \u2028 & >"})
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!-- \u2028 & >"}


def test_dot_strings_escape_quotes_backslashes_and_newlines():
    assert esc.dot('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    assert esc.dot("\x1b") == '"\\\\x1b"'


def test_mermaid_labels_keep_words_and_encode_everything_else():
    assert esc.mermaid_label("3×3 conv 64, a-b_c (x)") == "3×3 conv 64, a-b_c (x)"
    assert esc.mermaid_label('"]|#<`') == "#34;#93;#124;#35;#60;#96;"
    assert esc.mermaid_label("a\nb") == "a<br/>b"
    assert esc.mermaid_id("a-b.c d") == "a_b_c_d"


def test_markdown_text_and_code_spans():
    assert esc.md_text("adaptive_avgpool") == "adaptive_avgpool"
    assert esc.md_text("_x_ *y* [a](b) <img> a|b `c`") == "\\_x\\_ \\*y\\* \\[a\\](b) \\<img\\> a\\|b \\`c\\`"
    assert esc.md_code("a`b|c") == "``a`b\\|c``"
    assert esc.md_code("`x") == "`` `x ``"


def test_mermaid_ids_are_unique_in_linear_time():
    ids = _MermaidIds()
    names = ["a-b", "a_b", "a.b", "a_b_2", "a b"]
    made = [ids(n) for n in names]
    assert len(set(made)) == len(made) and made[0] == "n_a_b"
    assert ids("a-b") == made[0], "the same name keeps its id"
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", m) for m in made)


# --- the writers' syntax trees -----------------------------------------------------------------------


def _is_escape_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "esc"
    )


def _is_constant(node: ast.AST) -> bool:
    """An ALL-CAPS constant of the code, or an entry of a constant table (``MARKS[status]``)."""
    if isinstance(node, ast.Subscript):
        return _is_constant(node.value)
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return bool(name) and name.isupper()


def _unescaped_interpolations(tree: ast.AST) -> list[int]:
    """Lines of f-string values that are neither an escape call nor a constant; an f-string that is
    itself the argument of an escape call is escaped as a whole."""
    escaped = {id(arg) for node in ast.walk(tree) if _is_escape_call(node) for arg in node.args}
    return [
        value.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr) and id(node) not in escaped
        for value in node.values
        if isinstance(value, ast.FormattedValue) and not (_is_escape_call(value.value) or _is_constant(value.value))
    ]


@pytest.mark.parametrize("module", WRITERS)
def test_writers_interpolate_only_escaped_values(module):
    """A writer can only put text into its output through an escape function: `f"<g id={name}>"`
    fails here (write `esc.start("g", id=name)`), as does `f"label={label}"` (`esc.dot(label)`)."""
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    assert _unescaped_interpolations(tree) == [], f"{module}: unescaped f-string values at these lines"


@pytest.mark.parametrize("module", sorted(CELL_WRITERS))
def test_markdown_and_terminal_writers_interpolate_only_escaped_values(module):
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    functions = {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}
    for name in CELL_WRITERS[module]:
        assert _unescaped_interpolations(functions[name]) == [], f"{module}:{name}: unescaped f-string values"


def _package_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "escape.py")


def test_only_the_escape_module_escapes_or_makes_a_rich_console():
    """Another escaper (xml.sax.saxutils.escape leaves quotes alone; html.escape, markupsafe) or a
    hand-written `.replace('"', ...)` would be a second way to forget something; a rich Console made
    elsewhere would read user text as markup."""
    offenders = []
    for path in _package_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(PACKAGE)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in ("xml.sax.saxutils", "html", "markupsafe"):
                offenders.append(f"{where}:{node.lineno} imports {node.module}")
            if isinstance(node, ast.Import) and any(a.name in ("html", "markupsafe") for a in node.names):
                offenders.append(f"{where}:{node.lineno} imports an escaper")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Console":
                offenders.append(f"{where}:{node.lineno} makes a rich Console")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "replace"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value in ('"', "<", ">", "&", "|", "`")
            ):
                offenders.append(f"{where}:{node.lineno} escapes by hand")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "Markup":
                if not all(isinstance(a, ast.Constant) or _is_constant(a) for a in node.args):
                    offenders.append(f"{where}:{node.lineno} makes Markup of a value")
    assert offenders == []


def test_commands_print_only_through_the_escaping_sinks():
    """`click.echo`, `print` and rich consoles are called in one place each: the CLI's `_stdout`
    and `_stderr` (which escape for the terminal) and `esc.console()`."""
    allowed = {
        ("cli/__init__.py", "_stderr"),
        ("cli/__init__.py", "_stdout"),
        ("compare/formats.py", "_print_json"),  # JSON and markdown, escaped for their formats
        ("compare/formats.py", "_print_markdown"),
        ("data/shapes.py", "main"),  # a script that writes test images, printing its own arguments
    }
    offenders = []
    for path in _package_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(PACKAGE))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.Module)):
                continue
            name = getattr(function, "name", "<module>")
            for node in ast.walk(function) if isinstance(function, ast.FunctionDef) else ():
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                printing = (isinstance(func, ast.Name) and func.id == "print") or (
                    isinstance(func, ast.Attribute) and func.attr == "echo"
                )
                if printing and (where, name) not in allowed:
                    offenders.append(f"{where}:{node.lineno} in {name}")
    assert offenders == []


# --- every writer, fed hostile strings ---------------------------------------------------------------


@cache
def _analysis(name: str = "googlenet"):
    return analyze(load(name))


def _poisoned(diagram, depth: int = 0):
    """The diagram with every string it writes replaced by a hostile one (ids kept unique)."""
    counter = iter(range(10**6))

    def bad() -> str:
        i = next(counter)
        return HOSTILE[i % len(HOSTILE)] + f"#{i}"

    for box in diagram.boxes():
        if isinstance(box, Unit):
            box.id, box.tip, box.names = bad(), bad(), (bad(), bad())
            box.lines = [[(bad(), style) for _, style in line] for line in box.lines]
        elif isinstance(box, Frame):
            box.id, box.tip, box.name, box.kind, box.names = bad(), bad(), bad(), bad(), (bad(), bad())
            box.title = [(bad(), style) for _, style in box.title]
        elif isinstance(box, Seq) and box.labels:
            box.labels = [bad() for _ in box.labels]
    diagram.name, diagram.title, diagram.subtitle = bad(), bad(), bad()
    return diagram


SVG_TAGS = {"svg", "title", "style", "defs", "marker", "path", "rect", "g", "text", "tspan", "circle"}
SVG_ATTRIBUTES = {
    "xmlns", "class", "width", "height", "viewBox", "data-layout", "id", "refX", "refY", "markerWidth",
    "markerHeight", "orient", "d", "fill", "x", "y", "rx", "marker-end", "text-anchor", "data-id", "data-i",
    "data-y0", "data-ho", "data-hc", "data-side", "data-j", "data-h", "cx", "cy", "r",
    "{http://www.w3.org/XML/1998/namespace}space",
}  # fmt: skip


def test_svg_with_hostile_strings_everywhere_parses_and_has_only_the_renderers_elements():
    diagram = _poisoned(layout(_analysis()))
    root = ET.fromstring(_svg(diagram))
    tags = {element.tag.split("}")[-1] for element in root.iter()}
    attributes = {name for element in root.iter() for name in element.attrib}
    assert tags <= SVG_TAGS, tags - SVG_TAGS
    assert attributes <= SVG_ATTRIBUTES, attributes - SVG_ATTRIBUTES
    # Each box's id comes back from the parser as it was (unsafe characters made visible), as an attribute value.
    ids = sorted(e.get("data-id") for e in root.iter() if e.get("data-id") is not None)
    boxes = [b for b in diagram.boxes() if isinstance(b, (Unit, Frame))]
    assert ids == sorted(ET.fromstring(f'<a b="{esc.xml_attr(b.id)}"/>').get("b") for b in boxes)
    assert all("\\x1b" in i for i in ids if "[2K" in i)


def test_html_page_with_hostile_strings_has_one_script_and_no_event_handlers():
    from html.parser import HTMLParser

    page = _html(_poisoned(layout(_analysis())))
    found: dict[str, list] = {"script": [], "handlers": []}

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "script":
                found["script"].append(tag)
            found["handlers"] += [name for name, _ in attrs if name.startswith("on")]

    Reader().feed(page)
    assert len(found["script"]) == 1 and found["handlers"] == []


_DOT_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|//[^\n]*|[A-Za-z_][A-Za-z0-9_.]*|-?[0-9.]+|->|[{}\[\];=,]|\s+|#[0-9a-f]+')


def _dot_tokens(text: str) -> list[str]:
    tokens, at = [], 0
    while at < len(text):
        match = _DOT_TOKEN.match(text, at)
        assert match, f"DOT cannot tokenize at {text[at : at + 40]!r}"
        tokens.append(match.group())
        at = match.end()
    return tokens


def test_dot_with_hostile_strings_keeps_them_inside_strings_and_comments():
    text = _dot(_poisoned(layout(_analysis())))
    tokens = _dot_tokens(text)
    bare = " ".join(t for t in tokens if not t.startswith(('"', "//")) and not t.isspace())
    assert not any(marker in bare for marker in PAYLOAD_MARKERS), bare[:500]
    assert all("\n" not in t for t in tokens if t.startswith("//"))
    assert bare.count("{") == bare.count("}")


_MERMAID_LINE = re.compile(
    r"^(\s*%% [^\n%]*|flowchart TB|\s*direction TB|\s*end"
    r'|\s*[A-Za-z0-9_]+(\["[^"\n]*"\]|\(\["[^"\n]*"\]\))'
    r'|\s*subgraph [A-Za-z0-9_]+\["[^"\n]*"\]'
    r'|\s*[A-Za-z0-9_]+ (-->|-\.->)(\|"[^"\n]*"\|)? [A-Za-z0-9_]+'
    r"|\s*classDef [a-z]+ fill:#[0-9a-f]{6},stroke:#[0-9a-f]{6},color:#1f2933"
    r"|\s*class [A-Za-z0-9_,]+ [a-z]+)$"
)


def test_mermaid_with_hostile_strings_has_only_the_writers_statements():
    text = _mermaid(_poisoned(layout(_analysis())))
    assert "%%{" not in text, "Mermaid reads %%{init: ...}%% directives anywhere, even in comments"
    for line in text.splitlines():
        assert _MERMAID_LINE.match(line), line
        if not line.lstrip().startswith("%%"):
            assert "%%" not in line


def _poisoned_analysis():
    analysis = _analysis()
    layers = tuple(
        dataclasses.replace(s, name=HOSTILE[i % len(HOSTILE)] + str(i), label=HOSTILE[(i + 1) % len(HOSTILE)])
        for i, s in enumerate(analysis.layers)
    )
    blocks = tuple(
        dataclasses.replace(b, name=HOSTILE[i % len(HOSTILE)] + str(i), kind=HOSTILE[(i + 3) % len(HOSTILE)])
        for i, b in enumerate(analysis.blocks)
    )
    return dataclasses.replace(analysis, name=HOSTILE[5], layers=layers, blocks=blocks)


def _markdown_table_rows(text: str) -> list[list[str]]:
    """The rendered table rows (markdown-it, GitHub's table syntax) as lists of cell texts; the
    HTML has no tag or attribute the writer did not mean (no raw HTML got through)."""
    from html.parser import HTMLParser

    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").enable("table").render(text)
    tags: set[str] = set()
    attributes: set[str] = set()

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.add(tag)
            attributes.update(name for name, _ in attrs)

    Reader().feed(html)
    expected = {
        "h3",
        "p",
        "strong",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "code",
        "ul",
        "li",
        "details",
        "summary",
    }
    assert tags <= expected and attributes <= {"style"}, (tags - expected, attributes)
    rows = re.findall(r"<tr>(.*?)</tr>", html, flags=re.S)
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S) for row in rows]


@pytest.mark.parametrize("layers", [False, True])
def test_summary_markdown_with_hostile_names_keeps_five_cells_a_row(layers):
    rows = _markdown_table_rows(report.markdown(_poisoned_analysis(), layers))
    assert rows and all(len(cells) == 5 for cells in rows)


def _poisoned_diff():
    result = diff("googlenet", "googlenet_bn")
    blocks = tuple(
        dataclasses.replace(block, name=HOSTILE[i % len(HOSTILE)] + str(i), kind=HOSTILE[(i + 2) % len(HOSTILE)])
        for i, block in enumerate(result.blocks)
    )
    return dataclasses.replace(result, blocks=blocks)


def test_diff_markdown_with_hostile_names_keeps_its_tables():
    from inceptionspec.compare import markdown

    rows = _markdown_table_rows(markdown(_poisoned_diff(), show_layers=True))
    widths = {len(cells) for cells in rows}
    assert widths <= {5, 6, 7}, widths  # totals, blocks, layers


def _terminal_output(write) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    original = esc.console

    def console(stderr: bool = False, soft_wrap: bool = True) -> Console:
        made = original(stderr, soft_wrap)
        made.file, made.width = buffer, 2000
        return made

    esc.console = console
    try:
        write()
    finally:
        esc.console = original
    return buffer.getvalue()


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda: report.table(_poisoned_analysis()), id="summary"),
        pytest.param(lambda: report.table(_poisoned_analysis(), layers=True), id="summary-layers"),
        pytest.param(lambda: __import__("inceptionspec.compare").compare.print_text(_poisoned_diff(), True), id="diff"),
    ],
)
def test_terminal_tables_show_control_characters_and_markup_as_text(write):
    out = _terminal_output(write)
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out and "\x85" not in out
    assert "\\x1b[2K" in out and "\\u202e" in out
    assert "[bold red]" in out and ":smile:" in out, "rich markup and emoji codes are printed as written"


# --- the explore outputs: diff pictures and notebook views ----------------------------------------------


def _tags_and_handlers(html: str) -> tuple[list[str], list[str]]:
    """Script-like elements and event handlers in a page, and in the pages its iframes hold."""
    from html.parser import HTMLParser

    tags: list[str] = []
    handlers: list[str] = []
    inner: list[str] = []

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.extend([tag] if tag in ("script", "img", "iframe", "object", "embed", "svg") else [])
            handlers.extend(name for name, _ in attrs if name.startswith("on"))
            inner.extend(value for name, value in attrs if name == "srcdoc" and value)

    Reader().feed(html)
    for page in inner:
        more_tags, more_handlers = _tags_and_handlers(page)
        tags += more_tags
        handlers += more_handlers
    return tags, handlers


@pytest.mark.parametrize("fmt", ["svg", "html"])
def test_the_diff_picture_with_hostile_names_holds_only_its_own_markup(fmt):
    from inceptionspec.render.diffpicture import render_diff

    hostile_spec = str(Path(__file__).parent / "hostile" / "out_title_markup.yaml")
    for result in (_poisoned_diff(), diff(hostile_spec, "googlenet")):
        _check_diff_picture(render_diff(result, fmt), fmt)


def _check_diff_picture(text: str, fmt: str) -> None:
    tags, handlers = _tags_and_handlers(text)
    assert handlers == [] and not {"img", "iframe", "object", "embed"} & set(tags)
    assert tags.count("script") == (0 if fmt == "svg" else 2)  # the marks as JSON data, and the page's script
    if fmt == "svg":
        ET.fromstring(text)


def test_notebook_views_with_hostile_names_hold_only_their_own_markup():
    from inceptionspec.render.notebook import analysis_html, diff_html

    hostile_spec = str(Path(__file__).parent / "hostile" / "out_title_markup.yaml")  # title, labels, kinds
    for html in (analysis_html(analyze(load(hostile_spec))), diff_html(diff("googlenet", hostile_spec))):
        tags, handlers = _tags_and_handlers(html)
        assert handlers == [] and not {"img", "object", "embed"} & set(tags), (tags, handlers)
