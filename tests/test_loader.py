"""Golden located diagnostics: every class of mistake is reported as file:line:col + message."""

from __future__ import annotations

import pytest

import inceptionspec
from conftest import HEADER
from inceptionspec import SpecError

TEMPLATE = (
    HEADER
    + """\
templates:
  inception:
    params: [n]
    branches:
      a: [conv: {filters: $n, kernel: 1}]
      b: [conv: {filters: $n, kernel: 3}]
"""
)


def errors_of(path, analyze=False):
    with pytest.raises(SpecError) as info:
        if analyze:
            inceptionspec.analyze(str(path))
        else:
            inceptionspec.load(str(path))
    return info.value.errors


def only_error(path, analyze=False):
    errors = errors_of(path, analyze)
    assert len(errors) == 1, [d.format() for d in errors]
    return errors[0]


def at(diag, path, line, col):
    assert (diag.loc.file, diag.loc.line, diag.loc.col) == (str(path), line, col), diag.format()


def text(diag):
    return f"{diag.message} ({diag.hint})"


def test_yaml_syntax_error_is_located(write_spec):
    path = write_spec(HEADER + "stages:\n  - conv: {filters: 8, kernel: 3\n")
    d = only_error(path)
    at(d, path, 7, 1)  # the stream ends before the flow mapping is closed
    assert d.message.startswith("YAML syntax error")


def test_python_object_tag_is_refused(write_spec):
    path = write_spec(HEADER + "stages: !!python/object:os.system {}\n")
    d = only_error(path)
    at(d, path, 5, 9)
    assert "`!!python/object:os.system` is not allowed" in d.message


def test_duplicate_key_names_the_first_line(write_spec):
    path = write_spec(HEADER + "classes: 5\nstages:\n  - conv: {filters: 8, kernel: 3}\n")
    d = only_error(path)
    at(d, path, 5, 1)
    assert "duplicate key `classes` (first defined at line 4)" in d.message


def test_alias_is_refused(write_spec):
    path = write_spec(HEADER + "defaults:\n  conv: &c {padding: same}\nstages:\n  - conv: *c\n")
    d = only_error(path)
    at(d, path, 8, 11)
    assert "YAML aliases (*c) are not supported" in d.message


def test_nesting_too_deep(write_spec):
    path = write_spec(HEADER + "x: " + "[" * 70 + "]" * 70 + "\n")
    d = only_error(path)
    # The top mapping is level 1, so the 64th `[` (column 4 + 63) is level 65.
    at(d, path, 5, 67)
    assert "nesting deeper than 64 levels" in d.message


def test_empty_file(write_spec):
    path = write_spec("")
    d = only_error(path)
    at(d, path, 1, 1)
    assert "the file is empty" in d.message


def test_top_level_must_be_a_mapping(write_spec):
    path = write_spec("- a\n- b\n")
    d = only_error(path)
    at(d, path, 1, 1)
    assert "a spec is a mapping" in d.message


def test_non_utf8_bytes(write_spec):
    path = write_spec(HEADER.encode() + b"title: caf\xe9\n")
    d = only_error(path)
    at(d, path, 5, 11)
    assert "not valid UTF-8 (byte 0xe9)" in d.message


def test_yaml11_no_is_not_a_boolean_and_says_so(write_spec):
    path = write_spec(HEADER + "stages:\n  - conv: {filters: 8, kernel: 3, bias: no}\n")
    d = only_error(path)
    at(d, path, 6, 41)
    assert "'no'" in d.message
    assert "YAML 1.1" in text(d)


def test_yaml11_no_is_rejected_where_a_boolean_is_expected(write_spec):
    path = write_spec(HEADER + "stages:\n  - conv: {filters: 8, kernel: 3, bias: no}\n")
    d = only_error(path)
    at(d, path, 6, 41)
    assert "expected true or false" in d.message and "'no'" in d.message


def test_exponent_without_dot_is_a_float(write_spec):
    path = write_spec(HEADER + "stages:\n  - lrn: {size: 5, alpha: 1e-3, beta: 0.75}\n")
    spec = inceptionspec.load(str(path))
    assert spec.stages[0]["lrn"].alpha == 0.001  # an expanded item is {kind: op}


