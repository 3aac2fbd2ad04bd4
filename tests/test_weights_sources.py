"""`--weights-from` and `inceptionspec.load_checkpoint`: every source into a built Keras model.

GoogLeNet with batch norm at 64×64 (its weights do not depend on the input size) keeps these
builds small: the synthetic torchvision checkpoint (tests/checkpoint_files.py) fills it, the
fingerprints say each Keras weight got the tensor planned for it, and ``partial`` skips exactly
the layers whose shapes differ, for checkpoints and Keras sources alike.
"""

from __future__ import annotations

import numpy as np
import pytest
from checkpoint_files import fingerprint, tensors, write_safetensors

from conftest import run_cli

keras = pytest.importorskip("keras")

import inceptionspec  # noqa: E402
from inceptionspec import analyze, build_model, load  # noqa: E402
from inceptionspec.keras.checkpoint import layers_by_spec_path  # noqa: E402
from inceptionspec.keras.weights_sources import WeightsSourceError, load_into  # noqa: E402
from inceptionspec.weights import CheckpointError  # noqa: E402

SMALL = {"input": [64, 64, 3]}
TEN = {"input": [64, 64, 3], "classes": 10}
CLASSIFIERS = ["main.classifier", "aux1.head.classifier", "aux2.head.classifier"]


@pytest.fixture(autouse=True)
def _fresh_keras_session():
    yield
    keras.utils.clear_session(free_memory=True)


@pytest.fixture(scope="module")
def googlenet_checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt") / "googlenet.safetensors"
    index = write_safetensors(path, tensors("torchvision_googlenet"))
    return path, index


def _layers(model):
    """The model's layers by spec path (Keras names them `conv1__bn`)."""
    return layers_by_spec_path(model)


def test_load_checkpoint_fills_every_keras_weight_with_its_tensor(googlenet_checkpoint):
    path, index = googlenet_checkpoint
    spec = load("googlenet_bn", SMALL)
    model = build_model(spec)
    report = inceptionspec.load_checkpoint(model, path, spec)
    assert report.values == model.count_params() and report.tensors == len(model.weights)
    assert report.layout == "torchvision_googlenet" and not report.skipped and not report.unused
    layers = _layers(model)
    # Each Keras weight holds its tensor's fingerprint (all other values are 0): right tensor, right weight.
    assert layers["conv1"].kernel.numpy().sum() == fingerprint(index["conv1.conv.weight"])
    assert layers["conv1.bn"].moving_variance.numpy().sum() == fingerprint(index["conv1.bn.running_var"])
    assert layers["aux2.head.fc"].kernel.numpy().sum() == fingerprint(index["aux2.fc1.weight"])
    assert layers["main.classifier"].bias.numpy().sum() == fingerprint(index["fc.bias"])


def test_partial_keeps_the_layers_whose_shapes_differ_and_lists_them(googlenet_checkpoint):
    path, index = googlenet_checkpoint
    spec = load("googlenet_bn", TEN)
    model = build_model(spec)
    before = _layers(model)["main.classifier"].kernel.numpy()
    with pytest.raises(CheckpointError, match=r"main.classifier: checkpoint `fc.weight` is \(1000, 1024\)"):
        inceptionspec.load_checkpoint(model, path, spec)
    report = inceptionspec.load_checkpoint(model, path, spec, partial=True)
    assert [s.layer for s in report.skipped] == CLASSIFIERS
    assert report.values == model.count_params() - 3 * (1024 * 10 + 10)
    np.testing.assert_array_equal(_layers(model)["main.classifier"].kernel.numpy(), before)
    assert _layers(model)["conv1"].kernel.numpy().sum() == fingerprint(index["conv1.conv.weight"])


def test_load_into_takes_a_checkpoint_path_like_the_cli(googlenet_checkpoint):
    path, _ = googlenet_checkpoint
    spec = load("googlenet_bn", SMALL)
    model = build_model(spec, include_aux=False)
    report = load_into(model, str(path), spec)
    assert report.values == model.count_params()
    assert len(report.unused) == 18 and all(k.startswith(("aux1.", "aux2.")) for k in report.unused)
    assert "unused checkpoint tensors (18): aux1.conv.bn.bias" in str(report)


@pytest.fixture(scope="module")
def keras_sources(tmp_path_factory):
    """A 1000-class googlenet_bn saved as .keras and .weights.h5 (seed 1)."""
    folder = tmp_path_factory.mktemp("keras")
    model = build_model(load("googlenet_bn", SMALL), seed=1)
    model.save(folder / "gn.keras")
    model.save_weights(folder / "gn.weights.h5")
    kernel = _layers(model)["conv1"].kernel.numpy()
    keras.utils.clear_session(free_memory=True)
    return folder, kernel


@pytest.mark.parametrize("suffix", ["keras", "weights.h5"])
def test_partial_works_for_keras_sources_too(keras_sources, suffix):
    folder, kernel = keras_sources
    source = str(folder / f"gn.{suffix}")
    spec = load("googlenet_bn", TEN)
    model = build_model(spec)
    if suffix == "keras":
        with pytest.raises(WeightsSourceError, match="differs"):
            load_into(model, source, spec)
    report = load_into(model, source, spec, partial=True)
    assert sorted(s.layer for s in report.skipped) == sorted(CLASSIFIERS)
    np.testing.assert_array_equal(_layers(model)["conv1"].kernel.numpy(), kernel)
    assert report.values == analyze(spec).total_params - 3 * (1024 * 10 + 10)


# --- the command line ------------------------------------------------------------------------


