"""The architecture diff: properties (hypothesis), goldens, renames, PATH@REV, the CLI.

Goldens live in tests/golden/diff_*; regenerate them after checking the change with
``UPDATE_GOLDEN=1 python -m pytest -q tests/test_diff.py``.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rich.console import Console

import inceptionspec
from conftest import run_cli
from inceptionspec import SourceError, SpecError
from inceptionspec.cli import main
from inceptionspec.compare import (
    ADDED,
    CHANGED,
    COST,
    REMOVED,
    RENAMED,
    SHAPE,
    Diff,
    diff,
    json_text,
    markdown,
    print_text,
)
from inceptionspec.compare.sources import read_revision
from inceptionspec.lang.library import shipped

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
GOLDEN = Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"
MIRRORED = {ADDED: REMOVED, REMOVED: ADDED}


@functools.cache
def loaded(name: str, edits: tuple[str, ...] = ()) -> inceptionspec.Spec:
    return inceptionspec.load(name, overrides=list(edits))


def kinds(result: Diff) -> Counter[str]:
    return Counter(change.kind for change in result.changes)


def text_of(result: Diff) -> str:
    """What `inceptionspec diff` prints (no colour, wide enough for one line per block)."""
    out = io.StringIO()
    print_text(result, console=Console(file=out, width=400, color_system=None))
    return out.getvalue()


def edits_of(result: Diff) -> list[tuple[str, str, str | None, object, object]]:
    """What the spec says differently (not shapes or costs): `changed` records, and parts a layer
    gains or loses (an `added`/`removed` record with a field, such as a conv's batch norm)."""
    return [
        (c.entity, c.path, c.field, c.old, c.new)
        for c in result.changes
        if c.kind == CHANGED or (c.kind in (ADDED, REMOVED) and c.field)
    ]


# --- diff(x, x) is identical ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(shipped()))
@pytest.mark.parametrize("include_aux", [True, False])
def test_a_shipped_spec_is_identical_to_itself(name, include_aux):
    spec = loaded(name)
    result = diff(spec, spec, include_aux=include_aux)
    assert result.identical and result.changes == () and result.blocks == ()
    assert all(count.delta == 0 for count in vars(result.totals).values())


def test_loading_twice_from_a_name_and_a_path_is_identical():
    result = diff("googlenet", str(shipped()["googlenet"]))
    assert result.identical


kernels = st.sampled_from([1, 3, [1, 3], [3, 1]])
paddings = st.sampled_from(["same", "valid", 1])


@st.composite
def small_spec(draw):
    """A few convs and pools, an inline block of 2–3 branches, a head."""

    def op(in_branch=False):
        # Inside a branch the spatial size stays (stride 1, `same`), so the concat always fits.
        if draw(st.booleans()):
            strides = 1 if in_branch else draw(st.integers(1, 2))
            return {"maxpool": {"size": 2, "strides": strides, "padding": "same"}}
        return {
            "conv": {
                "filters": draw(st.integers(1, 16)),
                "kernel": draw(kernels),
                "padding": "same" if in_branch else draw(paddings),
                "norm": draw(st.sampled_from(["none", "bn"])),
                "activation": draw(st.sampled_from(["none", "relu"])),
            }
        }

    branches = ["a", "b", "c"][: draw(st.integers(2, 3))]
    return {
        "version": 1,
        "name": "gen",
        "input": [draw(st.integers(12, 32)), draw(st.integers(12, 32)), 3],
        "classes": 10,
        "stages": [op() for _ in range(draw(st.integers(1, 3)))]
        + [{"mixed": {"branches": {b: [op(True) for _ in range(draw(st.integers(1, 2)))] for b in branches}}}],
        "heads": {"main": {"layers": [{"global_avgpool": None}, {"dense": 10}]}},
    }


@SETTINGS
@given(doc=small_spec())
def test_a_generated_spec_is_identical_to_itself(tmp_path, doc):
    path = tmp_path / "gen.yaml"
    # Every generated spec is valid (a SpecError fails the test); a value hypothesis reuses is
    # written twice, not as a YAML alias (which the loader refuses).
    path.write_text(yaml.dump(doc, Dumper=_NoAliases, sort_keys=False), encoding="utf-8")
    result = diff(str(path), str(path))
    assert result.identical, [c.as_dict() for c in result.changes]


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


# --- one override, one change ------------------------------------------------------------------

INCEPTION_BLOCKS = ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"]
#: GoogLeNet's template parameters and the layer (relative to the block) each one sets.
PARAM_LAYER = {
    "n1x1": "1x1.conv",
    "n3x3red": "3x3.reduce",
    "n3x3": "3x3.conv",
    "n5x5red": "5x5.reduce",
    "n5x5": "5x5.conv",
    "pool_proj": "pool.proj",
}


@st.composite
def single_edit(draw):
    """(override path, value, (entity, path, field) of the one record it must produce)."""
    choice = draw(st.sampled_from(["template_arg", "conv_filters", "activation", "norm", "loss_weight"]))
    if choice == "template_arg":
        block = f"inception_{draw(st.sampled_from(INCEPTION_BLOCKS))}"
        param = draw(st.sampled_from(sorted(PARAM_LAYER)))
        return f"{block}.{param}", draw(st.integers(1, 400)), ("layer", f"{block}.{PARAM_LAYER[param]}", "filters")
    if choice == "conv_filters":
        layer = draw(st.sampled_from(["conv1", "conv2_reduce", "conv2"]))
        return f"{layer}.filters", draw(st.integers(1, 256)), ("layer", layer, "filters")
    if choice == "activation":
        layer = draw(st.sampled_from(["conv1", "conv2"]))
        return (
            f"{layer}.activation",
            draw(st.sampled_from(["none", "relu6", "gelu", "sigmoid"])),
            (
                "layer",
                layer,
                "activation",
            ),
        )
    if choice == "norm":
        layer = draw(st.sampled_from(["conv1", "conv2_reduce", "conv2"]))
        return f"{layer}.norm", "bn", ("layer", layer, "bn")
    head = draw(st.sampled_from(["aux1", "aux2"]))
    weight = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    return f"heads.{head}.loss_weight", weight, ("output", head, "loss_weight")


@SETTINGS
@given(edit=single_edit())
def test_a_single_override_is_exactly_one_change_at_its_place(edit):
    override, value, (entity, path, field) = edit
    base = loaded("googlenet")
    variant = inceptionspec.load("googlenet", overrides={override: value})
    result = diff(base, variant)
    changed = edits_of(result)
    if not changed:  # the drawn value is the one GoogLeNet already has
        assert result.identical
        return
    ((got_entity, got_path, got_field, old, new),) = changed
    assert (got_entity, got_path, got_field) == (entity, path, field)
    if field == "bn":  # a conv gains batch norm: one record, its settings in the label
        assert (old, new) == (None, "batch norm (momentum 0.99, epsilon 0.001)")
    else:
        assert new == value and old != value
    # Everything else is an effect of that edit: shapes and costs, never structure.
    assert set(kinds(result)) <= {CHANGED, SHAPE, COST} | ({ADDED} if field == "bn" else set())


def test_widening_4c_names_the_conv_and_reports_the_propagation():
    result = diff(loaded("googlenet"), loaded("googlenet", ("inception_4c.n3x3=320",)))
    assert edits_of(result) == [("layer", "inception_4c.3x3.conv", "filters", 256, 320)]
    shapes = {(c.path, c.field): (c.old, c.new) for c in result.changes if c.kind == SHAPE}
    assert shapes == {
        ("inception_4c.3x3.conv", "output_shape"): ([14, 14, 256], [14, 14, 320]),
        ("inception_4c.merge", "output_shape"): ([14, 14, 512], [14, 14, 576]),
        ("inception_4c", "output_shape"): ([14, 14, 512], [14, 14, 576]),
        ("inception_4d", "input_shape"): ([14, 14, 512], [14, 14, 576]),
        ("inception_4d.pool.maxpool", "output_shape"): ([14, 14, 512], [14, 14, 576]),
    }
    assert [b.name for b in result.blocks] == ["inception_4c", "inception_4d"]
    # 4c's 3×3 conv: 3·3·128 weights per filter plus a bias, 64 more filters.
    assert result.blocks[0].params.delta == 64 * (3 * 3 * 128 + 1)


def test_turning_on_batch_norm_is_one_change_not_new_layers():
    result = diff(loaded("googlenet"), loaded("googlenet", ("conv2.norm=bn", "conv2.activation=relu6")))
    assert edits_of(result) == [
        ("layer", "conv2", "bn", None, "batch norm (momentum 0.99, epsilon 0.001)"),
        ("layer", "conv2", "activation", "relu", "relu6"),
    ]
    assert result.totals.layers.delta == 1  # conv2.bn is one more IR layer
    assert result.totals.non_trainable_params.delta == 2 * 192  # its moving mean and variance
    assert "conv2  gains batch norm (momentum 0.99, epsilon 0.001); activation relu → relu6" in text_of(result)


def test_losing_batch_norm_is_one_change_and_its_settings_are_not_listed():
    result = diff(loaded("googlenet_bn"), loaded("googlenet"))
    conv1 = [c for c in result.changes if c.path == "conv1" and c.kind in (ADDED, REMOVED, CHANGED)]
    assert [(c.kind, c.field, c.old) for c in conv1] == [
        (REMOVED, "bn", "batch norm (momentum 0.9, epsilon 0.001)"),
        (CHANGED, "bias", False),
    ]
    assert not [c for c in result.changes if (c.field or "").startswith("bn.") or c.field in ("norm", "order")]


def test_a_batch_norm_setting_both_sides_have_is_an_attribute_change():
    result = diff(loaded("googlenet_bn"), loaded("googlenet_bn", ("conv1.bn.momentum=0.99",)))
    assert edits_of(result) == [("layer", "conv1", "bn.momentum", 0.9, 0.99)]


# --- mirror and totals ---------------------------------------------------------------------

EDITS = st.sampled_from(
    [
        "inception_4c.n3x3=320",
        "inception_3a.n5x5=48",
        "conv1.filters=32",
        "conv2.activation=relu6",
        "conv2_reduce.norm=bn",
        "heads.aux1=null",
        "heads.aux2.loss_weight=0.5",
        "heads.aux2.from=inception_4c",
        "inception_4e=null",
        "norm1=null",
        "pool4@after=[{extra: {layers: [{conv: {filters: 64, kernel: 1}}]}}]",
        "templates.inception.branches.5x5.conv.kernel=3",
        "templates.inception.branches.3x3.reduce.name=red",
        "classes=10",
        "input=[256, 256, 3]",
    ]
)


def mirror_key(change, names: dict[str, str]) -> str:
    """A change of diff(b, a) as diff(a, b) would report it (B's names: renamed paths translated)."""
    mirrored = dataclasses.replace(
        change,
        kind=MIRRORED.get(change.kind, change.kind),
        old=change.new,
        new=change.old,
        path=names.get(change.path, change.path),
        block=names.get(change.block, change.block),
    )
    return json.dumps(mirrored.as_dict(), sort_keys=True)


@SETTINGS
@given(edits=st.lists(EDITS, min_size=1, max_size=3, unique=True), aux=st.booleans())
def test_diff_b_a_mirrors_diff_a_b(edits, aux):
    a = loaded("googlenet")
    try:
        b = loaded("googlenet", tuple(edits))
        forward, backward = diff(a, b, include_aux=aux), diff(b, a, include_aux=aux)
    except SpecError:
        assume(False)  # edits that together make shapes that do not fit
    names = {c.old: c.new for c in forward.changes if c.kind == RENAMED}
    assert Counter(json.dumps(c.as_dict(), sort_keys=True) for c in forward.changes) == Counter(
        mirror_key(c, names) for c in backward.changes
    )
    assert forward.identical == backward.identical
    for key, count in vars(forward.totals).items():
        back = getattr(backward.totals, key)
        assert (back.a, back.b, back.delta) == (count.b, count.a, -count.delta)
    statuses = Counter(MIRRORED.get(block.status, block.status) for block in backward.blocks)
    assert statuses == Counter(block.status for block in forward.blocks)


@SETTINGS
@given(edits=st.lists(EDITS, min_size=0, max_size=3, unique=True), aux=st.booleans())
def test_totals_are_the_difference_of_the_two_analyses(edits, aux):
    a = loaded("googlenet")
    try:
        b = loaded("googlenet", tuple(edits))
        result = diff(a, b, include_aux=aux)
    except SpecError:
        assume(False)  # edits that together make shapes that do not fit
    analysis_a, analysis_b = inceptionspec.analyze(a, include_aux=aux), inceptionspec.analyze(b, include_aux=aux)
    totals = result.totals
    assert (totals.params.a, totals.params.b) == (analysis_a.total_params, analysis_b.total_params)
    assert totals.params.delta == analysis_b.total_params - analysis_a.total_params
    assert totals.macs.delta == analysis_b.macs - analysis_a.macs
    assert totals.trainable_params.delta == analysis_b.trainable_params - analysis_a.trainable_params
    assert totals.layers.delta == len(analysis_b.layers) - len(analysis_a.layers)
    # Every layer is in exactly one block, so the blocks that differ account for the whole delta.
    assert sum(block.params.delta for block in result.blocks) == totals.params.delta
    assert sum(block.macs.delta for block in result.blocks) == totals.macs.delta
    assert result.identical == (not edits or result.changes == ())


# --- renames -----------------------------------------------------------------------------------

RENAME_4C = ("inception_4c=null", "inception_4b@after=[{mixed_4c: {inception: [128, 128, 256, 24, 64, 64]}}]")


def test_a_block_renamed_with_the_same_structure_is_renamed_not_removed_and_added():
    result = diff(loaded("googlenet"), loaded("googlenet", RENAME_4C))
    assert [c.as_dict() for c in result.changes] == [
        {
            "entity": "block",
            "path": "mixed_4c",
            "block": "mixed_4c",
            "op": None,
            "kind": RENAMED,
            "field": "name",
            "old": "inception_4c",
            "new": "mixed_4c",
        }
    ]
    # ... and its consumers are not rewired by the rename: 4d reads the same block.
    assert not result.identical and result.totals.params.delta == 0


def test_a_renamed_block_that_also_changed_shape_is_removed_and_added():
    edits = ("inception_4c=null", "inception_4b@after=[{mixed_4c: {inception: [128, 128, 256, 24, 64, 60]}}]")
    result = diff(loaded("googlenet"), loaded("googlenet", edits))
    assert [(b.name, b.status) for b in result.blocks[:3]] == [
        ("inception_4c", REMOVED),
        ("mixed_4c", ADDED),
        ("inception_4d", CHANGED),
    ]
    assert edits_of(result) == [("block", "inception_4d", "input", "inception_4c", "mixed_4c")]


def test_a_renamed_layer_is_renamed_in_every_block():
    result = diff(loaded("googlenet"), loaded("googlenet", ("templates.inception.branches.3x3.reduce.name=red",)))
    assert set(kinds(result)) == {RENAMED}
    assert [(c.old, c.new) for c in result.changes][:1] == [("inception_3a.3x3.reduce", "inception_3a.3x3.red")]
    assert len(result.changes) == len(INCEPTION_BLOCKS)


def test_a_removed_layer_rewires_its_consumer():
    result = diff(loaded("googlenet"), loaded("googlenet", ("norm1=null",)))
    assert [(b.name, b.status) for b in result.blocks] == [("norm1", REMOVED), ("conv2_reduce", CHANGED)]
    assert edits_of(result) == [("block", "conv2_reduce", "input", "norm1", "pool1")]


# --- goldens -----------------------------------------------------------------------------------

GOLDEN_PAIRS = [
    ("googlenet", "googlenet_bn"),
    ("googlenet", "article_googlenet"),
    ("googlenet", "examples/googlenet_no_aux_wide4c"),
]


def check_golden(path: Path, text: str) -> None:
    if UPDATE_GOLDEN:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.is_file(), f"no golden {path.name}: generate it with UPDATE_GOLDEN=1 pytest tests/test_diff.py"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (
        f"{path.name} differs from the diff now; if the change is intended, regenerate with "
        "UPDATE_GOLDEN=1 python -m pytest -q tests/test_diff.py and review `git diff tests/golden`"
    )


@pytest.mark.parametrize("a, b", GOLDEN_PAIRS, ids=[f"{a}-{b}" for a, b in GOLDEN_PAIRS])
def test_golden_json_and_markdown(a, b):
    for name in (a, b):
        if name not in shipped():
            pytest.skip(f"specs/{name}.yaml does not exist (yet): no golden diff to compare")
    result = diff(a, b)
    stem = f"diff_{a}__{b}".replace("/", "_")
    check_golden(GOLDEN / f"{stem}.json", json_text(result) + "\n")
    check_golden(GOLDEN / f"{stem}.md", markdown(result, show_layers=True) + "\n")
    # The goldens hold what the analyses say.
    document = json.loads(json_text(result))
    assert document["totals"]["params"]["delta"] == (
        inceptionspec.analyze(b).total_params - inceptionspec.analyze(a).total_params
    )


# --- PATH@REV -----------------------------------------------------------------------------------

BASE = """\
version: 1
name: base
input: [32, 32, 3]
classes: 10
stages:
  - conv: {name: c1, filters: 8, kernel: 3, activation: relu}
  - inception_x: {branches: {a: [conv: {filters: 4, kernel: 1}], b: [conv: {filters: 6, kernel: 3, padding: same}]}}
heads:
  main: {layers: [global_avgpool: , dense: 10]}
"""

CHILD = """\
version: 1
extends: base.yaml
name: child
overrides:
  inception_x.b.conv.filters: {filters}
"""


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", *identity, *args], cwd=repo, env=env, check=True, capture_output=True, timeout=60)


@pytest.fixture
def repo(tmp_path):
    """A git repository with base.yaml and child.yaml (extends base.yaml) committed, then child edited."""
    if subprocess.run(["git", "--version"], capture_output=True).returncode != 0:
        pytest.skip("git is not installed")
    (tmp_path / "base.yaml").write_text(BASE, encoding="utf-8")
    (tmp_path / "child.yaml").write_text(CHILD.replace("{filters}", "6"), encoding="utf-8")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "base.yaml", "child.yaml")
    git(tmp_path, "commit", "-q", "-m", "specs")
    (tmp_path / "child.yaml").write_text(CHILD.replace("{filters}", "10"), encoding="utf-8")
    return tmp_path


