"""The IR remembers what was written: units and roles, concrete ops, every shape error, names."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

import inceptionspec
from conftest import HEADER
from inceptionspec import SpecError
from inceptionspec.core.names import NAME_RULE, SpecPath
from inceptionspec.ir import Graph
from inceptionspec.lang.library import shipped
from inceptionspec.lang.params import field_type
from inceptionspec.ops import Act, BatchNorm, Conv, Op


@pytest.fixture(scope="module", params=sorted(shipped()))
def graph(request) -> Graph:
    return inceptionspec.analyze(request.param).graph


# --- units: what each primitive layer was written as --------------------------------------


def test_each_written_convs_layers_are_found_through_the_unit_index(graph):
    convs = [unit for unit in graph.units if isinstance(unit.op, Conv)]
    assert convs
    for unit in convs:
        written = unit.op
        main = graph.layer(unit.layer("main"))
        assert isinstance(main.op, Conv) and (main.op.filters, main.op.kernel) == (written.filters, written.kernel)
        assert (main.op.norm, main.op.activation) == ("none", "none")  # the primitive conv alone
        bn, act = unit.layer("bn"), unit.layer("act")
        if written.norm == "bn":
            assert isinstance(graph.layer(bn).op, BatchNorm)
            assert (graph.layer(bn).op.momentum, graph.layer(bn).op.epsilon) == (
                written.bn.momentum,
                written.bn.epsilon,
            )
        else:
            assert bn is None
        if written.activation != "none":
            assert isinstance(graph.layer(act).op, Act) and graph.layer(act).op.fn == written.activation
        else:
            assert act is None
        # And back: every layer knows its unit and role.
        for name, role in zip(unit.layers, unit.roles, strict=True):
            assert graph.unit_of(name) is unit and graph.layer(name).role == role


def test_every_layer_belongs_to_exactly_one_unit(graph):
    owned = [name for unit in graph.units for name in unit.layers]
    assert sorted(owned) == sorted(layer.name for layer in graph.layers)


def test_the_order_of_a_convs_parts_follows_its_order_argument(write_spec):
    path = write_spec(
        HEADER + "stages:\n  - conv: {name: c, filters: 4, kernel: 3, norm: bn, activation: relu, order: act_norm}\n"
    )
    graph = inceptionspec.analyze(str(path)).graph
    unit = graph.unit("c")
    assert unit.roles == ("main", "act", "bn")
    assert graph.layer(unit.layer("bn")).inputs == (unit.layer("act"),)


def test_a_blocks_merge_is_one_unit_with_its_roles():
    graph = inceptionspec.analyze("inception_resnet_v2").graph
    merge = graph.unit(SpecPath(("block35_1", "merge")))
    assert (merge.kind, merge.roles) == ("residual", ("concat", "projection", "add", "act"))
    assert merge.written["scale"] == 0.17
    concat = graph.unit("mixed_5b.merge")
    assert concat.roles == ("concat",) and concat.layer("concat") == "mixed_5b.concat"


def test_a_blocks_signature_is_its_structure_not_its_name():
    graph = inceptionspec.analyze("inception_resnet_v2").graph
    assert graph.block_signature("block35_1") == graph.block_signature("block35_2")
    assert graph.block_signature("block35_1") != graph.block_signature("block17_1")


# --- concrete types ---------------------------------------------------------------------------


def _concrete(op: Op) -> list[str]:
    """Fields of an op whose value is a `$param` or not of the field's declared (concrete) type."""
    bad = []
    for name, field in type(op).model_fields.items():
        value = getattr(op, name)
        if isinstance(value, str) and value.startswith("$"):
            bad.append(f"{name}={value!r}")
            continue
        try:
            TypeAdapter(field_type(field)).validate_python(
                value.model_dump() if hasattr(value, "model_dump") else value, strict=True
            )
        except ValueError:
            bad.append(f"{name}={value!r}")
    return bad


def test_every_op_of_the_ir_has_concrete_arguments(graph):
    for layer in graph.layers:
        assert _concrete(layer.op) == [], layer.name
    for unit in graph.units:
        if unit.op is not None:
            assert _concrete(unit.op) == [], unit.name


