"""mkdocs hook: the pages of the site that are generated, so they cannot drift from the code.

* ``reference/language.md`` — every key of the spec language, from the JSON Schema that the
  pydantic models generate (:func:`inceptionspec.schema.schema`);
* ``reference/cli.md`` — every command and option, from the click command tree
  (:data:`inceptionspec.cli.main`);
* ``specs/NAME.md`` — one page per shipped spec: its notes as written in ``docs/specs/`` (which
  the repository shows too), with its numbers, its pictures (drawn by :mod:`inceptionspec.render`),
  its interactive page and its source merged in; ``specs/README.md``, their index, gets a table of
  every spec's numbers.

Hand-written pages may also use three directives, expanded when the site is built:

* ``<!-- spec: NAME.yaml -->`` just before a ```` ```yaml ```` block: the block is written to
  ``NAME.yaml`` in a scratch folder and must load and analyse, or the build fails
  (``spec(1)``: must be invalid, for pages that show an error);
* ``<!-- console: inceptionspec ARGS -->`` (or ``console(N)`` for exit status N): runs the
  command in that folder and shows it with its output; ``<!-- exec: … -->`` inserts the output
  as markdown; ``<!-- render: NAME.yaml [ARGS] -->`` inserts the picture;
* ``<!-- excerpt: FILE START STOP -->``: the lines of FILE from the first matching the regex
  START up to the next matching STOP, as a code block (robust to lines moving).

``<!-- illustrative: … -->`` and ``<!-- heavy -->`` mark examples for the docs-examples test
(tests/docs_examples.py); the site drops them.

Links from a page to a repository file outside ``docs/`` (``../../specs/googlenet.yaml``, which
work when browsing the repository) point at a copy the site publishes under ``repo/``.

The generators are plain functions without mkdocs, so the tests call them directly.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import inspect
import json
import os
import posixpath
import re
import shlex
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

#: The networks' index; the navigation lists every shipped spec's page after it.
NETWORKS_INDEX = "specs/README.md"


class DocsError(Exception):
    """A generated page or a directive failed; the build stops with this message."""


# --- the language reference ---------------------------------------------------------------

PARAM_PATTERN = r"^\$[A-Za-z_][A-Za-z0-9_]*$"
#: Upper bounds at or above this are limits against runaway specs, not design choices; the page
#: mentions them once instead of in every row.
CAP = 100_000
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]*(?:_[A-Za-z0-9-]+)*$"  # inceptionspec.core.names

#: The reference's sections: (title, anchor, intro, definitions). Definitions the schema has and
#: no section names are listed at the end, so a new one is never left out.
SECTIONS: list[tuple[str, str, str, list[str]]] = [
    (
        "Blocks",
        "blocks",
        "A block item is a one-key mapping `- name: body`; the body is an inline block "
        "(`branches`), a sequence (`layers`) or a template call.",
        ["InlineBlock", "SequenceBlock", "BranchBody", "ResidualMerge", "ResidualArgs", "TemplateCall", "Template"],
    ),
    ("Heads", "heads", "", ["Head"]),
    (
        "Training",
        "training",
        "Used by `inceptionspec train` ([the tutorial](../tutorials/training.md)) and `compile_for_training`.",
        [
            "Training",
            "Optimizer",
            "ConstantSchedule",
            "StepSchedule",
            "ExponentialSchedule",
            "CosineSchedule",
            "Augmentation",
            "RandomResizedCrop",
            "Preprocessing",
        ],
    ),
    ("Other settings", "other", "", ["References", "Width", "Defaults"]),
]


def _clean(text: str) -> str:
    text = text.replace("``", "`")
    return " ".join(inspect.cleandoc(text).split())


def _num(v: Any) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        v = int(v)
    if isinstance(v, int) and abs(v) >= 10_000:
        return f"{v:,}"
    return str(v)


class _Reference:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.defs: dict[str, Any] = schema.get("$defs", {})
        # Op items in the op table's order: the order of the item union under `stages`.
        union = (schema.get("properties", {}).get("stages", {}).get("items") or {}).get("oneOf", [])
        ordered = [self._ref_name(o) for o in union if "$ref" in o]
        items = [n for n in self.defs if n.endswith("Item")]
        self.op_items = [n for n in ordered if n in items] + [n for n in items if n not in ordered]
        self.ops = [self._ref_name(self._item_target(n)) for n in self.op_items]
        self.documented: set[str] = set()

    # Types -----------------------------------------------------------------------------
    @staticmethod
    def _ref_name(s: dict[str, Any]) -> str:
        return s["$ref"].rsplit("/", 1)[-1]

    def _item_target(self, item: str) -> dict[str, Any]:
        (prop,) = self.defs[item]["properties"].values()
        return next(o for o in prop.get("anyOf", [prop]) if "$ref" in o)

    def item_kind(self, item: str) -> str:
        return next(iter(self.defs[item]["properties"]))

    def link(self, name: str) -> str:
        if name.endswith("Defaults") and name != "Defaults":
            return f"[{name}](#def-defaults-partial)"
        if name.endswith("Item"):
            return "[item](#items)"
        return f"[{name}](#def-{name.lower()})"

    def type_of(self, s: dict[str, Any]) -> str:
        if not s:
            return "any"
        if "$ref" in s:
            return self.link(self._ref_name(s))
        if "oneOf" in s and any(o.get("$ref", "").endswith("Item") for o in s["oneOf"]):
            return "[item](#items)"
        if "anyOf" in s or "oneOf" in s:
            options = s.get("anyOf") or s.get("oneOf") or []
            param = any(o.get("pattern") == PARAM_PATTERN for o in options)
            null = any(o.get("type") == "null" for o in options)
            parts = [self.type_of(o) for o in options if o.get("pattern") != PARAM_PATTERN and o.get("type") != "null"]
            text = " or ".join(dict.fromkeys(parts))
            if param:
                text += " or `$param`"
            if null:
                text += " or null"
            return text.removeprefix(" or ")
        if "const" in s:
            return f"`{json.dumps(s['const'])}`"
        if "enum" in s:
            return "one of " + ", ".join(f"`{v}`" for v in s["enum"])
        kind = s.get("type")
        if isinstance(kind, list):
            names = {"array": "list", "object": "mapping"}
            return " or ".join(names.get(k, k) for k in kind)
        if kind == "array":
            inner = self.type_of(s.get("items", {}))
            if " or " in inner:
                inner = f"({inner})"
            lo, hi = s.get("minItems"), s.get("maxItems")
            if lo is not None and lo == hi:
                return f"list of {lo} × {inner}"
            return f"list of {inner}" + (f" (at least {lo})" if lo else "")
        if kind == "object":
            pattern_props = s.get("patternProperties")
            if pattern_props:
                ((_, value),) = pattern_props.items()
                return f"mapping name → {self.type_of(value)}"
            extra = s.get("additionalProperties")
            if isinstance(extra, dict):
                return f"mapping → {self.type_of(extra)}"
            return "mapping"
        if kind == "string":
            if s.get("pattern") == NAME_PATTERN:
                return "*name*"
            return "string"
        if kind in ("integer", "number"):
            bounds = []
            for key, sign in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<")):
                if key in s and not (key == "maximum" and s[key] >= CAP):
                    bounds.append(f"{sign} {_num(s[key])}")
            return kind + (" " + " and ".join(bounds) if bounds else "")
        return str(kind or "any")

    # Tables ----------------------------------------------------------------------------
    def table(self, owner: str, d: dict[str, Any]) -> list[str]:
        props: dict[str, Any] = d.get("properties") or {}
        required = set(d.get("required") or [])
        rows = ["| key | type | default | description |", "|---|---|---|---|"]
        for key, s in props.items():
            if "default" in s:
                default = f"`{json.dumps(s['default'], ensure_ascii=False)}`"
            elif key in required:
                default = "required"
            else:
                default = "—"
            # Every key's description is written in the pydantic models (a test checks it).
            cell = _clean(s.get("description", "")).replace("|", "\\|")
            kind = self.type_of(s).replace("|", "\\|")
            rows.append(f"| `{key}` | {kind} | {default} | {cell} |")
        return rows

    def definition(self, name: str, level: str = "###", heading: str | None = None) -> list[str]:
        d = self.defs[name]
        self.documented.add(name)
        out = [f"{level} {heading or name} {{ #def-{name.lower()} }}", ""]
        if d.get("description"):
            out += [_clean(d["description"]), ""]
        if d.get("properties"):
            out += self.table(name, d) + [""]
        return out

    # The page ---------------------------------------------------------------------------
    def page(self) -> str:
        from inceptionspec.ops import USER_OPS

        s = self.schema
        out = [
            "# Spec keys",
            "",
            '!!! info "Generated"',
            "    This page is generated from the spec language's JSON Schema "
            f"(`inceptionspec schema`, `{s.get('$id', '')}`) each time the site is built, so it lists exactly "
            "the keys the loader accepts. [The spec language](../language.md) explains how they fit together.",
            "",
            "Types: `$param` means a template parameter may stand for the value (inside a template); "
            "*name* is letters, digits and `-`, joined by single `_` (never at either end), at most 64 "
            "characters: one part of a layer's spec path (`inception_4c.3x3.conv`). Sizes are at most "
            "100,000 and counts at most 10⁹, limits against runaway specs that the tables leave out.",
            "",
            "## The top level { #def-spec }",
            "",
            _clean(s.get("description", "")),
            "",
        ]
        if s.get("then", {}).get("required"):
            keys = ", ".join(f"`{k}`" for k in s["then"]["required"])
            out += [f"{keys} are required unless the spec `extends` another (a variant inherits them).", ""]
        out += self.table("Spec", s) + [""]

        # Items and ops.
        out += [
            "## Items { #items }",
            "",
            "Stages, branches, sequences and heads are lists of **items**. An item is a one-key mapping: "
            "an op keyed by its kind (`- conv: {filters: 64, kernel: 3}`), or a block keyed by its name "
            "(`- inception_3a: {inception: [...]}`; see [Blocks](#blocks)). The op kinds:",
            "",
            "| item key | arguments | shorthand | what it is |",
            "|---|---|---|---|",
        ]
        for item, op in zip(self.op_items, self.ops, strict=True):
            kind = self.item_kind(item)
            self.documented.add(item)
            shorthand = USER_OPS[kind].shorthand if kind in USER_OPS else None
            bare = f"`- {kind}: value` sets `{shorthand}`" if shorthand else "—"
            summary = _clean(self.defs[item].get("description", ""))
            out.append(f"| `{kind}` | {self.link(op)} | {bare} | {summary} |")
        out += [
            "",
            "An op's arguments may all come from `defaults`, so `- flatten:` (null) is an item too.",
            "",
            "## Ops { #ops }",
            "",
        ]
        for item, op in zip(self.op_items, self.ops, strict=True):
            kind = self.item_kind(item)
            out += self.definition(op, heading=f"`{kind}` ({op})")
            for prop in self.defs[op].get("properties", {}).values():  # settings models an op owns
                if "$ref" in prop and self._ref_name(prop) not in self.documented:
                    sub = self._ref_name(prop)
                    if not sub.endswith(("Item", "Defaults")) and sub not in sum((x[3] for x in SECTIONS), []):
                        out += self.definition(sub, level="####")

        for title, anchor, intro, names in SECTIONS:
            out += [f"## {title} {{ #{anchor} }}", ""]
            if intro:
                out += [intro, ""]
            for name in names:
                if name in self.defs:
                    out += self.definition(name)

        partials = [n for n in self.defs if n.endswith("Defaults") and n != "Defaults"]
        out += [
            "### Defaults of one op { #def-defaults-partial }",
            "",
            "Under `defaults`, each op kind takes the same keys as the op itself, all optional "
            "(`name` excepted); a value set here applies wherever the op does not set it.",
            "",
        ]
        for name in partials:
            self.documented.add(name)
            keys = ", ".join(f"`{k}`" for k in self.defs[name].get("properties", {}))
            out.append(f"- `{name}`: {keys or '—'}")
        out.append("")

        self.documented.add("UnknownOp")  # never valid: a misspelt op
        rest = [n for n in self.defs if n not in self.documented]
        if rest:
            out += ["## Other definitions { #other-definitions }", ""]
            for name in rest:
                out += self.definition(name)
        return "\n".join(out).rstrip() + "\n"


def language_reference(schema: dict[str, Any] | None = None) -> str:
    """The markdown page listing every key of the schema with its type, default and description."""
    if schema is None:
        from inceptionspec.lang.schema import schema as make_schema

        schema = make_schema()
    return _Reference(schema).page()


def schema_keys(schema: dict[str, Any]) -> set[tuple[str, str]]:
    """(definition, key) for every property of the schema (for the tests)."""
    out = {("Spec", k) for k in schema.get("properties", {})}
    for name, d in schema.get("$defs", {}).items():
        out |= {(name, k) for k in (d.get("properties") or {})}
    return out


# --- the CLI reference -------------------------------------------------------------------


def _param_type(param: Any) -> str:
    import click

    t = param.type
    if getattr(param, "is_flag", False) and not getattr(param, "secondary_opts", None):
        return "flag"
    if isinstance(t, click.Choice):
        return "one of " + ", ".join(f"`{c}`" for c in t.choices)
    if isinstance(t, click.IntRange):
        bounds = []
        if t.min is not None:
            bounds.append(f"≥ {t.min}")
        if t.max is not None:
            bounds.append(f"≤ {t.max}")
        return "integer" + (f" ({', '.join(bounds)})" if bounds else "")
    if isinstance(t, click.Path):
        return "path"
    return {"text": "text", "integer": "integer", "float": "number", "boolean": "boolean"}.get(t.name, t.name)


def _default(param: Any) -> str:
    value = param.default
    if value is None or type(value).__name__ == "Sentinel" or value is False or value == ():
        return "—"
    if callable(value):
        return "—"
    return f"`{value}`"


def _help(text: str | None) -> str:
    text = inspect.cleandoc(text or "")
    text = text.replace("\b\n", "")
    return text


def cli_reference() -> str:
    """The markdown page of every command and option, from the click command tree."""
    import click

    from inceptionspec.cli import main

    root = click.Context(main, info_name="inceptionspec")
    out = [
        "# Command line",
        "",
        '!!! info "Generated"',
        "    This page is generated from the `inceptionspec` command's definitions each time the site is "
        "built; `inceptionspec COMMAND --help` prints the same.",
        "",
        _help(main.help),
        "",
        "```text",
        main.get_usage(root),
        "```",
        "",
        "| command | what it does |",
        "|---|---|",
    ]
    for name, cmd in main.commands.items():
        out.append(f"| [`{name}`](#{name}) | {cmd.get_short_help_str(limit=120)} |")
    out += ["", "`--version` prints the version; `-h`/`--help` works everywhere.", ""]
    for name, cmd in main.commands.items():
        ctx = click.Context(cmd, info_name=name, parent=root)
        out += [f"## `{name}` {{ #{name} }}", "", _help(cmd.help), "", "```text", cmd.get_usage(ctx), "```", ""]
        args = [p for p in cmd.params if isinstance(p, click.Argument)]
        opts = [p for p in cmd.params if isinstance(p, click.Option)]
        if args:
            out += ["| argument | |", "|---|---|"]
            for p in args:
                many = " (one or more)" if p.nargs == -1 else ""
                out.append(f"| `{p.human_readable_name}` | {_param_type(p)}{many} |")
            out.append("")
        if opts:
            out += ["| option | type | default | description |", "|---|---|---|---|"]
            for p in opts:
                names = ", ".join(f"`{o}`" for o in [*p.opts, *p.secondary_opts])
                if p.multiple:
                    names += " (repeatable)"
                text = (p.help or "").replace("|", "\\|")
                out.append(f"| {names} | {_param_type(p)} | {_default(p)} | {text} |")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def cli_names() -> dict[str, list[str]]:
    """Every command and its option strings (for the tests)."""
    import click

    from inceptionspec.cli import main

    return {
        name: [o for p in cmd.params if isinstance(p, click.Option) for o in [*p.opts, *p.secondary_opts]]
        for name, cmd in main.commands.items()
    }


# --- the networks ---------------------------------------------------------------------------
# One page per shipped spec: its notes as written in docs/specs/NAME.md (readable in the
# repository too), with its numbers, its pictures and its source merged in when the site is built.


@functools.cache
def _analysed(name: str) -> tuple[Any, Any, Any]:
    """(spec, analysis with auxiliary heads, analysis without) of a shipped spec."""
    from inceptionspec import analyze, load

    spec = load(name)
    return spec, analyze(spec), analyze(spec, include_aux=False)


def _fmt_outputs(outputs: Any) -> str:
    from inceptionspec.ops import fmt_shape

    parts = []
    for o in outputs:
        notes = []
        if o["training_only"]:
            notes.append("training only")
        if o["loss_weight"] != 1.0:
            notes.append(f"loss ×{o['loss_weight']:g}")
        extra = f" ({', '.join(notes)})" if notes else ""
        parts.append(f"`{o['name']}` {fmt_shape(tuple(o['shape']))} from `{o['from']}`{extra}")
    return "; ".join(parts)


def network_page_paths() -> list[str]:
    """The page of every shipped spec (``specs/googlenet.md``, ``specs/examples/googlenet_cifar.md``)."""
    from inceptionspec.lang.library import shipped

    return [f"specs/{name}.md" for name in shipped()]


def network_files() -> dict[str, str]:
    """The pictures published beside each network's page: NAME.svg, NAME-blocks.svg, NAME.html."""
    from inceptionspec.lang.library import shipped
    from inceptionspec.render import render

    files: dict[str, str] = {}
    for name in shipped():
        full = _analysed(name)[1]
        files[f"specs/{name}.svg"] = render(full, "svg")
        files[f"specs/{name}-blocks.svg"] = render(full, "svg", depth="block")
        files[f"specs/{name}.html"] = render(full, "html")
    return files


