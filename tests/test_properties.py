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
from inceptionspec import SpecError
from inceptionspec.lang.library import shipped
from inceptionspec.lang.models import Spec
from inceptionspec.lang.schema import schema

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# --- generated specs ------------------------------------------------------------------

kernels = st.sampled_from([1, 2, 3, 5, [1, 3], [3, 1], [1, 7], [7, 1]])
paddings = st.one_of(
    st.sampled_from(["same", "valid"]), st.integers(0, 2), st.lists(st.integers(0, 2), min_size=2, max_size=2)
)


@st.composite
def conv(draw):
    return {
        "conv": {
            "filters": draw(st.integers(1, 16)),
            "kernel": draw(kernels),
            "strides": draw(st.integers(1, 2)),
            "padding": draw(paddings),
        }
    }


@st.composite
def pool(draw):
    kind = draw(st.sampled_from(["maxpool", "avgpool"]))
    return {
        kind: {
            "size": draw(st.sampled_from([1, 2, 3, [1, 3], [3, 1]])),
            "strides": draw(st.integers(1, 2)),
            "padding": draw(paddings),
        }
    }


ops = st.one_of(conv(), conv(), pool())


@st.composite
def small_spec(draw):
    """A YAML document: a few ops, then an inline block of 2–3 branches merged by concat."""
    branch_names = ["a", "b", "c"][: draw(st.integers(2, 3))]
    return {
        "version": 1,
        "name": "gen",
        "input": [draw(st.integers(8, 40)), draw(st.integers(8, 40)), draw(st.integers(1, 4))],
        "classes": 10,
        "stages": draw(st.lists(ops, min_size=1, max_size=3))
        + [
            {
                "mixed": {
                    "branches": {b: draw(st.lists(ops, min_size=1, max_size=2)) for b in branch_names},
                    "merge": "concat",
                }
            }
        ],
    }


def write(tmp_path, doc, name="gen.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return str(path)


def load_and_analyze(path, **kwargs):
    """Either a (spec, analysis) pair or None for a SpecError; any other exception fails."""
    try:
        spec = inceptionspec.load(path, **kwargs)
        return spec, inceptionspec.analyze(spec)
    except SpecError:
        return None


# --- (a) expanding is idempotent ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(shipped()))
def test_expanding_an_expanded_spec_changes_nothing(tmp_path, name):
    once = inceptionspec.dump(inceptionspec.load(name))
    path = tmp_path / "expanded.yaml"
    path.write_text(once, encoding="utf-8")
    assert inceptionspec.dump(inceptionspec.load(str(path))) == once


# --- (b) generated specs: SpecError or consistent shapes and MACs ------------------------


@SETTINGS
@given(doc=small_spec())
def test_generated_specs_load_or_raise_spec_error(tmp_path, doc):
    result = load_and_analyze(write(tmp_path, doc))
    if result is None:
        return
    _, analysis = result
    stats = {s.name: s for s in analysis.layers}
    for layer in analysis.graph.layers:
        if layer.kind == "concat":
            assert layer.shape[-1] == sum(shape[-1] for shape in layer.input_shapes)
            assert layer.shape[:2] == layer.input_shapes[0][:2]
        if layer.kind == "conv":
            (c_in,) = {shape[-1] for shape in layer.input_shapes}
            h_out, w_out, c_out = layer.shape
            kh, kw = (layer.op.kernel, layer.op.kernel) if isinstance(layer.op.kernel, int) else layer.op.kernel
            assert stats[layer.name].macs == h_out * w_out * c_out * kh * kw * c_in
    (concat,) = [layer for layer in analysis.graph.layers if layer.kind == "concat"]
    assert concat.name == "mixed.concat"


# --- (c) a width multiplier of 1 changes nothing -----------------------------------------


def comparable(analysis):
    return analysis.as_dict()


@SETTINGS
@given(doc=small_spec())
def test_width_multiplier_one_is_the_identity(tmp_path, doc):
    plain = load_and_analyze(write(tmp_path, doc, "plain.yaml"))
    scaled = load_and_analyze(write(tmp_path, {**doc, "width": {"multiplier": 1.0}}, "scaled.yaml"))
    assert (plain is None) == (scaled is None)
    if plain is not None:
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