def test_path_at_rev_shows_what_an_uncommitted_edit_does(repo):
    child = repo / "child.yaml"
    result = diff(f"{child}@HEAD", str(child))
    assert edits_of(result) == [("layer", "inception_x.b.conv", "filters", 6, 10)]
    assert result.a.source == f"{child}@HEAD" and result.a.name == "child"
    assert diff(f"{child}@HEAD", f"{child}@HEAD").identical


def test_path_at_rev_with_the_cli_relative_to_the_working_directory(repo):
    done = run_cli("diff", "child.yaml@HEAD", "child.yaml", "--format", "json", cwd=repo)
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    assert [(c["path"], c["old"], c["new"]) for c in document["changes"] if c["kind"] == CHANGED] == [
        ("inception_x.b.conv", 6, 10)
    ]


def test_path_at_rev_of_a_file_deleted_from_the_working_tree(repo):
    (repo / "child.yaml").unlink()
    result = diff(str(repo / "child.yaml@HEAD"), str(repo / "base.yaml"))
    # The committed child sets the base's own 6 filters: the same network under another name.
    assert result.identical
    assert (result.a.name, result.b.name) == ("child", "base")


@pytest.mark.parametrize(
    "spelled, message",
    [
        ("child.yaml@no-such-rev", "no child.yaml at revision no-such-rev"),
        ("new.yaml@HEAD", "no new.yaml at revision HEAD"),
        ("child.yaml@", "expected PATH@REV"),
        ("child.yaml@-p", "expected PATH@REV"),
        ("nowhere/child.yaml@HEAD", "no directory"),
    ],
)
def test_path_at_rev_errors_are_source_errors(repo, spelled, message):
    """A revision that cannot be read is a SourceError: a SpecError (the API raises nothing else
    for bad input) that the CLI reports as an I/O problem, exit 2."""
    (repo / "new.yaml").write_text(BASE, encoding="utf-8")
    with pytest.raises(SourceError, match=message) as caught:
        diff(str(repo / spelled), str(repo / "child.yaml"))
    assert isinstance(caught.value, SpecError)


