"""Hostile input through every command and format, and what the commands write (issue 13).

Every run is a separate CLI process started by a small launcher (``LAUNCHER``), which limits it
(300 MB of address space, 4 s of CPU) and reports the CLI process's own CPU time and peak memory
(``os.wait4`` on the CLI, not on a fork of pytest, whose memory a forked child would count). Each
must: exit with the expected code (never 3), print no traceback, print no raw control character,
locate every diagnostic of an invalid spec, write output its format's parser reads, and stay under
2 s of CPU time, 2 s of wall time, and 300 MB. A busy machine slows both clocks: wall time is
These are the development machine's limits: a slower or busier machine scales them by the pace
measured first (tests/pace.py: CPU and wall time of a trivial run, as in tests/test_hostile.py).

The matrix: by default (CI) the text that attacks every output runs through every command and
format (``COMMANDS``: validate, expand, summary, diff, render, scale, sweep in each of their
formats), an input that once exited 3 and a valid spec at the layer bound through the commands
that handle them differently (``REPRESENTATIVES``), the inputs specific to one kind of work through
the commands that do that work (``WORK``), and the rest of the hostile corpus through ``validate``
in tests/test_hostile.py. ``-m heavy`` runs every hostile input through every command.
``python tests/test_hostile_outputs.py`` prints the time and memory of every run of the full matrix.

Also here: special files (``/proc/kmsg``), write errors (``/dev/full``), readers that go away
(exit 141, nothing printed), a memory limit (exit 2, not 3), and the HTML page in headless Chromium
(no injected script runs).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from limited import Run, run_limited
from pace import Pace

import inceptionspec
from inceptionspec import SourceError, SpecError

CORPUS = Path(__file__).parent / "hostile"
EXPECTED: dict[str, dict] = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))

CPU_LIMIT = 2.0
WALL_LIMIT = 2.0
MEMORY_LIMIT_MB = 300
#: Control characters and bidi overrides no command may print (they are shown as `\x1b` etc.).
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
LOCATED = re.compile(r"^[^\s:][^:]*:\d+:\d+: \S")
HEADER = "version: 1\nname: hostile\ninput: [32, 32, 3]\nclasses: 10\n"

# --- the launcher: the CLI's own time and memory -----------------------------------------------------


def run_cli(args: list[str], cwd: Path, stdout: int | None = subprocess.PIPE, memory_mb: int = 300) -> Run:
    """The CLI under tests/limited.py's launcher (a small interpreter, not pytest): its own numbers."""
    cpu_stop = int(CPU_LIMIT * 4) + 2
    return run_limited(args, cwd, memory_mb=memory_mb, cpu_seconds=cpu_stop, stdout=stdout, env={"COLUMNS": "120"})


def measure_pace(folder: Path) -> Pace:
    """How much slower than on the reference machine, and than its own CPU time, a trivial run takes now."""
    (folder / "ok.yaml").write_text(HEADER + "stages:\n  - conv: {filters: 8, kernel: 3}\n")
    runs = [run_cli(["validate", "ok.yaml"], folder) for _ in range(3)]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr
    return Pace.from_trivial_runs([(r.wall, r.cpu) for r in runs])


@pytest.fixture(scope="module")
def pace(tmp_path_factory: pytest.TempPathFactory) -> Pace:
    return measure_pace(tmp_path_factory.mktemp("baseline"))


class TooSlow(AssertionError):
    """A run over its time limit (the machine's load changes: checked once more before failing)."""


def run_checked(args: list[str], cwd: Path, expected: int | set[int], pace: Pace) -> Run:
    """Run the CLI and check it; a run over its time limit is run again once, against the pace
    measured again then (another process's burst on a shared machine is not this command's cost)."""
    try:
        run = run_cli(args, cwd)
        check_run(" ".join(args), run, expected, pace)
    except TooSlow:
        run = run_cli(args, cwd)
        check_run(" ".join(args), run, expected, pace.slower(measure_pace(cwd)))
    return run


# --- inputs too big to commit --------------------------------------------------------------------------


