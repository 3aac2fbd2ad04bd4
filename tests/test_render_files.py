"""`inceptionspec render`'s output: a file in the format its extension names, PNG and PDF through
the `render` extra, and no SVG markup dumped on a terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys

import pytest
from click.testing import CliRunner

from inceptionspec.cli import main

SPEC = "examples/naive_inception"


def render(*args: str):
    return CliRunner().invoke(main, ["render", SPEC, *args])


@pytest.mark.parametrize("ext, magic", [("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF-")])
def test_png_and_pdf_are_real_pictures_not_svg_text(tmp_path, ext, magic):
    pytest.importorskip("vl_convert", reason='PNG and PDF need the render extra: pip install "inceptionspec[render]"')
    out = tmp_path / f"g.{ext}"
    result = render("-o", str(out))
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data.startswith(magic) and b"<svg" not in data
    assert f"wrote {out}" in result.stderr


def test_png_is_drawn_at_twice_the_svg_size(tmp_path):
    pytest.importorskip("vl_convert", reason='PNG needs the render extra: pip install "inceptionspec[render]"')
    svg, png = tmp_path / "g.svg", tmp_path / "g.png"
    assert render("-o", str(svg)).exit_code == 0 and render("-o", str(png)).exit_code == 0
    width = float(svg.read_text(encoding="utf-8").split('width="', 1)[1].split('"', 1)[0])
    png_width = int.from_bytes(png.read_bytes()[16:20], "big")  # the IHDR chunk's width
    assert abs(png_width - 2 * width) <= 1


@pytest.mark.parametrize("ext", ["png", "pdf"])
def test_png_and_pdf_without_the_extra_exit_2_with_the_install_command(tmp_path, monkeypatch, ext):
    monkeypatch.setitem(sys.modules, "vl_convert", None)  # importing it now fails, as when it is not installed
    out = tmp_path / f"g.{ext}"
    result = render("-o", str(out))
    assert result.exit_code == 2
    assert 'pip install "inceptionspec[render]"' in result.stderr and "Traceback" not in result.output
    assert not out.exists()


def test_an_unknown_extension_exits_2_listing_the_formats(tmp_path):
    out = tmp_path / "g.jpg"
    result = render("-o", str(out))
    assert result.exit_code == 2
    assert "unknown picture format `.jpg`" in result.stderr
    for ext in (".svg", ".html", ".png", ".pdf", ".dot", ".mmd"):
        assert ext in result.stderr
    assert not out.exists()
    # An explicit --format decides, whatever the extension.
    result = render("-o", str(out), "--format", "dot")
    assert result.exit_code == 0 and "digraph" in out.read_text(encoding="utf-8")


def test_a_pipe_gets_the_svg_text():
    result = render()
    assert result.exit_code == 0 and result.stdout.startswith("<svg")


def test_on_a_terminal_the_picture_goes_to_a_file_named_after_the_spec(tmp_path):
    """A terminal shown the SVG's XML is useless: `render` writes NAME.svg and says so."""
    leader, follower = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "inceptionspec.cli", "render", SPEC],
            stdout=follower,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
        os.close(follower)
        follower = -1
        shown = b""
        while select.select([leader], [], [], 0.2)[0]:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end is closed: nothing more to read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    assert result.returncode == 0, result.stderr
    assert b"<svg" not in shown
    picture = tmp_path / "naive_inception.svg"
    assert picture.read_text(encoding="utf-8").startswith("<svg")
    assert "wrote naive_inception.svg" in result.stderr