def test_path_at_rev_reads_a_relative_parent_at_the_same_revision(repo):
    # The committed child, and an uncommitted change to its parent: c1 widens from 8 to 12 filters.
    (repo / "child.yaml").write_text(CHILD.replace("{filters}", "6"), encoding="utf-8")
    (repo / "base.yaml").write_text(BASE.replace("name: c1, filters: 8", "name: c1, filters: 12"), encoding="utf-8")
    result = diff(f"{repo / 'child.yaml'}@HEAD", str(repo / "child.yaml"))
    assert edits_of(result) == [("layer", "c1", "filters", 8, 12)]
    done = run_cli("diff", "child.yaml@HEAD", "child.yaml", "--format", "json", cwd=repo)
    assert done.returncode == 1, done.stderr
    changes = json.loads(done.stdout)["changes"]
    assert [(c["path"], c["old"], c["new"]) for c in changes if c["kind"] == CHANGED] == [("c1", 8, 12)]


def test_path_at_rev_of_a_child_whose_parent_is_gone_from_the_working_tree(repo):
    (repo / "base.yaml").unlink()
    spec = inceptionspec.load(read_revision(f"{repo / 'child.yaml'}@HEAD"))
    assert spec.name == "child"
    assert spec.stages[0]["conv"].filters == 8


