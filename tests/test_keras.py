"""The Keras compiler: the model is exactly what the spec and the static analysis say."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

keras = pytest.importorskip("keras")

from small_specs import SMALL  # noqa: E402

import inceptionspec  # noqa: E402
from inceptionspec import analyze, load  # noqa: E402
from inceptionspec.core.names import backend_name  # noqa: E402
from inceptionspec.keras import TransferError, build_model, compile_for_training, transfer_weights  # noqa: E402
from inceptionspec.keras.layers import AdaptiveAveragePooling2D, LocalResponseNorm  # noqa: E402
from inceptionspec.keras.lower import LOWERINGS  # noqa: E402
from inceptionspec.ops import OPS, Conv, ShapeError  # noqa: E402


@pytest.fixture
def small_spec(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    return path


def test_every_op_has_a_keras_lowering():
    assert set(OPS.values()) == set(LOWERINGS)


def test_outputs_are_the_heads_and_parameters_equal_the_analysis(small_spec):
    model = build_model(load(small_spec))
    assert list(model.output) == ["main", "aux"]
    assert model.count_params() == analyze(load(small_spec)).total_params
    inference = build_model(load(small_spec), include_aux=False)
    assert list(inference.output) == ["main"]
    assert inference.count_params() == analyze(load(small_spec), include_aux=False).total_params


def test_layer_names_are_the_backend_names_of_spec_paths(small_spec):
    names = {layer.name for layer in build_model(load(small_spec)).layers}
    expected = {"stem", "stem__bn", "stem__relu", "mixed__b__conv_2", "mixed__concat", "res__add", "main__dense"}
    assert expected <= names
    # Explicit padding is a Keras layer of its own, named as a part of the layer it serves.
    assert {"stem__pad", "pool__pad"} <= names
    assert not [name for name in names if "." in name]


def test_every_layers_weights_are_the_shapes_the_ir_says(small_spec):
    spec = load(small_spec)
    graph = inceptionspec.analyze(spec).graph
    model = build_model(spec)
    with_weights = 0
    for layer in graph.layers:
        expected = layer.op.weight_shapes(list(layer.input_shapes), layer.shape)
        got = {w.name: tuple(w.shape) for w in model.get_layer(layer.backend_name).weights}
        assert list(got.items()) == list(expected.items()), layer.name
        with_weights += bool(expected)
    # Six convs and their batch norms, the residual projection and two dense layers.
    assert with_weights == sum(1 for layer in model.layers if layer.weights) == 6 * 2 + 1 + 2


def test_googlenet_builds_with_three_outputs_and_the_analysed_count():
    model = build_model("googlenet")
    assert list(model.output) == ["main", "aux1", "aux2"]
    assert model.count_params() == 13_378_280
    assert build_model("googlenet", include_aux=False).count_params() == 6_998_552


# --- static analysis against Keras, on generated specs -------------------------------

kernels = st.sampled_from([1, 2, 3, 5, [1, 3], [3, 1], [2, 3]])
strides = st.sampled_from([1, 2, [1, 2], [2, 1]])
paddings = st.sampled_from(["same", "valid", 0, 1, [1, 0]])


@st.composite
def conv_op(draw):
    op = {
        "filters": draw(st.integers(1, 6)),
        "kernel": draw(kernels),
        "strides": draw(strides),
        "padding": draw(paddings),
    }
    if draw(st.booleans()):
        op.update(norm="bn", bias=False, activation=draw(st.sampled_from(["relu", "none"])))
    if draw(st.booleans()):
        op["order"] = "act_norm"
    return {"conv": op}


@st.composite
def pool_op(draw):
    kind = draw(st.sampled_from(["maxpool", "avgpool"]))
    padding = draw(st.sampled_from(["same", "valid", 1]))
    op = {"size": draw(st.sampled_from([2, 3])), "strides": draw(strides), "padding": padding}
    if padding != "same":
        op["ceil"] = draw(st.booleans())
    if kind == "avgpool":
        op["count_pad"] = draw(st.sampled_from([True, False]))
    return {kind: op}


@st.composite
def block(draw):
    branches = {}
    for i in range(draw(st.integers(1, 3))):
        items = draw(st.lists(conv_op(), min_size=1, max_size=2))
        if draw(st.booleans()):
            items.append(
                {
                    "split": {
                        "branches": {
                            "x": [{"conv": {"filters": 2, "kernel": [1, 3], "padding": "same"}}],
                            "y": [{"conv": {"filters": 3, "kernel": [3, 1], "padding": "same"}}],
                        }
                    }
                }
            )
        branches[f"b{i}"] = items
    return branches


@st.composite
def random_spec(draw):
    stages = draw(st.lists(st.one_of(conv_op(), pool_op()), min_size=1, max_size=3))
    merge = draw(st.sampled_from(["concat", "residual"]))
    branches = draw(block())
    if merge == "residual":
        for items in branches.values():  # keep H×W so the add can work
            for item in items:
                if "conv" in item:
                    item["conv"].update(strides=1, padding="same")
        stages.append({"res": {"branches": branches, "merge": {"residual": {"scale": 0.1}}, "repeat": 2}})
    else:
        stages.append({"mixed": {"branches": branches}})
    return {
        "version": 1,
        "name": "gen",
        "input": [draw(st.integers(5, 23)), draw(st.integers(5, 23)), draw(st.integers(1, 4))],
        "classes": 3,
        "width": {"multiplier": draw(st.sampled_from([1.0, 0.5, 1.5]))},
        "stages": stages,
        "heads": {"main": {"layers": [{"flatten": None}, {"dense": {"units": "$classes"}}]}},
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=random_spec())
def test_static_shapes_and_parameters_equal_keras(tmp_path, doc):
    path = tmp_path / "gen.yaml"
    path.write_text(json.dumps(doc))
    try:
        spec = load(path)
        analysis = analyze(spec)
    except inceptionspec.SpecError:
        return  # rejected statically; the op-level test below checks those verdicts against Keras
    model = build_model(spec)  # raises BuildError if any layer's shape differs from the analysis
    assert model.count_params() == analysis.total_params
    for stats in analysis.layers:
        assert tuple(model.get_layer(backend_name(stats.name)).output.shape[1:]) == stats.output_shape


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 9),
    kernel=st.integers(1, 5),
    stride=st.integers(1, 3),
    padding=st.sampled_from(["valid", "same"]),
)
def test_the_analyser_rejects_exactly_the_convs_keras_cannot_build(size, kernel, stride, padding):
    conv = Conv(filters=2, kernel=kernel, strides=stride, padding=padding)
    try:
        expected = conv.infer([(size, size, 1)])
    except ShapeError:
        expected = None
    try:
        out = keras.layers.Conv2D(2, kernel, strides=stride, padding=padding)(keras.Input((size, size, 1)))
        got = tuple(out.shape[1:])
        got = None if min(got) < 1 else got
    except ValueError:
        got = None
    assert got == expected


# --- custom layers against reference formulas -----------------------------------------


def test_ceil_max_pool_pads_with_minus_infinity_like_caffe(tmp_path):
    x = -np.arange(1, 65, dtype="float32").reshape(1, 8, 8, 1)  # all negative: zero padding would be wrong
    path = tmp_path / "p.yaml"
    path.write_text(
        "version: 1\nname: p\ninput: [8, 8, 1]\nstages:\n  - maxpool: {name: pool, size: 3, strides: 2, ceil: true}\n"
    )
    model = build_model(load(path))
    got = model.predict(x, verbose=0)["output"][0, :, :, 0]
    # Caffe: ceil((8 - 3) / 2) + 1 = 4 windows, at 0, 2, 4, 6; the last one is clipped to the input.
    expected = np.array([[x[0, r : r + 3, c : c + 3, 0].max() for c in (0, 2, 4, 6)] for r in (0, 2, 4, 6)])
    np.testing.assert_allclose(got, expected)


@pytest.mark.parametrize("count_pad", [True, False])
def test_padded_average_pool_uses_pytorchs_divisor(tmp_path, count_pad):
    x = np.random.RandomState(0).rand(1, 5, 5, 2).astype("float32")
    path = tmp_path / "a.yaml"
    path.write_text(
        f"version: 1\nname: a\ninput: [5, 5, 2]\nstages:\n"
        f"  - avgpool: {{name: pool, size: 3, strides: 2, padding: 1, count_pad: {str(count_pad).lower()}}}\n"
    )
    got = build_model(load(path)).predict(x, verbose=0)["output"]
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    mask = np.pad(np.ones((5, 5)), 1)
    expected = np.zeros((1, 3, 3, 2), "float32")
    for i in range(3):
        for j in range(3):
            window = padded[0, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3]
            divisor = 9 if count_pad else mask[2 * i : 2 * i + 3, 2 * j : 2 * j + 3].sum()
            expected[0, i, j] = window.sum(axis=(0, 1)) / divisor
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_lrn_matches_caffes_formula():
    x = np.random.RandomState(1).rand(1, 2, 2, 7).astype("float32")
    got = keras.ops.convert_to_numpy(LocalResponseNorm(5, 1e-1, 0.75, 2.0)(x))
    sq = np.pad(x**2, ((0, 0), (0, 0), (0, 0), (2, 2)))
    window = sum(sq[..., i : i + 7] for i in range(5))
    np.testing.assert_allclose(got, x / (2.0 + 0.1 / 5 * window) ** 0.75, rtol=1e-5)


def test_adaptive_average_pool_uses_pytorchs_windows():
    x = np.arange(14 * 14, dtype="float32").reshape(1, 14, 14, 1)
    got = keras.ops.convert_to_numpy(AdaptiveAveragePooling2D((4, 4))(x))[0, :, :, 0]
    bounds = [(0, 4), (3, 7), (7, 11), (10, 14)]
    expected = np.array([[x[0, a:b, c:d, 0].mean() for c, d in bounds] for a, b in bounds])
    np.testing.assert_allclose(got, expected)


# --- saving, determinism, weight transfer --------------------------------------------


def test_keras_file_round_trip_in_safe_mode(small_spec, tmp_path):
    model = build_model(load(small_spec), seed=1)
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.saving.load_model(path, safe_mode=True)
    x = np.random.RandomState(2).rand(2, 33, 31, 3).astype("float32")
    a, b = model.predict(x, verbose=0), again.predict(x, verbose=0)
    for head in a:
        np.testing.assert_array_equal(a[head], b[head])


WEIGHTS_DIGEST = """
import hashlib, sys
from inceptionspec import build_model, load
model = build_model(load(sys.argv[1]), seed=int(sys.argv[2]))
digest = hashlib.sha256()
for w in model.weights:
    digest.update(w.name.encode()); digest.update(w.numpy().tobytes())
