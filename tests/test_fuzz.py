"""A mutation fuzzer over every shipped spec: broken specs fail with located errors, nothing else.

Each example takes a shipped spec (``inceptionspec.lang.library.shipped()``), reads it with
``yaml.safe_load``, mutates the data (deletes, duplicates, retypes and re-values keys and items,
renames keys, inserts keys, moves subtrees), dumps it, mutates the text (splices YAML fragments,
inserts tags and anchors/aliases, duplicates, deletes and re-indents lines, truncates, inserts odd
characters and bytes), writes the file and runs ``inceptionspec.load`` and ``inceptionspec.analyze``.
The outcome must be a valid analysis or a :class:`SpecError` whose every diagnostic has a file (the
spec or a shipped spec it extends), a line ≥ 1 and a column ≥ 1. Any other exception fails.

Profiles (registered in tests/conftest.py): ``ci`` (300 examples, the same ones every run: the default
here), ``explore`` (300 new examples each run) and ``long`` (20,000 new ones); the long run (see
docs/threat-model.md):

    python -m pytest tests/test_fuzz.py --hypothesis-profile=long
"""

from __future__ import annotations

import copy
import functools
import io
import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

import inceptionspec
from inceptionspec import SpecError
from inceptionspec.core.budget import Budget
from inceptionspec.lang.expand import Expander
from inceptionspec.lang.library import shipped
from inceptionspec.lang.pipeline import resolved_document

#: The suite's run is `ci` (300 examples, the same ones every run); `explore` and `long` draw new ones.
_PROFILE = settings.get_current_profile_name()
FUZZ = settings.get_profile(_PROFILE if _PROFILE in ("explore", "long") else "ci")


def _slots_of(node: Any) -> list[tuple[Any, Any]]:
    out, stack = [], [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (dict, list)):
            for key, value in current.items() if isinstance(current, dict) else enumerate(current):
                out.append((current, key))
                stack.append(value)
    return out


SPECS = {name: yaml.safe_load(path.read_text(encoding="utf-8")) for name, path in shipped().items()}
#: Every mapping key of the shipped specs: keys that mean something somewhere.
SPEC_KEYS = sorted({str(k) for doc in SPECS.values() for c, k in _slots_of(doc) if isinstance(c, dict)})

# --- values, keys, fragments -----------------------------------------------------------------------