def _layers_at_the_bound(path: Path) -> None:
    """4,999 layers (6 per block, 833 copies, and a stem): every command at the layer bound."""
    path.write_text(
        "# 4,999 layers: every command at the layer bound\n" + HEADER + "templates:\n  blk:\n    branches:\n"
        "      a: [{conv: {filters: 4, kernel: 1}}]\n"
        "      b: [{conv: {filters: 4, kernel: 1}}, {conv: {filters: 4, kernel: 3, padding: same}}]\n"
        "      c: [{maxpool: {size: 3, strides: 1, padding: same}}, {conv: {filters: 4, kernel: 1}}]\n"
        "stages:\n  - stem: {layers: [{conv: {filters: 8, kernel: 3, padding: same}}]}\n"
        "  - x: {blk: {}, repeat: 833}\n"
    )


def _mermaid_collisions(path: Path) -> None:
    """2,048 layer names that differ only in `-` and `_`: one Mermaid id each (once cubic: 13 s)."""
    names = ["a" + "".join(s + "a" for s in combo) for combo in itertools.product("-_", repeat=11)]
    path.write_text(HEADER + "stages:\n" + "".join(f"  - identity: {{name: {n}}}\n" for n in names))


def _stride_explosion(path: Path) -> None:
    """1,000 pools of stride 100,000: an effective stride of 10^5000 (JSON could not print it)."""
    path.write_text(HEADER + "stages:\n" + "  - maxpool: {size: 1, strides: 100000, padding: same}\n" * 1000)


def _suggestions(path: Path) -> None:
    """300 misspelt `from:` among 4,000 layer names (each suggestion compared all: 11 s)."""
    layers = "".join(f"  - identity: {{name: layer_number_{i:05d}}}\n" for i in range(4000))
    heads = "".join(f"  h{i}:\n    from: layer_numbr_{i:05d}x\n    layers: [{{identity: {{}}}}]\n" for i in range(300))
    path.write_text(HEADER + "stages:\n" + layers + "heads:\n" + heads)


def _long_names_deep(path: Path) -> None:
    """Names of 64 characters nested 30 deep, 5,000 times: 10 MB of layer names, every name valid."""
    name = "n" * 64
    templates = "".join(f"  t{i}:\n    layers: [{{{name}: {{t{i + 1}: {{}}}}}}]\n" for i in range(29))
    templates += "  t29:\n    layers: [{identity: {name: " + name + "}}]\n"
    path.write_text(HEADER + "templates:\n" + templates + "stages:\n  - top: {t0: {}, repeat: 1000}\n")


def _long_op_name_repeated(path: Path) -> None:
    """A 200,000-character op name copied 5 × 1,000 times by `repeat` (once 15 s and 5 GB)."""
    blocks = "".join(
        f"  - b{i}: {{repeat: 1000, layers: [{{identity: {{name: {'a' * 200_000}}}}}]}}\n" for i in range(5)
    )
    path.write_text(HEADER + "stages:\n" + blocks)


def _default_names(path: Path) -> None:
    """2,500 ops named `identity_2` ... and 2,500 unnamed ones, whose generated names must skip them
    (each search once started again from the count: 6 million steps)."""
    named = "".join(f"        - identity: {{name: identity_{k}}}\n" for k in range(2, 2502))
    path.write_text(HEADER + "stages:\n  - b:\n      layers:\n" + named + "        - identity:\n" * 2490)


def _many_overrides(path: Path) -> None:
    """3,000 overrides of a 3,000-item list (each once named every item again: 7 s)."""
    ops = "".join(f"  - dropout: {{name: d{k}, rate: 0.1}}\n" for k in range(3000))
    path.write_text(HEADER + "stages:\n" + ops + "overrides:\n" + "".join(f"  d{k}.rate: 0.2\n" for k in range(3000)))


def _diff_long_a(path: Path) -> None:
    path.write_text(HEADER + "stages:\n" + "".join(f"  - identity: {{name: a{i}}}\n" for i in range(2990)))


def _diff_long_b(path: Path) -> None:
    """2,990 ops, none of them the other side's: with `_diff_long_a`, as many layers as one diff may
    compare (two 4,900-op specs once took 5.9 s, aligned in quadratic time)."""
    path.write_text(HEADER + "stages:\n" + "".join(f"  - maxpool: {{name: b{i}, size: 1}}\n" for i in range(2990)))