print(digest.hexdigest())
"""


def test_same_seed_gives_identical_weights_in_two_processes(small_spec):
    def digest(seed: int, warmup: str = "") -> str:
        code = warmup + WEIGHTS_DIGEST
        run = subprocess.run(
            [sys.executable, "-c", code, str(small_spec), str(seed)],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        return run.stdout.strip().splitlines()[-1]

    first = digest(7)
    # Building something else first must not shift any initializer.
    assert digest(7, "import keras; keras.layers.Dense(3)(keras.Input((2,)))\n") == first
    assert digest(8) != first


def test_transfer_weights_by_structure_makes_predictions_equal(small_spec):
    src = build_model(load(small_spec), seed=1, include_aux=False)
    dst = build_model(load(small_spec), seed=2, include_aux=False)
    report = transfer_weights(src, dst)
    assert len(report.pairs) == sum(1 for layer in src.layers if layer.weights)
    x = np.random.RandomState(3).rand(2, 33, 31, 3).astype("float32")
    np.testing.assert_allclose(src.predict(x, verbose=0)["main"], dst.predict(x, verbose=0)["main"], rtol=1e-6)


def test_transfer_refuses_a_different_structure_naming_the_layer(small_spec):
    src = build_model(load(small_spec))
    dst = build_model(load(small_spec, overrides={"mixed.branches.b.conv_2.filters": 7}))
    with pytest.raises(TransferError, match=r"mixed\.b\.conv_2.*\(3, 1, 4, 6\).*\(3, 1, 4, 7\)"):
        transfer_weights(src, dst)


# --- training ----------------------------------------------------------------------

TINY_GOOGLENET = [
    "input=[64, 64, 3]",
    "classes=4",
    "width.multiplier=0.25",
    "width.divisor=4",
    "heads.main.pool5.size=2",
    "templates.aux_classifier.avgpool.size=2",
    "templates.aux_classifier.avgpool.strides=2",
    "templates.aux_classifier.fc.units=32",
]


def test_a_small_googlenet_learns_with_its_aux_heads():
    spec = load("googlenet", [*TINY_GOOGLENET, "training.optimizer={kind: adam, learning_rate: 0.002}"])
    model = compile_for_training(build_model(spec, seed=0), spec)
    rng = np.random.RandomState(0)
    labels = rng.randint(0, 4, 64)
    x = rng.rand(64, 64, 64, 3).astype("float32") * 0.1
    for i, label in enumerate(labels):
        x[i, label * 16 : (label + 1) * 16] += 1.0  # the class is where the bright band is
    y = keras.utils.to_categorical(labels, 4)
    targets = {name: y for name in model.output}
    keras.utils.set_random_seed(0)  # fit's shuffling must not depend on what ran before
    history = model.fit(x, targets, epochs=12, batch_size=16, verbose=0)
    losses = history.history["loss"]
    print("losses", [round(v, 3) for v in losses])
    assert set(model.output) == {"main", "aux1", "aux2"}
    assert losses[-1] < 0.5 * losses[0]


MIRRORED = textwrap.dedent("""
    import os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import numpy as np
    from inceptionspec import build_model, compile_for_training, load
    spec = load("googlenet", {overrides})
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        model = compile_for_training(build_model(spec), spec)
    x = np.random.rand(8, 64, 64, 3).astype("float32")
    y = np.eye(4)[np.random.randint(0, 4, 8)]
    history = model.fit(x, {{name: y for name in model.output}}, epochs=1, batch_size=8, verbose=0)
    print("replicas", strategy.num_replicas_in_sync, "loss", history.history["loss"][-1])
