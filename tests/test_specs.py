"""The shipped specs against their references.

What each test proves, and against what:

* inception_v3, inception_resnet_v2 — the spec *is* the keras.applications model: its weights
  (with randomised batch-norm statistics) move over and the predictions agree. For
  Inception-ResNet v2 that check is marked heavy; CI checks the counts, the layer-for-layer
  pairing of all weights and the residual scales.
* inception_v4 — tf-slim's and timm's parameter counts and the output shape of every stage.
* googlenet — the per-module multiply-adds of the paper's Table 1 and its output shapes
  (the depths, the 7 % check, the parameter counts 6,998,552 / 13,378,280 and the ~1.5 G total are
  in tests/test_analysis.py::test_googlenet_reproduces_table_1 and are not repeated here).
* googlenet_bn — torchvision's parameter counts, and numerically the same network as a Keras
  transcription of torchvision's GoogLeNet forward pass.
* article_googlenet — numerically the same network as the tutorial article's Keras code with the
  fixes the spec makes.
* every shipped spec — validates, analyses, compiles to Keras with the analysed shapes and counts,
  and starts with the schema modeline and a header comment naming its references; every
  top-level one has a page in docs/specs/ showing its current block table.

Building every full-size model takes about a minute of CPU on a 2-core machine. The file runs in
about 100 s of CPU without the heavy test (which adds about 20 s).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from inceptionspec import analyze, load
from inceptionspec.lang.library import shipped

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "inceptionspec.schema.json"
SHIPPED = sorted(shipped())


def _source_file(name: str) -> Path:
    path = ROOT / "specs" / f"{name}.yaml"
    if not path.is_file():
        pytest.skip(f"{name}: not in this checkout's specs/ (an installed copy)")
    return path


# --- every shipped spec: the file ---------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_spec_file_starts_with_the_schema_modeline_and_a_header_with_references(name):
    lines = _source_file(name).read_text(encoding="utf-8").splitlines()
    modeline = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", lines[0])
    assert modeline, f"{name}: the first line is not the schema modeline: {lines[0]!r}"
    assert (_source_file(name).parent / modeline.group(1)).resolve() == SCHEMA.resolve()
    assert SCHEMA.is_file()

    header = []
    for line in lines[1:]:
        if not line.startswith("#"):
            break
        header.append(line.lstrip("# "))
    text = " ".join(header)
    assert len(text) > 40, f"{name}: no header comment under the modeline"
    assert re.search(r"arXiv:\d{4}\.\d{4,5}|https?://", text), f"{name}: the header names no reference"
    first_key = next(line for line in lines[len(header) + 1 :] if line.strip() and not line.startswith("#"))
    assert first_key == "version: 1"


@pytest.mark.parametrize("name", SHIPPED)
def test_spec_validates_and_analyses_with_references(name):
    spec = load(name)
    assert spec.references and (spec.references.paper or spec.references.implementation)
    for include_aux in (True, False):
        analysis = analyze(spec, include_aux=include_aux)
        assert analysis.total_params == analysis.trainable_params + analysis.non_trainable_params > 0
        assert analysis.macs > 0
        assert analysis.outputs[0]["name"] == "main"
        assert analysis.outputs[0]["shape"] == [spec.classes]


@pytest.mark.parametrize("name", [n for n in SHIPPED if not n.startswith("examples/")])
def test_spec_has_a_doc_page_with_its_current_block_table(name):
    from inceptionspec.analysis.report import markdown

    page = ROOT / "docs" / "specs" / f"{name}.md"
    assert page.is_file(), f"{name}: no docs/specs/{name}.md"
    table = markdown(analyze(name, include_aux=False))
    assert table in page.read_text(encoding="utf-8"), (
        f"docs/specs/{name}.md: the block table is out of date; paste the output of "
        f"`python -m inceptionspec.cli summary {name} --format markdown --no-aux`"
    )


# --- every shipped spec: the Keras model ------------------------------------------------

keras = pytest.importorskip("keras")

from inceptionspec.keras import build_model, transfer_weights  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    yield
    keras.utils.clear_session(free_memory=True)


@pytest.mark.parametrize("name", SHIPPED)
def test_spec_builds_and_keras_agrees_with_the_static_analysis(name):
    # build_model raises BuildError if any layer's Keras shape or the parameter count differs
    # from the static analysis; the comparisons below restate that at the model's surface.
    spec = load(name)
    modes = [True, False] if any(h.training_only for h in spec.heads.values()) else [True]
    for include_aux in modes:
        analysis = analyze(spec, include_aux=include_aux)
        model = build_model(spec, include_aux=include_aux)
        assert model.count_params() == analysis.total_params
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        assert trainable == analysis.trainable_params
        assert list(model.output) == [o["name"] for o in analysis.outputs]
        for out in analysis.outputs:
            assert list(model.output[out["name"]].shape[1:]) == out["shape"]


# --- helpers for the numerical comparisons ----------------------------------------------


def _randomise_batch_norm(model, rng: np.random.Generator) -> int:
    """Random moving statistics (and gamma/beta where learnt), so BN is not the identity."""
    count = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            shape = layer.moving_mean.shape
            layer.moving_mean.assign(rng.normal(0.0, 0.5, shape).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, shape).astype("float32"))
            if layer.scale:
                layer.gamma.assign(rng.uniform(0.5, 1.5, shape).astype("float32"))
            if layer.center:
                layer.beta.assign(rng.normal(0.0, 0.2, shape).astype("float32"))
            count += 1
    return count


def _assert_transfer_reproduces(src, dst, x):
    """dst differs from src before the transfer and predicts what src predicts after it."""
    # Inference-mode calls: what predict() runs batch by batch, without tracing a tf.function
    # (tracing both models would add about 13 s for Inception-ResNet v2).
    expected = np.asarray(src(x, training=False))
    before = np.asarray(dst(x, training=False)["main"])
    assert not np.allclose(before, expected, rtol=1e-3, atol=1e-5), "the check would be trivial"
    report = transfer_weights(src, dst)
    assert report.values == src.count_params()
    got = np.asarray(dst(x, training=False)["main"])
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)  # the required agreement
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-7)  # and relative to each probability


# --- the Keras applications: weights move and predictions agree -----------------------


@pytest.mark.parametrize(
    ("name", "application", "params"),
    [
        ("inception_v3", "InceptionV3", 23_851_784),
        # 20 s of CPU; 32-53 s of wall time measured on a loaded 2-core machine, hence heavy.
        # test_inception_resnet_v2_weights_pair_with_keras_layer_for_layer covers it in CI.
        pytest.param("inception_resnet_v2", "InceptionResNetV2", 55_873_736, marks=pytest.mark.heavy),
    ],
)
def test_keras_application_weights_give_the_same_predictions(name, application, params):
    rng = np.random.default_rng(1)
    src = getattr(keras.applications, application)(weights=None)
    assert src.count_params() == params
    assert analyze(name, include_aux=False).total_params == params
    assert _randomise_batch_norm(src, rng) > 90
    dst = build_model(name, include_aux=False)
    assert dst.count_params() == params
    x = rng.uniform(-1.0, 1.0, (2, 299, 299, 3)).astype("float32")  # Inception preprocessing range
    _assert_transfer_reproduces(src, dst, x)


def test_inception_resnet_v2_weights_pair_with_keras_layer_for_layer():
    # The part of the prediction test above that fits in CI: equal counts, and transfer_weights
    # pairs all 449 weighted layers in structural order with equal weight shapes (it refuses,
    # naming the layer, on the first difference) and moves every value.
    src = keras.applications.InceptionResNetV2(weights=None)
    dst = build_model("inception_resnet_v2", include_aux=False)
    assert src.count_params() == dst.count_params() == analyze("inception_resnet_v2").total_params == 55_873_736
    report = transfer_weights(src, dst)
    assert len(report.pairs) == 449 and not report.skipped
    assert report.values == 55_873_736
    # The residual scales, block by block, equal Keras' CustomScaleLayer's (the weights do not
    # carry them): 10 × 0.17, 20 × 0.1, 9 × 0.2, then 1.0.
    keras_scales = [layer.scale for layer in src.layers if type(layer).__name__ == "CustomScaleLayer"]
    our_scales = [layer.scale for layer in dst.layers if type(layer).__name__ == "ScaledResidualAdd"]
    assert our_scales == pytest.approx(keras_scales) and len(our_scales) == 40


# --- Inception v4 -----------------------------------------------------------------------


def test_inception_v4_parameters_equal_tf_slim_and_timm():
    analysis = analyze("inception_v4")
    assert analysis.total_params == 42_711_400  # batch norm without gamma, as Keras counts
    assert analysis.trainable_params == 42_648_232  # OpenVINO's googlenet-v4-tf: 42.648 MParams
    # timm's BatchNorm2d also learns gamma: its 42,679,816 is the trainable count with scale on.
    assert analyze("inception_v4", overrides={"defaults.conv.bn.scale": True}).trainable_params == 42_679_816
    assert analysis.macs == pytest.approx(12.28e9, rel=0.01)  # timm: 12.28 GMACs


def test_inception_v4_stage_shapes_follow_the_reference_table():
    expected = {
        "conv2d_1a_3x3": (149, 149, 32),
        "conv2d_2a_3x3": (147, 147, 32),
        "conv2d_2b_3x3": (147, 147, 64),
        "mixed_3a": (73, 73, 160),
        "mixed_4a": (71, 71, 192),
        "mixed_5a": (35, 35, 384),
        **{f"inception_a_{i}": (35, 35, 384) for i in range(1, 5)},
        "reduction_a": (17, 17, 1024),
        **{f"inception_b_{i}": (17, 17, 1024) for i in range(1, 8)},
        "reduction_b": (8, 8, 1536),
        **{f"inception_c_{i}": (8, 8, 1536) for i in range(1, 4)},
        "main": (1000,),
    }
    analysis = analyze("inception_v4")
    assert {b.name: tuple(b.output_shape) for b in analysis.blocks} == expected


# --- GoogLeNet (the paper) ------------------------------------------------------------------

#: Table 1 of arXiv:1409.4842: output size of every row and the "ops" (multiply-adds) of each
#: module. conv1's 34M and the params column are not consistent with the layer sizes (conv1 alone
#: has 7·7·3·64 = 9,408 weights where the table prints 2.7K), so they are not checked.
TABLE_1 = {
    "conv1": ((112, 112, 64), None),
    "pool1": ((56, 56, 64), None),
    "conv2": ((56, 56, 192), None),
    "pool2": ((28, 28, 192), None),
    "inception_3a": ((28, 28, 256), 128e6),
    "inception_3b": ((28, 28, 480), 304e6),
    "pool3": ((14, 14, 480), None),
    "inception_4a": ((14, 14, 512), 73e6),
    "inception_4b": ((14, 14, 512), 88e6),
    "inception_4c": ((14, 14, 512), 100e6),
    "inception_4d": ((14, 14, 528), 119e6),
    "inception_4e": ((14, 14, 832), 170e6),
    "pool4": ((7, 7, 832), None),
    "inception_5a": ((7, 7, 832), 54e6),
    "inception_5b": ((7, 7, 1024), 71e6),
}


def test_googlenet_output_sizes_are_table_1s():
    analysis = analyze("googlenet", include_aux=False)
    for name, (shape, _) in TABLE_1.items():
        assert tuple(analysis.block(name).output_shape) == shape, name
    layers = {s.name: s for s in analysis.layers}
    assert tuple(layers["main.pool5"].output_shape) == (1, 1, 1024)  # avg pool 7×7/1
    assert tuple(layers["main.classifier"].output_shape) == (1000,)


def test_googlenet_module_multiply_adds_match_table_1():
    # tests/test_analysis.py checks every module within 7 %; every module but 5a is within 1 %.
    analysis = analyze("googlenet", include_aux=False)
    for name, (_, ops) in TABLE_1.items():
        if ops is not None and name != "inception_5a":
            assert analysis.block(name).macs == pytest.approx(ops, rel=0.01), name
    # Table 1's conv2 row (360M) is the 1×1 reduce and the 3×3 conv together.
    conv2 = analysis.block("conv2_reduce").macs + analysis.block("conv2").macs
    assert conv2 == pytest.approx(360e6, rel=0.01)

    # 5a: the table prints 54M, but its own filter counts (256, 160→320, 32→128, pool→128 on
    # 7×7×832, the same counts in BVLC Caffe, tf-slim and torchvision) give 51.08M, 5.4 % less.
    # Every other module agrees within 1 %, so we take 54M to be a slip in the table's
    # arithmetic (for instance, 5b's 5×5 reduce of 48 in place of 32 would give 54.24M).
    n = 7 * 7
    expected_5a = n * (832 * 256 + 832 * 160 + 9 * 160 * 320 + 832 * 32 + 25 * 32 * 128 + 832 * 128)
    assert expected_5a == 51_079_168
    assert analysis.block("inception_5a").macs == expected_5a
    assert analysis.block("inception_5a").macs == pytest.approx(54e6, rel=0.06)


# --- GoogLeNet with batch norm (torchvision) --------------------------------------------


def test_googlenet_bn_trainable_parameters_equal_torchvisions():
    # torchvision counts gamma and beta; Keras adds the moving mean and variance as
    # non-trainable parameters, so compare the trainable count.
    bare, full = analyze("googlenet_bn", include_aux=False), analyze("googlenet_bn")
    assert bare.trainable_params == 6_624_904  # GoogLeNet_Weights.IMAGENET1K_V1 num_params
    assert full.trainable_params == 13_004_888  # googlenet(aux_logits=True)
    assert bare.non_trainable_params == 2 * 7_280  # two statistics per batch-norm channel
    assert bare.macs == pytest.approx(1.498e9, rel=0.001)  # torchvision's "_ops": 1.498
    model = build_model("googlenet_bn")
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 13_004_888


def test_googlenet_bn_has_torchvisions_layout():
    spec = load("googlenet_bn")
    analysis = analyze(spec)
    layers = {layer.name: layer for layer in analysis.graph.layers}
    assert not [name for name, layer in layers.items() if layer.kind == "lrn"]
    modules = [b.name for b in analysis.blocks if b.kind == "inception"]
    assert len(modules) == 9
    for block in modules:  # pytorch/vision#906: the "5×5" branch convolves with 3×3
        assert layers[f"{block}.5x5.conv"].op.kernel == 3
    bn = [layer.op for layer in layers.values() if layer.kind == "bn"]
    assert {(op.epsilon, op.momentum, op.scale, op.center) for op in bn} == {(0.001, 0.9, True, True)}
    assert not [layer for layer in layers.values() if layer.kind == "conv" and layer.op.bias]
    assert layers["pool4"].op.size == 2 and tuple(layers["pool4"].shape) == (7, 7, 832)
    assert [layers[n].kind for n in ("main.pool5", "main.dropout", "main.classifier")] == [
        "global_avgpool",
        "dropout",
        "dense",
    ]
    assert layers["main.dropout"].op.rate == 0.2
    assert layers["aux1.head.adaptive_avgpool"].op.size == 4
    assert layers["aux1.head.dropout"].op.rate == 0.7
    for head in ("aux1", "aux2"):
        assert spec.heads[head].training_only and spec.heads[head].loss_weight == 0.3


def _torchvision_googlenet_in_keras():
    """torchvision's GoogLeNet forward pass (eval mode, no aux heads) written in plain Keras.

    BasicConv2d is ZeroPadding2D(padding) → Conv2D(valid, no bias) → BN(eps 0.001) → ReLU, as
    torchvision pads. Its ceil-mode max pools are Keras 'same' pools here: at these sizes (112,
    56, 28 with 3×3/2; 14 with 2×2/2; 3×3/1 padded 1) both give the same windows."""
    layers = keras.layers

    def conv(x, filters, kernel, strides=1, padding=0):
        if padding:
            x = layers.ZeroPadding2D(padding)(x)
        x = layers.Conv2D(filters, kernel, strides=strides, use_bias=False)(x)
        x = layers.BatchNormalization(epsilon=1e-3, momentum=0.9)(x)
        return layers.ReLU()(x)

    def inception(x, n1x1, n3x3red, n3x3, n5x5red, n5x5, pool_proj):
        branch1 = conv(x, n1x1, 1)
        branch2 = conv(conv(x, n3x3red, 1), n3x3, 3, padding=1)
        branch3 = conv(conv(x, n5x5red, 1), n5x5, 3, padding=1)  # kernel 3: pytorch/vision#906
        branch4 = conv(layers.MaxPooling2D(3, strides=1, padding="same")(x), pool_proj, 1)
        return layers.Concatenate(axis=-1)([branch1, branch2, branch3, branch4])

    def pool(x, size=3):
        return layers.MaxPooling2D(size, strides=2, padding="same")(x)

    inputs = keras.Input((224, 224, 3))
    x = pool(conv(inputs, 64, 7, strides=2, padding=3))
    x = pool(conv(conv(x, 64, 1), 192, 3, padding=1))
    x = inception(x, 64, 96, 128, 16, 32, 32)
    x = pool(inception(x, 128, 128, 192, 32, 96, 64))
    for row in (
        (192, 96, 208, 16, 48, 64),
        (160, 112, 224, 24, 64, 64),
        (128, 128, 256, 24, 64, 64),
        (112, 144, 288, 32, 64, 64),
    ):
        x = inception(x, *row)
    x = pool(inception(x, 256, 160, 320, 32, 128, 128), size=2)
    x = inception(x, 256, 160, 320, 32, 128, 128)
    x = inception(x, 384, 192, 384, 48, 128, 128)
    x = layers.GlobalAveragePooling2D()(x)  # AdaptiveAvgPool2d((1, 1)) + flatten
    x = layers.Dropout(0.2)(x)
    return keras.Model(inputs, layers.Dense(1000, activation="softmax")(x))


def test_googlenet_bn_computes_what_torchvisions_googlenet_computes():
    rng = np.random.default_rng(2)
    src = _torchvision_googlenet_in_keras()
    assert sum(int(np.prod(w.shape)) for w in src.trainable_weights) == 6_624_904
    _randomise_batch_norm(src, rng)
    dst = build_model("googlenet_bn", include_aux=False)
    x = rng.uniform(-2.0, 2.0, (2, 224, 224, 3)).astype("float32")
    _assert_transfer_reproduces(src, dst, x)


# --- The tutorial article's model ---------------------------------------------------------


def _article_model_in_keras():
    """The article's Keras code in Keras 3, with the fixes the spec makes (marked)."""
    layers = keras.layers

    def conv2d_bn(x, nb_filter, kernel_size, strides=1):
        x = layers.Conv2D(nb_filter, kernel_size, padding="same", strides=strides, activation="relu")(x)
        return layers.BatchNormalization(axis=3)(x)

    def inception(x, nb_filter):
        branch1x1 = conv2d_bn(x, nb_filter, 1)
        branch3x3 = conv2d_bn(conv2d_bn(x, nb_filter, 1), nb_filter, 3)
        branch5x5 = conv2d_bn(conv2d_bn(x, nb_filter, 1), nb_filter, 5)  # fixed: the article has (1, 1)
        branchpool = layers.MaxPooling2D(3, strides=1, padding="same")(x)
        branchpool = conv2d_bn(branchpool, nb_filter, 1)
        return layers.concatenate([branch1x1, branch3x3, branch5x5, branchpool], axis=3)

    def pool(x):
        return layers.MaxPooling2D(3, strides=2, padding="same")(x)

    inputs = keras.Input((224, 224, 3))
    x = pool(conv2d_bn(inputs, 64, 7, strides=2))
    x = pool(conv2d_bn(x, 192, 3))
    x = pool(inception(inception(x, 64), 120))
    for nb_filter in (128, 128, 128, 132, 208):
        x = inception(x, nb_filter)
    x = pool(x)
    x = inception(inception(x, 208), 256)
    x = layers.AveragePooling2D(7, strides=7, padding="same")(x)
    x = layers.Flatten()(x)  # fixed: missing in the article
    x = layers.Dropout(0.4)(x)
    # fixed: the article's Dense(1000, activation='relu') hidden layer is left out
    return keras.Model(inputs, layers.Dense(1000, activation="softmax")(x))


