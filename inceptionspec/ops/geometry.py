"""Sliding-window geometry, once: output sizes, explicit pads, Caffe's ceil, counted cells.

Shape inference (``ops/catalog.py``) and every lowering (``keras/``; later the other
backends and exporters) ask this module; none does the arithmetic itself.

Per axis, a window of extent ``k`` (dilation included) moves by ``s`` over ``n`` cells:

* ``valid``: ``out = (n - k) // s + 1``;
* ``same`` (Keras/TensorFlow): ``out = ceil(n / s)``, padded by ``max((out-1)·s + k - n, 0)``
  split with the smaller half before;
* explicit ``p`` (Caffe/PyTorch): ``out = (n + 2p - k) // s + 1``; with ``ceil`` the division
  rounds up (a window may overhang, even a window wider than the padded input), but the last
  window must start inside the input or its left padding, and the windows that reach past
  ``n + 2p`` read an *extra* pad after.

Average pooling divides by the cells it counts: cells of the input only, or also the explicit
padding (PyTorch's ``count_include_pad``), never the extra pad of ``ceil``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from inceptionspec.ops.base import ShapeError, Window, fmt_pair, fmt_window, pair

Mode = Literal["same", "valid"]


def out_size(n: int, k: int, s: int, padding: Mode | int, ceil: bool = False) -> int | None:
    """The output length along one axis; None when the window does not fit."""
    if padding == "same":
        return -(-n // s)
    pad = 0 if padding == "valid" else padding
    span = n + 2 * pad
    if not ceil:
        return (span - k) // s + 1 if span >= k else None
    out = -(-(span - k) // s) + 1  # as Caffe and PyTorch, the last window may overhang ...
    if (out - 1) * s >= n + pad:  # ... but starts inside the input or its left padding
        out -= 1
    return out if out >= 1 else None


def axis_pads(n: int, k: int, s: int, padding: Mode | int, ceil: bool = False) -> tuple[int, int]:
    """(before, after): the padding after which a ``valid`` window gives :func:`out_size`."""
    out = out_size(n, k, s, padding, ceil)
    if out is None:
        raise ShapeError(f"a {k}-wide window does not fit {n} cells")
    if padding == "same":
        total = max((out - 1) * s + k - n, 0)
        return total // 2, total - total // 2
    pad = 0 if padding == "valid" else padding
    extra = max(0, (out - 1) * s + k - (n + 2 * pad))
    return pad, pad + extra


def counted_cells(n: int, k: int, s: int, pads: tuple[int, int], counted: tuple[int, int]) -> list[int]:
    """Per output position, the cells an average pool divides by: those inside the input plus
    ``counted`` = (before, after) cells of its padding. ``pads`` is what :func:`axis_pads` gives."""
    out = (n + pads[0] + pads[1] - k) // s + 1
    lo, hi = -counted[0], n + counted[1]
    return [min(i * s - pads[0] + k, hi) - max(i * s - pads[0], lo) for i in range(out)]


@dataclass(frozen=True)
class Window2D:
    """A sliding window over H and W, as a conv or a pool holds it."""

    kernel: tuple[int, int]
    strides: tuple[int, int]
    padding: Mode | tuple[int, int]
    dilation: tuple[int, int] = (1, 1)
    ceil: bool = False

    @classmethod
    def of(
        cls, kernel: Window, strides: Window, padding: Mode | Window, dilation: Window = 1, ceil: bool = False
    ) -> Window2D:
        mode = padding if padding in ("same", "valid") else pair(padding)  # type: ignore[arg-type]
        return cls(pair(kernel), pair(strides), mode, pair(dilation), ceil)  # type: ignore[arg-type]

    @property
    def extent(self) -> tuple[int, int]:
        """The kernel's span with dilation: ``d·(k-1) + 1``."""
        (kh, kw), (dh, dw) = self.kernel, self.dilation
        return dh * (kh - 1) + 1, dw * (kw - 1) + 1

    def _axis(self, axis: int) -> Mode | int:
        return self.padding if isinstance(self.padding, str) else self.padding[axis]

    def out(self, h: int, w: int, what: str | Callable[[], str]) -> tuple[int, int]:
        """(out_h, out_w); ``what`` names the op in the error (``3×3/2 maxpool``), or makes that name:
        shape inference runs for every layer of every variant, the error rarely."""
        sizes = [out_size(n, k, s, self._axis(axis), self.ceil) for axis, (n, k, s) in enumerate(self._axes(h, w))]
        oh, ow = sizes
        if oh is None or ow is None:
            what = what if isinstance(what, str) else what()
            mode = self.padding if isinstance(self.padding, str) else "explicit"
            pad = "" if isinstance(self.padding, str) else f" padded {fmt_pair(self.padding)}"
            raise ShapeError(f"{what} ({mode}{pad}) on a {h}×{w} input: the window does not fit")
        return oh, ow

    def pads(self, h: int, w: int) -> tuple[int, int, int, int]:
        """(top, bottom, left, right): explicit pads (``same``'s, or the written ones plus the
        extra of ``ceil``) after which a ``valid`` window gives :meth:`out`."""
        (t, b), (left, r) = (
            axis_pads(n, k, s, self._axis(axis), self.ceil) for axis, (n, k, s) in enumerate(self._axes(h, w))
        )
        return t, b, left, r

    def counted(self, h: int, w: int, count_pad: bool) -> tuple[int, int, int, int]:
        """(top, bottom, left, right) of the padding an average pool counts in its divisor:
        all of ``same``'s, or the written padding (not ``ceil``'s extra), when ``count_pad``."""
        if not count_pad:
            return 0, 0, 0, 0
        if self.padding == "same":
            return self.pads(h, w)
        ph, pw = (0, 0) if self.padding == "valid" else self.padding
        return ph, ph, pw, pw

    def divisors(self, h: int, w: int, count_pad: bool) -> tuple[list[int], list[int]]:
        """Cells counted per output row and per output column (their products are the divisors)."""
        t, b, left, r = self.pads(h, w)
        ct, cb, cl, cr = self.counted(h, w, count_pad)
        (kh, kw), (sh, sw) = self.extent, self.strides
        return counted_cells(h, kh, sh, (t, b), (ct, cb)), counted_cells(w, kw, sw, (left, r), (cl, cr))

    def label(self, kind: str) -> str:
        return f"{fmt_window(self.kernel, self.strides)} {kind}"

    def _axes(self, h: int, w: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        (eh, ew), (sh, sw) = self.extent, self.strides
        return (h, eh, sh), (w, ew, sw)
