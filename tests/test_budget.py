"""The work budget: one per command, counted as the work is done, with located errors naming it.

Also the algorithms that once made bounded inputs cost unbounded time: adaptive pooling windows
(closed form), diff alignment (linear), "did you mean" (paid from the budget), receptive fields
(saturating).
"""

from __future__ import annotations

import dataclasses
import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import inceptionspec
from inceptionspec import Budget, BudgetExceeded, SpecError
from inceptionspec.analysis.stats import FIELD_LIMIT
from inceptionspec.compare.align import _align, _merged
from inceptionspec.core.errors import did_you_mean
from inceptionspec.ops.catalog import widest_adaptive_window
from inceptionspec.render import render

HEADER = "version: 1\nname: t\ninput: [32, 32, 3]\nclasses: 10\n"


def _spec(tmp_path: Path, body: str, name: str = "spec.yaml") -> str:
    path = tmp_path / name
    path.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    return str(path)


# --- the budget itself -------------------------------------------------------------------------------


def test_spend_counts_and_stops_at_the_bound_with_a_located_error_naming_it():
    budget = Budget(max_render_boxes=10)
    loc = inceptionspec.Loc("spec.yaml", 3, 5)
    budget.spend("max_render_boxes", 6, loc)
    with pytest.raises(BudgetExceeded) as caught:
        budget.spend("max_render_boxes", 5, loc)
    err = caught.value
    assert isinstance(err, SpecError) and err.bound == "max_render_boxes"
    assert str(err).startswith("spec.yaml:3:5: more than 10 boxes to draw (the `max_render_boxes` budget)")


def test_a_fresh_budget_has_spent_nothing_and_budgets_do_not_share_state():
    a, b = Budget(), Budget()
    a.spend("max_diff_work", 5, inceptionspec.Loc("x", 1, 1))
    assert a.spent == {"max_diff_work": 5} and b.spent == {} and Budget().spent == {}
    assert a == b, "what was spent is state, not part of the bounds"


def test_every_bound_is_documented_in_the_threat_model_with_its_default():
    doc = (Path(__file__).parents[1] / "docs" / "threat-model.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(max_[a-z_]+)` \| ([0-9,]+)", doc, flags=re.M))
    assert set(rows) == set(Budget.bounds())
    assert {bound: int(value.replace(",", "")) for bound, value in rows.items()} == {
        bound: getattr(Budget(), bound) for bound in Budget.bounds()
    }


@pytest.mark.parametrize("bound", ["max_render_boxes", "max_analysis_steps"])
def test_counted_bounds_refuse_work_past_them(bound, tmp_path):
    body = "stages:\n  - b: {repeat: 30, layers: [conv: {filters: 8, kernel: 1}]}\n"
    budget = Budget(**{bound: 25})
    with pytest.raises(BudgetExceeded) as caught:
        analysis = inceptionspec.analyze(_spec(tmp_path, body), budget=budget)
        render(analysis, "svg", "layer", False, budget)
    assert caught.value.bound == bound and caught.value.file.endswith("spec.yaml")


def test_name_bytes_are_counted_before_the_names_are_made(tmp_path):
    """5 × 1,000 copies of a 200,000-character name would be a gigabyte of names: refused at the
    first block past the budget, in milliseconds."""
    long = "a" * 200_000
    body = "stages:\n" + "".join(
        f"  - b{i}: {{repeat: 1000, layers: [identity: {{name: {long}}}]}}\n" for i in range(5)
    )
    with pytest.raises(SpecError) as caught:
        inceptionspec.load(_spec(tmp_path, body))
    assert caught.value.line >= 6  # at a stage item, wherever the name check or the budget stops it


def test_deep_valid_names_are_bounded_by_the_name_budget(tmp_path):
    name = "n" * 64
    templates = "".join(f"  t{i}:\n    layers: [{{{name}: {{t{i + 1}: {{}}}}}}]\n" for i in range(29))
    templates += f"  t29:\n    layers: [{{identity: {{name: {name}}}}}]\n"
    with pytest.raises(BudgetExceeded) as caught:
        inceptionspec.load(_spec(tmp_path, "templates:\n" + templates + "stages:\n  - top: {t0: {}, repeat: 1000}\n"))
    assert caught.value.bound == "max_name_bytes"


def test_diff_work_is_counted(tmp_path):
    spec = _spec(tmp_path, "stages:\n" + "".join(f"  - identity: {{name: a{i}}}\n" for i in range(50)))
    with pytest.raises(BudgetExceeded) as caught:
        inceptionspec.diff(spec, spec, budget=Budget(max_diff_work=100))
    assert caught.value.bound == "max_diff_work"


def test_the_two_sides_of_a_diff_share_one_layer_budget(tmp_path):
    body = "stages:\n" + "".join(f"  - identity: {{name: a{i}}}\n" for i in range(60))
    a, b = _spec(tmp_path, body, "a.yaml"), _spec(tmp_path, body, "b.yaml")
    assert inceptionspec.diff(a, b, budget=Budget(max_diff_layers=120)).identical
    with pytest.raises(BudgetExceeded) as caught:
        inceptionspec.diff(a, b, budget=Budget(max_diff_layers=119))
    assert caught.value.bound == "max_diff_layers"
    assert caught.value.errors[0].loc.file.endswith("b.yaml")
    # The same source twice is read once, and counts once.
    assert inceptionspec.diff(a, a, budget=Budget(max_diff_layers=60)).identical