def test_article_googlenet_computes_what_the_articles_code_computes():
    rng = np.random.default_rng(3)
    src = _article_model_in_keras()
    assert src.count_params() == analyze("article_googlenet").total_params == 12_445_968
    _randomise_batch_norm(src, rng)
    dst = build_model("article_googlenet")
    assert list(dst.output) == ["main"]  # no auxiliary heads: the article's code has none
    x = rng.uniform(-1.0, 1.0, (2, 224, 224, 3)).astype("float32")
    _assert_transfer_reproduces(src, dst, x)


def test_article_googlenet_modules_are_four_branches_of_nb_filter():
    analysis = analyze("article_googlenet")
    depths = [b.output_shape[-1] for b in analysis.blocks if b.kind == "inception"]
    assert depths == [4 * n for n in (64, 120, 128, 128, 128, 132, 208, 208, 256)]
    labels = {s.name: s.label for s in analysis.layers}
    assert labels["inception_3a.5x5.conv"] == "5×5 conv 64"  # notes defect 2, fixed
    order = [s.name for s in analysis.layers if s.name.startswith("conv1")]
    assert order == ["conv1", "conv1.relu", "conv1.bn"]  # conv → ReLU → BN, as the article


# --- The CIFAR example ----------------------------------------------------------------------


def test_googlenet_cifar_runs_on_32x32_images():
    analysis = analyze("examples/googlenet_cifar")
    shapes = {b.name: tuple(b.output_shape) for b in analysis.blocks}
    assert shapes["conv2"] == (32, 32, 96)  # half of 192, no downsampling in the stem
    assert shapes["inception_3b"] == (32, 32, 240)
    assert shapes["inception_4e"] == (16, 16, 416)
    assert shapes["inception_5b"] == (8, 8, 512)
    assert [o["shape"] for o in analysis.outputs] == [[10], [10], [10]]
    model = build_model("examples/googlenet_cifar")
    x = np.random.default_rng(4).uniform(0.0, 1.0, (3, 32, 32, 3)).astype("float32")
    outputs = model(x, training=False)
    for name in ("main", "aux1", "aux2"):
        assert outputs[name].shape == (3, 10)
        np.testing.assert_allclose(np.sum(outputs[name], axis=-1), 1.0, rtol=1e-5)
