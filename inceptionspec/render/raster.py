"""PNG and PDF pictures, converted from the SVG for papers and slides.

The conversion is vl-convert's (``vl-convert-python``: Rust's resvg and svg2pdf in one wheel per
platform, with a fallback font inside, and no system library such as cairo), installed with the
``render`` extra. Without it, asking for PNG or PDF is a usage error naming the install command.
"""

from __future__ import annotations

from inceptionspec.core.errors import UsageError

#: Picture formats made from the SVG: name → file extension.
RASTER_FORMATS = {"png": "png", "pdf": "pdf"}
INSTALL = 'pip install "inceptionspec[render]"'
#: PNG pixels per SVG pixel: 2 keeps the 11–12 px labels sharp on slides and high-density screens.
PNG_SCALE = 2.0


def convert(svg: str, fmt: str) -> bytes:
    """The SVG picture as ``png`` or ``pdf`` bytes; :class:`UsageError` when the extra is missing."""
    if fmt not in RASTER_FORMATS:
        raise ValueError(f"format must be one of {', '.join(RASTER_FORMATS)}, not {fmt!r}")
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