# fmt: off
INTERESTING_SCALARS: list[Any] = [
    0, 1, -1, 2, 3, 7, 64, 1000, 1001, 100_000, 1_000_000_000, 10**12, 10**30, 2**63, -(2**63),
    0.0, -0.0, 0.5, 1.5, 1e-3, 1e-300, 1e300, 0.999999, 1.0, 64.0, 100.0, 1001.0, True, False, None,
    "", " ", "0", "64", "1e-3", "no", "on", "yes", "off", "null", "~", "true",
    "same", "valid", "none", "bn", "relu", "softmax", "concat", "norm_act", "act_norm",
    "$", "$n", "$classes", "$n1x1", "$filters", "$$", "$1",
    "googlenet", "inception_v3", "examples/googlenet_cifar", "spec.yaml", "./spec.yaml", "../spec.yaml",
    "/etc/passwd", "../../../../../../etc/passwd", "nosuch.yaml", "a/b", ".", "..",
    "input", "inception_3a", "inception_4a", "mixed_5b", "conv", "conv_2", "stem", "main", "aux1",
    "x" * 65, "x" * 5000, "naïve", "名前", "a.b", "a b", "a:b", "-", "#", "@", "*a", "&a", "!!str",
]
KEYS = [
    "version", "name", "title", "extends", "overrides", "input", "classes", "width", "defaults", "templates",
    "stages", "heads", "training", "params", "branches", "layers", "merge", "repeat", "kind", "from",
    "loss_weight", "training_only", "residual", "scale", "activation", "projection", "filters", "kernel",
    "strides", "dilation", "padding", "bias", "norm", "bn", "order", "size", "ceil", "count_pad", "units",
    "rate", "fn", "keepdims", "multiplier", "divisor", "min_filters", "conv", "maxpool", "avgpool", "dense",
    "dropout", "flatten", "identity", "lrn", "act", "global_avgpool", "adaptive_avgpool",
    "fitlers", "kernal", "cnov", "Conv", "stages.x", "inception_4c.n3x3", "heads.aux1", "x@after", "x@before",
    "<<", "", "1", "?", "- a", "a: b",
]
FRAGMENTS = [
    "!!python/object/apply:os.system ['true']", "!!python/name:os.system", "!!python/object/new:dict {}",
    "&a", "*a", "*undefined", "<<: *a", "<<: {a: 1}", "? [a, b]\n: 1", "? {a: 1}\n: 2", "- ", "-", "{", "}",
    "[", "]", "[[[[[[[[", "{a: {b: {c:", "\t", "\t- x", "---", "...", "--- |", "%YAML 1.1", "%TAG !e! tag:e,2000:",
    "!!binary aGVsbG8=", "!custom", "!e!x", "!<tag:yaml.org,2002:str>", "key: value", "&x [1, 2]", "*x",
    '"\\u0000"', '"\\q"', "'unterminated", '"unterminated', "|", ">", "|-\n  text", "- - - - -", "1e999",
    ".nan", "-.inf", "0x1F", "0o17", "1_000", "+12", "010", "9" * 40, "~", "null", "yes", "no", "on",
    "#comment", ": :", "a: b: c", "a:b", "@", "`", "%", "\u2028", "\x85", "\ufeff", "\u200b", "é", "😀", "\x07",
    "\x1b[31m", "stages: []", "heads: {}", "templates: null", "extends: googlenet", "extends: spec.yaml",
    "extends: /etc/passwd", "overrides: {a.b: 1}", "repeat: 1000",
]
TAGS = [
    "!!str", "!!int", "!!float", "!!bool", "!!null", "!!seq", "!!map", "!!binary", "!!timestamp", "!!set",
    "!!omap", "!!python/name:os.system", "!!python/object/apply:os.system", "!foo", "!", "!<tag:x>",
    "!<tag:yaml.org,2002:int>",
]
ODD_BYTES = [b"\x00", b"\xff", b"\xe9", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf", b"\x89PNG\r\n\x1a\n", b"\r", b"\r\n"]
# fmt: on


def fresh(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Every draw a new object: `sampled_from` and `just` hand out the same list or dict each time, and
    a mutation that edits it in place would change later examples (or put a list inside itself)."""
    return strategy.map(copy.deepcopy)


# Values a spec could plausibly hold (so that mutants get past the schema to expansion, shapes and
# the budgets), and values that stress the loader and the schema.
plausible = fresh(
    st.one_of(
        st.integers(-2, 2048),
        st.sampled_from([1, 2, 3, 5, 7, [1, 3], [3, 1], [1, 7], "same", "valid", 0.4, 0.17, "relu", "none", "bn"]),
    )
)
values = fresh(
    st.one_of(
        plausible,
        plausible,
        st.sampled_from(INTERESTING_SCALARS),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=20),
        st.lists(st.sampled_from(INTERESTING_SCALARS), max_size=4),
        st.dictionaries(st.sampled_from(KEYS), st.sampled_from(INTERESTING_SCALARS), max_size=3),
    )
)


# --- data mutations --------------------------------------------------------------------------------


def _slots(node: Any, out: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key-or-index) in the tree, in document order (iterative: trees get deep)."""
    stack = [node]
    while stack:
        current = stack.pop()
        children = list(current.items()) if isinstance(current, dict) else enumerate(current)
        pending = []
        for key, value in children:
            out.append((current, key))
            if isinstance(value, (dict, list)):
                pending.append(value)
        stack.extend(reversed(pending))
    return out if isinstance(node, (dict, list)) else []


def _containers(node: Any, out: list[Any]) -> list[Any]:
    if isinstance(node, (dict, list)):
        out.append(node)
        out.extend(container[key] for container, key in _slots(node, []) if isinstance(container[key], (dict, list)))
    return out


def _depth(node: Any) -> int:
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in (current.values() if isinstance(current, dict) else current))
    return deepest


#: Moves that nest the document deeper than this are undone (the loader refuses 64 levels; beyond
#: about 100 the fuzzer's own yaml.safe_dump would recurse too deep).
MAX_MUTANT_DEPTH = 100


def _retype(value: Any) -> Any:
    """The same content in another type: 64 → "64" / 64.0 / [64] / {64: 64}; a list → a mapping ..."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return [value] if value % 2 else str(value)
    if isinstance(value, float):
        return int(value) if abs(value) < 1e18 else str(value)
    if isinstance(value, str):
        return {value: value} if value else None
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)} or None
    if isinstance(value, dict):
        return list(value.values()) or list(value)
    return 0


def _names(doc: Any) -> list[str]:
    """Names an override path can use: blocks, templates, their parameters and branches, heads, keys."""
    names = ["stages", "templates", "heads", "classes", "input", "width", "defaults", "main", "aux1", "conv"]
    for container, key in _slots(doc, []):
        if isinstance(key, str) and isinstance(container, dict):
            names.append(key)
        value = container[key]
        if isinstance(key, str) and key == "params" and isinstance(value, (list, dict)):
            names.extend(str(p) for p in value)
    return names


def _override(draw: Any, doc: Any) -> None:
    """An `overrides` entry whose path is made of the spec's own names (what resolve must handle)."""
    names = _names(doc)
    parts = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4))
    path = ".".join(parts) + draw(st.sampled_from(["", "", "", "@after", "@before", "@", ".", "..x"]))
    overrides = doc.get("overrides") if isinstance(doc.get("overrides"), dict) else {}
    overrides[path] = draw(fresh(st.one_of(values, st.none(), st.just([]), st.just({}), st.sampled_from(names))))
    doc["overrides"] = overrides


