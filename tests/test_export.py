"""Export: ONNX, SavedModel and LiteRT artifacts that run without inceptionspec and agree with Keras;
batch-norm folding; the command's checks and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from click.testing import CliRunner  # noqa: E402
from small_specs import SMALL_WITH_BIAS as SMALL  # noqa: E402

from inceptionspec import load  # noqa: E402
from inceptionspec.cli import main  # noqa: E402
from inceptionspec.cli.export import FORMAT_NAMES  # noqa: E402
from inceptionspec.keras import build_model  # noqa: E402
from inceptionspec.keras.export import CHECK_TOLERANCE, FORMATS, export_model, with_heads  # noqa: E402
from inceptionspec.keras.fold import fold_batch_norm  # noqa: E402
from inceptionspec.keras.parity import as_outputs, randomize_batch_norm, worst_relative_error  # noqa: E402

MISSING = [m for f in FORMATS.values() for m in f.missing()]
needs_export_extra = pytest.mark.skipif(
    bool(MISSING), reason=f"{', '.join(MISSING)} not installed: pip install 'inceptionspec[export]'"
)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, keras.Model]:
    """The small spec, and its inference model with random batch-norm statistics."""
    spec = tmp_path_factory.mktemp("spec") / "small.yaml"
    spec.write_text(SMALL)
    model = build_model(str(spec), include_aux=False, seed=1)
    randomize_batch_norm(model, 1)
    return spec, model


def image(model: keras.Model, batch: int, seed: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(batch, *model.inputs[0].shape[1:])).astype("float32")


# --- batch-norm folding -------------------------------------------------------------------


def test_folding_removes_every_batch_norm_after_a_conv_and_keeps_the_outputs(small):
    _, model = small
    folded, report = fold_batch_norm(model)
    batch_norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(report.pairs) == len(batch_norms) == 6
    assert not [layer for layer in folded.layers if isinstance(layer, keras.layers.BatchNormalization)]
    convs = {layer.name: layer for layer in folded.layers if isinstance(layer, keras.layers.Conv2D)}
    assert all(convs[conv].use_bias for conv, _ in report.pairs)
    x = image(model, 3)
    errors = worst_relative_error(as_outputs(model(x, training=False)), as_outputs(folded(x, training=False)))
    assert max(errors.values()) < 1e-6
    assert model.count_params() - folded.count_params() == sum(
        int(np.prod(w.shape)) for bn in batch_norms for w in bn.weights
    ) - sum(convs[conv].filters for conv, _ in report.pairs if not model.get_layer(conv).use_bias)


def test_folding_keeps_a_conv_whose_output_is_read_elsewhere_too():
    inputs = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    bn = keras.layers.BatchNormalization(name="bn")(conv)
    model = keras.Model(inputs, {"a": bn, "b": keras.layers.ReLU(name="relu")(conv)})
    folded, report = fold_batch_norm(model)
    assert report.pairs == [] and folded is model


def test_the_ir_names_each_conv_s_batch_norm_and_a_batch_norm_after_the_activation_stays(tmp_path):
    from inceptionspec.ir import lower
    from inceptionspec.keras import compile_graph
    from inceptionspec.keras.fold import foldable_pairs, written_pairs
    from inceptionspec.lang.pipeline import load

    spec = tmp_path / "orders.yaml"
    spec.write_text(
        "version: 1\nname: orders\ninput: [16, 16, 3]\nclasses: 3\nstages:\n"
        "  - conv: {name: a, filters: 4, kernel: 3, norm: bn, activation: relu}\n"
        "  - conv: {name: b, filters: 4, kernel: 3, norm: bn, activation: relu, order: act_norm}\n"
        "heads:\n  main: {layers: [global_avgpool: , dense: {units: $classes, activation: softmax}]}\n"
    )
    graph = lower(load(str(spec)))
    model = compile_graph(graph)
    assert written_pairs(graph) == [("a", "a__bn")]
    by_ir = [(c.name, b.name) for c, b in foldable_pairs(model, graph)]
    assert by_ir == [(c.name, b.name) for c, b in foldable_pairs(model)] == [("a", "a__bn")]
    folded, report = fold_batch_norm(model, graph)
    assert report.pairs == [("a", "a__bn")]
    assert [layer.name for layer in folded.layers if isinstance(layer, keras.layers.BatchNormalization)] == ["b__bn"]


def test_a_folded_model_saves_and_reloads_in_safe_mode(small, tmp_path):
    _, model = small
    folded, _ = fold_batch_norm(model)
    folded.save(tmp_path / "f.keras")
    reloaded = keras.saving.load_model(tmp_path / "f.keras", safe_mode=True)
    x = image(model, 2)
    assert np.array_equal(
        keras.ops.convert_to_numpy(reloaded(x)["main"]), keras.ops.convert_to_numpy(folded(x)["main"])
    )


# --- every format, through the Python API ----------------------------------------------------


@pytest.fixture(scope="module")
def artifacts(small, tmp_path_factory) -> dict[str, Path]:
    """The small model exported in every format (BN folded; dynamic batch), each checked."""
    _, model = small
    out = tmp_path_factory.mktemp("artifacts")
    written = {}
    for name, fmt in FORMATS.items():
        if fmt.missing():
            continue
        report = export_model(model, out / f"small{fmt.suffix or '_' + name}", name, fold_bn=True)
        assert report.check is not None and report.check.passed, report.check
        assert report.check.worst <= CHECK_TOLERANCE and report.check.batch == 2
        assert report.heads == ["main"]
        written[name] = report.path
    return written


@needs_export_extra
def test_every_format_exports_and_its_own_runtime_agrees_with_keras(artifacts):
    assert set(artifacts) == set(FORMATS)


@needs_export_extra
def test_the_artifacts_run_where_inceptionspec_cannot_be_imported(artifacts, small, tmp_path):
    """Each artifact is loaded by its own runtime in `python -I` (no PYTHONPATH, no user site, no
    current directory) with an import hook that refuses inceptionspec, at a batch size of 3."""
    _, model = small
    x = image(model, 3)
    np.save(tmp_path / "x.npy", x)
    script = textwrap.dedent(
        """
        import json, sys
        class Refuse:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "inceptionspec":
                    raise ImportError("inceptionspec is not importable here")
        sys.meta_path.insert(0, Refuse())
        try:
            import inceptionspec
        except ImportError:
            pass
        else:
            raise SystemExit("inceptionspec was importable")
        import numpy as np
        x = np.load(sys.argv[1])
        paths = json.loads(sys.argv[2])
        out = {}
        if "onnx" in paths:
            import onnxruntime
            session = onnxruntime.InferenceSession(paths["onnx"], providers=["CPUExecutionProvider"])
            out["onnx"] = session.run(["main"], {"input": x})[0].tolist()
        if "saved_model" in paths:
            import tensorflow as tf
            serve = tf.saved_model.load(paths["saved_model"]).signatures["serving_default"]
            out["saved_model"] = serve(input=tf.constant(x))["main"].numpy().tolist()
        if "litert" in paths:
            from ai_edge_litert.interpreter import Interpreter
            runner = Interpreter(model_path=paths["litert"]).get_signature_runner("serving_default")
            out["litert"] = runner(input=x)["main"].tolist()
        print(json.dumps(out))
        """
    )
    paths = json.dumps({name: str(path) for name, path in artifacts.items()})
    done = subprocess.run(
        [sys.executable, "-I", "-c", script, str(tmp_path / "x.npy"), paths],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outputs = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(outputs) == set(artifacts)
    expected = keras.ops.convert_to_numpy(model(x, training=False)["main"])
    for name, values in outputs.items():
        assert np.asarray(values).shape == (3, 5)
        assert worst_relative_error({"main": expected}, {"main": np.asarray(values)})["main"] <= CHECK_TOLERANCE, name


@needs_export_extra
def test_a_fixed_batch_is_part_of_the_artifact(small, tmp_path):
    import onnx

    _, model = small
    report = export_model(model, tmp_path / "b4.onnx", "onnx", batch=4)
    assert report.check.batch == 4 and report.check.passed
    dims = onnx.load(str(report.path)).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [4, 33, 31, 3]


def test_with_heads_keeps_the_named_heads_only(small):
    spec, _ = small
    full = build_model(str(spec), include_aux=True)
    assert list(with_heads(full, ["main"]).output) == ["main"]
    assert list(with_heads(full).output) == ["main", "aux"]


@needs_export_extra
def test_export_model_leaves_training_only_heads_out(small, tmp_path):
    spec, _ = small
    report = export_model(build_model(str(spec), include_aux=True), tmp_path / "m.onnx", "onnx")
    assert report.heads == ["main"] and report.check.passed


# --- the command --------------------------------------------------------------------------


def invoke(*args: str) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def test_the_help_lists_exactly_the_registered_formats():
    assert set(FORMAT_NAMES) == set(FORMATS)
    assert all(name in invoke("export", "--help").output for name in FORMATS)


def test_an_unknown_format_exits_2_listing_the_formats(small, tmp_path):
    spec, _ = small
    result = invoke("export", spec, "--format", "coreml", "-o", tmp_path / "x")
    assert result.exit_code == 2
    assert "unknown format `coreml`; formats: onnx, saved_model, litert" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("fmt", "module"), [("onnx", "tf2onnx"), ("onnx", "onnxruntime"), ("litert", "ai_edge_litert")]
)
def test_a_missing_optional_dependency_exits_2_with_the_pip_command(small, tmp_path, monkeypatch, fmt, module):
    spec, _ = small
    monkeypatch.setitem(sys.modules, module, None)  # find_spec and import now fail as if not installed
    result = invoke("export", spec, "--format", fmt, "-o", tmp_path / "x")
    assert result.exit_code == 2, result.output
    assert f'--format {fmt} needs {module}, which is not installed: pip install "inceptionspec[export]"' in (
        result.output
    )
    assert "Traceback" not in result.output and not (tmp_path / "x").exists()


def test_set_does_not_apply_to_a_keras_file(tmp_path):
    (tmp_path / "m.keras").write_bytes(b"")
    result = invoke("export", tmp_path / "m.keras", "--format", "onnx", "--set", "classes=3")
    assert result.exit_code == 2 and "--set edits a spec" in result.output


@needs_export_extra
def test_cli_exports_a_spec_with_folded_batch_norms_and_no_batch_norm_node_left(small, tmp_path):
    import onnx

    spec, _ = small
    out = tmp_path / "small.onnx"
    result = invoke("export", spec, "--format", "onnx", "--fold-bn", "-o", out)
    assert result.exit_code == 0, result.output
    assert "folded 6 conv → batch-norm pairs" in result.output
    assert "wrote " in result.output and "outputs: main, batch any" in result.output
    assert "check: ONNX Runtime against the Keras model on a random batch of 2: worst relative error" in result.output
    graph = onnx.load(str(out)).graph
    assert [o.name for o in graph.output] == ["main"]  # the training-only head is left out
    kinds = [node.op_type for node in graph.node]
    assert "BatchNormalization" not in kinds
    # An unfolded batch norm in ONNX is a BatchNormalization node or an affine Mul/Add on the conv's output.
    readers = {name: node.op_type for node in graph.node for name in node.input}
    after_conv = {readers.get(o) for node in graph.node if node.op_type == "Conv" for o in node.output}
    assert after_conv.isdisjoint({"BatchNormalization", "Mul", "Sub", "Div"}), after_conv
    assert kinds.count("Conv") == 7


@needs_export_extra
def test_cli_exports_a_keras_file_without_its_training_only_heads(small, tmp_path):
    spec, _ = small
    build_model(str(spec), include_aux=True).save(tmp_path / "m.keras")
    out = tmp_path / "m_saved_model"
    result = invoke("export", tmp_path / "m.keras", "--format", "saved_model", "--batch", "2", "--no-check", "-o", out)
    assert result.exit_code == 0, result.output
    assert "outputs: main, batch 2" in result.output  # `aux` is marked training-only in the file
    assert "check:" not in result.output
    serve = __import__("tensorflow").saved_model.load(str(out)).signatures["serving_default"]
    assert list(serve.structured_outputs) == ["main"]


@needs_export_extra
def test_cli_copies_weights_from_another_model_before_exporting(small, tmp_path):
    spec, model = small  # the fixture's model has random batch-norm statistics
    model.save(tmp_path / "trained.keras")
    out = tmp_path / "small.tflite"
    result = invoke("export", spec, "--format", "litert", "--weights-from", tmp_path / "trained.keras", "-o", out)
    assert result.exit_code == 0, result.output
    assert "loaded 14 layers" in result.output and "— ok" in result.output
    from ai_edge_litert.interpreter import Interpreter

    x = image(model, 1)
    got = Interpreter(model_path=str(out)).get_signature_runner()(input=x)["main"]
    expected = keras.ops.convert_to_numpy(model(x, training=False)["main"])
    assert worst_relative_error({"main": expected}, {"main": got})["main"] <= CHECK_TOLERANCE


def test_cli_export_partial_keeps_the_initial_weights_where_the_source_does_not_fit(small, tmp_path):
    spec, _ = small
    build_model(load(spec, ["classes=7"]), include_aux=False, seed=2).save(tmp_path / "seven.keras")
    args = ["export", spec, "-f", "onnx", "--weights-from", tmp_path / "seven.keras", "-o", tmp_path / "s.onnx"]
    refused = invoke(*args)
    assert refused.exit_code == 2 and "main.dense" in refused.output, refused.output
    result = invoke(*args, "--partial")
    assert result.exit_code == 0, result.output
    assert "skipped 1 layer (--partial" in " ".join(result.output.split()) and "— ok" in result.output


def test_build_fold_bn_writes_an_inference_model_checked_against_the_unfolded_one(small, tmp_path):
    spec, _ = small
    result = invoke("build", spec, "--fold-bn", "-o", tmp_path / "f.keras")
    assert result.exit_code == 0, result.output
    assert "folded 6 conv → batch-norm pairs" in result.output
    assert "check: the folded model against the Keras model" in result.output and "— ok" in result.output
    model = keras.saving.load_model(tmp_path / "f.keras", safe_mode=True)
    assert list(model.output) == ["main"]
    assert not [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


def test_build_fold_bn_refuses_compile(small, tmp_path):
    spec, _ = small
    result = invoke("build", spec, "--fold-bn", "--compile", "-o", tmp_path / "f.keras")
    assert result.exit_code == 2 and "cannot be compiled for training" in result.output


# --- full-size exports (the acceptance) ----------------------------------------------


@needs_export_extra
@pytest.mark.heavy
@pytest.mark.parametrize("fold", [False, True], ids=["plain", "fold-bn"])
@pytest.mark.parametrize("fmt", sorted(FORMAT_NAMES))
@pytest.mark.parametrize("spec", ["googlenet", "inception_v4", "inception_resnet_v2"])
def test_full_size_exports_pass_their_own_check(spec, fmt, fold, tmp_path):
    out = tmp_path / f"{spec}{FORMATS[fmt].suffix}"
    args = ["export", spec, "--format", fmt, "-o", str(out), *(["--fold-bn"] if fold else [])]
    done = subprocess.run(
        [sys.executable, "-m", "inceptionspec.cli", *args], capture_output=True, text=True, timeout=3600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    check = next(line for line in done.stderr.splitlines() if line.startswith("check: "))
    print(f"\n{spec} {fmt} {'--fold-bn' if fold else ''}: {check}")
    assert float(check.split("worst relative error ")[1].split()[0]) <= CHECK_TOLERANCE
    if fmt == "onnx" and fold:
        import onnx

        assert "BatchNormalization" not in {node.op_type for node in onnx.load(str(out)).graph.node}


@needs_export_extra
@pytest.mark.heavy
@pytest.mark.parametrize("fmt", sorted(FORMAT_NAMES))
@pytest.mark.parametrize("spec", ["inception_v4", "inception_resnet_v2"])
def test_full_size_exports_with_random_batch_norm_statistics_agree(spec, fmt, tmp_path):
    """Fresh statistics make these networks' outputs nearly uniform; random ones make the check bite."""
    model = build_model(spec, include_aux=False)
    randomize_batch_norm(model, 0)
    model.save(tmp_path / "m.keras")
    out = tmp_path / f"m{FORMATS[fmt].suffix or '_saved_model'}"
    args = ["export", str(tmp_path / "m.keras"), "--format", fmt, "--fold-bn", "-o", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "inceptionspec.cli", *args], capture_output=True, text=True, timeout=3600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    check = next(line for line in done.stderr.splitlines() if line.startswith("check: "))
    print(f"\n{spec} (random BN statistics) {fmt} --fold-bn: {check}")
    assert float(check.split("worst relative error ")[1].split()[0]) <= CHECK_TOLERANCE