def _extends_symlink_loop(path: Path) -> None:
    (path.parent / "loop1.yaml").symlink_to("loop2.yaml")
    (path.parent / "loop2.yaml").symlink_to("loop1.yaml")
    path.write_text("version: 1\nname: hostile\nextends: loop1.yaml\n")


#: name: (writer, exit code of `validate`, message `validate` prints).
GENERATED = {
    "layers_at_the_bound.yaml": (_layers_at_the_bound, 0, "valid (4999 layers"),
    "mermaid_collisions.yaml": (_mermaid_collisions, 0, "valid (2048 layers"),
    "stride_explosion.yaml": (_stride_explosion, 0, "valid (1000 layers"),
    "suggestions.yaml": (_suggestions, 1, "(did you mean `layer_number_00000`?)"),
    "long_names_deep.yaml": (_long_names_deep, 1, "the `max_name_bytes` budget"),
    "long_op_name_repeated.yaml": (_long_op_name_repeated, 1, None),
    "default_names.yaml": (_default_names, 0, "valid (4990 layers"),
    "many_overrides.yaml": (_many_overrides, 0, "valid (3000 layers"),
    "diff_long_a.yaml": (_diff_long_a, 0, "valid (2990 layers"),
    "diff_long_b.yaml": (_diff_long_b, 0, "valid (2990 layers"),
    "extends_symlink_loop.yaml": (_extends_symlink_loop, 1, "symlink loop"),
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the corpus (committed files) and the generated inputs."""
    folder = tmp_path_factory.mktemp("hostile")
    for path in CORPUS.glob("*.yaml"):
        if path.name != "expected.yaml" and path.is_file():
            shutil.copy(path, folder / path.name)
    shutil.copytree(CORPUS / "chain", folder / "chain")
    for name, (write, _, _) in GENERATED.items():
        write(folder / name)
    return folder


# --- the commands --------------------------------------------------------------------------------------

#: Every command and format; SPEC is replaced by the input. `diff` compares the input with itself.
COMMANDS = {
    "validate": ["validate", "SPEC"],
    "validate-json": ["validate", "SPEC", "--format", "json"],
    "expand": ["expand", "SPEC"],
    "summary": ["summary", "SPEC", "--layers"],
    "summary-json": ["summary", "SPEC", "--format", "json"],
    "summary-markdown": ["summary", "SPEC", "--format", "markdown", "--layers"],
    "diff": ["diff", "SPEC", "SPEC"],
    "diff-json": ["diff", "SPEC", "SPEC", "--format", "json"],
    "diff-markdown": ["diff", "SPEC", "SPEC", "--format", "markdown", "--layers"],
    "render-svg": ["render", "SPEC", "--format", "svg", "--expand-repeats"],
    "render-html": ["render", "SPEC", "--format", "html"],
    "render-dot": ["render", "SPEC", "--format", "dot", "--expand-repeats"],
    "render-mermaid": ["render", "SPEC", "--format", "mermaid", "--expand-repeats"],
    "render-block": ["render", "SPEC", "--depth", "block"],
    "render-png": ["render", "SPEC", "--format", "png", "--expand-repeats", "-o", "out.png"],
    "render-pdf": ["render", "SPEC", "--format", "pdf", "-o", "out.pdf"],
    "diff-html": ["diff", "SPEC", "SPEC", "--format", "html"],
    "diff-svg": ["diff", "SPEC", "SPEC", "--format", "svg"],
    "scale": ["scale", "SPEC", "--macs", "1G", "-o", "variant.yaml"],
    "scale-json": ["scale", "SPEC", "--params", "1M", "--by", "compound", "--format", "json", "-o", "variant.yaml"],
    "sweep": ["sweep", "SPEC", "--vary", "width.multiplier=[0.5, 1]", "--vary", "depth.multiplier=[1, 2]"],
    "sweep-csv": ["sweep", "SPEC", "--vary", "width.multiplier=[0.5, 1]", "--format", "csv"],
    "sweep-json": ["sweep", "SPEC", "--vary", "input=[[32, 32, 3], [64, 64, 3]]", "--format", "json"],
    "sweep-plot": ["sweep", "SPEC", "--vary", "width.multiplier=[0.5, 1]", "--plot", "plot.svg"],
}
#: What CI runs of the matrix: the text that attacks every output and terminal through every command;
#: a spec that once exited 3, and a valid spec at the layer bound (the most work a valid spec may ask
#: for), through the commands that read, analyse, compare, draw and vary it in different ways. `-m heavy`
#: runs these and every other input (terminal_markup.yaml, keys_one_and_true.yaml, ...) through every command.
REPRESENTATIVES = {
    "out_title_markup.yaml": list(COMMANDS),  # injection in pictures, graph sources, markdown, tables
    "template_default_names_param.yaml": ["validate", "expand", "summary", "diff", "render-svg", "scale", "sweep"],
    "layers_at_the_bound.yaml": [
        "expand", "summary-json", "diff-svg", "render-svg", "render-mermaid", "render-png", "scale",
    ],
}  # fmt: skip
#: Inputs specific to one kind of work, through the commands that do it.
WORK = [
    ("mermaid_collisions.yaml", "render-mermaid"),
    ("mermaid_collisions.yaml", "render-dot"),
    ("mermaid_collisions.yaml", "render-png"),
    ("stride_explosion.yaml", "summary-json"),
    ("stride_explosion.yaml", "render-html"),
    ("adaptive_pool_many.yaml", "summary"),
    ("suggestions.yaml", "validate"),
    ("long_names_deep.yaml", "render-svg"),
    ("long_op_name_repeated.yaml", "summary"),
    ("extends_symlink_loop.yaml", "validate"),
    ("default_names.yaml", "validate"),
    ("many_overrides.yaml", "validate"),
    ("out_title_newline.yaml", "render-dot"),
    ("terminal_escape_key.yaml", "validate"),
    ("terminal_bidi.yaml", "summary"),
]
DIFFS = [
    ("diff_long_a.yaml", "diff_long_b.yaml", ["--format", "json"]),  # the most work of any run (CI)
    pytest.param("diff_long_a.yaml", "diff_long_b.yaml", [], marks=pytest.mark.heavy),
    pytest.param("diff_long_b.yaml", "diff_long_a.yaml", ["--format", "markdown", "--layers"], marks=pytest.mark.heavy),
]


def _validate_exit(name: str) -> int:
    if name in GENERATED:
        return GENERATED[name][1]
    return EXPECTED[name]["exit"]


def _expected_exit(name: str, command: str) -> set[int]:
    """A spec command exits as `validate` does; `diff` of a spec with itself says 0 (same) or 2
    (trouble: an invalid spec), as GNU diff; `expand` does not analyse, so a spec whose mistake
    only the analysis finds (a shape, the parameter budget) expands."""
    valid = _validate_exit(name)
    if command.startswith("diff"):
        return {0 if valid == 0 else 2}
    if command.startswith("scale"):
        return {0, 1} if valid == 0 else {1}  # 1: out of reach, or over `max_variant_ops` (checked below)
    if command.startswith("sweep"):
        return {0, 1}  # a variant's mistake is its row's; 1: the spec does not resolve, or `max_variant_ops`
    if command == "expand" and valid == 1:
        return {0, 1}
    if command in ("render-png", "render-pdf") and valid == 0:
        return {0, 1}  # 1 only when the picture is over a `max_picture_*` bound (checked below)
    return {valid}


STATS: list[tuple[str, Run]] = []


def check_run(label: str, run: Run, expected: int | set[int], pace: Pace) -> None:
    STATS.append((label, run))
    output = run.stdout + run.stderr
    allowed = {expected} if isinstance(expected, int) else expected
    assert run.returncode in allowed, f"{label}: exit {run.returncode}\n{output[:3000]}"
    expected_exit = run.returncode
    assert "Traceback" not in output and "internal error" not in output, output[:3000]
    assert not RAW_CONTROL.search(output), f"{label}: a raw control character reached the terminal"
    if run.cpu > pace.cpu_limit(CPU_LIMIT):
        raise TooSlow(f"{label}: {run.cpu:.2f} s of CPU ({pace})")
    if run.wall > pace.wall_limit(WALL_LIMIT):
        raise TooSlow(f"{label}: {run.wall:.2f} s wall ({pace})")
    assert run.rss_mb <= MEMORY_LIMIT_MB, f"{label}: {run.rss_mb:.0f} MB"
    if "--format json" in label and label.startswith("validate") and expected_exit == 1:
        errors = [e for r in json.loads(run.stdout)["results"] for e in r["errors"]]
        assert errors and all(e["line"] >= 1 and e["col"] >= 1 for e in errors), run.stdout[:3000]
    elif expected_exit in (1, 2) and not label.startswith("diff"):  # diff: 1 is "different", 2 "trouble"
        lines = [line for line in run.stderr.splitlines() if line and not line.startswith(("    ", "... and "))]
        assert lines, output
        if expected_exit == 1:
            assert all(LOCATED.match(line) for line in lines), run.stderr[:3000]


def check_output(command: str, run: Run) -> None:
    """The output reads back with its format's parser."""
    if run.returncode not in (0, 1) or not run.stdout:
        return
    if command in ("render-svg", "render-block", "diff-svg"):
        ET.fromstring(run.stdout)
    elif command == "sweep-csv":
        rows = list(csv.reader(io.StringIO(run.stdout)))
        assert rows and all(len(row) == len(rows[0]) for row in rows), run.stdout[:3000]
    elif command in ("render-html", "diff-html"):
        found: list[str] = []

        class Reader(HTMLParser):
            def handle_starttag(self, tag, attrs):
                found.extend(["script"] if tag == "script" else [])
                found.extend(f"handler {name}" for name, _ in attrs if name.startswith("on"))

        Reader().feed(run.stdout)
        assert found == ["script"] * (2 if command == "diff-html" else 1), found  # diff: its data, its code
    elif command.endswith("json"):
        json.loads(run.stdout)
    elif command == "expand":
        yaml.load(run.stdout, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: 50 times faster
    elif command == "render-mermaid":
        assert "%%{" not in run.stdout
        assert all(line.startswith(("%% ", "flowchart", " ")) for line in run.stdout.splitlines())


def _skip_without_raster(command: str) -> None:
    if command in ("render-png", "render-pdf"):
        pytest.importorskip("vl_convert", reason='PNG and PDF need pip install "inceptionspec[render]"')


def _spec_args(command: str, spec: str) -> list[str]:
    return [spec if part == "SPEC" else part for part in COMMANDS[command]]


def _matrix(full: bool) -> list[tuple[str, str]]:
    if full:
        names = sorted({*(n for n, e in EXPECTED.items() if not e.get("generate")), *GENERATED} - {"directory.yaml"})
        return [(name, command) for name in names for command in COMMANDS]
    return [(name, command) for name, commands in REPRESENTATIVES.items() for command in commands] + WORK


@pytest.mark.parametrize("name, command", _matrix(full=False), ids=lambda v: v)
def test_every_command_keeps_the_bounds_on_hostile_input(name, command, inputs, pace):
    _skip_without_raster(command)
    run = run_checked(_spec_args(command, name), inputs, _expected_exit(name, command), pace)
    check_output(command, run)
    if command in ("render-png", "render-pdf") and _validate_exit(name) == 0 and run.returncode == 1:
        assert re.search(r"the `max_picture_(pixels|texts)` budget", run.stderr), run.stderr
    if command.startswith(("scale", "sweep")) and _validate_exit(name) == 0 and run.returncode == 1:
        assert re.search(r"the `max_variant_ops` budget|out of reach", run.stderr), run.stderr
    message = GENERATED[name][2] if name in GENERATED else EXPECTED.get(name, {}).get("message")
    if command == "validate" and message:
        assert message in run.stdout + run.stderr


@pytest.mark.heavy
@pytest.mark.parametrize("name, command", _matrix(full=True), ids=lambda v: v)
def test_every_command_on_every_hostile_input(name, command, inputs, pace):
    _skip_without_raster(command)
    run = run_checked(_spec_args(command, name), inputs, _expected_exit(name, command), pace)
    check_output(command, run)


@pytest.mark.parametrize("a, b, options", DIFFS, ids=lambda v: str(v))
def test_diff_of_two_long_unrelated_specs_keeps_the_bounds(a, b, options, inputs, pace):
    run = run_checked(["diff", a, b, *options], inputs, 1, pace)
    check_output("diff-json" if "json" in options else "diff", run)


def test_two_specs_at_the_layer_bound_are_more_than_one_diff_compares(inputs, pace):
    shutil.copy(inputs / "layers_at_the_bound.yaml", inputs / "layers_at_the_bound_copy.yaml")
    run = run_checked(
        ["diff", "layers_at_the_bound.yaml", "layers_at_the_bound_copy.yaml", "--format", "svg"], inputs, 2, pace
    )
    assert "layers_at_the_bound_copy.yaml:2:1: more than 6,000 layers in the two specs together" in run.stderr
    assert "A has 4,999 layers, B 4,999" in run.stderr and not run.stdout


@pytest.mark.parametrize("command", [["schema"], ["list"]], ids=lambda v: v[0])
def test_commands_without_a_spec_keep_the_bounds(command, inputs, pace):
    run_checked(command, inputs, 0, pace)


def test_the_huge_effective_stride_saturates_where_json_can_print_it(inputs):
    run = run_cli(["summary", "stride_explosion.yaml", "--format", "json"], inputs)
    layers = json.loads(run.stdout)["layers"]
    assert layers[-1]["effective_stride"] == [10**12, 10**12]
    assert layers[0]["effective_stride"] == [100_000, 100_000]


def test_terminal_tables_print_markup_as_written(inputs):
    run = run_cli(["summary", "terminal_markup.yaml"], inputs)
    assert "[/x]" in run.stdout and "[bold red]red[/bold red] :smile:" in run.stdout


@pytest.fixture(scope="module", autouse=True)
def report_the_worst(request: pytest.FixtureRequest):
    yield
    if not STATS:
        return
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    wall = max(STATS, key=lambda s: s[1].wall)
    cpu = max(STATS, key=lambda s: s[1].cpu)
    rss = max(STATS, key=lambda s: s[1].rss_mb)
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nhostile outputs: {len(STATS)} runs; slowest {wall[0]} {wall[1].wall:.2f} s wall; "
                f"most CPU {cpu[0]} {cpu[1].cpu:.2f} s; most memory {rss[0]} {rss[1].rss_mb:.0f} MB"
            )


# --- special files, write errors, readers that go away, a memory limit -------------------------------


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/proc/kmsg"), reason="reading /proc/kmsg needs root")
def test_a_file_that_would_block_is_refused_at_once(tmp_path, pace):
    """`/proc/kmsg` says it is a regular, empty file, and a read waits for the kernel's next message."""
    run = run_cli(["validate", "/proc/kmsg"], tmp_path)
    check_run("validate /proc/kmsg", run, 2, pace)
    assert "/proc/kmsg: reading it would block" in run.stderr


@pytest.mark.parametrize("source", ["/dev/zero", "/dev/null", "/dev/stdin", "/proc/self"])
def test_devices_and_directories_are_not_specs(source, tmp_path):
    if not os.path.exists(source):
        pytest.skip(f"no {source} here")
    run = run_cli(["validate", source], tmp_path)
    assert run.returncode == 2 and "not a file" in run.stderr, run.stderr


def test_a_proc_file_that_says_it_is_empty_is_read_anyway(tmp_path):
    """`/proc/self/status` has size 0 and content (tabs: not YAML, a located error)."""
    if not os.path.exists("/proc/self/status"):
        pytest.skip("no /proc here")
    run = run_cli(["validate", "/proc/self/status"], tmp_path)
    assert run.returncode == 1 and run.stderr.startswith("/proc/self/status:"), run.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
@pytest.mark.parametrize(
    "args, message",
    [
        (["render", "googlenet", "-o", "/dev/full"], "error: /dev/full: cannot write: No space left on device"),
        (["schema", "-o", "/dev/full"], "error: /dev/full: cannot write: No space left on device"),
    ],
)
def test_a_failed_write_names_the_file(args, message, tmp_path):
    run = run_cli(args, tmp_path)
    assert run.returncode == 2 and message in run.stderr, run.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
@pytest.mark.parametrize(
    "args", [["summary", "googlenet"], ["expand", "googlenet"], ["diff", "googlenet", "googlenet_bn"]]
)
def test_a_full_standard_output_is_an_io_error(args, tmp_path):
    with open("/dev/full", "wb") as full:
        run = run_cli(args, tmp_path, stdout=full.fileno())
    assert run.returncode == 2 and "error: standard output" in run.stderr, run.stderr


#: Every command, and the ways of printing that differ (rich tables, plain text, a picture).
READER_GONE = [
    ["validate", "googlenet"],
    ["validate", "googlenet", "--format", "json"],
    ["expand", "googlenet"],
    ["summary", "googlenet"],
    ["summary", "googlenet", "--format", "markdown"],
    ["diff", "googlenet", "googlenet_bn"],
    ["diff", "googlenet", "googlenet_bn", "--format", "html"],
    ["scale", "googlenet", "--macs", "1G", "-o", "variant.yaml"],
    ["sweep", "googlenet", "--vary", "width.multiplier=[0.5, 1]", "--format", "csv"],
    ["render", "googlenet"],
    ["render", "googlenet", "--format", "mermaid"],
    ["schema"],
    ["list"],
]


@pytest.mark.parametrize("args", READER_GONE, ids=" ".join)
def test_every_command_ends_quietly_with_141_when_its_reader_goes_away(args, tmp_path):
    """`inceptionspec summary x | head -c1`: the pipe closes; every command stops with 128 + SIGPIPE
    and prints nothing (not the "invalid spec" 1, not a BrokenPipeError)."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first byte
    try:
        run = run_cli(args, tmp_path, stdout=write)
    finally:
        os.close(write)
    assert (run.returncode, run.stderr) == (141, "")


def test_running_out_of_memory_is_an_io_error_not_a_bug(inputs):
    """Under a memory limit too small for the spec (not for Python itself), the command says so
    and exits 2. Limits below what Python needs to start are outside the model (the interpreter
    aborts before inceptionspec runs): those runs are left out."""
    outcomes = {}
    for limit in (80, 65, 55, 45):
        run = run_cli(["summary", "layers_at_the_bound.yaml", "--format", "json"], inputs, memory_mb=limit)
        if run.returncode < 0 or run.returncode == 134 or "Fatal Python error" in run.stderr or "<frozen" in run.stderr:
            continue  # Python could not start
        assert "internal error" not in run.stderr and "Traceback" not in run.stderr, run.stderr[-2000:]
        outcomes[limit] = (run.returncode, run.stderr.strip()[-200:])
    assert all(code in (0, 2) for code, _ in outcomes.values()), outcomes
    if not any(code == 2 for code, _ in outcomes.values()):
        pytest.skip(f"no limit here lets Python start but not finish: {outcomes}")
    assert all("out of memory" in text for code, text in outcomes.values() if code == 2), outcomes


def test_a_memory_error_anywhere_in_a_command_is_exit_2(monkeypatch):
    from click.testing import CliRunner

    import inceptionspec.analysis.stats as stats
    from inceptionspec.cli import main

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(stats, "analyze_graph", exhausted)
    result = CliRunner().invoke(main, ["summary", "googlenet"])
    assert result.exit_code == 2 and "error: googlenet: out of memory" in result.output, result.output


# --- the Python API raises SpecError and nothing else for bad input ----------------------------------------


@pytest.mark.parametrize(
    "source, message",
    [
        ("no-such-spec", "no such file or shipped spec"),
        ("/proc/self", "not a file"),
        ("/dev/null", "not a file"),
        ("a\0b.yaml", "no such file"),
    ],
)
def test_load_raises_a_source_error_for_a_source_that_cannot_be_read(source, message):
    with pytest.raises(SourceError, match=message) as caught:
        inceptionspec.load(source)
    assert isinstance(caught.value, SpecError)


def _load_and_analyze(names: list[str], folder: Path) -> None:
    for name in names:
        try:
            inceptionspec.analyze(inceptionspec.load(str(folder / name)))
        except SpecError:
            pass


def test_load_raises_spec_errors_for_every_hostile_file(inputs):
    """Every file of the corpus: a valid spec or a SpecError, nothing else."""
    _load_and_analyze(sorted(n for n, e in EXPECTED.items() if not e.get("generate")), inputs)


@pytest.mark.heavy
def test_load_raises_spec_errors_for_every_generated_hostile_file(inputs):
    """The generated inputs (thousands of layers each; CI runs them through the CLI instead)."""
    _load_and_analyze(sorted(GENERATED), inputs)


# --- the HTML page in a browser ----------------------------------------------------------------------------

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


def _dom_after_load(page: Path, profile: Path) -> str:
    """The page's DOM after its scripts ran, from headless Chromium."""
    done = subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
            "--virtual-time-budget=3000", "--dump-dom", page.as_uri(),
        ],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed (apt-get install chromium)")
