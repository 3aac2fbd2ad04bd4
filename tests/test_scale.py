"""Fitting a budget: the `depth:` knob, a spec's family, the search, and `inceptionspec scale`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import HEADER, run_cli
from inceptionspec.analysis import analyze, analyze_graph
from inceptionspec.analysis.cost import cost, peak_activations
from inceptionspec.analysis.family import Family, Member
from inceptionspec.analysis.fit import Budget, Unreachable, fit
from inceptionspec.cli import main
from inceptionspec.cli.explore import COUNT
from inceptionspec.core.errors import SpecError, UsageError
from inceptionspec.ir import lower
from inceptionspec.lang.pipeline import dump, load, resolve

# --- the depth knob ---------------------------------------------------------------------------


def _blocks(spec) -> list[str]:
    return [next(iter(item)) for item in spec.stages if isinstance(item, dict)]


def test_depth_scales_every_repeat_rounding_up():
    blocks = _blocks(load("inception_v4", overrides={"depth.multiplier": 0.5}))
    assert [b for b in blocks if b.startswith("inception_b")] == [f"inception_b_{i}" for i in range(1, 5)]  # ⌈7·0.5⌉
    assert (
        sum(b.startswith("inception_a") for b in blocks) == 2 and sum(b.startswith("inception_c") for b in blocks) == 2
    )


def test_depth_never_goes_below_one_copy_and_copies_keep_their_written_names():
    blocks = _blocks(load("inception_v4", overrides={"depth.multiplier": 0.01}))
    assert [b for b in blocks if b.startswith("inception_")] == ["inception_a_1", "inception_b_1", "inception_c_1"]


def test_depth_leaves_blocks_without_repeat_single():
    assert _blocks(load("googlenet", overrides={"depth.multiplier": 3})) == _blocks(load("googlenet"))
    blocks = _blocks(load("inception_v4", overrides={"depth.multiplier": 2}))
    assert blocks.count("mixed_3a") == 1 and blocks.count("reduction_a") == 1
    assert "inception_b_14" in blocks and "inception_b_15" not in blocks


def test_copies_depth_adds_are_named_past_the_names_written_beside_them(write_spec):
    # Inception-ResNet-v2 writes nine `block8` copies and then its own `block8_10`.
    blocks = _blocks(load("inception_resnet_v2", overrides={"depth.multiplier": 1.5}))
    copies = [b for b in blocks if b.startswith("block8")]
    assert copies == [f"block8_{i}" for i in [*range(1, 10), *range(11, 16)]] + ["block8_10"]
    # Written copies that collide are still the writer's mistake.
    clash = "stages:\n  - b: {repeat: 2, layers: [identity: ]}\n  - b_2: {layers: [identity: ]}\n"
    with pytest.raises(SpecError, match="duplicate name `b_2`"):
        load(write_spec(HEADER + clash))


def test_scale_by_depth_fits_inception_resnet_v2_to_a_budget_within_five_percent():
    result = fit(Family(resolve("inception_resnet_v2")), Budget(macs=20 * 10**9), "depth")
    assert 0.95 * 20e9 <= result.after.cost.macs <= 20e9 and result.close  # once stopped at depth 1 (13.2 G)


def test_depth_of_five_sevenths_gives_five_copies_of_seven_not_six():
    blocks = _blocks(resolve("inception_v4").expand(depth=5 / 7))
    assert sum(b.startswith("inception_b") for b in blocks) == 5


@pytest.mark.parametrize("value, message", [(0, "must be > 0"), (100, "must be ≤ 64"), ("x", "expected a number")])
def test_depth_multiplier_is_validated_where_it_is_written(write_spec, value, message):
    path = write_spec(HEADER + f"depth: {{multiplier: {value}}}\nstages:\n  - conv: {{filters: 8, kernel: 3}}\n")
    with pytest.raises(SpecError) as err:
        load(path)
    assert f"{path}:5:" in str(err.value) and message in str(err.value)


def test_depth_past_the_repeat_limit_is_refused_before_expansion(write_spec):
    path = write_spec(
        HEADER + "depth: {multiplier: 64}\nstages:\n  - b: {layers: [conv: {filters: 8, kernel: 1}], repeat: 900}\n"
    )
    with pytest.raises(SpecError, match=r"repeat 57600 \(`depth.multiplier` 64 applied\) is more than the limit"):
        load(path)


# --- the family: members as the pipeline would expand them ---------------------------------------


@pytest.mark.parametrize("name", ["googlenet_bn", "inception_v3", "inception_resnet_v2", "examples/googlenet_cifar"])
def test_a_member_is_exactly_what_expanding_with_its_knobs_gives(name):
    resolved = resolve(name)
    family = Family(resolved)
    for width, depth, size in [(0.37, None, None), (1.3, 0.5, (250, 250))]:
        member = Member(width=width, depth=depth, size=size)
        expected = resolved.expand(width=width, depth=depth, input_size=size)
        assert dump(family.spec(member)) == dump(expected)


def test_an_out_of_range_knob_reports_what_load_reports():
    with pytest.raises(SpecError, match="<width>:1:1: must be ≤ 64"):
        Family(resolve("googlenet")).cost(Member(width=100.0))


def test_cost_totals_equal_the_full_analysis():
    for name in ("googlenet", "inception_resnet_v2"):
        graph = lower(load(name), include_aux=False)
        found, full = cost(graph), analyze_graph(graph)
        assert (found.params, found.macs, found.layers) == (full.total_params, full.macs, len(full.layers))


def test_peak_activations_count_what_is_alive_while_a_layer_runs(write_spec):
    path = write_spec(
        "version: 1\nname: t\ninput: [8, 8, 3]\nstages:\n"
        "  - conv: {name: a, filters: 4, kernel: 1, activation: none}\n"
        "  - m: {branches: {x: [conv: {name: b, filters: 2, kernel: 1, activation: none}],"
        " y: [conv: {name: c, filters: 2, kernel: 1, activation: none}]}}\n"
    )
    # input 8·8·3 = 192, a 256, b 128, c 128, concat 256. While a runs: input + a = 448 (then the
    # input is dead); while c runs: a (still read by c) + b + c = 512; while the concat runs: b + c +
    # its output = 512.
    assert peak_activations(lower(load(path))) == 512


# --- the search -------------------------------------------------------------------------------


def test_width_fits_the_budget_within_five_percent():
    result = fit(Family(resolve("googlenet")), Budget(macs=600_000_000), "width")
    assert 570_000_000 <= result.after.cost.macs <= 600_000_000 and result.close
    assert result.above is not None and result.above.cost.macs > 600_000_000  # the next grid step is over


def test_both_budgets_hold_and_the_tighter_one_binds():
    result = fit(Family(resolve("googlenet")), Budget(macs=600_000_000, params=2_000_000), "width")
    assert result.after.cost.params <= 2_000_000 and result.after.cost.macs <= 600_000_000
    assert result.after.cost.params >= 0.95 * 2_000_000


def test_resolution_keeps_outputs_and_stays_valid():
    result = fit(Family(resolve("inception_v4")), Budget(macs=3_000_000_000), "resolution")
    height, width = result.after.member.size
    assert height == width and height < 299
    assert result.after.cost.outputs == result.before.cost.outputs
    assert 0.95 * 3e9 <= result.after.cost.macs <= 3e9


def test_compound_scales_all_three_by_one_phi():
    result = fit(Family(resolve("inception_v4")), Budget(macs=3_000_000_000), "compound")
    phi, member = result.after.phi, result.after.member
    assert phi < 0
    assert member.width == pytest.approx(1.1**phi, abs=1e-4) and member.depth == pytest.approx(1.2**phi, abs=1e-4)
    assert member.size[0] <= 299 * 1.15**phi
    assert result.after.cost.macs <= 3e9


def test_depth_fit_writes_the_shortest_multiplier_for_the_counts_it_found():
    result = fit(Family(resolve("inception_v4")), Budget(macs=8_000_000_000), "depth")
    assert result.after.cost.macs <= 8e9
    assert len(str(result.after.member.depth)) <= 4  # e.g. 0.3, not 0.2857142857142857


def test_the_search_is_deterministic():
    runs = [fit(Family(resolve("inception_v4")), Budget(macs=3_000_000_000), "compound") for _ in range(2)]
    assert runs[0].after == runs[1].after


def test_an_unreachable_budget_names_the_smallest_member():
    with pytest.raises(Unreachable) as err:
        fit(Family(resolve("googlenet")), Budget(macs=1000), "width")
    assert err.value.smallest.member.width == 0.0001 and err.value.smallest.cost.macs > 1000


def test_axes_that_cannot_change_the_network_are_usage_errors():
    with pytest.raises(UsageError, match="no `repeat`"):
        fit(Family(resolve("googlenet")), Budget(macs=10**9), "depth")
    with pytest.raises(UsageError, match="does not change the parameters"):
        fit(Family(resolve("inception_v4")), Budget(params=10**7), "resolution")


# --- the command ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, value",
    [("600M", 600_000_000), ("1.5G", 1_500_000_000), ("5e6", 5_000_000), ("3000000", 3_000_000), ("2k", 2000)],
)
def test_budgets_read_like_people_write_them(text, value):
    assert COUNT.convert(text, None, None) == value


@pytest.mark.parametrize("text", ["abc", "-5", "0", "1e400", "nan", "inf", "5 M M", "9" * 60, "1e19"])
def test_a_bad_budget_is_a_usage_error_naming_the_option(text):
    result = CliRunner().invoke(main, ["scale", "googlenet", "--macs", text])
    assert result.exit_code == 2
    assert "--macs" in result.output


def test_scale_googlenet_to_600m_writes_a_variant_that_extends_it(tmp_path):
    result = run_cli("scale", "googlenet", "--macs", "600M", "-o", "g600.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "g600.yaml").read_text()
    assert "extends: googlenet\n" in text and "stages" not in text  # nothing copied
    assert run_cli("validate", "g600.yaml", cwd=tmp_path).returncode == 0
    summary = run_cli("summary", "g600.yaml", "--no-aux", "--format", "json", cwd=tmp_path)
    assert 570_000_000 <= json.loads(summary.stdout)["macs"] <= 600_000_000
    assert "before" in result.stdout and "after" in result.stdout  # the before/after table


def test_scale_googlenet_to_3m_params(tmp_path):
    out = tmp_path / "g3m.yaml"
    result = CliRunner().invoke(main, ["scale", "googlenet", "--params", "3M", "-o", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert 2_850_000 <= data["after"]["params"] <= 3_000_000
    assert analyze(load(out), include_aux=False).total_params == data["after"]["params"]


@pytest.mark.parametrize("axis", ["resolution", "compound"])
def test_scale_inception_v4_by_resolution_and_compound(tmp_path, axis):
    out = tmp_path / f"v4_{axis}.yaml"
    result = CliRunner().invoke(main, ["scale", "inception_v4", "--macs", "3G", "--by", axis, "-o", str(out)])
    assert result.exit_code == 0, result.output
    spec = load(out)
    assert spec.input[0] < 299
    assert analyze(spec, include_aux=False).macs <= 3_000_000_000


def test_a_variant_of_a_file_extends_it_by_a_relative_path(tmp_path):
    (tmp_path / "specs").mkdir()
    source = tmp_path / "specs" / "mine.yaml"
    source.write_text(HEADER + "stages:\n  - conv: {filters: 64, kernel: 3}\n  - global_avgpool:\n")
    out = tmp_path / "specs" / "small.yaml"
    result = CliRunner().invoke(main, ["scale", str(source), "--params", "1000", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "extends: mine.yaml" in out.read_text()
    assert cost(lower(load(out))).params <= 1000


def test_an_unreachable_budget_exits_1_saying_the_smallest_reachable_cost():
    result = run_cli("scale", "googlenet", "--macs", "1000")
    assert result.returncode == 1
    assert result.stderr.startswith("<--macs>:1:1: 1,000 multiply-adds is out of reach by width")
    assert "the smallest variant of googlenet has 2,002,220 multiply-adds" in result.stderr
    assert "Traceback" not in result.stderr


def test_scale_without_a_budget_is_a_usage_error():
    assert CliRunner().invoke(main, ["scale", "googlenet"]).exit_code == 2
