"""The renderer: SVG / HTML / DOT / Mermaid output, collapsing repeats, and the layout's geometry."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from functools import cache

import pytest
from click.testing import CliRunner

from conftest import run_cli
from inceptionspec import analyze, load
from inceptionspec.cli import main
from inceptionspec.lang.library import shipped
from inceptionspec.render import layout, render
from inceptionspec.render.tree import CHAR_W, FRAME_PAD, PAD_X, Frame, Par, Seq, Unit, spans_w

GOOGLENET_BLOCKS = [f"inception_{n}" for n in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b")]
SPECS = sorted(shipped())


@cache
def analysis(name: str, include_aux: bool = True):
    return analyze(load(name), include_aux=include_aux)


def svg_root(text: str) -> ET.Element:
    return ET.fromstring(text)


def all_text(root: ET.Element) -> str:
    return "\n".join(root.itertext())


# --- the command ----------------------------------------------------------------------


def test_render_googlenet_writes_wellformed_svg_naming_every_block(tmp_path):
    out = tmp_path / "g.svg"
    result = run_cli("render", "googlenet", "-o", out)
    assert result.returncode == 0, result.stderr
    root = ET.parse(out).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert float(root.get("width")) > 0 and float(root.get("height")) > 0
    text = all_text(root)
    for block in GOOGLENET_BLOCKS:
        assert block in text
    assert "aux1 head" in text and "aux2 head" in text and "main head" in text


def test_html_is_one_self_contained_file(tmp_path):
    out = tmp_path / "g.html"
    result = run_cli("render", "googlenet", "--format", "html", "-o", out)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["g.html"]
    page = out.read_text(encoding="utf-8")
    assert not re.search(r"https?:", page), "no external (or any) http(s) references"
    assert not re.search(r"<link\b|\bsrc\s*=|@import", page)
    assert "<script>" in page and "<style>" in page
    # The embedded picture is well-formed and foldable, with hover information.
    svg = svg_root(page[page.index("<svg") : page.index("</svg>") + len("</svg>")])
    folds = [g for g in svg.iter("g") if "fold" in (g.get("class") or "").split()]
    assert len(folds) == len(GOOGLENET_BLOCKS) + 1  # every block and the main head
    tips = [t.text for t in svg.iter("title") if t.text]
    assert any("inception_3a.3x3.conv" in t and "params 110,720" in t and "MACs" in t for t in tips)


@pytest.mark.parametrize("fmt", ["dot", "mermaid"])
@pytest.mark.parametrize("name", ["googlenet", "inception_v4", "inception_resnet_v2"])
def test_dot_and_mermaid_contain_every_block(fmt, name):
    a = analysis(name)
    text = render(a, fmt=fmt)
    for block in a.blocks:
        assert block.name in text, block.name
    if fmt == "dot":
        assert text.startswith("//") and "digraph" in text and text.rstrip().endswith("}")
        assert text.count("{") == text.count("}")
    else:
        assert "flowchart TB" in text
        assert text.count("subgraph ") == sum(1 for line in text.splitlines() if line.strip() == "end")


def test_format_follows_the_extension(tmp_path):
    for ext, marker in (("dot", "digraph"), ("mmd", "flowchart TB"), ("html", "<!DOCTYPE html>"), ("svg", "<svg")):
        out = tmp_path / f"g.{ext}"
        result = CliRunner().invoke(main, ["render", "examples/naive_inception", "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert marker in out.read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["render", "examples/naive_inception", "--format", "mermaid", "--depth", "block"])
    assert result.exit_code == 0 and result.stdout.startswith("%%")


def test_static_path_with_render_never_imports_tensorflow():
    code = textwrap.dedent(
        """
        import sys
        import inceptionspec
        from inceptionspec.render import render
        a = inceptionspec.analyze(inceptionspec.load("inception_resnet_v2"))
        for fmt in ("svg", "html", "dot", "mermaid"):
            for depth in ("block", "layer"):
                render(a, fmt=fmt, depth=depth)
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- what is drawn --------------------------------------------------------------------


def test_collapsed_inception_v4_shows_counts():
    text = all_text(svg_root(render(analysis("inception_v4"))))
    assert "inception_a × 4" in text
    assert "inception_b × 7" in text
    assert "inception_c × 3" in text
    assert "inception_b_2" in text  # the copies are still named (in the tooltip)


