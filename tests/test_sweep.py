"""`inceptionspec sweep`: one row per combination, invalid ones as rows; CSV, JSON, the plot, --measure."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from conftest import HEADER
from inceptionspec.analysis import analyze
from inceptionspec.analysis.family import Family, Member
from inceptionspec.analysis.sweep import MAX_COMBINATIONS, Row, frontier, parse_vary, sweep
from inceptionspec.cli import main
from inceptionspec.core.errors import SpecError, UsageError
from inceptionspec.lang.pipeline import resolve

ACCEPTANCE = [
    "sweep",
    "googlenet",
    "--vary",
    "width.multiplier=[0.5, 0.75, 1]",
    "--vary",
    "input=[[160, 160, 3], [224, 224, 3]]",
]


def _sweep(*args: str):
    return CliRunner().invoke(main, list(args))


def test_googlenet_width_by_input_gives_six_rows_with_overrides_and_costs():
    result = _sweep(*ACCEPTANCE, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 6
    assert [row["overrides"] for row in rows[:2]] == [
        {"width.multiplier": 0.5, "input": [160, 160, 3]},
        {"width.multiplier": 0.5, "input": [224, 224, 3]},
    ]
    assert all({"overrides", "params", "macs", "peak_activation_bytes", "valid"} <= set(row) for row in rows)
    valid = [row for row in rows if row["valid"]]
    assert [row["overrides"]["input"] for row in valid] == [[224, 224, 3]] * 3
    assert valid[0]["macs"] < valid[1]["macs"] < valid[2]["macs"]


def test_an_invalid_combination_is_a_row_with_its_error():
    rows = json.loads(_sweep(*ACCEPTANCE, "--format", "json").stdout)
    bad = rows[0]
    assert bad["valid"] is False and bad["params"] is None
    assert "main.pool5: 7×7 avgpool (valid) on a 5×5 input" in bad["error"]  # located in googlenet.yaml
    assert bad["error"].startswith("specs/googlenet.yaml:")


def test_any_path_can_vary_and_the_knobs_agree_with_plain_overrides():
    family = Family(resolve("inception_v4"))
    rows = sweep(family, [parse_vary("depth.multiplier=[0.5]"), parse_vary("reduction_a.k=[96, 192]")])
    assert rows[0].cost.params < rows[1].cost.params
    plain = family.resolved.expand({"depth.multiplier": 0.5, "reduction_a.k": 96})
    assert rows[0].cost.layers == len(analyze(plain, include_aux=False).layers)


def test_the_table_lists_each_distinct_error_once_under_it():
    result = _sweep(*ACCEPTANCE)
    assert result.exit_code == 0
    assert result.stdout.count("no (1)") == 3
    assert result.stdout.count("(1) specs/googlenet.yaml") == 1


@pytest.mark.parametrize(
    "vary, exit_code, message",
    [
        ("width.multiplier", 2, "expected PATH=[V1, V2, ...]"),
        ("=[1, 2]", 2, "expected PATH=[V1, V2, ...]"),
        ("width.multiplier=0.5", 1, "<--vary 1>:1:18: `width.multiplier`: expected a list of values"),
        ("width.multiplier=[]", 1, "expected a list of values, got an empty list"),
        ("width.multiplier=[0.5, ", 1, "<--vary 1>:"),
        ("input=" + "[" * 100 + "]" * 100, 1, "<--vary 1>:"),
    ],
)
def test_a_malformed_vary_is_refused_before_any_work(vary, exit_code, message):
    result = _sweep("sweep", "googlenet", "--vary", vary)
    assert result.exit_code == exit_code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_the_number_of_combinations_is_capped_and_the_message_names_the_cap():
    values = "[" + ", ".join(str(i) for i in range(1, 41)) + "]"
    result = _sweep("sweep", "googlenet", "--vary", f"classes={values}", "--vary", f"inception_3a.n1x1={values}")
    assert result.exit_code == 2
    assert f"40 × 40 = 1,600 combinations; a sweep is limited to {MAX_COMBINATIONS:,}" in result.output


def test_the_same_path_twice_is_a_usage_error():
    with pytest.raises(UsageError, match="varies `classes` again"):
        sweep(Family(resolve("googlenet")), [parse_vary("classes=[1]"), parse_vary("classes=[2]", 1)])


def test_a_value_of_the_wrong_type_is_an_invalid_row_not_a_crash():
    rows = sweep(Family(resolve("googlenet")), [parse_vary("width.multiplier=[0.5, fast, 100]")])
    assert [row.valid for row in rows] == [True, False, False]
    assert "expected a number" in rows[1].error and "must be ≤ 64" in rows[2].error


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_quoted(write_spec):
    path = write_spec(HEADER + "stages:\n  - conv: {filters: 4, kernel: 3}\n  - global_avgpool:\n")
    vary = "title=['=HYPERLINK(\"http://x\")', '+1', '-cmd', '@SUM(A1)', 'plain', '-0.5']"
    result = _sweep("sweep", str(path), "--vary", vary, "--vary", "classes=[-3]", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:3] == ["title", "classes", "params"]
    titles = ['\'=HYPERLINK("http://x")', "'+1", "'-cmd", "'@SUM(A1)", "plain", "'-0.5"]
    assert [row[0] for row in rows[1:]] == titles  # text, however it looks
    assert rows[1][1] == "-3"  # a number stays a number
    assert rows[1][5] == "false" and "must be ≥ 1" in rows[1][6]  # classes -3 is an invalid row


def test_frontier_keeps_the_points_nothing_beats():
    points = [(1, 1), (1, 3), (2, 2), (3, 5), (4, 5), (0.5, 0.2)]
    assert frontier(points) == {1, 3, 5}


@pytest.mark.parametrize("suffix", ["svg", "png"])
def test_plot_draws_the_frontier(tmp_path, suffix):
    out = tmp_path / f"sweep.{suffix}"
    result = _sweep(*ACCEPTANCE, "--format", "json", "--plot", str(out))
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    if suffix == "png":
        assert data.startswith(b"\x89PNG")
    else:
        root = ET.fromstring(data)
        assert root.tag.endswith("svg")
        assert b"frontier" in data and b"<script" not in data


def test_plot_labels_are_plain_text(tmp_path, write_spec):
    from inceptionspec.render.plot import plot, plot_text

    assert plot_text("$x^2$ \\alpha\x1b") == r"\$x^2\$ \\alpha\\x1b"
    rows = [Row({"title": "$\\frac{a}{b}$ <script>"}, Family(resolve("googlenet")).cost(Member()))]
    out = tmp_path / "p.svg"
    assert plot(rows, out, "</title><script>alert(1)</script>") == 1
    text = out.read_text()
    ET.fromstring(text)  # well-formed: the title's markup was escaped
    assert "<script" not in text


def test_plot_needs_a_known_file_type(tmp_path):
    result = _sweep(*ACCEPTANCE, "--plot", str(tmp_path / "p.gif"))
    assert result.exit_code == 2 and ".svg, .png or .pdf" in result.output


def test_the_static_sweep_imports_neither_tensorflow_nor_matplotlib():
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom inceptionspec.cli import main\n"
        f"r = CliRunner().invoke(main, {ACCEPTANCE + ['--format', 'json']!r})\nassert r.exit_code == 0, r.output\n"
        "r = CliRunner().invoke(main, ['scale', 'googlenet', '--macs', '600M'])\nassert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'matplotlib') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_parse_vary_locates_a_yaml_error():
    with pytest.raises(SpecError, match=r"<--vary 3>:\d+:\d+: YAML syntax error"):
        parse_vary("input=[1, {", 2)


def test_measure_times_a_tiny_variant():
    pytest.importorskip("keras")
    from inceptionspec.keras.measure import measure

    family = Family(resolve("examples/googlenet_cifar"))
    spec = family.spec(Member(width=0.25))
    speed = measure(spec, runs=1)
    assert speed.latency_ms > 0 and speed.throughput > 0


def test_a_whole_depth_or_width_mapping_can_vary_too():
    rows = sweep(Family(resolve("inception_v4")), [parse_vary("depth=[{multiplier: 0.3}, {multiplier: 1}]")])
    assert rows[0].cost.layers < rows[1].cost.layers
    assert rows[1].cost == Family(resolve("inception_v4")).cost(Member())
