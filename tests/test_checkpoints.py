"""PyTorch checkpoints into the shipped specs, tested without PyTorch.

The committed manifests (tests/fixtures/checkpoints/*.json: the tensor names, shapes and dtypes
of timm's and torchvision's models, written by make_manifests.py) stand in for the real files:
each test writes a .safetensors file of those names and shapes whose tensors carry fingerprints
(tests/checkpoint_files.py), so that where every tensor lands can be checked. The numerical
comparison with the PyTorch models themselves is in tests/test_checkpoints_torch.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from checkpoint_files import FIXTURES, fingerprint, tensors, unit_gamma, write_safetensors

from inceptionspec import analyze, load
from inceptionspec.ir import lower
from inceptionspec.lang.library import shipped
from inceptionspec.weights import CheckpointError, CheckpointFileError, layouts, open_checkpoint, plan_checkpoint
from inceptionspec.weights.plan import Move, to_keras
from inceptionspec.weights.torch_file import conversion_command, open_torch_file

# manifest, spec, include_aux, tensors expected unused (by prefix), gamma all ones (tf-slim ports)
CASES = [
    ("timm_inception_v4", "inception_v4", True, (), True),
    ("timm_inception_resnet_v2", "inception_resnet_v2", True, (), True),
    ("timm_inception_v3", "inception_v3_torch", True, (), False),
    ("torchvision_inception_v3", "inception_v3_torch", True, ("AuxLogits.",), False),
    ("torchvision_inception_v3", "examples/inception_v3_torch_aux", True, (), False),
    ("torchvision_googlenet", "googlenet_bn", True, (), False),
    ("torchvision_googlenet", "googlenet_bn", False, ("aux1.", "aux2."), False),
    ("torchvision_googlenet_no_aux", "googlenet_bn", False, (), False),
]


def _plan(tmp_path: Path, manifest: str, spec: str, aux: bool = True, ones: bool = False, **kw):
    path = tmp_path / f"{manifest}.safetensors"
    index = write_safetensors(path, tensors(manifest), unit_gamma if ones else None)
    graph = lower(load(spec, kw.pop("overrides", None)), include_aux=aux)
    return plan_checkpoint(graph, open_checkpoint(path), **kw), index


# --- the layouts: data that holds together ----------------------------------------------------


def test_every_layout_belongs_to_a_shipped_spec_that_declares_it():
    names = layouts()
    assert set(names) == {
        "timm_inception_v4",
        "timm_inception_resnet_v2",
        "timm_inception_v3",
        "torchvision_inception_v3",
        "torchvision_googlenet",
    }
    for layout in names.values():
        spec = load(layout.spec)
        assert layout.name in spec.weights.layouts, f"{layout.spec} does not declare {layout.name}"
        assert layout.bn_epsilon == 0.001 and layout.input and layout.preprocessing  # documented conventions


@pytest.mark.parametrize("name", sorted(shipped()))
def test_every_layout_a_shipped_spec_declares_exists(name):
    spec = load(name)
    for layout in spec.weights.layouts if spec.weights else []:
        assert layout in layouts()


def test_a_variant_inherits_the_layouts_of_the_spec_it_extends():
    assert load("examples/inception_v4_10class").weights.layouts == ["timm_inception_v4"]
    assert load("inception_v3").weights is None  # Keras' layout: no PyTorch checkpoint computes it


# --- every manifest: each tensor used once, every weight filled, each in its place ------------


@pytest.mark.parametrize(("manifest", "spec", "aux", "unused", "ones"), CASES)
def test_checkpoint_fills_every_weight_of_the_spec_with_each_tensor_used_once(
    tmp_path, manifest, spec, aux, unused, ones
):
    plan, index = _plan(tmp_path, manifest, spec, aux, ones)
    report = plan.report()
    assert report.values == analyze(spec, include_aux=aux).total_params  # every Keras weight has a tensor
    assert not report.skipped
    moved = [m.key for moves in plan.moves.values() for m in moves]
    assert len(moved) == len(set(moved))  # no tensor fills two weights
    counters = [k for k in index if k.endswith("num_batches_tracked")]
    absorbed = [k for k in index if ones and k.endswith("bn.weight")]  # gamma = 1, the spec has no gamma
    expected_unused = [k for k in index if unused and k.startswith(unused) and k not in counters]
    assert sorted(report.unused) == sorted(expected_unused)
    assert set(moved) == set(index) - set(counters) - set(absorbed) - set(report.unused)
    for layer, moves in plan.moves.items():
        values = plan.values(layer)
        for move in moves:  # the fingerprint (the tensor's number) arrived in the weight planned for it
            assert values[move.role].shape == move.shape
            assert values[move.role].sum() == fingerprint(index[move.key]), (layer, move.role, move.key)


def test_a_checkpoint_without_auxiliary_heads_into_a_spec_with_them_asks_for_no_aux(tmp_path):
    with pytest.raises(CheckpointError) as err:
        _plan(tmp_path, "torchvision_googlenet_no_aux", "googlenet_bn", aux=True)
    messages = [d.message for d in err.value.errors]
    first = "aux1.head.conv: no tensor for it: the checkpoint has no `aux1.conv.conv.weight`"
    assert any(m.startswith(first) for m in messages)
    assert all(d.hint and "--no-aux" in d.hint for d in err.value.errors)
    assert len(err.value.errors) == 6  # conv, fc and classifier of each head, nothing else


def test_layout_is_recognised_from_names_and_equal_layouts_are_said_so(tmp_path):
    plan, _ = _plan(tmp_path, "torchvision_inception_v3", "inception_v3_torch")
    assert plan.layout.name == "torchvision_inception_v3"  # the names' origin, which timm extends
    assert any("the same as timm_inception_v3" in note for note in plan.notes)
    plan, _ = _plan(tmp_path, "timm_inception_v4", "inception_v4", ones=True, layout="timm_inception_v4")
    assert plan.layout.name == "timm_inception_v4"


# --- the conversions are exact ----------------------------------------------------------------


def test_conv_kernels_go_from_oihw_to_hwio():
    rng = np.random.default_rng(0)
    torch_kernel = rng.normal(size=(4, 3, 2, 5)).astype(np.float32)  # (out, in, kh, kw)
    keras_kernel = to_keras(torch_kernel, Move("c", "kernel", "k", (2, 5, 3, 4), "conv"))
    patch = rng.normal(size=(3, 2, 5)).astype(np.float32)  # (in, kh, kw), one output position
    torch_out = np.einsum("oihw,ihw->o", torch_kernel, patch)
    keras_out = np.einsum("hwio,hwi->o", keras_kernel, patch.transpose(1, 2, 0))
    np.testing.assert_allclose(keras_out, torch_out, rtol=1e-6)


def test_a_dense_layer_after_a_flatten_gets_its_rows_in_channels_last_order():
    rng = np.random.default_rng(0)
    h, w, c, out = 4, 4, 8, 6
    feature_map = rng.normal(size=(c, h, w)).astype(np.float32)  # PyTorch's layout
    weight = rng.normal(size=(out, c * h * w)).astype(np.float32)  # nn.Linear: (out, in)
    torch_out = weight @ feature_map.reshape(-1)  # torch.flatten(x, 1): channels first
    kernel = to_keras(weight, Move("d", "kernel", "k", (h * w * c, out), "dense", (h, w, c)))
    keras_out = feature_map.transpose(1, 2, 0).reshape(-1) @ kernel  # Flatten on (H, W, C)
    np.testing.assert_allclose(keras_out, torch_out, rtol=1e-5)
    plain = to_keras(weight[:, :c], Move("d", "kernel", "k", (c, out), "dense"))
    np.testing.assert_array_equal(plain, weight[:, :c].T)


def test_googlenets_auxiliary_fc_is_the_one_dense_layer_reordered(tmp_path):
    plan, _ = _plan(tmp_path, "torchvision_googlenet", "googlenet_bn")
    reordered = {m.layer: m.spatial for ms in plan.moves.values() for m in ms if m.spatial}
    assert reordered == {"aux1.head.fc": (4, 4, 128), "aux2.head.fc": (4, 4, 128)}


# --- what does not fit is an error that says what to do -----------------------------------------


def test_a_classifier_of_another_size_names_the_layer_the_key_and_both_shapes(tmp_path):
    with pytest.raises(CheckpointError) as err:
        _plan(tmp_path, "timm_inception_v4", "examples/inception_v4_10class", ones=True)
    kernel, bias = err.value.errors
    assert kernel.message == (
        "main.logits: checkpoint `last_linear.weight` is (1000, 1536), the spec's kernel needs (10, 1536) "
        "(Keras (1536, 10))"
    )
    assert bias.message == "main.logits: checkpoint `last_linear.bias` is (1000,), the spec's bias needs (10,)"
    assert kernel.loc.file.endswith("inception_v4.yaml") and "--partial" in kernel.hint


def test_a_bias_the_spec_lacks_names_the_setting_that_adds_it(tmp_path):
    with pytest.raises(CheckpointError) as err:
        _plan(tmp_path, "torchvision_googlenet", "googlenet_bn", overrides=["defaults.dense.bias=false"])
    (dense,) = err.value.errors
    assert dense.message.startswith("main.classifier: the checkpoint's `fc.bias` is not 0 but the spec's dense has no")
    assert dense.hint == "override `defaults.dense.bias: true` in the spec, or pass --set defaults.dense.bias=true"


def test_a_projection_without_bias_points_at_the_merge_not_at_the_conv_defaults(tmp_path):
    overrides = [f"templates.{name}.merge.residual.projection_bias=false" for name in ("block35", "block17", "block8")]
    with pytest.raises(CheckpointError) as err:
        _plan(tmp_path, "timm_inception_resnet_v2", "inception_resnet_v2", ones=True, overrides=overrides)
    (projection,) = err.value.errors
    assert projection.message == (
        "block35_1.projection: the checkpoint's `repeat.0.conv2d.bias` is not 0 but the spec's conv has no bias "
        "(40 layers like this)"
    )
    assert projection.hint == "write `projection_bias: true` in the block's `merge: {residual: ...}` (its default)"


def test_partial_loads_everything_but_the_classifier_and_says_so(tmp_path):
    plan, index = _plan(tmp_path, "timm_inception_v4", "examples/inception_v4_10class", ones=True, partial=True)
    report = plan.report()
    assert [s.layer for s in report.skipped] == ["main.logits"]
    assert set(report.skipped[0].keys) == {"last_linear.weight", "last_linear.bias"}
    assert report.values == analyze("examples/inception_v4_10class").total_params - (1536 * 10 + 10)
    assert "skipped 1 layer (--partial" in str(report) and "main.logits: checkpoint `last_linear.weight`" in str(report)


def test_a_widened_block_is_skipped_whole_with_partial(tmp_path):
    widened = {"inception_4c.n3x3": 320}
    with pytest.raises(CheckpointError) as err:
        _plan(tmp_path, "torchvision_googlenet", "googlenet_bn", overrides=widened)
    assert {d.message.split(":")[0] for d in err.value.errors} == {
        "inception_4c.3x3.conv",
        "inception_4c.3x3.conv.bn",
        "inception_4d.1x1.conv",
        "inception_4d.3x3.reduce",
        "inception_4d.5x5.reduce",
        "inception_4d.pool.proj",  # every layer reading 4c's wider output
    }
    plan, _ = _plan(tmp_path, "torchvision_googlenet", "googlenet_bn", overrides=widened, partial=True)
    assert [s.layer for s in plan.report().skipped] == [
        "inception_4c.3x3.conv",
        "inception_4d.1x1.conv",
        "inception_4d.3x3.reduce",
        "inception_4d.5x5.reduce",
        "inception_4d.pool.proj",
    ]


def test_gamma_other_than_one_into_a_batch_norm_without_scale_names_the_override(tmp_path):
    with pytest.raises(CheckpointError) as err:  # fingerprinted gammas are not 1
        _plan(tmp_path, "timm_inception_v4", "inception_v4")
    (diag,) = err.value.errors
    assert diag.message.startswith("conv2d_1a_3x3.bn: the checkpoint's `features.0.bn.weight` is not 1")
    assert "(149 layers like this)" in diag.message
    assert diag.hint == "override `defaults.conv.bn.scale: true` in the spec, or pass --set defaults.conv.bn.scale=true"
    plan, _ = _plan(tmp_path, "timm_inception_v4", "inception_v4", overrides={"defaults.conv.bn.scale": True})
    assert plan.report().values == analyze("inception_v4", overrides={"defaults.conv.bn.scale": True}).total_params


def test_a_batch_norm_epsilon_other_than_the_checkpoints_is_an_error(tmp_path):
    with pytest.raises(CheckpointError) as err:
        _plan(tmp_path, "torchvision_googlenet", "googlenet_bn", overrides={"defaults.conv.bn.epsilon": 1e-5})
    (diag,) = err.value.errors
    assert "batch-norm epsilon 1e-05 differs from the checkpoint's model (59 layers like this)" in diag.message
    assert "defaults.conv.bn.epsilon=0.001" in diag.hint


def test_inception_v3_refuses_a_torch_checkpoint_and_names_inception_v3_torch(tmp_path):
    with pytest.raises(CheckpointError) as err:
        _plan(tmp_path, "torchvision_inception_v3", "inception_v3")
    (diag,) = err.value.errors
    assert "made for `inception_v3_torch` (Inception v3 as torchvision and timm build it" in diag.message
    assert "`inception_v3` declares no checkpoint layout" in diag.message
    assert diag.loc.file.endswith("inception_v3.yaml")


def test_a_checkpoint_of_another_spec_names_that_spec(tmp_path):
    with pytest.raises(CheckpointError, match=r"torchvision_googlenet checkpoint .* made for `googlenet_bn`"):
        _plan(tmp_path, "torchvision_googlenet", "inception_v4")


def test_names_no_layout_knows_are_refused_with_the_closest_layout(tmp_path):
    path = tmp_path / "resnet.safetensors"
    names = [("layer1.0.conv1.weight", (64, 64, 3, 3), "float32"), ("fc.weight", (1000, 512), "float32")]
    write_safetensors(path, names)
    with pytest.raises(CheckpointFileError, match="its 2 tensor names follow no known checkpoint layout"):
        plan_checkpoint(lower(load("googlenet_bn")), open_checkpoint(path))


def test_an_unknown_layout_name_is_a_usage_error_with_a_suggestion(tmp_path):
    with pytest.raises(Exception, match="did you mean `timm_inception_v4`"):
        _plan(tmp_path, "timm_inception_v4", "inception_v4", ones=True, layout="tim_inception_v4")


# --- .pth files without PyTorch -----------------------------------------------------------------


def test_a_pth_file_without_torch_exits_with_the_conversion_command(tmp_path, monkeypatch):
    path = tmp_path / "googlenet.pth"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    monkeypatch.setitem(sys.modules, "torch", None)  # as if torch were not installed
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    with pytest.raises(CheckpointFileError) as err:
        open_torch_file(path)
    text = str(err.value)
    assert 'pip install "inceptionspec[torch]"' in text
    assert conversion_command(path) in text
    assert f'"{path.with_suffix(".safetensors")}"' in conversion_command(path)


def test_manifests_are_committed_for_every_layout():
    assert {p.stem for p in FIXTURES.glob("*.json")} >= set(layouts())


def _per_channel(value: object) -> tuple[float, ...]:
    return tuple(value) if isinstance(value, list | tuple) else (float(value),) * 3  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(shipped()))
def test_a_spec_that_states_its_preprocessing_states_what_its_checkpoints_expect(name):
    spec = load(name)
    if spec.weights is None:
        return
    assert spec.preprocessing is not None, f"{name} takes checkpoints but does not say how its input is scaled"
    stated = spec.preprocessing
    for layout in spec.weights.layouts:
        expected = layouts()[layout].preprocessing
        assert (getattr(stated, "channels", "rgb"), _per_channel(stated.mean), _per_channel(stated.std)) == (
            expected.channels,
            _per_channel(expected.mean),
            _per_channel(expected.std),
        ), f"{name}: `preprocessing` says {stated}, but {layout} checkpoints expect {expected} (docs/pretrained.md)"
