"""Messages that lead to the fix: where an error is, what caused it, and what to write instead."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inceptionspec import SpecError, load
from inceptionspec.ir import lower
from inceptionspec.lang.library import specs_dir

ROOT = Path(__file__).resolve().parents[1]


def _errors(source: str | Path, overrides: list[str] | None = None) -> SpecError:
    """The SpecError of loading and lowering a spec (what `validate` reports)."""
    with pytest.raises(SpecError) as err:
        lower(load(source, overrides))
    return err.value


def _tutorial_specs(folder: Path) -> None:
    """mini.yaml and broken.yaml, as the templates tutorial writes them."""
    page = (ROOT / "docs/tutorials/templates.md").read_text(encoding="utf-8")
    for name, body in re.findall(r"<!-- spec(?:\(\d+\))?: (\S+) -->\n```yaml\n(.*?)```", page, re.S):
        (folder / name).write_text(body, encoding="utf-8")


# --- where: a path that opens from the current directory --------------------------------


def test_an_error_in_a_shipped_spec_names_a_file_that_opens_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    err = _errors("googlenet", ["input=[16,16,3]"])
    where = err.errors[0].loc
    assert Path(where.file).is_file(), where  # opens from here: absolute, the package is elsewhere
    assert Path(where.file).samefile(specs_dir() / "googlenet.yaml")
    assert where.line == 53


def test_an_error_in_a_shipped_spec_under_the_current_directory_is_relative(monkeypatch):
    monkeypatch.chdir(specs_dir().parent)
    assert _errors("googlenet", ["input=[16,16,3]"]).errors[0].loc.file == "specs/googlenet.yaml"
    monkeypatch.chdir(specs_dir())
    assert _errors("googlenet", ["input=[16,16,3]"]).errors[0].loc.file == "googlenet.yaml"


# --- what caused it: the override, not only the template line it broke -------------------


def test_an_override_in_a_child_spec_is_named_beside_the_template_line_it_broke(tmp_path, monkeypatch):
    _tutorial_specs(tmp_path)
    monkeypatch.chdir(tmp_path)
    text = _errors("broken.yaml").format()
    assert text.startswith("mini.yaml:27:5: reduce_1.concat: concatenated branches disagree on H×W")
    assert "in template `reduce` (used by `reduce_1` at mini.yaml:51:5)" in text
    assert "changed at broken.yaml:5:3: `padding: same` of `reduce_1.conv.conv`" in text


def test_a_set_that_breaks_a_concat_is_named(tmp_path, monkeypatch):
    _tutorial_specs(tmp_path)
    monkeypatch.chdir(tmp_path)
    text = _errors("mini.yaml", ["reduce_1.filters=127", "templates.reduce.branches.conv.conv.kernel=2"]).format()
    assert "changed at --set 1: `filters: 127` of `reduce_1.conv.conv`" in text
    assert "changed at --set 2: `kernel: 2` of `reduce_1.conv.conv`" in text


def test_a_set_input_that_is_too_small_is_named_at_the_layer_it_breaks():
    text = _errors("googlenet", ["input=[16,16,3]"]).errors[0].format()
    assert ": pool4: 3×3/2 maxpool (valid) on a 1×1 input" in text
    assert "changed at --set 1: `input: [16, 16, 3]`" in text


def test_disagreeing_branches_are_named_and_an_unchanged_spec_gets_no_change_notes(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(
        "version: 1\nname: net\ninput: [8, 8, 3]\nstages:\n"
        "  - blk:\n      branches:\n        a: [conv: {filters: 4, kernel: 3, padding: same}]\n"
        "        b: [maxpool: {size: 2}]\n"
    )
    text = _errors(path).format()
    assert "blk.concat: concatenated branches disagree on H×W: `a` 8×8×4, `b` 4×4×3" in text
    assert "changed at" not in text


# --- all at once ---------------------------------------------------------------------------


def test_missing_version_name_and_input_come_with_the_other_errors_in_one_run(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text("classes: 10\nstages:\n  - conv: {filters: 8, kernel: 3, fitlers: 3}\n")
    with pytest.raises(SpecError) as err:
        load(path)
    messages = [d.message for d in err.value.errors]
    assert "missing required key `version`" in messages
    assert "missing required key `name`" in messages
    assert "missing `input` (required unless `extends` is given)" in messages
    assert any(m.startswith("unknown key `fitlers`") for m in messages)


# --- hints ---------------------------------------------------------------------------------


def test_replacing_one_layer_by_a_list_points_to_insert_and_remove():
    with pytest.raises(SpecError) as err:
        load("googlenet", ["conv1=[{conv: {filters: 32, kernel: 3}}, {conv: {filters: 64, kernel: 3}}]"])
    (d,) = err.value.errors
    assert "a list of items cannot replace the one item `conv1`" in d.message
    assert "--set 'conv1@before=[...]' --set conv1=null" in (d.hint or "")
    # … and the edit it suggests works.
    spec = load(
        "googlenet",
        [
            "conv1@before=[{conv: {name: conv1a, filters: 32, kernel: 3, strides: 2}}, "
            "{conv: {name: conv1b, filters: 64, kernel: 3}}]",
            "conv1=null",
        ],
    )
    assert [next(iter(item.values())).name for item in spec.stages[:2]] == ["conv1a", "conv1b"]


def test_a_list_where_a_mapping_belongs_names_the_key(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(
        "version: 1\nname: net\ninput: [8, 8, 3]\ndefaults:\n  - conv: {padding: same}\nstages:\n  - conv: [8, 3]\n"
    )
    with pytest.raises(SpecError) as err:
        load(path)
    by_line = {d.loc.line: d for d in err.value.errors}
    assert by_line[5].message == "`defaults`: expected a mapping, got a list"
    assert by_line[5].hint == "write `conv` as a key of `defaults`, without the `- ` in front"
    assert by_line[7].message == "`conv`: expected a mapping, got a list"


def test_an_unknown_parameter_is_reported_once_at_the_template(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(
        "version: 1\nname: net\ninput: [8, 8, 3]\n"
        "templates:\n  t:\n    params: [a]\n    layers:\n      - conv: {filters: $a, kernel: $k}\n"
        "stages:\n  - b1: {t: [8]}\n  - b2: {t: [8]}\n  - b3: {t: [16]}\n"
    )
    with pytest.raises(SpecError) as err:
        load(path)
    (d,) = err.value.errors
    assert (d.loc.line, d.loc.col) == (8, 37)
    assert d.message == "unknown parameter `$k` in template `t`"
