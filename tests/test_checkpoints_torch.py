"""timm's and torchvision's own models against the compiled specs (needs torch, timm, torchvision).

For each layout, tests/torch_references.py builds the library's model with random weights and
non-trivial batch-norm statistics, saves its state dict (.safetensors and .pth) and its
log-probabilities on random input; ``inceptionspec build SPEC --weights-from FILE -o m.keras``
loads the file; the Keras model's log-probabilities (main and auxiliary heads) must agree to
1e-4 relative. The same checkpoint in a float64 Keras model gives PyTorch's float64 logits to
1e-9: the mapping is exact, and the float32 differences are rounding. PyTorch runs in
subprocesses: importing timm or torchvision after TensorFlow crashes the process. Skipped where
the three libraries are not installed (CI); heavy (two to three minutes per layout on a 2-core
machine).

``python -m pytest tests/test_checkpoints_torch.py -m heavy -s`` prints the measured agreement.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

MISSING = [m for m in ("torch", "timm", "torchvision", "safetensors") if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"needs {', '.join(MISSING)} (not installed)")

REFERENCES = Path(__file__).parent / "torch_references.py"


def run_cli(*args: object) -> subprocess.CompletedProcess[str]:
    """The CLI with a full-size model's time to build and save it (minutes on a loaded machine)."""
    command = [sys.executable, "-m", "inceptionspec.cli", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=900)


TOLERANCE = 1e-4  # relative error of every log-probability

# layout, spec, file format, heads compared
CASES = [
    ("timm_inception_v4", "inception_v4", "safetensors", ["main"]),
    ("timm_inception_resnet_v2", "inception_resnet_v2", "safetensors", ["main"]),
    ("timm_inception_v3", "inception_v3_torch", "safetensors", ["main"]),
    ("torchvision_inception_v3", "inception_v3_torch", "safetensors", ["main"]),  # AuxLogits unused
    ("torchvision_inception_v3", "examples/inception_v3_torch_aux", "pth", ["main", "aux"]),
    ("torchvision_googlenet", "googlenet_bn", "pth", ["main", "aux1", "aux2"]),
]


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """Layout name → the folder holding its reference files, made on first use."""
    folder = tmp_path_factory.mktemp("references")
    made: dict[str, Path] = {}

    def make(name: str) -> Path:
        if name not in made:
            subprocess.run([sys.executable, str(REFERENCES), name, str(folder)], check=True, timeout=900)
            made[name] = folder
        return folder

    return make


def classifier(model, head: str):
    """A head's last dense layer (an auxiliary head's output passes through a TrainingOnly marker)."""
    operation = model.output[head]._keras_history.operation
    while not hasattr(operation, "kernel"):
        operation = operation.input._keras_history.operation
    return operation