def test_path_at_rev_with_a_parent_missing_at_that_revision_is_located(repo):
    (repo / "other.yaml").write_text(CHILD.replace("base.yaml", "later.yaml").replace("{filters}", "6"))
    (repo / "later.yaml").write_text(BASE, encoding="utf-8")
    git(repo, "add", "other.yaml")
    git(repo, "commit", "-q", "-m", "other, without its parent")
    with pytest.raises(SpecError) as err:
        inceptionspec.load(read_revision(f"{repo / 'other.yaml'}@HEAD"))
    (diagnostic,) = err.value.errors
    assert (diagnostic.loc.file, diagnostic.loc.line) == ("other.yaml@HEAD", 2)
    assert "no file later.yaml next to other.yaml at revision HEAD" in diagnostic.message


def test_path_at_rev_refuses_a_parent_outside_the_directory(repo):
    (repo / "sub").mkdir()
    (repo / "sub" / "escape.yaml").write_text(CHILD.replace("base.yaml", "../base.yaml").replace("{filters}", "6"))
    git(repo, "add", "sub/escape.yaml")
    git(repo, "commit", "-q", "-m", "escape")
    with pytest.raises(SpecError, match="leaves the spec's directory"):
        inceptionspec.load(read_revision(f"{repo / 'sub' / 'escape.yaml'}@HEAD"))


