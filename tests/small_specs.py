"""The small spec the Keras tests share, and its variants: every custom layer (Caffe LRN, ceil max
pooling padded with -inf, average pooling with PyTorch's divisor, adaptive average pooling, the
scaled residual add), batch norm, dropout and dense, on a 33×31 input so odd sizes and asymmetric
padding are exercised; a training-only auxiliary head."""

from __future__ import annotations

SMALL = """\
version: 1
name: small
input: [33, 31, 3]
classes: 5
defaults:
  conv: {padding: same, norm: bn, bias: false, activation: relu}
stages:
  - conv: {name: stem, filters: 8, kernel: 3, strides: 2, padding: 1}
  - maxpool: {name: pool, size: 3, strides: 2, ceil: true}
  - lrn: {name: norm}
  - mixed: {branches: {a: [conv: {filters: 4, kernel: 1}],
                       b: [conv: {filters: 4, kernel: [1, 3]}, conv: {filters: 6, kernel: [3, 1]}],
                       c: [avgpool: {size: 3, strides: 1, padding: 1}, conv: {filters: 2, kernel: 1}]}}
  - res: {branches: {a: [conv: {filters: 4, kernel: 1}]}, merge: {residual: {scale: 0.2}}}
heads:
  main: {layers: [global_avgpool: , dropout: 0.2, dense: {units: $classes, activation: softmax}]}
  aux: {from: mixed, loss_weight: 0.3, training_only: true,
        layers: [adaptive_avgpool: 2, flatten: , dense: {units: $classes, activation: softmax}]}
"""


def _edited(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


_RESIDUAL = "  - res: {branches: {a: [conv: {filters: 4, kernel: 1}]}, merge: {residual: {scale: 0.2}}}\n"

#: SMALL and the merges the importer must recognise: a residual block without projection and with a
#: linear merge, and a split whose second branch is the identity.
SMALL_WITH_MERGES = _edited(
    SMALL,
    _RESIDUAL,
    _RESIDUAL
    + "  - res2: {branches: {a: [conv: {filters: 6, kernel: 1}], b: [conv: {filters: 6, kernel: 3}]},\n"
    + "           merge: {residual: {projection: false, activation: none}}}\n"
    + "  - skip: {branches: {a: [conv: {filters: 4, kernel: 1}], b: [identity: ]}}\n",
)

#: SMALL with a bias on the residual branch's conv (a bias next to batch norm on every backend).
SMALL_WITH_BIAS = _edited(
    SMALL, "conv: {filters: 4, kernel: 1}]}, merge", "conv: {filters: 4, kernel: 1, bias: true}]}, merge"
)