""")


def test_trains_under_mirrored_strategy_on_two_logical_cpus():
    code = MIRRORED.format(overrides=repr(TINY_GOOGLENET))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "replicas 2 loss" in run.stdout


def test_cli_build_writes_a_model_matching_the_summary(tmp_path):
    out = tmp_path / "g.keras"
    args = [sys.executable, "-m", "inceptionspec.cli"]
    run = subprocess.run(
        [*args, "build", "googlenet", "-o", str(out), *sum((["--set", s] for s in TINY_GOOGLENET), [])],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"wrote {out}" in run.stderr
    summary = subprocess.run(
        [*args, "summary", "googlenet", "--format", "json", *sum((["--set", s] for s in TINY_GOOGLENET), [])],
        capture_output=True,
        text=True,
    )
    model = keras.saving.load_model(out, safe_mode=True)
    assert model.count_params() == json.loads(summary.stdout)["total_params"]
    assert list(model.output) == ["main", "aux1", "aux2"]


@pytest.mark.parametrize("size", [5, 8, 9, 12])
def test_the_ceil_pool_pads_are_the_geometrys(tmp_path, size):
    path = tmp_path / "p.yaml"
    path.write_text(
        f"version: 1\nname: p\ninput: [{size}, {size}, 1]\n"
        "stages:\n  - maxpool: {name: pool, size: 3, strides: 2, padding: 1, ceil: true}\n"
    )
    spec = load(path)
    model = build_model(spec)
    pool = analyze(spec).graph.layer("pool")
    assert tuple(model.get_layer("pool__pad").pads) == pool.op.geometry().pads(size, size)
    assert tuple(model.get_layer("pool").output.shape[1:]) == pool.shape


def test_transfer_into_a_model_with_aux_heads_pairs_the_main_path_first(small_spec):
    # Keras orders dict outputs by key ("aux" < "main"); transfer must still follow the main head.
    src = build_model(load(small_spec), seed=1, include_aux=False)
    dst = build_model(load(small_spec), seed=2)
    report = transfer_weights(src, dst)
    assert report.skipped == ["aux__dense"]
    assert str(report).endswith("kept their initial weights: aux.dense")
    x = np.random.RandomState(4).rand(1, 33, 31, 3).astype("float32")
    np.testing.assert_allclose(src.predict(x, verbose=0)["main"], dst.predict(x, verbose=0)["main"], rtol=1e-6)


TINY_WITH_AUX = """\
version: 1
name: tiny
input: [8, 8, 3]
classes: 3
stages:
  - conv: {name: stem, filters: 4, kernel: 3, padding: same}
  - maxpool: {name: pool, size: 2}
heads:
  main: {layers: [global_avgpool: null, dense: {name: fc, units: $classes}]}
  aux: {from: stem, training_only: true, layers: [global_avgpool: null, dense: {name: fc, units: $classes}]}
"""


def test_cli_build_names_the_file_after_the_variant_and_says_when_it_replaces_one(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from inceptionspec.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.yaml").write_text(TINY_WITH_AUX)

    def build(*args: str) -> str:
        result = CliRunner().invoke(main, ["build", "tiny.yaml", *args])
        assert result.exit_code == 0, result.output
        return result.stderr

    first = build()
    assert "wrote tiny.keras" in first and "replaced" not in first
    assert "wrote tiny-no-aux.keras" in build("--no-aux")  # another model: another file
    edited = build("--set", "stem.filters=6")
    assert re.search(r"wrote tiny-set-[0-9a-f]{8}\.keras", edited)
    assert list(keras.saving.load_model(tmp_path / "tiny.keras", safe_mode=True).output) == ["main", "aux"]
    assert list(keras.saving.load_model(tmp_path / "tiny-no-aux.keras", safe_mode=True).output) == ["main"]
    again = build()
    assert "note: tiny.keras existed and was replaced" in again