def test_path_at_rev_outside_a_git_repository_is_a_source_error(tmp_path):
    spec = tmp_path / "outside" / "base.yaml"
    spec.parent.mkdir()
    spec.write_text(BASE, encoding="utf-8")
    with pytest.raises(SourceError, match="is not in a git repository"):
        diff(f"{spec}@HEAD", str(spec))


# --- the command ---------------------------------------------------------------------------------


def invoke(*args: object) -> tuple[int, str, str]:
    """Run the command in-process (no interpreter start-up): exit code, stdout, stderr."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_cli_identical_specs_exit_0():
    code, out, err = invoke("diff", "googlenet", "googlenet")
    assert code == 0, err
    assert "identical" in out


def test_cli_widened_4c_exits_1_naming_the_change_and_the_params_delta(tmp_path):
    variant = tmp_path / "wide4c.yaml"
    variant.write_text("version: 1\nextends: googlenet\nname: wide4c\noverrides:\n  inception_4c.n3x3: 320\n")
    code, out, err = invoke("diff", "googlenet", variant, "--format", "json")
    assert code == 1, err
    document = json.loads(out)  # stdout is only JSON
    assert document["identical"] is False
    changed = [c for c in document["changes"] if c["kind"] == CHANGED]
    assert changed == [
        {
            "entity": "layer",
            "path": "inception_4c.3x3.conv",
            "block": "inception_4c",
            "op": "conv",
            "kind": CHANGED,
            "field": "filters",
            "old": 256,
            "new": 320,
        }
    ]
    summaries = [json.loads(invoke("summary", spec, "--format", "json")[1]) for spec in ("googlenet", variant)]
    params = document["totals"]["params"]
    assert params == {
        "a": summaries[0]["total_params"],
        "b": summaries[1]["total_params"],
        "delta": summaries[1]["total_params"] - summaries[0]["total_params"],
        "pct": params["pct"],
    }
    assert document["totals"]["macs"]["delta"] == summaries[1]["macs"] - summaries[0]["macs"]
    code, out, _ = invoke("diff", "googlenet", variant)
    assert code == 1
    assert "inception_4c" in out and "3x3.conv filters 256 → 320" in out
    assert "\x1b[" not in out  # not a terminal: no colour


def test_cli_markdown_and_layers():
    code, _, _ = invoke("diff", "googlenet", "googlenet", "--set", "inception_4c.n3x3=320", "--format", "markdown")
    assert code == 0  # --set applies to both sides
    code, out, err = invoke("diff", "googlenet", "examples/googlenet_no_aux_wide4c", "--format", "markdown", "--layers")
    assert code == 1, err
    assert "| ~ | `inception_4c` | `3x3.conv` filters 256 → 320 |" in out
    assert "<details><summary>Layers that differ" in out


def test_cli_trouble_exits_2(write_spec):
    code, _, missing = invoke("diff", "googlenet", "no_such_spec")
    assert code == 2 and "no such file or shipped spec" in missing
    broken = write_spec("version: 1\nextends: googlenet\noverrides:\n  inception_4x.n3x3: 320\n")
    code, _, invalid = invoke("diff", "googlenet", broken)
    assert code == 2 and "no item named `inception_4x`" in invalid
    assert "Traceback" not in missing + invalid


def test_diff_never_imports_tensorflow(tmp_path):
    code = textwrap.dedent(
        """
        import sys
        from inceptionspec.compare import diff, json_text, markdown, print_result
        result = diff("googlenet", "examples/googlenet_no_aux_wide4c")
        json_text(result), markdown(result, True)
        print_result(result, "text", True)
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")), file=sys.stderr)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "[]"