def mutate_data(draw: Any, doc: Any) -> Any:
    for _ in range(draw(st.integers(1, 4))):
        slots = _slots(doc, [])
        if not slots:
            return draw(values)
        container, key = slots[draw(st.integers(0, len(slots) - 1))]
        action = draw(
            st.sampled_from(
                [
                    "revalue", "revalue", "nullify", "emptify", "delete", "duplicate", "retype", "rename",
                    "insert", "insert", "move", "override",
                ]
            )
        )  # fmt: skip
        if action == "override" and isinstance(doc, dict):
            _override(draw, doc)
        elif action == "nullify":
            container[key] = None
        elif action == "emptify":
            container[key] = draw(fresh(st.sampled_from([[], {}, ""])))
        elif action == "delete":
            del container[key]
        elif action == "duplicate" and isinstance(container, list):
            container.insert(key, copy.deepcopy(container[key]))
        elif action == "duplicate":  # a mapping: the same value under another key
            container[draw(st.sampled_from(KEYS))] = copy.deepcopy(container[key])
        elif action == "retype":
            container[key] = _retype(container[key])
        elif action == "revalue":
            container[key] = draw(values)
        elif action == "rename" and isinstance(container, dict):
            value = container.pop(key)
            new = draw(st.one_of(st.sampled_from(KEYS), st.sampled_from(INTERESTING_SCALARS)))
            container[new if not isinstance(new, (list, dict)) else str(new)] = value
        elif action == "insert":
            target = draw(st.sampled_from(_containers(doc, [])))
            value = draw(fresh(st.one_of(values, st.none(), st.just([]), st.just({}))))
            if isinstance(target, dict):
                target[draw(st.sampled_from(KEYS) | st.sampled_from(SPEC_KEYS))] = value
            else:
                target.insert(draw(st.integers(0, len(target))), value)
        elif action == "move":  # a copy of one subtree replaces another
            source_container, source_key = slots[draw(st.integers(0, len(slots) - 1))]
            before = container[key]
            container[key] = copy.deepcopy(source_container[source_key])
            if _depth(doc) > MAX_MUTANT_DEPTH:
                container[key] = before
    return doc


