"""The diff as a picture (`diff --format html|svg`) and the notebook views (`_repr_html_`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from functools import cache

import pytest
from click.testing import CliRunner

import inceptionspec
from conftest import run_cli
from inceptionspec.cli import main
from inceptionspec.compare.formats import fmt_value
from inceptionspec.render.diffpicture import change_line, picture, render_diff


@cache
def _page(a: str, b: str) -> str:
    result = run_cli("diff", a, b, "--format", "html")
    assert result.returncode == 1, result.stderr  # GNU diff: 1 when they differ
    return result.stdout


def _data(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="diff-data">(.*?)</script>', page, re.S)
    assert match
    return json.loads(match.group(1))


def test_the_page_opens_offline():
    page = _page("googlenet", "googlenet_bn")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page, re.I)
    assert "@import" not in page and "<link" not in page and not re.search(r"url\(\s*['\"]?https?:", page)


def test_hover_data_is_the_json_diff():
    page = _page("googlenet", "googlenet_bn")
    marks = _data(page)["marks"]
    diff = json.loads(run_cli("diff", "googlenet", "googlenet_bn", "--format", "json").stdout)
    # Every change of the JSON diff lands on a box: added ones on B's side, removed ones on A's,
    # the others on both; and the boxes carry nothing else.
    shown = {"a": [], "b": []}
    for mark in marks:
        shown[mark["side"]].extend(mark["changes"])
    for change in diff["changes"]:
        sides = {"added": ["b"], "removed": ["a"]}.get(change["kind"], ["a", "b"])
        for side in sides:
            assert change in shown[side], (side, change)
    assert all(change in diff["changes"] for changes in shown.values() for change in changes)


def test_a_changed_layer_hovers_old_to_new_for_attributes_shape_params_and_macs():
    marks = {(m["side"], m["id"]): m for m in _data(_page("googlenet", "googlenet_bn"))["marks"]}
    conv = marks[("b", "inception_3a.5x5.conv")]
    assert conv["status"] == "changed"
    assert "kernel 5×5 → 3×3" in conv["tip"] and "gains batch norm (momentum 0.9, epsilon 0.001)" in conv["tip"]
    assert "params 12,832 → 4,736 (-8,096, -63.09 %)" in conv["tip"]  # 5·5·16·32 + 32 → 3·3·16·32 + BN 4·32
    assert "MACs 10.04M → 3.61M" in conv["tip"]
    for change in conv["changes"]:
        old, new = (
            fmt_value(change["old"], change["op"], change["field"]),
            fmt_value(change["new"], change["op"], change["field"]),
        )
        if change["kind"] in ("changed", "shape"):
            assert f"{old} → {new}" in conv["tip"]
    assert marks[("a", "inception_3a.5x5.conv")]["pair"] == "inception_3a.5x5.conv"
    assert marks[("a", "norm1")]["status"] == "removed"
    assert marks[("b", "aux1.head.adaptive_avgpool")]["status"] == "added"


def test_the_picture_marks_added_removed_and_changed_boxes_and_titles_say_why():
    page = _page("googlenet", "googlenet_bn")
    svg = page[page.index("<svg") : page.rindex("</svg>") + 6]
    root = ET.fromstring(svg)
    classes = [g.get("class", "") for g in root.iter("{http://www.w3.org/2000/svg}g")]
    assert any("u dadd" in c for c in classes) and any("u drem" in c for c in classes)
    assert any("u dchg" in c for c in classes) and any("ttl dchg" in c for c in classes)
    titles = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert any(t.startswith("inception_3a.5x5.conv — changed\n") and "kernel 5×5 → 3×3" in t for t in titles)


def test_unchanged_repeats_stay_collapsed_and_changed_blocks_are_drawn_apart(write_spec):
    path = write_spec("version: 1\nname: v4x\nextends: inception_v4\noverrides:\n  inception_b.repeat: 6\n")
    result = inceptionspec.diff("inception_v4", str(path))
    pic = picture(result)
    a_frames = {box.names: box.mark for box in pic.a.boxes() if getattr(box, "names", ())}
    assert a_frames[tuple(f"inception_b_{i}" for i in range(1, 7))] == ""  # unchanged, one frame × 6
    assert a_frames[("inception_b_7",)] == "drem"
    assert any(names == tuple(f"inception_a_{i}" for i in range(1, 5)) for names in a_frames)


def test_svg_format_is_one_well_formed_file(tmp_path):
    out = tmp_path / "d.svg"
    result = CliRunner().invoke(
        main, ["diff", "googlenet", "examples/googlenet_no_aux_wide4c", "--format", "svg", "-o", str(out)]
    )
    assert result.exit_code == 1  # they differ
    root = ET.fromstring(out.read_text())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert len([s for s in root.iter("{http://www.w3.org/2000/svg}svg")]) == 3  # the page and its two sides


def test_output_file_only_for_pictures():
    result = CliRunner().invoke(main, ["diff", "googlenet", "googlenet_bn", "-o", "x.txt"])
    assert result.exit_code == 2 and "writes --format html or svg" in result.output


def test_identical_specs_make_a_page_without_marks():
    page = render_diff(inceptionspec.diff("googlenet", "googlenet"), "html")
    assert _data(page)["marks"] == [] and "are identical" in page


def test_user_strings_are_escaped_in_every_place_they_land(tmp_path):
    hostile = 'x"<img src=y onerror=alert(1)></script><!--'
    spec = tmp_path / "a.yaml"
    spec.write_text(f"version: 1\nname: b\nextends: googlenet\ntitle: '{hostile}'\nclasses: 10\n")
    result = inceptionspec.diff("googlenet", str(spec))
    for fmt in ("html", "svg"):
        text = render_diff(result, fmt)
        assert "<img" not in text and "</script><!--" not in text
    page = render_diff(result, "html")
    assert _data(page)["b"] == str(spec)
    notebook = result._repr_html_()
    assert "<img" not in notebook.replace("&lt;img", "")


def test_change_lines_read_old_to_new():
    from inceptionspec.compare.records import Change

    assert change_line(Change("layer", "x", "changed", "kernel", 5, 3, op="conv")) == "kernel 5×5 → 3×3"
    assert (
        change_line(Change("layer", "x", "cost", "macs", 2_000_000, 3_000_000))
        == "MACs 2.00M → 3.00M (+1.00M, +50.00 %)"
    )
    assert change_line(Change("layer", "x", "shape", "output_shape", [7, 7, 8], [7, 7, 9])) == "output 7×7×8 → 7×7×9"


# --- the notebook ----------------------------------------------------------------------------


def test_a_spec_shows_its_summary_and_picture_in_a_sandboxed_frame():
    html = inceptionspec.load("googlenet")._repr_html_()
    assert "<table>" in html and "<code>inception_4c</code>" in html and "13,378,280 parameters" in html
    frame = re.search(r'<iframe sandbox="allow-scripts"[^>]*srcdoc="([^"]*)"', html)
    assert frame and "&lt;svg" in frame.group(1)  # the render page, escaped into the attribute


def test_an_analysis_and_a_diff_show_themselves():
    analysis = inceptionspec.analyze("inception_v3", include_aux=False)
    assert "inception_v3" in analysis._repr_html_() or "Inception v3" in analysis._repr_html_()
    diff = inceptionspec.diff("googlenet", "examples/googlenet_no_aux_wide4c")
    html = diff._repr_html_()
    assert "4 blocks differ" in html and "3x3.conv filters 256 → 320" in html and "<iframe" in html


def test_notebook_views_do_not_import_tensorflow():
    code = (
        "import sys, inceptionspec\n"
        "inceptionspec.load('googlenet')._repr_html_()\n"
        "inceptionspec.diff('googlenet', 'googlenet_bn')._repr_html_()\n"
        "print([m for m in ('tensorflow', 'keras', 'matplotlib') if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("fmt", ["gif"])
def test_render_diff_refuses_other_formats(fmt):
    with pytest.raises(ValueError):
        render_diff(inceptionspec.diff("googlenet", "googlenet"), fmt)


def test_a_merge_whose_output_grew_is_marked_at_its_concat_box():
    # The diff names a block's merge `inception_4c.merge` (an IR unit); the picture finds its box.
    wide = inceptionspec.load("googlenet", overrides=["inception_4c.n3x3=320"])
    result = inceptionspec.diff(inceptionspec.load("googlenet"), wide)
    assert any(c.path == "inception_4c.merge" for c in result.changes)
    marks = {(m["side"], m["id"]): m for m in _data(render_diff(result, "html"))["marks"]}
    assert marks[("b", "inception_4c.concat")]["status"] == "affected"
