"""The shipped specs as Keras models: every one builds with the analysed shapes and counts, and
the ones with a reference implementation compute what it computes (the static checks of the same
specs are in tests/test_specs.py, which runs without Keras).

* inception_v3, inception_resnet_v2 — the spec *is* the keras.applications model: its weights
  (with randomised batch-norm statistics) move over and the predictions agree. For
  Inception-ResNet v2 that check is marked heavy; CI checks the counts, the layer-for-layer
  pairing of all weights and the residual scales.
* googlenet_bn — numerically the same network as a Keras transcription of torchvision's
  GoogLeNet forward pass.
* article_googlenet — numerically the same network as the tutorial article's Keras code with the
  fixes the spec makes.

Building every full-size model takes about a minute of CPU on a 2-core machine. The file runs in
about 100 s of CPU without the heavy test (which adds about 20 s).
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from inceptionspec import analyze, load  # noqa: E402
from inceptionspec.keras import build_model, transfer_weights  # noqa: E402
from inceptionspec.lang.library import shipped  # noqa: E402

SHIPPED = sorted(shipped())


# --- every shipped spec: the Keras model ------------------------------------------------


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


# --- GoogLeNet with batch norm (torchvision) --------------------------------------------


def test_googlenet_bn_keras_model_has_torchvisions_trainable_parameters():
    model = build_model("googlenet_bn")
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 13_004_888


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


# --- The CIFAR example ----------------------------------------------------------------------


def test_googlenet_cifar_model_predicts_10_class_distributions():
    model = build_model("examples/googlenet_cifar")
    x = np.random.default_rng(4).uniform(0.0, 1.0, (3, 32, 32, 3)).astype("float32")
    outputs = model(x, training=False)
    for name in ("main", "aux1", "aux2"):
        assert outputs[name].shape == (3, 10)
        np.testing.assert_allclose(np.sum(outputs[name], axis=-1), 1.0, rtol=1e-5)