def test_unknown_key_suggests_the_right_one(write_spec):
    path = write_spec(HEADER + "stages:\n  - conv: {fitlers: 8, kernel: 3}\n")
    d = only_error(path)
    at(d, path, 6, 12)  # the key itself
    assert "unknown key `fitlers`" in d.message
    assert d.hint == "did you mean `filters`?"


def test_a_long_unknown_key_is_quoted_shortened_in_the_middle(write_spec):
    key = "a" + "b" * 498 + "z"
    path = write_spec(
        HEADER + f"{key}: 1\nstages:\n  - conv: {{filters: 8, kernel: 3, {key}: 2}}\n  - {key}: {{{key}: [1]}}\n"
    )
    errors = errors_of(path)
    assert len(errors) == 3
    for d in errors:
        quoted = d.message.split("`")[1]
        assert len(quoted) <= 61, d.message
        assert quoted.startswith("abbb") and quoted.endswith("bbbz") and "…" in quoted
        assert "(500 characters)" in d.message
    assert errors[0].message.startswith("unknown key `") and errors[1].message.startswith("unknown key `")
    assert errors[2].message.startswith("unknown template `")


def test_quoted_number_is_a_string_not_an_integer(write_spec):
    path = write_spec(HEADER + 'stages:\n  - conv: {filters: "64", kernel: 3}\n')
    d = only_error(path)
    at(d, path, 6, 21)
    assert "expected an integer" in d.message
    assert "got the string '64'" in d.message


def test_unknown_template_suggests_a_known_one(write_spec):
    path = write_spec(TEMPLATE + "stages:\n  - blk: {inceptoin: [8]}\n")
    d = only_error(path)
    at(d, path, 12, 10)
    assert "unknown template `inceptoin`" in d.message
    assert "did you mean `inception`?" in text(d)


def test_unknown_op_kind_suggests_conv(write_spec):
    path = write_spec(HEADER + "stages:\n  - cnov: {filters: 8, kernel: 3}\n")
    d = only_error(path)
    at(d, path, 6, 5)
    assert "unknown op `cnov`" in d.message
    assert "did you mean `conv`?" in text(d)


def test_unknown_parameter_inside_a_template(write_spec):
    path = write_spec(
        TEMPLATE.replace("a: [conv: {filters: $n", "a: [conv: {filters: $m") + "stages:\n  - blk: {inception: [8]}\n"
    )
    d = only_error(path)
    at(d, path, 9, 27)  # the `$m` in the template body
    assert "unknown parameter `$m`" in d.message


def test_too_many_template_arguments(write_spec):
    path = write_spec(TEMPLATE + "stages:\n  - blk: {inception: [8, 9]}\n")
    d = only_error(path)
    at(d, path, 12, 26)  # the first extra argument
    assert "template `inception` takes 1 arguments (n); got 2" in d.message


HEAD_SPEC = (
    HEADER
    + """\
stages:
  - inception_4a:
      layers: [conv: {filters: 8, kernel: 3}]
heads:
  main:
    layers: [flatten: , dense: {units: 10}]
  aux:
    from: inception_4x
    layers: [flatten: , dense: {units: 10}]
"""
)


def test_head_tapping_unknown_block_is_reported_by_analysis(write_spec):
    path = write_spec(HEAD_SPEC)
    d = only_error(path, analyze=True)
    at(d, path, 12, 11)
    assert "unknown block or layer `inception_4x`" in d.message
    assert d.hint == "did you mean `inception_4a`?"


def test_head_tapping_unknown_block_is_reported_by_load(write_spec):
    path = write_spec(HEAD_SPEC)
    d = only_error(path)
    at(d, path, 12, 11)
    assert "inception_4x" in d.message


def test_several_errors_are_reported_together(write_spec):
    path = write_spec(HEADER + 'stages:\n  - conv: {fitlers: 8, kernel: 3}\n  - conv: {filters: "64", kernel: 3}\n')
    errors = errors_of(path)
    assert [(d.loc.line, d.loc.col) for d in errors] == [(6, 12), (7, 21)]
    assert "unknown key `fitlers`" in errors[0].message
    assert "got the string '64'" in errors[1].message