def test_expand_repeats_draws_every_copy():
    d = layout(analysis("inception_v4"), collapse_repeats=False)
    titles = [b.name for b in d.boxes() if isinstance(b, Frame)]
    assert [t for t in titles if t.startswith("inception_b")] == [f"inception_b_{i}" for i in range(1, 8)]
    assert not any("×" in t for t in titles)


def test_only_identical_blocks_collapse():
    # block8_10 has the block8 template but scale 1 and no activation: a row of its own.
    d = layout(analysis("inception_resnet_v2"))
    titles = [r.name for r in d.rows if isinstance(r, Frame)]
    assert "block35 × 10" in titles and "block17 × 20" in titles and "block8 × 9" in titles
    assert "block8_10" in titles
    # GoogLeNet's modules differ in their filter counts: none collapses.
    assert [r.name for r in layout(analysis("googlenet")).rows if isinstance(r, Frame)][:9] == GOOGLENET_BLOCKS


def test_conv_units_are_folded_into_one_box():
    d = layout(analysis("inception_resnet_v2"))
    units = {b.id: b for b in d.boxes() if isinstance(b, Unit)}
    unit = units["conv2d_1a_3x3"]
    assert unit.layers == ("conv2d_1a_3x3", "conv2d_1a_3x3.bn", "conv2d_1a_3x3.relu")
    assert "".join(t for t, _ in unit.lines[0]) == "conv2d_1a_3x3  3×3/2 V conv 32 +BN+ReLU"
    add = units["block35_1.add"]
    assert "".join(t for t, _ in add.lines[0]) == "add ×0.17 +ReLU"
    assert add.layers == ("block35_1.add", "block35_1.relu")


@pytest.mark.parametrize("name", SPECS)
def test_every_layer_is_drawn_exactly_once(name):
    a = analysis(name)
    d = layout(a, depth="layer", collapse_repeats=False)
    drawn = [layer for b in d.boxes() if isinstance(b, Unit) for layer in b.layers]
    assert sorted(drawn) == sorted(s.name for s in a.layers)


@pytest.mark.parametrize("name", ["googlenet", "inception_v4"])
def test_block_depth_draws_one_box_per_block(name):
    a = analysis(name)
    d = layout(a, depth="block", collapse_repeats=False)
    assert not any(isinstance(b, (Frame, Par)) for b in d.boxes())
    boxes = [b for b in d.boxes() if isinstance(b, Unit)]
    named = {n for b in boxes for n in b.names} | {b.id for b in boxes}
    assert {b.name for b in a.blocks} <= named


def test_aux_heads_branch_off_to_the_side_where_they_tap():
    d = layout(analysis("googlenet"))
    assert [s.group.items[0].name for s in d.sides] == ["aux1 head", "aux2 head"]
    column_right = d.column.x + d.column.w
    for side, tap in zip(d.sides, ("inception_4a", "inception_4d"), strict=True):
        row = d.rows[side.tap]
        assert row.name == tap
        assert row.bottom < side.conn_y < d.rows[side.tap + 1].y  # leaves in the gap below the tapped block
        assert side.group.x > column_right
    assert d.rows[-2].name == "main head"
    assert not layout(analysis("googlenet", include_aux=False)).sides


def test_sizes_are_sensible():
    small = layout(analysis("googlenet"))
    big = layout(analysis("inception_resnet_v2"))
    assert small.width < 1200 and small.height < 3200
    # ~780 layers, collapsed: about as tall as GoogLeNet.
    assert big.width < 1000 and big.height < 3200
    assert layout(analysis("inception_resnet_v2"), collapse_repeats=False).height > 4 * big.height


def test_bad_arguments():
    with pytest.raises(ValueError, match="format"):
        render(analysis("googlenet"), fmt="png")
    with pytest.raises(ValueError, match="depth"):
        render(analysis("googlenet"), depth="branch")


# --- geometry -------------------------------------------------------------------------


def _overlap(a, b) -> bool:
    return a.x < b.x + b.w - 0.01 and b.x < a.x + a.w - 0.01 and a.y < b.y + b.h - 0.01 and b.y < a.y + a.h - 0.01


