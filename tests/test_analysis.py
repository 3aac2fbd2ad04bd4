"""Shape inference, parameters and MACs, hand-computed for every op and padding mode."""

from __future__ import annotations

import pytest

from inceptionspec.ops import (
    LRN,
    AvgPool,
    BatchNorm,
    Concat,
    Conv,
    Dense,
    Flatten,
    GlobalAvgPool,
    MaxPool,
    ResidualAdd,
    ShapeError,
)


@pytest.mark.parametrize(
    ("size", "kernel", "strides", "padding", "expected"),
    [
        (224, 7, 2, 3, 112),  # Caffe conv1: pad 3 around a 7×7
        (224, 7, 2, "same", 112),
        (224, 7, 2, "valid", 109),
        (299, 3, 2, "valid", 149),  # Inception v3 stem
        (17, 3, 2, "same", 9),  # odd size: same pads unevenly and rounds up
        (35, 3, 2, "valid", 17),
        (8, [1, 3], 1, "same", 8),
    ],
)
def test_conv_output_size(size, kernel, strides, padding, expected):
    conv = Conv(filters=8, kernel=kernel, strides=strides, padding=padding)
    assert conv.infer([(size, size, 3)])[:2] == (expected, expected)


def test_asymmetric_kernel_and_strides():
    conv = Conv(filters=4, kernel=[1, 7], strides=[1, 2], padding="valid")
    assert conv.infer([(17, 17, 8)]) == (17, 6, 4)


def test_dilation_widens_the_window():
    conv = Conv(filters=4, kernel=3, dilation=2, padding="valid")
    assert conv.infer([(10, 10, 1)]) == (6, 6, 4)


def test_conv_params_and_macs_follow_the_closed_formula():
    conv = Conv(filters=64, kernel=7, strides=2, padding=3)
    out = conv.infer([(224, 224, 3)])
    assert conv.params([(224, 224, 3)], out) == (7 * 7 * 3 * 64 + 64, 0)
    assert conv.macs([(224, 224, 3)], out) == 112 * 112 * 64 * 7 * 7 * 3


def test_batch_norm_counts_moving_statistics_as_non_trainable():
    assert BatchNorm(scale=False).params([(8, 8, 32)], (8, 8, 32)) == (32, 64)
    assert BatchNorm().params([(8, 8, 32)], (8, 8, 32)) == (64, 64)


@pytest.mark.parametrize(
    ("size", "ceil", "expected"),
    [
        (112, True, 56),  # Caffe: ceil((112-3)/2)+1 = 56
        (112, False, 55),
        (14, True, 7),
        (14, False, 6),
    ],
)
def test_ceil_pooling_adds_a_row(size, ceil, expected):
    pool = MaxPool(size=3, strides=2, padding="valid", ceil=ceil)
    assert pool.infer([(size, size, 8)])[:2] == (expected, expected)


def test_ceil_pooling_drops_a_window_that_starts_in_the_padding():
    # PyTorch rule: the last window must start inside the input or the left padding.
    pool = MaxPool(size=2, strides=2, padding=1, ceil=True)
    assert pool.infer([(5, 5, 1)])[:2] == (3, 3)


def test_pool_strides_default_to_the_window():
    assert AvgPool(size=7).infer([(7, 7, 1024)]) == (1, 1, 1024)


def test_window_larger_than_input_names_the_sizes():
    with pytest.raises(ShapeError, match=r"3×3 conv \(valid\) on a 2×2 input"):
        Conv(filters=8, kernel=3, padding="valid").infer([(2, 2, 8)])


def test_concat_sums_channels_and_lists_disagreeing_branches():
    assert Concat().infer([(28, 28, 64), (28, 28, 128), (28, 28, 32)]) == (28, 28, 224)
    with pytest.raises(ShapeError, match="28×28×64, 27×27×32"):
        Concat().infer([(28, 28, 64), (27, 27, 32)])


def test_residual_add_needs_equal_shapes():
    assert ResidualAdd(scale=0.17).infer([(35, 35, 320), (35, 35, 320)]) == (35, 35, 320)
    with pytest.raises(ShapeError, match="differ"):
        ResidualAdd().infer([(35, 35, 320), (35, 35, 256)])


def test_dense_on_a_feature_map_is_the_articles_bug():
    with pytest.raises(ShapeError, match="add `flatten` or `global_avgpool`"):
        Dense(units=1000).infer([(1, 1, 1024)])
    assert Dense(units=1000).infer(list(Flatten().infer([(1, 1, 1024)]) for _ in [0])) == (1000,)


def test_global_pool_and_lrn():
    assert GlobalAvgPool().infer([(8, 8, 2048)]) == (2048,)
    assert GlobalAvgPool(keepdims=True).infer([(8, 8, 2048)]) == (1, 1, 2048)
    assert LRN().infer([(56, 56, 64)]) == (56, 56, 64)


def test_googlenet_reproduces_table_1(googlenet_analysis=None):
    from inceptionspec import analyze

    analysis = analyze("googlenet", include_aux=False)
    depths = {b.name: b.output_shape[-1] for b in analysis.blocks}
    expected = dict(
        zip(
            [
                "inception_3a",
                "inception_3b",
                "inception_4a",
                "inception_4b",
                "inception_4c",
                "inception_4d",
                "inception_4e",
                "inception_5a",
                "inception_5b",
            ],
            [256, 480, 512, 512, 512, 528, 832, 832, 1024],
        )
    )
    assert {k: depths[k] for k in expected} == expected
    table_1_ops = {
        "inception_3a": 128e6,
        "inception_3b": 304e6,
        "inception_4a": 73e6,
        "inception_4b": 88e6,
        "inception_4c": 100e6,
        "inception_4d": 119e6,
        "inception_4e": 170e6,
        "inception_5a": 54e6,
        "inception_5b": 71e6,
    }
    for name, ops in table_1_ops.items():
        assert analysis.block(name).macs == pytest.approx(ops, rel=0.07), name
    assert analysis.total_params == 6_998_552
    assert analysis.macs == pytest.approx(1.5e9, rel=0.1)
    assert analyze("googlenet").total_params == 13_378_280


def test_input_too_small_fails_at_the_collapsing_layer():
    from inceptionspec import SpecError, analyze, load

    with pytest.raises(SpecError) as err:
        analyze(load("googlenet", overrides={"input": [16, 16, 3]}))
    message = err.value.errors[0].format()
    assert "specs/googlenet.yaml:" in message
    assert "on a 1×1 input" in message or "on a 2×2 input" in message