def test_the_html_page_runs_no_injected_script_in_a_browser(tmp_path):
    """The page of a spec whose title, description, references and block labels try to inject
    script, and the page of a diagram with hostile strings in every field: after loading (and the
    page's own script moving every tooltip into an attribute), no injected handler ran, and the
    DOM holds no element or handler the renderer did not write. A control page with the same
    payload written raw shows that the check sees a script that runs."""
    from test_escape import _poisoned  # the hostile diagram of the writers' own tests

    from inceptionspec.render import layout, render
    from inceptionspec.render.diffpicture import render_diff
    from inceptionspec.render.html import _html

    spec = inceptionspec.analyze(inceptionspec.load(str(CORPUS / "out_title_markup.yaml")))
    # A diff whose sources' file names, labels and changes carry the payloads too.
    changed = tmp_path / '"><img src=x onerror="document.documentElement.setAttribute(\'data-pwned\',1)">.yaml'
    text = (CORPUS / "out_title_markup.yaml").read_text(encoding="utf-8")
    changed.write_text(text.replace("filters: 4", "filters: 6").replace("<b>", "<svg onload=x>"))
    pages = {
        "spec.html": render(spec, fmt="html"),
        "diff.html": render_diff(inceptionspec.diff(str(CORPUS / "out_title_markup.yaml"), str(changed))),
        "poisoned.html": _html(_poisoned(layout(inceptionspec.analyze(inceptionspec.load("googlenet"))))),
        "control.html": "<html><body><img src=x onerror=\"document.documentElement.setAttribute('data-pwned',1)\">"
        "</body></html>",
    }
    doms = {}
    for name, text in pages.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        doms[name] = _dom_after_load(tmp_path / name, tmp_path / f"profile-{name}")
    assert "pwned" in _elements(doms["control.html"]), "the check would not see an injected script run"
    for name in ("spec.html", "poisoned.html", "diff.html"):
        found = _elements(doms[name])
        assert "pwned" not in found, f"{name}: an injected script ran"
        assert "tips" in found, f"{name}: the page's own script did not run"
        scripts = ["script", "script"] if name == "diff.html" else ["script"]  # the diff page: its data, its code
        assert [f for f in found if f not in ("pwned", "tips")] == scripts, f"{name}: {found}"


