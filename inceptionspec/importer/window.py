"""The padding a backend applies around a sliding window, to recognise it in a Keras model.

The compiler pads an explicit or ceil-rounded conv or pool with a padding layer before a ``valid``
one (``keras/lower.py``); the importer asks which spec padding gives the pads it finds. Both follow
``ops/geometry.py``'s output-size rule (Caffe's and PyTorch's ceil: the last window starts inside the
input or its left padding).
"""

from __future__ import annotations

from typing import Any

from inceptionspec.ops import pair


def explicit_pads(padding: Any, size: tuple[int, int], kernel: Any, strides: Any, ceil: bool) -> tuple[int, ...]:
    """(top, bottom, left, right): explicit padding (``valid``, an int or ``[h, w]``) plus the extra row
    or column that ceil rounding adds."""
    ph, pw = (0, 0) if padding == "valid" else pair(padding)
    (kh, kw), (sh, sw) = pair(kernel), pair(strides)
    pads = []
    for n, k, s, p in ((size[0], kh, sh, ph), (size[1], kw, sw, pw)):
        extra = 0
        if ceil:
            out = -(-(n + 2 * p - k) // s) + 1
            if (out - 1) * s >= n + p:
                out -= 1
            extra = max(0, (out - 1) * s + k - (n + 2 * p))
        pads += [p, p + extra]
    return tuple(pads)


def same_pads(size: tuple[int, int], kernel: Any, strides: Any) -> tuple[int, ...]:
    """(top, bottom, left, right) of Keras' and TensorFlow's ``same`` padding (the odd cell after)."""
    pads = []
    for n, k, s in ((size[0], pair(kernel)[0], pair(strides)[0]), (size[1], pair(kernel)[1], pair(strides)[1])):
        total = max((-(-n // s) - 1) * s + k - n, 0)
        pads += [total // 2, total - total // 2]
    return tuple(pads)