def test_build_loads_a_checkpoint_and_reports_it(googlenet_checkpoint, tmp_path):
    path, _ = googlenet_checkpoint
    out = tmp_path / "gn.keras"
    result = run_cli("build", "googlenet_bn", "--set", "input=[64,64,3]", "--weights-from", path, "-o", out)
    assert result.returncode == 0, result.stderr
    assert "loaded 123 layers (305 tensors, 13,019,960 values)" in " ".join(result.stderr.split())
    assert "(layout torchvision_googlenet)" in " ".join(result.stderr.split()) and out.is_file()


@pytest.mark.heavy  # 30 s of building; load_into's partial is in CI above, the CLI only passes the flag
def test_build_partial_from_a_keras_source_skips_the_classifiers(keras_sources, tmp_path):
    folder, _ = keras_sources  # (without --partial: test_partial_works_for_keras_sources_too)
    args = ["build", "googlenet_bn", "--set", "input=[64,64,3]", "--set", "classes=10", "--no-aux"]
    result = run_cli(*args, "--weights-from", folder / "gn.keras", "--partial", "-o", tmp_path / "b.keras")
    assert result.returncode == 0, result.stderr
    assert "skipped 1 layer (--partial" in result.stderr and "main.classifier" in result.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--set", "classes=10"], 1, "main.classifier: checkpoint `fc.weight` is (1000, 1024), the spec's kernel"),
        (["--set", "defaults.conv.bn.epsilon=1e-5"], 1, "--set defaults.conv.bn.epsilon=0.001"),
        (["--weights-layout", "timm_inception_v5"], 2, "unknown checkpoint layout `timm_inception_v5`"),
    ],
)
def test_build_refuses_a_checkpoint_that_does_not_fit_before_importing_keras(googlenet_checkpoint, args, code, message):
    path, _ = googlenet_checkpoint
    result = run_cli("build", "googlenet_bn", "--weights-from", path, *args, "-o", "/nonexistent/x.keras")
    assert result.returncode == code, result.stderr
    assert message in " ".join(result.stderr.split()) and "Traceback" not in result.stderr
    assert "importing Keras" not in result.stderr


def test_build_refuses_a_torch_checkpoint_for_keras_inception_v3_naming_the_torch_spec(tmp_path):
    path = tmp_path / "tv_v3.safetensors"
    write_safetensors(path, tensors("torchvision_inception_v3"))
    result = run_cli("build", "inception_v3", "--weights-from", path)
    assert result.returncode == 1
    assert "specs/inception_v3.yaml:" in result.stderr
    assert "made for `inception_v3_torch`" in " ".join(result.stderr.split())


@pytest.mark.parametrize(
    "command",
    [["build", "googlenet_bn"], ["export", "googlenet_bn", "-f", "onnx"], ["train", "googlenet_bn", "--data", "."]],
    ids=lambda c: c[0],
)
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--partial"], "--weights-layout and --partial apply to --weights-from"),
        (["--weights-layout", "timm_inception_v4"], "--weights-layout and --partial apply to --weights-from"),
        (["--weights-from", "keras:InceptionV3@none", "--weights-layout", "timm_inception_v4"], "applies to PyTorch"),
        (["--weights-from", "weights.npz"], "not a weights source"),
    ],
)
def test_weights_options_misused_exit_2_in_every_command_that_loads_weights(command, args, message):
    result = run_cli(*command, *args)
    assert result.returncode == 2 and message in " ".join(result.stderr.split()), result.stderr
    assert "importing Keras" not in result.stderr


@pytest.mark.heavy
def test_inception_v3_with_ten_classes_takes_keras_weights_with_partial(tmp_path):
    # The case from issue 17: keras.applications' classifier is (2048, 1000), the spec's (2048, 10).
    args = ["build", "inception_v3", "--set", "classes=10", "--weights-from", "keras:InceptionV3@none"]
    failed = run_cli(*args, "-o", tmp_path / "a.keras")
    assert failed.returncode == 2 and "predictions" in failed.stderr
    result = run_cli(*args, "--partial", "-o", tmp_path / "b.keras")
    assert result.returncode == 0, result.stderr
    assert "skipped 1 layer (--partial" in result.stderr and "main.predictions" in result.stderr


@pytest.mark.heavy  # a training run (20–35 s); load_into's partial, which train calls, is in CI above
def test_train_takes_weights_from_a_model_of_another_class_count_with_partial(tmp_path):
    # `train --weights-from` is `build --weights-from`: the same load_into, --partial included.
    from click.testing import CliRunner

    from inceptionspec.cli import main
    from inceptionspec.data.shapes import write_shapes

    tiny = ["width.multiplier=0.25", "templates.aux_classifier.fc.units=32"]
    source = build_model(load("examples/googlenet_cifar", [*tiny, "classes=10"]), seed=3)
    source.save(tmp_path / "ten.keras")
    write_shapes(tmp_path / "data", per_class=4, size=36, seed=1)
    args = ["train", "examples/googlenet_cifar", "--data", tmp_path / "data", "--epochs", 1, "--batch-size", 8]
    args += [*sum((["--set", s] for s in [*tiny, "classes=4"]), []), "--weights-from", tmp_path / "ten.keras"]
    # (Without --partial the classifiers refuse, as test_partial_works_for_keras_sources_too shows.)
    result = CliRunner().invoke(main, [str(a) for a in [*args, "--out", tmp_path / "run", "--partial"]])
    assert result.exit_code == 0, result.output
    assert "skipped 3 layers (--partial" in result.output and "main.classifier" in result.output