def _elements(dom: str) -> list[str]:
    """What a DOM holds of interest: `pwned` (the payloads' mark on an element), `tips` (the
    page's own script ran), script and embedding elements, event handler attributes."""
    found: list[str] = []

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            names = [a for a, _ in attrs]
            found.extend(["pwned"] if "data-pwned" in names else [])
            found.extend(["tips"] if "data-tip" in names and "tips" not in found else [])
            found.extend([tag] if tag in ("script", "img", "iframe", "object", "embed") else [])
            found.extend(f"handler {a}" for a in names if a.startswith("on"))

    Reader().feed(dom)
    return found


if __name__ == "__main__":  # pragma: no cover - a measuring tool: python tests/test_hostile_outputs.py
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for path in CORPUS.glob("*.yaml"):
            if path.is_file() and path.name != "expected.yaml":
                shutil.copy(path, folder / path.name)
        shutil.copytree(CORPUS / "chain", folder / "chain")
        for name, (write, _, _) in GENERATED.items():
            write(folder / name)
        print(f"{'command':18} {'input':36} {'exit':>4} {'wall s':>7} {'cpu s':>6} {'rss MB':>7}")
        for name, command in _matrix(full=True):
            r = run_cli(_spec_args(command, name), folder)
            print(f"{command:18} {name:36} {r.returncode:>4} {r.wall:7.2f} {r.cpu:6.2f} {r.rss_mb:7.0f}", flush=True)