def network_page(name: str, notes: str) -> str:
    """A network's page: its notes, with its numbers after the introduction, and its picture, its
    block table (unless the notes have one) and its source at the end."""
    from inceptionspec.analysis.report import human, markdown
    from inceptionspec.lang.library import shipped
    from inceptionspec.ops import fmt_shape
    from inceptionspec.render import layout

    spec, full, inference = _analysed(name)
    leaf = name.rsplit("/", 1)[-1]
    facts = [
        ("spec", f"`{name}` — [`specs/{name}.yaml`](#the-spec)"),
        ("input", fmt_shape(full.input_shape)),
        (
            "parameters",
            f"{full.total_params:,} ({human(full.total_params)}; trainable {full.trainable_params:,}, "
            f"non-trainable {full.non_trainable_params:,})",
        ),
        ("multiply-adds", f"{full.macs:,} ({human(full.macs)})"),
        ("layers", f"{len(full.layers):,} in the IR ({len(full.blocks)} blocks)"),
        ("outputs", _fmt_outputs(full.outputs)),
    ]
    if len(inference.outputs) != len(full.outputs):
        facts.append(
            (
                "without auxiliary heads",
                f"{inference.total_params:,} parameters, {inference.macs:,} multiply-adds ({human(inference.macs)})",
            )
        )
    glance = ["## At a glance", "", *(f"- **{k}**: {v}" for k, v in facts), ""]
    d = layout(full)
    tail = [
        "## Picture",
        "",
        f"`inceptionspec render {name}` ({d.width:.0f} × {d.height:.0f} px). "
        f"[Open the interactive page]({leaf}.html) to fold blocks and hover layers for their numbers, "
        f"or [the SVG]({leaf}.svg); one box per block (`--depth block`): [SVG]({leaf}-blocks.svg).",
        "",
        f"[![{name}]({leaf}.svg){{ loading=lazy }}]({leaf}.html)",
        "",
    ]
    if not re.search(r"^## Blocks", notes, re.M):
        tail += ["## Blocks", "", f"`inceptionspec summary {name} --format markdown`:", "", markdown(full), ""]
    tail += [
        "## The spec",
        "",
        f'??? example "specs/{name}.yaml"',
        "",
        "    ```yaml",
        *("    " + line if line else "" for line in shipped()[name].read_text(encoding="utf-8").splitlines()),
        "    ```",
        "",
    ]
    head, sep, rest = notes.partition("\n## ")
    body = head.rstrip() + "\n\n" + "\n".join(glance) + ("\n## " + rest if sep else "")
    return body.rstrip() + "\n\n" + "\n".join(tail)


