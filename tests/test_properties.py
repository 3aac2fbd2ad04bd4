"""Properties over shipped and generated specs (hypothesis)."""

from __future__ import annotations

import copy

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import inceptionspec
from inceptionspec.lang.library import shipped
from inceptionspec.lang.models import Spec
from inceptionspec.lang.schema import schema

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# --- generated specs ---------------------------------------------------------------------
#
# The generator builds valid specs only, and computes what each layer must output on its own:
# window placements are counted one by one over the (padded) input, never with the shape code's
# formula. Every generated spec must then load, and shapes and multiply-adds must agree.

KERNELS = [1, 2, 3, 5, 7]


def placements(n: int, k: int, s: int, padding) -> int:
    """How many positions a k-wide window with stride s takes along an n-long axis, counted."""
    if padding == "same":  # one output per stride step over the input (TensorFlow's `same`)
        return len(range(0, n, s))
    pad = 0 if padding == "valid" else padding
    return sum(1 for start in range(-pad, n + pad, s) if start + k <= n + pad)


def axis_padding(padding, axis: int):
    return padding[axis] if isinstance(padding, list) else padding


@st.composite
def window(draw, h: int, w: int, keep_size: bool):
    """(kernel, strides, padding) for an H×W input. ``keep_size``: stride 1 and the output is H×W
    (the branches of a concat must agree); otherwise any window that fits."""
    if keep_size:
        kh, kw = draw(st.sampled_from([1, 3, 5])), draw(st.sampled_from([1, 3, 5]))
        padding = draw(st.sampled_from(["same", "explicit"]))
        if padding == "explicit":
            padding = [(kh - 1) // 2, (kw - 1) // 2] if kh != kw else (kh - 1) // 2
        return (kh if kh == kw else [kh, kw]), 1, padding
    padding = draw(
        st.one_of(
            st.sampled_from(["same", "valid"]), st.integers(0, 2), st.lists(st.integers(0, 2), min_size=2, max_size=2)
        )
    )
    fits_h = [k for k in KERNELS if k <= h + 2 * (0 if isinstance(padding, str) else axis_padding(padding, 0))]
    fits_w = [k for k in KERNELS if k <= w + 2 * (0 if isinstance(padding, str) else axis_padding(padding, 1))]
    kh, kw = draw(st.sampled_from(fits_h)), draw(st.sampled_from(fits_w))
    return (kh if kh == kw else [kh, kw]), draw(st.integers(1, 2)), padding


@st.composite
def layer(draw, name: str, shape: tuple[int, int, int], keep_size: bool):
    """(item, expected output shape, expected MACs) of a conv or a pool named ``name``."""
    h, w, c = shape
    kernel, strides, padding = draw(window(h, w, keep_size))
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    kind = draw(st.sampled_from(["conv", "conv", "maxpool", "avgpool"]))
    if kind != "conv" and not isinstance(padding, str):
        # A pool's explicit padding is at most half its window.
        padding = [min(axis_padding(padding, 0), kh // 2), min(axis_padding(padding, 1), kw // 2)]
    out_h = placements(h, kh, strides, axis_padding(padding, 0))
    out_w = placements(w, kw, strides, axis_padding(padding, 1))
    if kind == "conv":
        filters = draw(st.integers(1, 16))
        taps = sum(kh * kw for _ in range(out_h) for _ in range(out_w))  # every window, every tap
        item = {"conv": {"name": name, "filters": filters, "kernel": kernel, "strides": strides, "padding": padding}}
        return item, (out_h, out_w, filters), taps * c * filters
    item = {kind: {"name": name, "size": kernel, "strides": strides, "padding": padding}}
    return item, (out_h, out_w, c), 0


@st.composite
def small_spec_with_expectations(draw):
    """(document, {layer name: (output shape, MACs)}): a few ops, then an inline block of 2–3
    branches merged by concat; every layer named, every shape and MAC count computed here."""
    shape = first = (draw(st.integers(8, 40)), draw(st.integers(8, 40)), draw(st.integers(1, 4)))
    expected: dict[str, tuple[tuple[int, ...], int]] = {}
    stages = []
    for i in range(draw(st.integers(1, 3))):
        item, out, macs = draw(layer(f"s{i + 1}", shape, keep_size=False))
        stages.append(item)
        expected[f"s{i + 1}"] = (out, macs)
        shape = out
    branches, depth = {}, 0
    for b in ["a", "b", "c"][: draw(st.integers(2, 3))]:
        items, inner = [], shape
        for j in range(draw(st.integers(1, 2))):
            item, inner, macs = draw(layer(f"x{j + 1}", inner, keep_size=True))
            items.append(item)
            expected[f"mixed.{b}.x{j + 1}"] = (inner, macs)
        branches[b] = items
        depth += inner[2]
    expected["mixed.concat"] = ((*shape[:2], depth), 0)
    doc = {
        "version": 1,
        "name": "gen",
        "input": list(first),
        "classes": 10,
        "stages": stages + [{"mixed": {"branches": branches, "merge": "concat"}}],
    }
    return doc, expected


class _NoAliases(yaml.SafeDumper):
    """Writes a value used twice (hypothesis reuses sampled lists) twice, not as an alias: the
    loader refuses aliases, so a dump with `*id001` would test the wrong thing."""

    def ignore_aliases(self, data):
        return True


def write(tmp_path, doc, name="gen.yaml"):
    path = tmp_path / name
    path.write_text(yaml.dump(doc, Dumper=_NoAliases, sort_keys=False), encoding="utf-8")
    return str(path)


def load_and_analyze(path, **kwargs):
    spec = inceptionspec.load(path, **kwargs)
    return spec, inceptionspec.analyze(spec)


# --- (a) expanding is idempotent ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(shipped()))
def test_expanding_an_expanded_spec_changes_nothing(tmp_path, name):
    once = inceptionspec.dump(inceptionspec.load(name))
    path = tmp_path / "expanded.yaml"
    path.write_text(once, encoding="utf-8")
    assert inceptionspec.dump(inceptionspec.load(str(path))) == once


# --- (b) generated specs load, with the shapes and multiply-adds counted independently -------


def small_spec():
    return small_spec_with_expectations().map(lambda pair: pair[0])


@SETTINGS
@given(case=small_spec_with_expectations())
def test_generated_specs_load_with_the_shapes_and_macs_counted_window_by_window(tmp_path, case):
    # Every generated spec is valid: a SpecError here fails the test (nothing is skipped).
    doc, expected = case
    _, analysis = load_and_analyze(write(tmp_path, doc))
    stats = {s.name: s for s in analysis.layers}
    assert set(expected) <= set(stats)
    for name, (shape, macs) in expected.items():
        assert tuple(stats[name].output_shape) == shape, name
        assert stats[name].macs == macs, name
    assert analysis.macs == sum(macs for _, macs in expected.values())


def test_the_window_count_is_the_definition_not_the_formula():
    # The generator's counting, checked by hand on cases everyone agrees on.
    assert placements(7, 3, 2, "valid") == 3  # starts 0, 2, 4
    assert placements(7, 3, 2, 1) == 4  # starts -1, 1, 3, 5 (the last ends at 7, in the padding)
    assert placements(7, 3, 2, "same") == 4  # ceil(7 / 2)
    assert placements(5, 5, 1, "valid") == 1
    assert placements(4, 5, 1, "valid") == 0


# --- (c) a width multiplier of 1 changes nothing -----------------------------------------


def comparable(analysis):
    return analysis.as_dict()


@SETTINGS
@given(doc=small_spec())
def test_width_multiplier_one_is_the_identity(tmp_path, doc):
    plain = load_and_analyze(write(tmp_path, doc, "plain.yaml"))
    scaled = load_and_analyze(write(tmp_path, {**doc, "width": {"multiplier": 1.0}}, "scaled.yaml"))
    assert comparable(plain[1]) == comparable(scaled[1])


def test_width_multiplier_one_on_googlenet():
    base = inceptionspec.analyze("googlenet")
    scaled = inceptionspec.analyze(inceptionspec.load("googlenet", overrides={"width.multiplier": 1.0}))
    assert comparable(base) == comparable(scaled)


# --- (d) the JSON Schema agrees with the pydantic models ---------------------------------


@pytest.fixture(scope="module")
def validator():
    s = schema()
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s)


@pytest.mark.parametrize("name", sorted(shipped()))
def test_shipped_specs_are_valid_against_the_schema(validator, name):
    raw = yaml.safe_load(shipped()[name].read_text(encoding="utf-8"))
    errors = [e.message for e in validator.iter_errors(raw)]
    assert errors == []


def mutate(doc, how, value):
    doc = copy.deepcopy(doc)
    if how == "extra_top":
        doc["fitlers"] = value
    elif how == "extra_op":
        next(iter(doc["stages"][0].values()))["bogus"] = value
    elif how == "filters":
        doc["stages"][0] = {"conv": {"filters": value, "kernel": 3}}
    elif how == "padding":
        next(iter(doc["stages"][0].values()))["padding"] = value
    elif how == "input":
        doc["input"] = value
    elif how == "merge":
        doc["stages"][-1]["mixed"]["merge"] = value
    elif how == "unknown_op":
        doc["stages"][0] = {"cnov": {"filters": 8, "kernel": 3}}
    elif how == "drop_version":
        del doc["version"]
    return doc


odd_values = st.one_of(
    st.integers(-3, 70),
    st.booleans(),
    st.none(),
    st.sampled_from(["same", "valid", "64", "$x", "concat", "add", "no"]),
    st.lists(st.integers(0, 3), max_size=4),
    st.floats(0.5, 2.5),
)
mutations = st.sampled_from(
    ["none", "extra_top", "extra_op", "filters", "padding", "input", "merge", "unknown_op", "drop_version"]
)


@SETTINGS
@given(doc=small_spec(), how=mutations, value=odd_values)
def test_pydantic_and_json_schema_agree(validator, doc, how, value):
    # Generated ops always carry their required arguments: the schema deliberately leaves
    # them optional (defaults may supply them), while plain Spec.model_validate requires them.
    doc = mutate(doc, how, value)
    try:
        Spec.model_validate(doc)
        pydantic_ok = True
    except ValidationError:
        pydantic_ok = False
    schema_errors = [e.message for e in validator.iter_errors(doc)]
    assert pydantic_ok == (not schema_errors), (how, value, schema_errors)


# --- (e) the documented hypothesis profiles are known to pytest's command line ---------------


@pytest.mark.parametrize("profile", ["ci", "explore", "long"])
def test_the_fuzz_profiles_work_from_the_command_line_as_documented(profile):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_fuzz.py",
            f"--hypothesis-profile={profile}",
        ],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "test_fuzz.py::" in done.stdout
