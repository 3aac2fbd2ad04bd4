"""Sliding-window geometry: output sizes and padding, shared by shape inference and lowerings."""

from __future__ import annotations

from typing import Any

from inceptionspec.ops.base import Op, Shape, ShapeError, fmt_pair, fmt_window, pair


def _window_out(size: int, k: int, s: int, padding: Any, axis: int, ceil: bool, what: str) -> int:
    """Output length along one axis for a sliding window."""
    if padding == "same":
        return -(-size // s)
    pad = 0 if padding == "valid" else pair(padding)[axis]
    span = size + 2 * pad
    if span < k:
        kind = "valid" if padding == "valid" else f"padding {pad}"
        raise ShapeError(f"{what} ({kind}) on a {size}-pixel {'HW'[axis]} axis: the window does not fit")
    if not ceil:
        return (span - k) // s + 1
    out = -(-(span - k) // s) + 1
    # As Caffe and PyTorch: the last window must start inside the input or left padding.
    if (out - 1) * s >= size + pad:
        out -= 1
    return out


def _spatial_out(
    op: Op, shape: Shape, kernel: Any, strides: Any, padding: Any, ceil: bool, dilation: Any = 1
) -> tuple[int, int]:
    kh, kw = pair(kernel)
    sh, sw = pair(strides)
    dh, dw = pair(dilation)
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    what = f"{fmt_window(kernel, strides)} {op.kind}"
    h, w = shape[0], shape[1]
    try:
        oh = _window_out(h, eh, sh, padding, 0, ceil, what)
        ow = _window_out(w, ew, sw, padding, 1, ceil, what)
    except ShapeError:
        pad = "" if padding in ("same", "valid") else f" padded {fmt_pair(padding)}"
        mode = padding if padding in ("same", "valid") else "explicit"
        raise ShapeError(f"{what} ({mode}{pad}) on a {h}×{w} input: the window does not fit") from None
    return oh, ow