def test_the_variants_of_a_sweep_share_one_layer_budget_and_stop_it(tmp_path):
    from inceptionspec.analysis.family import Family
    from inceptionspec.analysis.sweep import parse_vary, sweep
    from inceptionspec.lang.pipeline import resolve

    spec = _spec(tmp_path, "stages:\n" + "".join(f"  - identity: {{name: a{i}}}\n" for i in range(100)))
    budget = Budget(max_variant_ops=250)
    family = Family(resolve(spec, None, budget), budget=budget)
    assert len(sweep(family, [parse_vary("width.multiplier=[0.5, 1]")])) == 2
    with pytest.raises(BudgetExceeded) as caught:  # the third variant passes 250 layers: the sweep stops
        sweep(family, [parse_vary("depth.multiplier=[0.5, 1, 2]")])
    assert caught.value.bound == "max_variant_ops"


def test_a_scale_search_stops_at_the_variant_budget_not_at_an_invalid_variant(tmp_path):
    from inceptionspec.analysis.family import Family
    from inceptionspec.analysis.fit import Budget as Target
    from inceptionspec.analysis.fit import fit
    from inceptionspec.lang.pipeline import resolve

    spec = _spec(
        tmp_path, "stages:\n" + "".join(f"  - conv: {{name: c{i}, filters: 8, kernel: 1}}\n" for i in range(100))
    )
    budget = Budget(max_variant_ops=150)  # the spec itself, then the first larger variant passes it
    with pytest.raises(BudgetExceeded) as caught:
        fit(Family(resolve(spec, None, budget), budget=budget), Target(macs=10**12), "width")
    assert caught.value.bound == "max_variant_ops"


# --- suggestions -----------------------------------------------------------------------------------


def test_suggestions_stop_when_their_budget_is_spent_and_never_fail():
    candidates = [f"layer_number_{i:05d}" for i in range(4000)]
    budget = Budget(max_suggestions=200_000)
    hints = [did_you_mean(f"layer_numbr_{i:05d}", candidates, budget) for i in range(10)]
    assert hints[0] == "did you mean `layer_number_00000`?"
    assert hints[-1] is None, "the budget ran out: no more suggestions, and no error"
    assert budget.spent["max_suggestions"] <= 200_000


def test_suggestions_without_a_budget_compare_a_bounded_number_of_characters():
    assert did_you_mean("convv", ["conv", "dense"]) == "did you mean `conv`?"
    assert did_you_mean("x" * 5, [f"name_{i}" for i in range(10_000)]) is None


def test_hundreds_of_misspelt_taps_among_thousands_of_layers_get_a_few_suggestions(tmp_path):
    layers = "".join(f"  - identity: {{name: layer_number_{i:05d}}}\n" for i in range(4000))
    heads = "".join(f"  h{i}:\n    from: layer_numbr_{i:05d}x\n    layers: [{{identity: {{}}}}]\n" for i in range(300))
    with pytest.raises(SpecError) as caught:
        inceptionspec.load(_spec(tmp_path, "stages:\n" + layers + "heads:\n" + heads))
    hinted = [d for d in caught.value.errors if d.hint]
    assert len(caught.value.errors) == 300 and 1 <= len(hinted) < 300


# --- algorithms ------------------------------------------------------------------------------------------


def _widest_by_loop(n: int, out: int) -> int:
    return max(-(-((i + 1) * n) // out) - (i * n) // out for i in range(out))


@given(st.integers(1, 3000), st.integers(1, 3000))
@settings(max_examples=300)
def test_the_closed_form_adaptive_window_is_the_widest_of_pytorchs_windows(n, out):
    out = min(out, n)
    assert widest_adaptive_window(n, out) == _widest_by_loop(n, out)


def _align_quadratic(a: dict, b: dict) -> dict:
    """The alignment as it was first written (scan the unmatched names for each one)."""
    pairs = {name: name for name in a if name in b}
    unmatched_b = [name for name in b if name not in pairs]
    for name, signature in a.items():
        if name in pairs:
            continue
        twin = next((other for other in unmatched_b if b[other] == signature), None)
        if twin is not None:
            pairs[name] = twin
            unmatched_b.remove(twin)
    return pairs


def _merged_quadratic(a: list, b: list, pairs: dict) -> list:
    back = {b_name: a_name for a_name, b_name in pairs.items()}
    position = {name: i for i, name in enumerate(a)}
    unmatched_a = [name for name in a if name not in pairs]
    out = []
    for i, name in enumerate(b):
        following = next((back[later] for later in b[i:] if later in back), None)
        limit = len(a) if following is None else position[following]
        while unmatched_a and position[unmatched_a[0]] < limit:
            out.append((unmatched_a.pop(0), None))
        out.append((back.get(name), name))
    out.extend((name, None) for name in unmatched_a)
    return out


names = st.lists(st.sampled_from([f"n{i}" for i in range(12)]), unique=True, max_size=10)
signatures = st.sampled_from(["conv", "pool", "dense"])


@given(st.dictionaries(st.sampled_from([f"n{i}" for i in range(12)]), signatures, max_size=10),
       st.dictionaries(st.sampled_from([f"n{i}" for i in range(12)]), signatures, max_size=10))  # fmt: skip
@settings(max_examples=300)
def test_linear_alignment_pairs_and_orders_names_as_the_quadratic_one_did(a, b):
    pairs = _align(a, b)
    assert pairs == _align_quadratic(a, b)
    assert _merged(list(a), list(b), pairs) == _merged_quadratic(list(a), list(b), pairs)


def test_receptive_fields_saturate_instead_of_growing_without_bound(tmp_path):
    body = "stages:\n" + "  - maxpool: {size: 1, strides: 100000, padding: same}\n" * 1000
    analysis = inceptionspec.analyze(_spec(tmp_path, body))
    assert analysis.layers[-1].effective_stride == (FIELD_LIMIT, FIELD_LIMIT)
    assert analysis.layers[1].effective_stride == (10**10, 10**10)
    assert dataclasses.asdict(analysis.layers[-1])["receptive_field"] == (1, 1)
