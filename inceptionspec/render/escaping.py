"""Escaping for the explore outputs (diff picture, notebook views, sweep tables, CSV and plots).

LOCAL STAND-IN: the branch ``hostile`` adds ``inceptionspec/core/escape.py``, one escaping module
for every writer, with these functions under the same names. Once it is on main, delete this
module and import ``xml_text``, ``xml_attr``, ``script_json`` and ``line`` from
``inceptionspec.core.escape`` instead.
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0/C1 controls, DEL, bidi marks, embeddings, overrides and isolates, line/paragraph separators,
# the BOM and the interlinear annotation marks: shown as visible escapes everywhere.
_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff\ufff9-\ufffb"
_UNSAFE_TEXT = re.compile(f"[{_UNSAFE}\ud800-\udfff\ufffe\uffff]")
_UNSAFE_LINE = re.compile(f"[{_UNSAFE}\t\n\ud800-\udfff\ufffe\uffff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def line(value: object) -> str:
    """One line of terminal (or plot, or CSV) text: controls, newlines and bidi overrides visible."""
    return _UNSAFE_LINE.sub(_visible, str(value))


def xml_text(value: object) -> str:
    """Text content of an XML or HTML element."""
    text = _UNSAFE_TEXT.sub(_visible, str(value))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_attr(value: object) -> str:
    """An XML or HTML attribute value (either quote)."""
    text = xml_text(value)
    for char, entity in (('"', "&quot;"), ("'", "&#39;"), ("\t", "&#9;"), ("\n", "&#10;"), ("\r", "&#13;")):
        text = text.replace(char, entity)
    return text


def script_json(value: Any) -> str:
    """JSON for an HTML ``<script>`` element: nothing in it can close the element or end a line."""
    text = json.dumps(value, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
