"""`inceptionspec expand`: the spec the compiler sees, printed as YAML that loads again, quietly."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import yaml

from inceptionspec import dump, load

ROOT = Path(__file__).resolve().parents[1]


def _tutorial_spec(tmp_path: Path) -> Path:
    """The templates tutorial's own example (docs/tutorials/templates.md), written to mini.yaml."""
    page = (ROOT / "docs" / "tutorials" / "templates.md").read_text(encoding="utf-8")
    (body,) = re.findall(r"<!-- spec: mini.yaml -->\n```yaml\n(.*?)\n```", page, re.S)
    path = tmp_path / "mini.yaml"
    path.write_text(body + "\n", encoding="utf-8")
    return path


def _expand(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "inceptionspec.cli", "expand", str(path)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


def test_expanding_blocks_nested_in_branches_prints_no_warnings_and_round_trips(tmp_path):
    """A block in a branch named like an op (`fan`, `flat`, `dense_x`) serialises as a block."""
    source = _tutorial_spec(tmp_path)
    assert "- fan:" in source.read_text(encoding="utf-8")
    first = _expand(source, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    assert "- fan:" in first.stdout
    expanded = tmp_path / "expanded.yaml"
    expanded.write_text(first.stdout, encoding="utf-8")
    second = _expand(expanded, tmp_path)
    assert second.returncode == 0 and second.stderr == ""
    assert second.stdout == first.stdout


def test_block_names_that_look_like_ops_dump_as_blocks(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "version: 1\nname: s\ninput: [8, 8, 3]\nstages:\n"
        "  - outer:\n      branches:\n        a:\n"
        "          - conv: {filters: 4, kernel: 1}\n"
        "          - abc: {branches: {x: [conv: {filters: 4, kernel: 1}], y: [conv: {filters: 4, kernel: 1}]}}\n"
        "          - flat: {layers: [conv: {filters: 4, kernel: 1}]}\n"
        "          - dense_x: {branches: {z: [maxpool: {size: 1}]}}\n"
        "        b: [conv: {filters: 4, kernel: 1}]\n",
        encoding="utf-8",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = dump(load(path))
    branch = yaml.safe_load(text)["stages"][0]["outer"]["branches"]["a"]
    assert [next(iter(item)) for item in branch] == ["conv", "abc", "flat", "dense_x"]
    assert "branches" in branch[1]["abc"] and "layers" in branch[2]["flat"]


def test_batch_norm_settings_are_shown_only_on_convs_with_batch_norm():
    data = yaml.safe_load(dump(load("googlenet_bn")))
    convs = [item["conv"] for item in data["stages"] if "conv" in item]
    assert convs and all(c["norm"] == "bn" and "bn" in c for c in convs)
    plain = yaml.safe_load(dump(load("googlenet")))
    convs = [item["conv"] for item in plain["stages"] if "conv" in item]
    assert convs and all(c["norm"] == "none" and "bn" not in c for c in convs)
