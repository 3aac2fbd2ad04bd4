"""Resolve once, expand many: `resolve` reads and validates a spec once; `Resolved.expand` reuses it.

Sweeps expand one spec hundreds of times (width multipliers, input sizes, extra overrides): each
expansion must start from the resolved document without reading the files again, without
validating what was already validated, and without changing the resolved document.
"""

from __future__ import annotations

import pytest

import inceptionspec
import inceptionspec.lang.pipeline as pipeline
from inceptionspec import SpecError
from inceptionspec.analysis import analyze
from inceptionspec.lang.loader import to_plain
from inceptionspec.lang.pipeline import resolve
from inceptionspec.ops import Conv, Dense

VARIANT = """\
version: 1
name: mynet
extends: googlenet
overrides:
  inception_4c.n3x3: 320
"""


@pytest.fixture
def count_validations(monkeypatch):
    """How often the pipeline validated a spec: {"written": n, "expanded": m}."""
    counts = {"written": 0, "expanded": 0}
    real = pipeline.validate

    def counting(model, data, fallback, context=None, budget=None):
        # What was written is validated against the language's models, the expansion against concrete ops.
        if model is pipeline.Spec:
            counts["written"] += 1
        elif model is pipeline.ExpandedSpec:
            counts["expanded"] += 1
        return real(model, data, fallback, context, budget)

    monkeypatch.setattr(pipeline, "validate", counting)
    return counts


def test_expanding_again_reads_no_file_and_validates_only_the_expanded_spec(write_spec, count_validations):
    path = write_spec(VARIANT)
    resolved = resolve(str(path))
    assert count_validations == {"written": 1, "expanded": 0}
    path.unlink()  # the parent chain is not read again either: the variant alone could not be
    params = [analyze(resolved.expand(width=w)).total_params for w in (0.25, 0.5, 1.0)]
    assert params[0] < params[1] < params[2]
    assert count_validations == {"written": 1, "expanded": 3}


def test_load_validates_what_was_written_once_and_the_expanded_spec_once(count_validations):
    inceptionspec.load("googlenet", overrides={"classes": 10})
    assert count_validations == {"written": 1, "expanded": 1}


def test_expansions_never_change_the_resolved_document(write_spec):
    resolved = resolve(str(write_spec(VARIANT)))
    before = to_plain(resolved.document())
    resolved.expand({"inception_4e": None, "inception_3a@after": [{"maxpool": {"size": 3, "strides": 1}}]})
    resolved.expand(["templates.inception.branches.5x5.conv.kernel=3", "heads.aux1=null"], width=0.5)
    resolved.expand(input_size=(112, 96))
    assert to_plain(resolved.document()) == before
    resolved.document()["stages"].clear()  # a copy: editing it changes nothing either
    assert to_plain(resolved.document()) == before
    assert inceptionspec.dump(resolved.expand()) == inceptionspec.dump(inceptionspec.load(str(write_spec(VARIANT))))


def test_the_width_knob_is_the_width_override():
    resolved = resolve("googlenet")
    for multiplier in (0.25, 0.75, 2.0):
        by_knob = resolved.expand(width=multiplier)
        by_override = inceptionspec.load("googlenet", overrides={"width.multiplier": multiplier})
        assert inceptionspec.dump(by_knob) == inceptionspec.dump(by_override)
    # A mapping sets the other width settings; the spec's own settings stay unless replaced.
    rounded = resolved.expand(width={"multiplier": 0.3, "divisor": 8})
    assert all(s.op.filters % 8 == 0 for s in analyze(rounded).graph.layers if s.kind == "conv")
    cifar = resolve("examples/googlenet_cifar")  # written with `width: {multiplier: 0.5}`
    assert inceptionspec.dump(cifar.expand(width={"divisor": 1})) == inceptionspec.dump(cifar.expand())


def test_the_input_size_knob_keeps_the_channels():
    spec = resolve("googlenet").expand(input_size=(160, 128))
    assert spec.input == [160, 128, 3]
    assert resolve("googlenet").expand(input_size=192).input == [192, 192, 3]


@pytest.mark.parametrize(
    ("knobs", "where", "message"),
    [
        ({"width": -1}, "<width>:1:1", "must be > 0"),
        ({"width": {"multplier": 2}}, "<width>:1:1", "unknown key `multplier`"),
        ({"input_size": (0, 32)}, "<input_size>:1:1", "must be ≥ 1"),
        ({"input_size": (32, 32, 3)}, "<input_size>:1:1", "an int or (height, width)"),
    ],
)
def test_knob_values_are_validated_and_located(knobs, where, message):
    with pytest.raises(SpecError) as err:
        resolve("googlenet").expand(**knobs)
    assert str(err.value).startswith(f"{where}: ") and message in str(err.value)


def test_overrides_given_to_expand_are_validated_and_located():
    resolved = resolve("googlenet")
    with pytest.raises(SpecError, match=r"^<--set 1>:1:\d+: .*no item named `inception_9z`"):
        resolved.expand(["inception_9z.n3x3=1"])
    with pytest.raises(SpecError, match=r"^<overrides>:1:1: expected an integer, got the string 'many'"):
        resolved.expand({"classes": "many"})


@pytest.mark.parametrize(
    ("overrides", "got"),
    [
        ("classes=10", "got the string 'classes=10'"),
        (["classes=10", 10], "got a list holding 10"),
        ({"classes", "width.multiplier"}, "got a set"),
        (7, "got 7"),
    ],
)
def test_overrides_of_another_shape_are_a_located_error_not_read_character_by_character(overrides, got):
    with pytest.raises(SpecError) as err:
        inceptionspec.load("googlenet", overrides=overrides)
    (diagnostic,) = err.value.errors
    assert str(diagnostic.loc) == "<overrides>:1:1"
    assert 'a mapping {path: value} or a list of "path=value" strings' in diagnostic.message
    assert got in diagnostic.message
    if isinstance(overrides, str):
        assert diagnostic.hint == "write ['classes=10']"


def test_which_arguments_scale_with_width_is_data_on_the_op(monkeypatch):
    assert Conv.width_scaled == ("filters",) and Dense.width_scaled == ()
    half = {"width.multiplier": 0.5}
    head = [layer for layer in analyze(inceptionspec.load("googlenet", overrides=half)).graph.layers]
    assert {layer.op.units for layer in head if layer.kind == "dense"} == {1000, 1024}  # not scaled
    monkeypatch.setattr(Dense, "width_scaled", ("units",))
    scaled = inceptionspec.load("googlenet", overrides={**half, "heads.main.layers": [{"dense": 64}]})
    assert scaled.heads["main"].layers[0]["dense"].units == 32