def _inside(child, parent) -> bool:
    eps = 0.01
    return (
        child.x >= parent.x - eps
        and child.y >= parent.y - eps
        and child.x + child.w <= parent.x + parent.w + eps
        and child.y + child.h <= parent.y + parent.h + eps
    )


def _check_geometry(d) -> int:
    checked = 0
    tops = [d.column, *(s.group for s in d.sides)]
    for a, b in itertools.combinations(tops, 2):
        assert not _overlap(a, b), "a side head overlaps the main column or another head"
    for top in tops:
        assert top.x >= 0 and top.y >= 0 and top.x + top.w <= d.width and top.y + top.h <= d.height
        for box in top.walk():
            kids = box.children()
            for a, b in itertools.combinations(kids, 2):
                assert not _overlap(a, b), f"siblings overlap: {getattr(a, 'id', a)!r} / {getattr(b, 'id', b)!r}"
                checked += 1
            for kid in kids:
                assert _inside(kid, box), f"{getattr(kid, 'id', kid)!r} sticks out of its parent"
            if isinstance(box, Unit):
                for line in box.lines:
                    assert spans_w(line) + 2 * PAD_X <= box.w + 0.01, "text wider than its box"
            if isinstance(box, Frame):
                room = box.inner_w - 2 * FRAME_PAD - (2 * CHAR_W if box.foldable else 0)
                assert spans_w(box.title) <= room + 0.01, "title wider than its frame"
            if isinstance(box, Seq):
                for a, b in zip(box.items, box.items[1:], strict=False):
                    assert b.y - a.bottom >= box.gap - 0.01  # room for the arrow
            if isinstance(box, Par):
                xs = [br.x for br in box.branches]
                assert xs == sorted(xs)
                assert all(m.y > max(br.bottom for br in box.branches) for m in box.merges)
    return checked


@pytest.mark.parametrize("name", SPECS)
@pytest.mark.parametrize("depth", ["layer", "block"])
@pytest.mark.parametrize("collapse", [True, False])
def test_no_two_sibling_boxes_overlap(name, depth, collapse):
    d = layout(analysis(name), depth=depth, collapse_repeats=collapse)
    assert _check_geometry(d) > 0


def test_ops_outside_blocks_show_their_names():
    d = layout(analysis("googlenet"))
    rows = {r.id: r for r in d.rows if isinstance(r, Unit)}
    assert rows["conv1"].lines[0][:2] == [("conv1", "b"), ("  ", "")]
    assert "".join(t for t, _ in rows["pool1"].lines[0]) == "pool1  3×3/2 V ceil maxpool"
    inside = {b.id: b for b in d.boxes() if isinstance(b, Unit)}["inception_3a.1x1.conv"]
    assert "".join(t for t, _ in inside.lines[0]) == "1×1 conv 64 +ReLU"  # the frame and branch name it


def test_the_legend_explains_the_abbreviations_the_picture_uses():
    googlenet = dict(layout(analysis("googlenet")).legend)
    assert googlenet["V"].startswith("valid padding")
    assert {"3×3/2", "p1,1", "ceil", "+BN+ReLU", "LRN"} <= set(googlenet)
    assert "add ×0.2" not in googlenet and "× 7" not in googlenet  # no residuals, no repeats
    resnet = dict(layout(analysis("inception_resnet_v2")).legend)
    assert {"add ×0.2", "linear", "× 7"} <= set(resnet) and "ceil" not in resnet
    for fmt in ("svg", "html"):
        text = render(analysis("googlenet"), fmt)
        assert "valid padding (none); no letter: same" in text
        assert "output size rounded up" in text


def test_the_legend_sits_between_the_header_and_the_first_row():
    d = layout(analysis("inception_resnet_v2"))
    assert len(d.legend_lines) >= 2
    svg = render(analysis("inception_resnet_v2"), "svg")
    root = ET.fromstring(svg)
    ys = [
        float(t.get("y"))
        for t in root.iter("{http://www.w3.org/2000/svg}text")
        if "identical blocks" in "".join(t.itertext())
    ]
    assert ys and ys[0] + 4 < d.rows[0].y
    assert all(spans_w(line) <= d.width for line in d.legend_lines)
