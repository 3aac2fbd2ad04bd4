"""PNG and PDF pictures, converted from the SVG for papers and slides.

The conversion is vl-convert's (``vl-convert-python``: Rust's resvg and svg2pdf in one wheel per
platform, with a fallback font inside, and no system library such as cairo), installed with the
``render`` extra. Without it, asking for PNG or PDF is a usage error naming the install command.
"""

from __future__ import annotations

import re

from inceptionspec.core.budget import Budget
from inceptionspec.core.errors import Loc, UsageError

#: Picture formats made from the SVG: name → file extension.
RASTER_FORMATS = {"png": "png", "pdf": "pdf"}
INSTALL = 'pip install "inceptionspec[render]"'
#: PNG pixels per SVG pixel: 2 keeps the 11–12 px labels sharp on slides and high-density screens.
PNG_SCALE = 2.0


_SIZE = re.compile(r'<svg[^>]* width="([0-9.]+)" height="([0-9.]+)"')


def picture_pixels(svg: str, fmt: str) -> int:
    """The pixels (PNG) or square points (PDF) the picture will have: what converting it costs in
    memory and time (a PNG is width × height × 4 bytes at its scale)."""
    match = _SIZE.search(svg[:2000])
    if match is None:
        raise ValueError("not an SVG made by inceptionspec.render")
    scale = PNG_SCALE**2 if fmt == "png" else 1.0
    return int(float(match[1]) * float(match[2]) * scale)


def convert(svg: str, fmt: str, budget: Budget | None = None, loc: Loc | None = None) -> bytes:
    """The SVG picture as ``png`` or ``pdf`` bytes; :class:`UsageError` when the extra is missing.

    The picture's size and its texts count against ``budget.max_picture_pixels`` and
    ``max_picture_texts`` before it is converted."""
    if fmt not in RASTER_FORMATS:
        raise ValueError(f"format must be one of {', '.join(RASTER_FORMATS)}, not {fmt!r}")
    budget = budget or Budget()
    loc = loc or Loc("<picture>", 1, 1)
    hint = "write SVG or HTML (no such limit), or draw it smaller: --depth block, or without --expand-repeats"
    budget.spend("max_picture_pixels", picture_pixels(svg, fmt), loc, hint)
    budget.spend("max_picture_texts", svg.count("<text"), loc, hint)
    try:
        import vl_convert
    except ImportError:
        raise UsageError(
            f"{fmt.upper()} output needs the optional package vl-convert-python: {INSTALL} "
            "(or write SVG or HTML, which need nothing more)"
        ) from None
    if fmt == "png":
        return bytes(vl_convert.svg_to_png(svg, scale=PNG_SCALE))
    return bytes(vl_convert.svg_to_pdf(svg))
