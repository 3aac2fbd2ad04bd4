"""The one window geometry (`ops/geometry.py`): output sizes, pads, Caffe's ceil, counted cells.

Shape inference and every lowering ask it; these tests check it against first principles
(windows enumerated one by one) and, where PyTorch is installed, against PyTorch itself.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inceptionspec.ops import AvgPool, Conv, MaxPool, ShapeError
from inceptionspec.ops.geometry import Window2D, axis_pads, counted_cells, out_size

cells = st.integers(1, 40)
kernels = st.integers(1, 7)
strides = st.integers(1, 4)


def valid_windows(n: int, k: int, s: int) -> int:
    """Windows of k that fit in n cells, stepping by s: counted one by one."""
    return sum(1 for start in range(0, n, s) if start + k <= n)


@given(n=cells, k=kernels, s=strides, p=st.integers(0, 3), ceil=st.booleans())
def test_the_pads_reproduce_the_output_size(n, k, s, p, ceil):
    if ceil and 2 * p > k:
        return  # ceil is a pool's, and a pool's padding is at most half its window (as PyTorch's)
    padding = p if p else "valid"
    out = out_size(n, k, s, padding, ceil)
    if out is None:
        assert n + 2 * p < k
        return
    if n + 2 * p < k:
        assert ceil  # only ceil rounding lets a window overhang the padded input (Caffe, PyTorch)
    before, after = axis_pads(n, k, s, padding, ceil)
    assert before == p and after >= p  # the written padding, plus ceil's extra after
    assert valid_windows(n + before + after, k, s) == out


@given(n=cells, k=kernels, s=strides)
def test_same_is_ceil_of_n_over_s_with_the_smaller_half_before(n, k, s):
    out = out_size(n, k, s, "same")
    before, after = axis_pads(n, k, s, "same")
    assert out == -(-n // s) and valid_windows(n + before + after, k, s) == out
    assert after - before in (0, 1)


@given(n=cells, k=kernels, s=strides, p=st.integers(0, 3))
def test_ceil_adds_a_window_only_if_it_starts_inside_the_input_or_its_left_pad(n, k, s, p):
    floor, ceil = out_size(n, k, s, p), out_size(n, k, s, p, ceil=True)
    if floor is None or 2 * p > k:
        return
    assert ceil in (floor, floor + 1)
    if ceil == floor + 1:
        assert floor * s < n + p  # the extra window's start


@given(n=cells, k=kernels, s=strides, p=st.integers(0, 3), count=st.booleans(), ceil=st.booleans())
def test_counted_cells_are_input_cells_plus_counted_padding(n, k, s, p, count, ceil):
    assume_fits = out_size(n, k, s, p, ceil)
    if assume_fits is None or 2 * p > k:
        return
    pads = axis_pads(n, k, s, p, ceil)
    got = counted_cells(n, k, s, pads, (p, p) if count else (0, 0))
    expected = []
    for i in range(assume_fits):
        start = i * s - pads[0]
        window = range(start, start + k)
        lo, hi = (-p, n + p) if count else (0, n)
        expected.append(sum(1 for cell in window if lo <= cell < hi))
    assert got == expected


def test_ops_infer_shapes_with_the_geometry():
    conv = Conv(filters=4, kernel=[3, 5], strides=2, padding=[1, 2], dilation=1)
    assert conv.infer([(17, 17, 3)])[:2] == conv.geometry().out(17, 17, "conv")
    pool = MaxPool(size=3, strides=2, padding=1, ceil=True)
    assert pool.infer([(10, 10, 3)])[:2] == pool.geometry().out(10, 10, "pool") == (6, 6)
    with pytest.raises(ShapeError, match=r"3×3 conv \(valid\) on a 2×2 input"):
        Conv(filters=1, kernel=3).infer([(2, 2, 1)])


def test_an_average_pools_divisors_follow_count_pad():
    pool = AvgPool(size=3, strides=2, padding=1)  # count_pad unset: explicit padding counts (PyTorch)
    rows, cols = pool.geometry().divisors(5, 5, pool.counts_padding)
    assert rows == cols == [3, 3, 3]
    rows, _ = pool.geometry().divisors(5, 5, False)
    assert rows == [2, 3, 2]
    same = AvgPool(size=3, strides=1, padding="same")
    assert same.counts_padding is False and same.geometry().counted(5, 5, False) == (0, 0, 0, 0)


@settings(max_examples=80, deadline=None)
@given(n=st.integers(2, 24), k=st.integers(1, 5), s=st.integers(1, 3), p=st.integers(0, 2), count=st.booleans())
def test_ceil_sizes_and_average_divisors_match_pytorch(n, k, s, p, count):
    torch = pytest.importorskip("torch")
    if 2 * p > k:
        return  # PyTorch refuses padding over half the window, as the pools' check does
    window = Window2D.of(k, s, p, ceil=True)
    out = out_size(n, k, s, p, ceil=True)
    x = torch.ones(1, 1, n, n)
    if out is None:
        with pytest.raises(RuntimeError):
            torch.nn.functional.max_pool2d(x, k, s, p, ceil_mode=True)
        return
    pooled = torch.nn.functional.avg_pool2d(x, k, s, p, ceil_mode=True, count_include_pad=count, divisor_override=None)
    assert tuple(pooled.shape[2:]) == window.out(n, n, "pool")
    rows, cols = window.divisors(n, n, count)
    # Average of ones = cells of the input in the window / divisor: PyTorch's divisor, recovered.
    sums = torch.nn.functional.avg_pool2d(x, k, s, p, ceil_mode=True, divisor_override=1)
    divisors = (sums / pooled)[0, 0]
    assert [[round(float(d)) for d in row] for row in divisors] == [[r * c for c in cols] for r in rows]
