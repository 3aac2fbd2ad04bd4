"""The `inceptionspec` command: exit codes 0 ok / 1 invalid spec / 2 usage or I/O error."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest

from conftest import HEADER, run_cli
from inceptionspec.lang.library import shipped


def test_list_shows_googlenet():
    result = run_cli("list")
    assert result.returncode == 0
    assert "googlenet" in result.stdout


@pytest.mark.parametrize("name", sorted(shipped()))
def test_every_shipped_spec_validates(name):
    result = run_cli("validate", name)
    assert result.returncode == 0, result.stderr
    assert f"{name}: valid" in result.stdout


@pytest.mark.parametrize(
    "body, line_col",
    [
        ("stages:\n  - conv: {filters: 8, kernel: 3\n", "7:1"),
        ("stages:\n  - cnov: {filters: 8, kernel: 3}\n", "6:5"),
        ("classes: 5\nstages:\n  - conv: {filters: 8, kernel: 3}\n", "5:1"),
    ],
    ids=["yaml-syntax", "unknown-op", "duplicate-key"],
)
def test_broken_spec_exits_1_with_location_and_no_traceback(write_spec, body, line_col):
    path = write_spec(HEADER + body)
    result = run_cli("validate", path)
    assert result.returncode == 1
    assert f"{path}:{line_col}:" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_validate_json_reports_located_errors(write_spec):
    path = write_spec(HEADER + "stages:\n  - cnov: {filters: 8, kernel: 3}\n")
    result = run_cli("validate", path, "--format", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    (error,) = report["results"][0]["errors"]
    assert (error["line"], error["col"]) == (6, 5)


def test_missing_file_exits_2(tmp_path):
    result = run_cli("validate", tmp_path / "nope.yaml")
    assert result.returncode == 2
    assert "no such file" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def googlenet_json():
    result = run_cli("summary", "googlenet", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_summary_json_has_the_documented_keys(googlenet_json):
    assert {
        "name",
        "input_shape",
        "total_params",
        "trainable_params",
        "non_trainable_params",
        "macs",
        "outputs",
        "blocks",
        "layers",
    } <= set(googlenet_json)
    assert googlenet_json["name"] == "googlenet"
    assert googlenet_json["input_shape"] == [224, 224, 3]


def test_summary_json_matches_the_googlenet_paper(googlenet_json):
    depths = {b["name"]: b["output_shape"][-1] for b in googlenet_json["blocks"] if b["name"].startswith("inception_")}
    assert depths == {
        "inception_3a": 256,
        "inception_3b": 480,
        "inception_4a": 512,
        "inception_4b": 512,
        "inception_4c": 512,
        "inception_4d": 528,
        "inception_4e": 832,
        "inception_5a": 832,
        "inception_5b": 1024,
    }
    assert googlenet_json["total_params"] == 13_378_280
    assert [o["name"] for o in googlenet_json["outputs"]] == ["main", "aux1", "aux2"]


def test_summary_without_aux_heads():
    result = run_cli("summary", "googlenet", "--format", "json", "--no-aux")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total_params"] == 6_998_552
    assert [o["name"] for o in data["outputs"]] == ["main"]


def test_summary_layers_fits_80_columns_eliding_long_names_in_the_middle():
    import os

    from rich.cells import cell_len

    import inceptionspec

    env = {**os.environ, "COLUMNS": "80"}
    result = subprocess.run(
        [sys.executable, "-m", "inceptionspec.cli", "summary", "inception_resnet_v2", "--layers"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(cell_len(line.rstrip()) for line in lines) <= 80
    rows = [line.split("│") for line in lines if line.startswith("│")]
    names = [row[1].strip() for row in rows]
    layers = [s.name for s in inceptionspec.analyze("inception_resnet_v2").layers]
    assert len(names) == len(layers)
    elided = 0
    for shown, name in zip(names, layers, strict=True):
        # Whole, or its beginning and its end joined by one "…": never cut at the end.
        if shown != name:
            head, _, tail = shown.partition("…")
            assert head and tail and name.startswith(head) and name.endswith(tail), (shown, name)
            elided += 1
    assert elided > 100  # the test exercises eliding: Inception-ResNet v2 has long names


def test_schema_prints_json():
    result = run_cli("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_too_small_input_exits_1_naming_layer_and_sizes():
    result = run_cli("summary", "googlenet", "--set", "input=[16,16,3]")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    # The 16×16 input shrinks to 2×2 before pool3, whose 3×3 ceil window still starts inside it
    # (one output, as Caffe and PyTorch), then to 1×1 before pool4, where no window starts.
    assert "specs/googlenet.yaml:53:14: pool4:" in result.stderr
    assert "3×3/2 maxpool" in result.stderr and "1×1 input" in result.stderr


def test_static_path_never_imports_tensorflow():
    code = textwrap.dedent(
        """
        import sys
        import inceptionspec
        spec = inceptionspec.load("googlenet")
        inceptionspec.analyze(spec)
        inceptionspec.dump(spec)
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_list_heads_its_columns_with_what_they_show():
    result = run_cli("list")
    header = result.stdout.splitlines()[0].split()
    assert header == ["name", "title"]  # the column shows each spec's `title:`
    assert "GoogLeNet (Inception v1)" in result.stdout


def test_builds_default_file_name_reflects_the_variant():
    from inceptionspec.cli.build import default_output

    assert str(default_output("googlenet", False, ())) == "googlenet.keras"
    assert str(default_output("googlenet", True, ())) == "googlenet-no-aux.keras"
    one = default_output("googlenet", False, ("classes=10",))
    assert re.fullmatch(r"googlenet-set-[0-9a-f]{8}\.keras", str(one))
    assert default_output("googlenet", False, ["classes=10"]) == one  # stable
    assert default_output("googlenet", False, ("classes=11",)) != one
    assert str(default_output("googlenet", True, ("classes=10",))).startswith("googlenet-no-aux-set-")