def mutate_gently(draw: Any, doc: Any) -> Any:
    """Plausible edits only (a number, a kernel, a repeat, one item more or less), so that the
    mutant passes the schema and reaches expansion, shape inference and the budgets."""
    for _ in range(draw(st.integers(1, 3))):
        slots = _slots(doc, [])
        container, key = slots[draw(st.integers(0, len(slots) - 1))]
        value = container[key]
        if isinstance(value, (dict, list)) and isinstance(container, list):
            if draw(st.booleans()):
                container.insert(key, copy.deepcopy(value))
            elif len(container) > 1:
                del container[key]
        elif isinstance(value, dict) and draw(st.booleans()):
            value["repeat"] = draw(st.sampled_from([1, 2, 3, 10, 100, 1000, 1001]))
        elif not isinstance(value, (dict, list)):
            container[key] = draw(plausible)
    return doc


# --- the classes of issue 13: long names, many names, many layers ----------------------------------

#: YAML double-quoted escapes that make control characters only after unescaping.
YAML_ESCAPES = ["\\e[2K\\r", "\\e]0;x\\a", "\\0", "\\x85", "\\u202e", "\\u2028", "\\N", "\\t", "\\n", "\\x7f"]
#: Text that tries every output format (valid text: it must come out escaped).
OUTPUT_TEXT = [
    '"><script>x</script>', "' onload='x", "]; evil -> x", '%%{init: {"securityLevel": "loose"}}%%',
    "[/x] [bold]b[/bold] :smile:", "`|*_#<>&\\", "a-b_c", "名前", "x" * 300,
]  # fmt: skip


def mutate_hostile(draw: Any, doc: Any) -> Any:
    """One of the issue's classes, on a shipped spec: a long op name copied by `repeat`, text that
    tries every output, many names (for suggestions and Mermaid ids), many layers (for diff and
    render)."""
    stages = doc.get("stages") if isinstance(doc, dict) else None
    if not isinstance(stages, list) or not stages:
        return doc
    action = draw(st.sampled_from(["long_name", "text", "many_names", "many_layers", "misspelt_taps"]))
    if action == "long_name":
        name = draw(st.sampled_from(["a", "a-b", "x_y"])) * draw(st.sampled_from([10, 64, 65, 1000, 20_000]))
        repeat = draw(st.sampled_from([1, 5, 1000]))
        stages.insert(0, {"longnames": {"repeat": repeat, "layers": [{"identity": {"name": name}}]}})
    elif action == "text":
        field = draw(st.sampled_from(["title", "description", "kind"]))
        text = draw(st.sampled_from(OUTPUT_TEXT))
        if field == "kind":
            stages.insert(0, {"labelled": {"kind": text, "layers": [{"identity": None}]}})
        else:
            doc[field] = text
    elif action == "many_names":
        count = draw(st.sampled_from([100, 1000, 3000]))
        names = [f"l{'-_'[i % 2]}{i // 2}" for i in range(count)]  # pairs that collide as Mermaid ids
        stages[:0] = [{"identity": {"name": n}} for n in names]
    elif action == "many_layers":
        copies = draw(st.sampled_from([10, 100, 700]))
        index = draw(st.integers(0, len(stages) - 1))
        item = stages[index]
        if isinstance(item, dict) and len(item) == 1:
            key, body = next(iter(item.items()))
            if isinstance(body, dict) and key not in ("conv", "maxpool", "avgpool", "dense", "dropout"):
                body["repeat"] = copies
    else:
        heads = doc.setdefault("heads", {}) if isinstance(doc.get("heads", {}), dict) else {}
        for i in range(draw(st.sampled_from([1, 50, 300]))):
            heads[f"tap{i}"] = {"from": f"nowhere_{i}", "layers": [{"global_avgpool": None}, {"dense": 10}]}
    return doc


