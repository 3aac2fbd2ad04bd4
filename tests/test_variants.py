"""Variants: `extends` + `overrides` in a file equal the same edits given to `load`."""

from __future__ import annotations

import pytest

import inceptionspec
from conftest import run_cli
from inceptionspec import SpecError

EDITS = {"inception_4c.n3x3": 320, "heads.aux1": None, "heads.aux2": None}

VARIANT = """\
extends: googlenet
overrides:
  inception_4c.n3x3: 320
  heads.aux1: null
  heads.aux2: null
"""


def block_params(analysis):
    return {b.name: (b.params, b.output_shape) for b in analysis.blocks}


def test_variant_file_equals_overrides_given_to_load(write_spec):
    variant = inceptionspec.load(str(write_spec(VARIANT)))
    # The file is a variant, so it is titled as one (below); everything else is the same.
    same = inceptionspec.load("googlenet", overrides={**EDITS, "title": "spec — extends googlenet"})
    assert inceptionspec.dump(variant) == inceptionspec.dump(same)


def test_set_strings_equal_a_mapping_of_overrides():
    as_strings = ["inception_4c.n3x3=320", "heads.aux1=null", "heads.aux2=null"]
    assert inceptionspec.dump(inceptionspec.load("googlenet", overrides=as_strings)) == inceptionspec.dump(
        inceptionspec.load("googlenet", overrides=EDITS)
    )


def test_variant_changes_only_inception_4c_and_its_direct_consumer(write_spec):
    base = block_params(inceptionspec.analyze("googlenet"))
    variant_analysis = inceptionspec.analyze(inceptionspec.load(str(write_spec(VARIANT))))
    variant = block_params(variant_analysis)
    assert set(variant) == set(base) - {"aux1", "aux2"}
    changed = {name for name in variant if variant[name] != base[name]}
    # 4c's 3x3 branch widens (512 → 576 channels), so 4d's first convs see more input channels;
    # 4d's own output depth is unchanged, so nothing further downstream differs.
    assert changed == {"inception_4c", "inception_4d"}
    assert variant["inception_4c"][1] == (14, 14, 576)
    assert variant["inception_4d"][1] == base["inception_4d"][1] == (14, 14, 528)
    assert [o["name"] for o in variant_analysis.outputs] == ["main"]


def test_cli_set_shows_the_new_value_in_expand():
    result = run_cli("expand", "googlenet", "--set", "inception_4c.n3x3=320")
    assert result.returncode == 0, result.stderr
    block = result.stdout.split("- inception_4c:")[1].split("- inception_4d:")[0]
    assert "filters: 320, kernel: 3" in block
    assert "filters: 256, kernel: 3" not in block


def test_extends_cycle_is_an_error_naming_the_chain(write_spec):
    a = write_spec("extends: b.yaml\nversion: 1\n", "a.yaml")
    write_spec("extends: a.yaml\nversion: 1\n", "b.yaml")
    with pytest.raises(SpecError) as info:
        inceptionspec.load(str(a))
    (d,) = info.value.errors
    assert d.loc.file.endswith("b.yaml") and (d.loc.line, d.loc.col) == (1, 10)
    assert "`extends` cycle: a.yaml → b.yaml → a.yaml" in d.message


def test_override_of_a_nonexistent_block_is_located_with_a_suggestion(write_spec):
    path = write_spec("extends: googlenet\noverrides:\n  inception_4x.n3x3: 320\n")
    with pytest.raises(SpecError) as info:
        inceptionspec.load(str(path))
    (d,) = info.value.errors
    assert (d.loc.file, d.loc.line, d.loc.col) == (str(path), 3, 3)
    assert "no item named `inception_4x`" in d.message
    assert d.hint is not None and d.hint.startswith("did you mean `inception_4")


def test_set_of_a_nonexistent_block_is_located_at_the_set_argument():
    with pytest.raises(SpecError) as info:
        inceptionspec.load("googlenet", overrides=["inception_4x.n3x3=320"])
    (d,) = info.value.errors
    assert d.loc.file == "<--set 1>"
    assert "did you mean" in (d.hint or "")


def inception_blocks(analysis):
    return [b.name for b in analysis.blocks if b.name.startswith("inception_")]


def test_null_removes_a_block(write_spec):
    path = write_spec("extends: googlenet\noverrides:\n  inception_4e: null\n")
    analysis = inceptionspec.analyze(str(path))
    assert "inception_4e" not in inception_blocks(analysis)
    # pool4 now sees 4d's 528 channels instead of 4e's 832.
    assert analysis.block("pool4").output_shape == (7, 7, 528)


def test_after_inserts_items_next_to_a_block(write_spec):
    path = write_spec(
        """\
        extends: googlenet
        overrides:
          inception_4e@after:
            - inception_4f: {inception: [256, 160, 320, 32, 128, 128]}
        """
    )
    analysis = inceptionspec.analyze(str(path))
    names = inception_blocks(analysis)
    assert names[names.index("inception_4e") + 1] == "inception_4f"
    assert analysis.block("inception_4f").output_shape == (14, 14, 832)
    assert analysis.block("pool4").output_shape == (7, 7, 832)


# --- titles: a variant is not shown under its parent's title ----------------------------------------


def test_a_variant_without_a_title_says_what_it_extends(write_spec, tmp_path):
    path = write_spec("version: 1\nname: mynet\n" + VARIANT)
    spec = inceptionspec.load(str(path))
    assert spec.title == "mynet — extends googlenet"
    svg = tmp_path / "mynet.svg"
    done = run_cli("render", path, "-o", svg, "--depth", "block")
    assert done.returncode == 0, done.stderr
    header = svg.read_text(encoding="utf-8")
    assert "mynet — extends googlenet" in header
    assert "GoogLeNet (Inception v1)" not in header


def test_a_variant_without_a_name_is_titled_by_its_file(write_spec):
    spec = inceptionspec.load(str(write_spec(VARIANT, "wide4c.yaml")))
    assert spec.title == "wide4c — extends googlenet"


def test_a_variant_of_a_variant_names_its_own_parent(write_spec):
    write_spec("version: 1\nname: mid\nextends: googlenet\n", "mid.yaml")
    spec = inceptionspec.load(str(write_spec("version: 1\nname: leaf\nextends: mid.yaml\n", "leaf.yaml")))
    assert spec.title == "leaf — extends mid.yaml"


def test_a_variant_with_its_own_title_keeps_it(write_spec):
    spec = inceptionspec.load(str(write_spec("version: 1\nname: mynet\ntitle: My net\n" + VARIANT)))
    assert spec.title == "My net"
    assert inceptionspec.load("googlenet_bn").title.startswith("GoogLeNet with batch norm")


def test_the_cheap_title_of_a_variant_file_agrees_with_loading_it(write_spec):
    from inceptionspec.lang.library import first_line_description

    path = write_spec("version: 1\nname: mynet\n" + VARIANT)
    assert first_line_description(path) == inceptionspec.load(str(path)).title == "mynet — extends googlenet"


def test_an_override_path_can_start_with_every_top_level_key_of_the_language():
    # resolve.py reads documents before they are validated, so it keeps its own list; it must be the model's.
    from inceptionspec.lang.models import Spec
    from inceptionspec.lang.resolve import TOP_KEYS

    assert sorted(TOP_KEYS) == sorted(set(Spec.allowed_keys()) - {"extends", "overrides"})