def test_template_arguments_arrive_as_concrete_values(write_spec):
    path = write_spec(
        HEADER
        + """\
templates:
  t:
    params: [n, k, act]
    layers: [conv: {filters: $n, kernel: $k, activation: $act}]
stages:
  - b: {t: [8, [1, 3], relu]}
"""
    )
    op = inceptionspec.load(str(path)).stages[0]["b"].layers[0]["conv"]
    assert (op.filters, op.kernel, op.activation) == (8, [1, 3], "relu")


# --- errors -----------------------------------------------------------------------------------


def test_every_independent_shape_error_is_reported_with_its_place(write_spec):
    path = write_spec(
        HEADER
        + """\
stages:
  - conv: {name: ok, filters: 8, kernel: 3}
  - mixed: {branches: {a: [conv: {filters: 4, kernel: 40}], b: [conv: {filters: 4, kernel: 1}]}}
heads:
  main: {from: ok, layers: [dense: 10]}
"""
    )
    with pytest.raises(SpecError) as err:
        inceptionspec.analyze(str(path))
    found = [(d.loc.line, d.message) for d in err.value.errors]
    assert found == [
        (7, "mixed.a.conv: 40×40 conv (valid) on a 30×30 input: the window does not fit"),
        (
            9,
            "main.dense: dense needs a flat vector but gets a 30×30×8 feature map: "
            "add `flatten` or `global_avgpool` before it",
        ),
    ]


def test_a_consequence_of_a_shape_error_is_not_reported_again(write_spec):
    path = write_spec(
        HEADER
        + "stages:\n  - conv: {name: big, filters: 8, kernel: 40}\n  - conv: {name: after, filters: 8, kernel: 3}\n"
    )
    with pytest.raises(SpecError) as err:
        inceptionspec.analyze(str(path))
    assert [d.message.split(":")[0] for d in err.value.errors] == ["big"]


def test_a_model_level_check_runs_when_defaults_supply_the_argument(write_spec):
    path = write_spec(
        HEADER
        + """\
defaults:
  conv: {dilation: 2, kernel: 3}
stages:
  - conv: {name: c, filters: 8, strides: 2}
"""
    )
    with pytest.raises(SpecError) as err:
        inceptionspec.load(str(path))
    ((diagnostic,),) = [err.value.errors]
    assert diagnostic.message == "a conv cannot have both strides > 1 and dilation > 1"
    assert diagnostic.loc.line == 8


def test_a_templates_model_level_check_runs_when_an_op_inside_takes_defaults(write_spec):
    path = write_spec(
        HEADER
        + """\
defaults:
  conv: {kernel: 3}
templates:
  t:
    branches: {a: [conv: {filters: 8}]}
    layers: [identity: ]
stages:
  - b: {t: []}
"""
    )
    with pytest.raises(SpecError, match=r"spec.yaml:9:5: a template needs exactly one of `branches` and `layers`"):
        inceptionspec.load(str(path))


@pytest.mark.parametrize(
    "line",
    [
        "  - conv: {name: a__b, filters: 8, kernel: 1}",
        "  - conv: {name: a.b, filters: 8, kernel: 1}",
        "  - _block: {layers: [identity: ]}",
        "  - block_: {branches: {x__y: [identity: ]}}",
    ],
)
def test_a_name_that_would_break_the_naming_scheme_is_a_located_error(write_spec, line):
    path = write_spec(HEADER + "stages:\n" + line + "\n")
    with pytest.raises(SpecError) as err:
        inceptionspec.load(str(path))
    assert err.value.errors
    for diagnostic in err.value.errors:
        assert diagnostic.loc.line == 6
        assert NAME_RULE in diagnostic.message


def test_head_and_template_names_follow_the_scheme_too(write_spec):
    path = write_spec(
        HEADER
        + "templates:\n  t_:\n    layers: [identity: ]\nstages:\n  - conv: {filters: 8, kernel: 1}\n"
        + "heads:\n  out__1: {layers: [flatten: ]}\n"
    )
    with pytest.raises(SpecError) as err:
        inceptionspec.load(str(path))
    assert sorted(d.loc.line for d in err.value.errors) == [6, 11]
    assert all(NAME_RULE in d.message for d in err.value.errors)


def test_an_unknown_key_in_a_written_op_names_the_op_by_kind(write_spec):
    path = write_spec(HEADER + "stages:\n  - conv: {filters: 8, kernel: 3, fitlers: 2}\n")
    expected = r"spec.yaml:6:35: unknown key `fitlers` in `conv` \(did you mean `filters`\?\)"
    with pytest.raises(SpecError, match=expected):
        inceptionspec.load(str(path))