def escape_strings(draw: Any, text: str) -> str:
    """Some scalar of the dumped text rewritten as a double-quoted string holding YAML escapes."""
    lines = text.split("\n")
    candidates = [i for i, line in enumerate(lines) if ": " in line and not line.rstrip().endswith(":")]
    for _ in range(draw(st.integers(1, 3)) if candidates else 0):
        at = draw(st.sampled_from(candidates))
        head, _, tail = lines[at].partition(": ")
        escaped = tail.replace("\\", "\\\\").replace('"', '\\"')
        lines[at] = f'{head}: "{escaped}{draw(st.sampled_from(YAML_ESCAPES))}"'
    return "\n".join(lines)


# --- text mutations --------------------------------------------------------------------------------


def mutate_text(draw: Any, text: str) -> str:
    # Most examples keep the text as dumped, so that data mutations reach the later stages.
    for _ in range(draw(st.sampled_from([0, 0, 0, 0, 0, 0, 1, 1, 2, 3]))):
        lines = text.split("\n")
        at = draw(st.integers(0, max(len(lines) - 1, 0)))
        action = draw(st.sampled_from(["splice", "tag", "alias", "dup_line", "del_line", "indent", "truncate", "char"]))
        line = lines[at]
        if action == "splice":
            fragment = draw(st.sampled_from(FRAGMENTS))
            where = draw(st.sampled_from(["line", "value", "inline"]))
            if where == "line":
                lines.insert(at, " " * draw(st.integers(0, 6)) + fragment)
            elif where == "value" and ": " in line:
                head, _, _ = line.partition(": ")
                lines[at] = f"{head}: {fragment}"
            else:
                col = draw(st.integers(0, len(line)))
                lines[at] = line[:col] + fragment + line[col:]
        elif action == "tag" and ": " in line:
            head, _, tail = line.partition(": ")
            lines[at] = f"{head}: {draw(st.sampled_from(TAGS))} {tail}"
        elif action == "alias" and ": " in line:
            head, _, tail = line.partition(": ")
            lines[at] = f"{head}: &a {tail}"
            other = draw(st.integers(0, len(lines) - 1))
            if ": " in lines[other] and other != at:
                lines[other] = lines[other].partition(": ")[0] + ": *a"
            else:
                lines.insert(other, "x: *a")
        elif action == "dup_line":
            lines.insert(at, line)
        elif action == "del_line" and lines:
            del lines[at]
        elif action == "indent":
            delta = draw(st.integers(-3, 3))
            lines[at] = " " * delta + line if delta >= 0 else line[min(-delta, len(line) - len(line.lstrip())) :]
        elif action == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
            continue
        elif action == "char":
            col = draw(st.integers(0, len(line)))
            char = draw(
                st.one_of(
                    st.sampled_from(["\t", "\r", "\x07", "\ufeff", "\u2028", "é"]),
                    st.text(st.characters(exclude_characters="\x00"), max_size=1),
                )
            )
            lines[at] = line[:col] + char + line[col:]
        text = "\n".join(lines)
    return text


def mutate_bytes(draw: Any, data: bytes) -> bytes:
    if draw(st.integers(0, 19)) == 0:  # one in twenty: raw bytes that are not UTF-8, NUL, a BOM, a PNG header
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(ODD_BYTES)) + data[at:]
    return data


# --- the property ----------------------------------------------------------------------------------


def check(path: Path, output: str = "") -> str:
    """Load and analyse; return "valid" or "invalid"; any exception but a located SpecError escapes.

    ``output``: also write the valid spec out that way (a render format, ``diff-*`` against the
    shipped spec it came from, ``summary-*``) and read the output back."""
    try:
        spec = inceptionspec.load(str(path))
        analysis = inceptionspec.analyze(spec)
        # The layer budget is checked before expansion by counting: the count must never exceed
        # what the network really has, or a valid spec could be refused.
        counted = Expander(resolved_document(str(path)), Budget()).count_layers()
        assert counted <= len(analysis.layers), f"counted {counted} layers before expansion, the IR has fewer"
        if output:
            check_output(analysis, output)
    except SpecError as err:
        assert err.errors, "a SpecError without diagnostics"
        for d in err.errors:
            where = f"{d.loc.file}:{d.loc.line}:{d.loc.col}: {d.message}"
            assert isinstance(d.loc.file, str) and (d.loc.file == str(path) or d.loc.file.startswith("specs/")), where
            assert isinstance(d.loc.line, int) and d.loc.line >= 1, where
            assert isinstance(d.loc.col, int) and d.loc.col >= 1, where
            assert isinstance(d.message, str) and d.message, where
        return f"invalid: {_kind(err.errors[0].message)}"
    return "valid"


RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
OUTPUTS = ["svg", "html", "dot", "mermaid", "diff-text", "diff-markdown", "diff-json", "summary-table",
           "summary-markdown"]  # fmt: skip


def check_output(analysis: Any, output: str) -> None:
    """Write a valid mutant out one way; the output parses and prints no raw control character."""
    from inceptionspec.analysis import report
    from inceptionspec.compare import compare, json_text, markdown, print_text
    from inceptionspec.compare.records import Side
    from inceptionspec.render import render

    if output in ("svg", "html", "dot", "mermaid"):
        text = render(analysis, fmt=output, collapse_repeats=False)
        if output == "svg":
            ET.fromstring(text)
        if output == "mermaid":
            assert "%%{" not in text
    elif output.startswith("diff"):
        result = compare(Side("googlenet", "googlenet", _googlenet()), Side("mutant", analysis.name, analysis))
        if output == "diff-text":
            text = _printed(lambda: print_text(result, True))
        else:
            text = markdown(result, True) if output == "diff-markdown" else json_text(result)
    elif output == "summary-table":
        text = _printed(lambda: report.table(analysis, True))
    else:
        text = report.markdown(analysis, True)
    assert not RAW_CONTROL.search(text), "a raw control character in the output"


@functools.cache
def _googlenet() -> Any:
    return inceptionspec.analyze(inceptionspec.load("googlenet"))


def _printed(write: Any) -> str:
    """What ``write`` prints through inceptionspec's rich console."""
    from inceptionspec.core import escape

    buffer = io.StringIO()
    console = escape.console()
    console.file = buffer
    original = escape.console
    escape.console = lambda *args, **kwargs: console
    try:
        write()
    finally:
        escape.console = original
    return buffer.getvalue()


def _kind(message: str) -> str:
    """A coarse class of the first error, for ``--hypothesis-show-statistics``."""
    for marker in ("YAML syntax", "YAML tag", "YAML alias", "duplicate key", "binary", "UTF-8", "control character"):
        if marker in message:
            return "yaml: " + marker
    for marker in ("unknown key", "expected", "must be", "missing", "unknown op", "unknown template", "override"):
        if marker in message:
            return "schema: " + marker
    return "later: " + message.split("`")[0][:40]


@st.composite
def mutated_specs(draw: Any) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(SPECS)))
    doc = copy.deepcopy(SPECS[name])
    kind = draw(st.sampled_from(["gentle", "gentle", "hostile", "any", "any"]))
    if kind == "gentle":  # plausible edits of the data, nothing else
        doc = mutate_gently(draw, doc)
        return name, yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode("utf-8")
    if kind == "hostile":  # the classes of issue 13, then maybe YAML escapes in some strings
        doc = mutate_hostile(draw, doc)
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1 << 20)
        if draw(st.booleans()):
            text = escape_strings(draw, text)
        return name, text.encode("utf-8")
    doc = mutate_data(draw, doc)
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=draw(st.booleans()))
    text = mutate_text(draw, text)
    return name, mutate_bytes(draw, text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(case=mutated_specs(), output=st.sampled_from(["", "", *OUTPUTS]))
def test_mutated_shipped_specs_fail_only_with_located_errors(case: tuple[str, bytes], output: str) -> None:
    """...and a valid mutant comes out of one of the renderers, diff or summary readable and escaped."""
    _, data = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "spec.yaml"
        path.write_bytes(data)
        event(check(path, output))


def test_every_shipped_spec_is_valid_unmutated(tmp_path: Path) -> None:
    """The starting points themselves, dumped by yaml.safe_dump, load and analyse."""
    for name, doc in SPECS.items():
        path = tmp_path / "spec.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        assert check(path) == "valid", name