def keras_log_probs(model, head: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(log-probabilities, the classifier's input) of one head, from the logits in float64: the heads
    end in a softmax, whose float32 probabilities underflow where log-probabilities do not."""
    import keras

    dense = classifier(model, head)
    features = np.asarray(keras.Model(model.input, dense.input)(x, training=False), np.float64)
    logits = features @ dense.kernel.numpy().astype(np.float64) + dense.bias.numpy().astype(np.float64)
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True)), features


@pytest.mark.heavy
@pytest.mark.parametrize(("layout", "spec", "fmt", "heads"), CASES)
def test_the_compiled_spec_computes_what_the_reference_model_computes(references, tmp_path, layout, spec, fmt, heads):
    import keras

    import inceptionspec  # noqa: F401 - registers the custom layers for load_model

    folder = references(layout)
    start = time.perf_counter()
    built = run_cli("build", spec, "--weights-from", folder / f"{layout}.{fmt}", "-o", tmp_path / "m.keras")
    seconds = time.perf_counter() - start
    assert built.returncode == 0, built.stderr
    assert f"(layout {layout}" in " ".join(built.stderr.split()) or "the same as" in built.stderr
    model = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    reference = np.load(folder / f"{layout}.npz")
    for head in heads:
        got, _ = keras_log_probs(model, head, reference["x"])
        expected = reference[head]
        relative = np.max(np.abs(got - expected) / np.abs(expected))
        print(
            f"\n{layout} → {spec} ({fmt}), head {head}: max relative log-probability error {relative:.1e}, "
            f"max absolute {np.max(np.abs(got - expected)):.1e} (log-probabilities {expected.min():.1f} … "
            f"{expected.max():.2f}); build {seconds:.0f} s"
        )
        assert relative <= TOLERANCE
        untrained = keras_log_probs(inceptionspec.build_model(spec), head, reference["x"])[0]
        assert np.max(np.abs(untrained - expected) / np.abs(expected)) > 100 * TOLERANCE  # not trivially equal
    keras.utils.clear_session(free_memory=True)
    for head, logits in float64_logits(spec, folder / f"{layout}.{fmt}", heads, reference["x"]).items():
        exact = reference[f"{head}_f64"]
        print(f"{layout} → {spec}, head {head}, float64: max absolute logit error {np.max(np.abs(logits - exact)):.1e}")
        np.testing.assert_allclose(logits, exact, rtol=1e-9, atol=1e-9)


def float64_logits(spec: str, checkpoint: Path, heads: list[str], x: np.ndarray) -> dict[str, np.ndarray]:
    """Each head's logits from the spec built in float64 and loaded with ``load_checkpoint``."""
    import keras

    import inceptionspec

    keras.config.set_floatx("float64")
    try:
        model = inceptionspec.build_model(spec)
        inceptionspec.load_checkpoint(model, checkpoint, spec)
        out = {}
        for head in heads:
            dense = classifier(model, head)
            features = np.asarray(keras.Model(model.input, dense.input)(x.astype(np.float64), training=False))
            out[head] = features @ dense.kernel.numpy() + dense.bias.numpy()
        return out
    finally:
        keras.config.set_floatx("float32")
        keras.utils.clear_session(free_memory=True)


@pytest.mark.heavy
def test_a_ten_class_inception_v4_takes_everything_but_the_classifier_with_partial(references, tmp_path):
    import keras

    import inceptionspec  # noqa: F401

    folder = references("timm_inception_v4")
    args = ["build", "examples/inception_v4_10class", "--weights-from", folder / "timm_inception_v4.safetensors"]
    refused = run_cli(*args, "-o", tmp_path / "a.keras")
    assert refused.returncode == 1 and "main.logits: checkpoint `last_linear.weight` is (1000, 1536)" in refused.stderr
    built = run_cli(*args, "--partial", "-o", tmp_path / "m.keras")
    assert built.returncode == 0, built.stderr
    text = " ".join(built.stderr.split())
    assert "skipped 1 layer (--partial; initial weights kept): main.logits:" in text
    model = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    reference = np.load(folder / "timm_inception_v4.npz")
    _, features = keras_log_probs(model, "main", reference["x"])  # what reaches the new classifier
    np.testing.assert_allclose(features, reference["features"], rtol=1e-4, atol=1e-4)


def test_the_conversion_command_makes_a_safetensors_file_inceptionspec_reads(tmp_path):
    from inceptionspec.weights import open_checkpoint
    from inceptionspec.weights.torch_file import conversion_command

    pth = tmp_path / "state.pth"
    subprocess.run(
        [sys.executable, "-c", f"import torch; torch.save({{'w': torch.arange(6.).reshape(2, 3)}}, {str(pth)!r})"],
        check=True,
    )
    subprocess.run(conversion_command(pth).replace("python", sys.executable, 1), shell=True, check=True)  # noqa: S602
    converted = open_checkpoint(pth.with_suffix(".safetensors"))
    np.testing.assert_array_equal(converted.read("w"), np.arange(6.0).reshape(2, 3))
