"""The package's layout keeps its promises: Keras only in `inceptionspec/keras/`, small modules,
a stable public API, and one reversible naming scheme."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import inceptionspec
from inceptionspec.core.names import BACKEND_SEP, MAX_NAME_LENGTH, SpecPath, backend_name, is_name, spec_path
from inceptionspec.lang.library import shipped

PACKAGE = Path(inceptionspec.__file__).parent
#: Top-level modules that bring a deep-learning framework with them.
FRAMEWORKS = {"keras", "tensorflow", "tf_keras", "jax", "torch"}
#: The one subpackage allowed to import them.
KERAS_ROOM = PACKAGE / "keras"
#: The PyTorch checkpoint reader may import torch, inside a function only (torch.load(weights_only=True)).
TORCH_READER = PACKAGE / "weights" / "torch_file.py"
MAX_MODULE_LINES = 600


def framework_imports(source: str) -> list[str]:
    """The framework modules a Python source imports (anywhere: top level or inside functions)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [name for name in names if name.split(".")[0] in FRAMEWORKS]
    return found


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_only_the_keras_subpackage_imports_a_framework():
    strays = {
        str(path.relative_to(PACKAGE)): framework_imports(path.read_text(encoding="utf-8"))
        for path in modules()
        if not path.is_relative_to(KERAS_ROOM)
    }
    strays[str(TORCH_READER.relative_to(PACKAGE))] = [
        name for name in strays[str(TORCH_READER.relative_to(PACKAGE))] if name != "torch"
    ]
    assert {path: names for path, names in strays.items() if names} == {}


def test_the_torch_checkpoint_reader_imports_torch_only_when_reading_a_pth_file():
    top_level = ast.parse(TORCH_READER.read_text(encoding="utf-8")).body
    assert framework_imports(TORCH_READER.read_text(encoding="utf-8")) == ["torch"]
    imports = [node for node in top_level if isinstance(node, ast.Import | ast.ImportFrom)]
    assert not any(framework_imports(ast.unparse(node)) for node in imports)


@pytest.mark.parametrize(
    "source",
    ["import keras", "import tensorflow as tf", "from keras import ops", "def f():\n    import torch.nn\n"],
)
def test_the_import_check_catches_a_stray_import(source):
    assert framework_imports(source)


def test_the_import_check_ignores_our_own_keras_subpackage():
    assert framework_imports("from inceptionspec.keras import build_model\nfrom . import keras") == []


def test_no_module_is_longer_than_one_sitting():
    long = {
        str(path.relative_to(PACKAGE)): n
        for path in modules()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


@pytest.mark.parametrize("name", inceptionspec.__all__)
def test_every_public_name_imports(name):
    assert getattr(inceptionspec, name) is not None


def test_the_public_api_is_listed_by_dir():
    assert set(inceptionspec.__all__) <= set(dir(inceptionspec))


# --- names ----------------------------------------------------------------------------

names = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9-]{0,6}(_[A-Za-z0-9-]{1,6}){0,2}\Z")


@given(st.lists(names, min_size=1, max_size=6))
def test_a_path_round_trips_through_its_backend_name(parts):
    path = SpecPath(tuple(parts))
    assert all(is_name(p) for p in parts)
    assert SpecPath.from_backend(path.backend) == path
    assert SpecPath.parse(path.dotted) == path
    assert "." not in path.backend and "/" not in path.backend


@pytest.mark.parametrize(
    "text", ["", "_a", "a_", "a__b", "a.b", "a/b", "a b", "x" * (MAX_NAME_LENGTH + 1), 'x"y', "[/x]", "é"]
)
def test_names_that_would_break_the_scheme_are_not_names(text):
    assert not is_name(text)


@pytest.mark.parametrize("text", ["conv", "3x3", "inception_3a", "block35_1", "mixed-5b", "a_b_c"])
def test_ordinary_names_are_names(text):
    assert is_name(text)


@pytest.mark.parametrize("name", sorted(shipped()))
def test_every_layer_of_every_shipped_spec_has_a_reversible_backend_name(name):
    graph = inceptionspec.analyze(name).graph
    for layer in graph.layers:
        backend = backend_name(layer.name)
        assert spec_path(backend) == layer.name
        # PyTorch rejects "." in parameter and module names, Keras rejects "/".
        assert "." not in backend and "/" not in backend
        assert all(is_name(part) for part in backend.split(BACKEND_SEP)), layer.name


def test_every_keras_layer_name_is_a_backend_name_that_maps_back_to_the_ir(tmp_path):
    keras = pytest.importorskip("keras")
    path = tmp_path / "small.yaml"
    path.write_text(
        "version: 1\nname: small\ninput: [19, 19, 3]\nclasses: 3\n"
        "defaults: {conv: {norm: bn, activation: relu, bias: false}}\n"
        "stages:\n"
        "  - conv: {name: stem, filters: 4, kernel: 3, padding: 1}\n"
        "  - maxpool: {name: pool, size: 3, strides: 2, ceil: true}\n"
        "  - mixed-5b: {branches: {1x1: [conv: {filters: 2, kernel: 1}], pool: [avgpool: {size: 3, strides: 1, "
        "padding: 1}, conv: {filters: 2, kernel: 1}]}}\n"
        "  - res: {branches: {a: [conv: {filters: 2, kernel: 1}]}, merge: {residual: {scale: 0.2}}}\n"
        "heads:\n  main: {layers: [global_avgpool: , dense: {units: $classes}]}\n"
    )
    from inceptionspec.keras import build_model

    spec = inceptionspec.load(path)
    graph = inceptionspec.analyze(spec).graph
    model = build_model(spec)
    names = [layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    # PyTorch rejects "." in module and parameter names; Keras rejects "/".
    assert not [name for name in names if "." in name or "/" in name]
    paths = {SpecPath.from_backend(name) for name in names}
    ir = {layer.path for layer in graph.layers}
    assert ir <= paths
    # The rest are explicit padding layers, each named as a part of the IR layer it serves.
    assert {path.parent for path in paths - ir} <= ir and {path.name for path in paths - ir} == {"pad"}
    assert all(is_name(part) for path in paths for part in path.parts)


def test_every_subpackage_is_packaged():
    """A non-editable install ships only the packages pyproject.toml lists."""
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(PACKAGE.parent).parts) for p in PACKAGE.rglob("__init__.py")}
    assert on_disk - listed == set()