def networks_index(notes: str) -> str:
    """The networks' index (docs/specs/README.md) with every shipped spec's numbers."""
    from inceptionspec.analysis.report import human
    from inceptionspec.lang.library import shipped

    rows = [
        "## Every shipped spec, counted",
        "",
        "As `inceptionspec summary` counts them when this site was built (auxiliary heads included).",
        "",
        "| spec | parameters | multiply-adds | layers | picture |",
        "|---|--:|--:|--:|--:|",
    ]
    for name in shipped():
        full = _analysed(name)[1]
        rows.append(
            f"| [{name}]({name}.md) | {full.total_params:,} | {human(full.macs)} | "
            f"{len(full.layers):,} | [svg]({name}.svg) · [html]({name}.html) |"
        )
    return notes.rstrip() + "\n\n" + "\n".join(rows) + "\n"


# --- directives ----------------------------------------------------------------------------

_SPEC_BLOCK = re.compile(
    r"<!-- spec(?:\((?P<code>\d+)\))?: (?P<file>[\w./-]+\.yaml) -->\n```yaml\n(?P<body>.*?)\n```", re.S
)
_DIRECTIVE = re.compile(r"<!-- (?P<kind>console|exec|render)(?:\((?P<code>\d+)\))?: (?P<args>.*?) -->")
_EXCERPT = re.compile(r"<!-- excerpt: (?P<args>.*?) -->")
#: The docs-examples harness's markers (tests/docs_examples.py); nothing to show on the site.
_EXAMPLE_MARKER = re.compile(r"^[ \t]*<!-- (?:illustrative|heavy)\b[^\n]*?-->[ \t]*\n", re.M)


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def run_cli(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run `inceptionspec ARGS` in-process: (exit code, everything shown, stdout)."""
    from click.testing import CliRunner

    from inceptionspec.cli import main

    with _cwd(cwd):
        result = CliRunner(env={"COLUMNS": "100", "NO_COLOR": "1"}).invoke(main, args, catch_exceptions=False)
    # A shipped spec is named by its absolute path outside the checkout; the site shows it as the
    # repository's `specs/...`, not the path of the machine that built it.
    shown = result.output.replace(f"{ROOT.as_posix()}/", "")
    return result.exit_code, shown, result.stdout


def expand_directives(markdown: str, page: str = "") -> str:
    """Check the spec blocks of a page, run its commands, insert its excerpts."""
    markdown = _EXAMPLE_MARKER.sub("", markdown)
    with tempfile.TemporaryDirectory(prefix="inceptionspec-docs-") as scratch:
        folder = Path(scratch)

        expected: dict[str, int] = {}

        def spec_block(m: re.Match[str]) -> str:
            target = folder / m["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(m["body"] + "\n", encoding="utf-8")
            expected[m["file"]] = int(m["code"] or 0)
            return f'```yaml title="{m["file"]}"\n{m["body"]}\n```'

        markdown = _SPEC_BLOCK.sub(spec_block, markdown)
        for rel, want in expected.items():
            code, shown, _ = run_cli(["validate", rel], folder)
            if code != want:
                state = "does not validate" if code else "validates, but the page says it does not"
                raise DocsError(f"{page}: the example spec {rel} {state}:\n{shown}")

        def directive(m: re.Match[str]) -> str:
            args = shlex.split(m["args"])
            if not args or args[0] != "inceptionspec":
                raise DocsError(f"{page}: a directive runs `inceptionspec ...`, not {m['args']!r}")
            expected = int(m["code"] or 0)
            if m["kind"] == "render":
                code, shown, stdout = run_cli(["render", *args[1:], "--format", "svg"], folder)
            else:
                code, shown, stdout = run_cli(args[1:], folder)
            if code != expected:
                raise DocsError(f"{page}: `{m['args']}` exited {code}, not {expected}:\n{shown}")
            if m["kind"] == "exec":
                return stdout.rstrip()
            if m["kind"] == "render":
                data = base64.b64encode(stdout.encode("utf-8")).decode("ascii")
                return f"![{' '.join(args[1:])}](data:image/svg+xml;base64,{data})"
            return f"```console\n$ {m['args']}\n{shown.rstrip()}\n```"

        markdown = _DIRECTIVE.sub(directive, markdown)

    def excerpt(m: re.Match[str]) -> str:
        try:
            path, start, stop = shlex.split(m["args"])
        except ValueError:
            raise DocsError(f"{page}: an excerpt is `FILE START-REGEX STOP-REGEX`, not {m['args']!r}") from None
        lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
        first = next((i for i, line in enumerate(lines) if re.search(start, line)), None)
        if first is None:
            raise DocsError(f"{page}: no line of {path} matches {start!r}")
        last = next((i for i in range(first + 1, len(lines)) if re.search(stop, lines[i])), len(lines))
        body = "\n".join(lines[first:last]).rstrip()
        return f'```yaml title="{path}"\n{body}\n```'

    return _EXCERPT.sub(excerpt, markdown)


# --- links to repository files ----------------------------------------------------------------

_LINK = re.compile(r"(?P<open>\]\()(?P<target>[^)\s#?]+)(?P<rest>[^)]*\))")
REPO_PREFIX = "repo/"


def repo_file(page: str, target: str, docs_dir: Path = DOCS, root: Path = ROOT) -> str | None:
    """The repository path a relative link of ``page`` reaches outside the docs folder
    (``../../specs/googlenet.yaml`` from ``specs/googlenet.md``), if that file exists."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
        return None
    resolved = (docs_dir / posixpath.dirname(page) / target).resolve()
    try:
        rel = resolved.relative_to(root.resolve())
    except ValueError:
        return None
    if resolved.is_relative_to(docs_dir.resolve()) or not resolved.is_file():
        return None
    return rel.as_posix()


def repo_links(markdown: str, page: str, docs_dir: Path = DOCS) -> str:
    """Point links to repository files (which work when browsing the repository) at the copies
    the site publishes under ``repo/``."""

    def fix(m: re.Match[str]) -> str:
        path = repo_file(page, m["target"], docs_dir)
        if path is None:
            return m.group(0)
        new = posixpath.relpath(REPO_PREFIX + path, posixpath.dirname(page) or ".")
        return f"{m['open']}{new}{m['rest']}"

    return _LINK.sub(fix, markdown)


# --- mkdocs events ---------------------------------------------------------------------------


def _nav_filter(nav: Any) -> Any:
    """List every network's page in the "Networks" section (the entry ``specs/README.md``)."""
    if isinstance(nav, list):
        return [_nav_filter(entry) for entry in nav]
    if isinstance(nav, dict):
        ((title, value),) = nav.items()
        if value == NETWORKS_INDEX:
            from inceptionspec.lang.library import shipped

            names = list(shipped())
            top = [{n: f"specs/{n}.md"} for n in names if "/" not in n]
            groups: dict[str, list[Any]] = {}
            for n in names:
                if "/" in n:
                    folder, leaf = n.rsplit("/", 1)
                    groups.setdefault(folder, []).append({leaf: f"specs/{n}.md"})
            return {title: [NETWORKS_INDEX, *top, *({k.capitalize(): v} for k, v in groups.items())]}
        return {title: _nav_filter(value)}
    return nav


def on_config(config: Any) -> Any:
    if config.get("nav"):
        config["nav"] = _nav_filter(config["nav"])
    return config


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    docs_dir = Path(config["docs_dir"])
    generated: dict[str, str | bytes] = {
        "reference/language.md": language_reference(),
        "reference/cli.md": cli_reference(),
    }
    generated.update(network_files())
    # Repository files that hand-written pages link to (`../../specs/googlenet.yaml`) are
    # published under repo/, and on_page_markdown points the links there.
    for page in files.documentation_pages():
        if page.abs_src_path is None:
            continue
        text = Path(page.abs_src_path).read_text(encoding="utf-8")
        for m in _LINK.finditer(text):
            path = repo_file(page.src_uri, m["target"], docs_dir)
            if path is not None:
                generated[REPO_PREFIX + path] = (ROOT / path).read_bytes()
    for path, content in generated.items():
        existing = files.get_file_from_path(path)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, path, content=content))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    from mkdocs.exceptions import PluginError

    uri = page.file.src_uri
    try:
        if uri == NETWORKS_INDEX:
            markdown = networks_index(markdown)
        elif uri in network_page_paths():
            markdown = network_page(uri.removeprefix("specs/").removesuffix(".md"), markdown)
        if uri == "index.md":  # the home page's picture needs the width the table of contents takes
            page.meta.setdefault("hide", []).append("toc")
        markdown = repo_links(markdown, uri, Path(config["docs_dir"]))
        return expand_directives(markdown, uri)
    except DocsError as err:
        raise PluginError(str(err)) from None


_SPHINX_ROLE = re.compile(r":(?:class|func|meth|data|mod|attr|exc):(?=<code>)")


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """The docstrings cross-reference in Sphinx's style (:class:`Spec`); the API page shows the name."""
    return _SPHINX_ROLE.sub("", html) if page.file.src_uri == "api.md" else html
