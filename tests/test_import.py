"""`inceptionspec import` without Keras: .keras files read as untrusted data, models the language cannot
write refused by name, and the spec written the way a person writes one (templates, repeats, defaults).

The models here are Keras configs written by hand (tests/keras_configs.py) in the format Keras 3 saves;
tests/test_import_keras.py imports real Keras models.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
import test_hostile as hostile
import yaml
from keras_configs import Net, inception_net, write_keras

import inceptionspec
from inceptionspec.core.errors import SpecError
from inceptionspec.core.names import is_name
from inceptionspec.importer import import_spec
from inceptionspec.lang.loader import parse_text
from inceptionspec.lang.writer import comment, scalar

# --- a small Inception-like model, imported ---------------------------------------------------------


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return inception_net().keras_file(tmp_path / "tiny.keras")


def test_a_keras_file_imports_into_a_spec_written_as_a_person_would(tiny):
    imported = import_spec(tiny)
    doc = yaml.safe_load(imported.text)
    # Conv2D + BatchNormalization + ReLU is one conv; what every conv shares is in the defaults.
    assert doc["defaults"]["conv"] == {
        "padding": "same",
        "bias": False,
        "norm": "bn",
        "bn": {"scale": False},
        "activation": "relu",
    }
    # The two modules differ in one number: one template, called with it.
    assert doc["templates"]["mixed"]["params"] == ["branch_0"]
    assert doc["stages"][2:4] == [{"mixed0": {"mixed": [8]}}, {"mixed1": {"mixed": [16]}}]
    # ZeroPadding2D(1) before a valid conv is the conv's padding.
    assert doc["stages"][0] == {"conv": {"filters": 16, "kernel": 3, "strides": 2, "padding": 1}}
    # Concat → 1×1 conv back to the input's channels → Rescaling(0.2) → Add → ReLU: a residual block.
    assert doc["stages"][4]["res"]["merge"] == {"residual": {"scale": 0.2, "activation": "relu"}}
    assert doc["heads"]["main"]["layers"][-1] == {
        "dense": {"name": "predictions", "units": "$classes", "activation": "softmax"}
    }
    assert doc["classes"] == 10
    assert imported.spec.name == "tiny_inception"


def test_the_same_model_gives_the_same_text_byte_for_byte(tiny, tmp_path):
    again = inception_net().keras_file(tmp_path / "again.keras")
    assert import_spec(tiny).text.replace("tiny.keras", "x") == import_spec(again).text.replace("again.keras", "x")


def test_the_imported_spec_computes_what_the_model_computes(tiny):
    analysis = inceptionspec.analyze(import_spec(tiny).spec)
    kinds = [layer.kind for layer in analysis.graph.layers]
    assert kinds.count("conv") == 13 and kinds.count("residual_add") == 1 and kinds.count("concat") == 3
    assert analysis.graph.outputs[0].shape == (10,)


def test_the_python_function_returns_the_loaded_spec(tiny):
    spec = inceptionspec.import_model(tiny)
    assert isinstance(spec, inceptionspec.Spec)
    assert inceptionspec.analyze(spec).total_params == inceptionspec.analyze(import_spec(tiny).spec).total_params


def test_a_name_can_be_given(tiny):
    assert import_spec(tiny, name="mine").spec.name == "mine"


def test_importing_a_keras_file_never_loads_keras(tiny):
    code = (
        "import sys, inceptionspec; inceptionspec.import_model(sys.argv[1]); "
        "print(sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tiny)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# --- what the importer recognises ---------------------------------------------------------------------


def _import(net: Net, tmp_path: Path, outputs=None) -> dict:
    return yaml.safe_load(import_spec(net.keras_file(tmp_path / "m.keras", outputs)).text)


def test_identical_consecutive_blocks_become_one_block_with_repeat(tmp_path):
    net = Net((16, 16, 8))
    x = net.input
    for i in range(1, 4):
        a = net.conv_bn(x, 4, 1)
        b = net.conv_bn(x, 4, 3)
        up = net.conv(net.concat([a, b]), 8, 1)
        x = net.act(net.add([x, up]), name=f"block_{i}_ac")
    net.dense(net.gap(x), 10)
    doc = _import(net, tmp_path)
    (block,) = [s for s in doc["stages"] if "block" in s]
    assert block["block"]["repeat"] == 3
    assert block["block"]["merge"] == {"residual": {"scale": 1.0, "activation": "relu"}}


def test_padding_before_a_pool_that_rounds_up_is_caffes_ceil_pooling(tmp_path):
    net = Net((112, 112, 3))
    x = net.conv(net.input, 8, 3, activation="relu")
    x = net.pad(x, [[0, 1], [0, 1]])  # what Caffe's ceil rounding adds on a 112-wide map for 3×3/2
    net.pool(x, size=3, strides=2, padding="valid")
    op = _import(net, tmp_path)["stages"][-1]
    assert op == {"maxpool": {"size": 3, "strides": 2, "ceil": True}}


def test_zero_padding_before_a_max_pool_needs_values_that_cannot_be_negative(tmp_path):
    net = Net((16, 16, 3))
    x = net.pad(net.conv(net.input, 8, 3), 1)  # a linear conv: negative values, which -inf padding would keep
    net.pool(x, size=3, strides=2, padding="valid")
    with pytest.raises(SpecError, match=r"layer `max_pooling2d` \(MaxPooling2D\): zero padding before a max pool"):
        import_spec(net.keras_file(tmp_path / "m.keras"))


def test_the_projects_own_layers_fold_back_into_their_ops(tmp_path):
    net = Net((32, 32, 3))
    own = {"module": "inceptionspec.keras.layers"}
    x = net.conv(net.input, 8, 3, activation="relu")
    x = net.layer(
        "ConstantPad2D", x, registered="inceptionspec>ConstantPad2D", pads=[0, 1, 0, 1], value=float("-inf"), **own
    )
    x = net.pool(x, size=3, strides=2, padding="valid")
    x = net.layer(
        "LocalResponseNorm",
        x,
        registered="inceptionspec>LocalResponseNorm",
        size=5,
        alpha=1e-4,
        beta=0.75,
        bias=1.0,
        **own,
    )
    x = net.layer(
        "PaddedAveragePooling2D",
        x,
        registered="inceptionspec>PaddedAveragePooling2D",
        pool_size=[3, 3],
        strides=[1, 1],
        pads=[1, 1, 1, 1],
        counted=[0, 0, 0, 0],
        **own,
    )
    r = net.conv(x, 8, 1)
    x = net.layer(
        "ScaledResidualAdd", [x, r], registered="inceptionspec>ScaledResidualAdd", merge=True, scale=0.1, **own
    )
    net.layer(
        "AdaptiveAveragePooling2D", x, registered="inceptionspec>AdaptiveAveragePooling2D", output_size=[2, 2], **own
    )
    text = import_spec(net.keras_file(tmp_path / "m.keras")).text
    assert "maxpool: {size: 3, strides: 2, ceil: true}" in text
    assert "lrn:" in text and "adaptive_avgpool: 2" in text
    assert "avgpool: {size: 3, strides: 1, padding: 1, count_pad: false}" in text
    assert "merge: {residual: {scale: 0.1, activation: none, projection: false}}" in text


def test_an_auxiliary_output_becomes_a_head_reading_its_block(tmp_path):
    net = Net((32, 32, 3))
    x = net.conv_bn(net.input, 8, 3)
    x = net.concat([net.conv_bn(x, 4, 1), net.conv_bn(x, 4, 3)], name="mixed0")
    aux = net.dense(
        net.layer("Flatten", net.pool(x, "Average", 4, 4, "valid"), data_format="channels_last"), 10, name="aux"
    )
    main = net.dense(net.gap(net.conv_bn(x, 16, 3)), 10, name="main")
    marked = net.layer(
        "TrainingOnly",
        aux,
        name="aux_mark",
        module="inceptionspec.keras.layers",
        registered="inceptionspec>TrainingOnly",
    )
    doc = _import(net, tmp_path, outputs=[main, marked])
    assert doc["heads"]["aux"]["from"] == "mixed0"
    assert doc["heads"]["aux"]["training_only"] is True  # the compiler's mark on an auxiliary head
    assert "training_only" not in doc["heads"]["main"]
    assert [next(iter(i)) for i in doc["heads"]["aux"]["layers"]] == ["avgpool", "flatten", "dense"]


def test_a_sequential_model_imports(tmp_path):
    net = Net((8, 8, 3))
    net.dense(net.layer("Flatten", net.conv(net.input, 4, 3, activation="relu")), 5)
    config = net.config()
    layers = config["config"]["layers"]
    for layer in layers:
        layer.pop("inbound_nodes")
    config["class_name"] = "Sequential"
    config["config"] = {"name": "seq", "layers": layers}
    doc = yaml.safe_load(import_spec(write_keras(tmp_path / "s.keras", json.dumps(config))).text)
    assert [next(iter(i)) for i in doc["stages"]] == ["conv"]
    assert doc["name"] == "seq"
    # Without an input layer, the shape comes from the first layer's build shape.
    config["config"] = {"name": "seq2", "layers": layers[1:], "build_input_shape": [None, 8, 8, 3]}
    layers[1]["name"] = "input"  # the name the missing input layer would have had
    doc = yaml.safe_load(import_spec(write_keras(tmp_path / "s2.keras", json.dumps(config))).text)
    assert doc["name"] == "seq2" and doc["input"] == [8, 8, 3]


# --- names from the file: valid, unique, escaped --------------------------------------------------------


def test_names_from_the_file_are_made_valid_and_unique(tmp_path):
    net = Net((16, 16, 3), name="my model: v2\x1b[31m")
    x = net.conv(net.input, 4, 3, name="conv/1 x")
    x = net.conv(x, 4, 3, name="conv 1-x")
    x = net.conv(x, 4, 3, name="\x1b[31mred")
    x = net.conv(x, 4, 3, name="y" * 100)
    net.concat([net.conv(x, 2, 1, name="true"), net.conv(x, 2, 1, name="123")], name="dense")
    imported = import_spec(net.keras_file(tmp_path / "m.keras"))
    assert "\x1b" not in imported.text
    doc = yaml.safe_load(imported.text)
    names = [body.get("name") for item in doc["stages"] for kind, body in item.items() if isinstance(body, dict)]
    assert names[:4] == ["conv_1_x", "conv_1_x_2", "31mred", names[3]]
    assert len(names[3]) <= 64 and is_name(names[3])
    assert doc["name"] == "my_model_v2_x1b_31m" or is_name(doc["name"])
    block = doc["stages"][-1]
    assert list(block) == ["dense_block"]  # an item keyed by an op kind would be that op
    branch_ops = [b[0]["conv"]["name"] for b in block["dense_block"]["branches"].values()]
    assert branch_ops == ["true", "123"]  # written quoted: they read back as strings


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("conv", "conv"),
        ("3x3", "3x3"),
        ("$n1x1", "$n1x1"),
        ("a.b.c", "a.b.c"),
        ("yes", '"yes"'),
        ("null", '"null"'),
        ("123", '"123"'),
        ("1e3", '"1e3"'),
        ("0x10", '"0x10"'),
        ("a b", '"a b"'),
        ("é", '"\\u00e9"'),
        (0.001, "0.001"),
        (1e-05, "1e-05"),
        (True, "true"),
        (None, "null"),
    ],
)
def test_the_writer_quotes_what_yaml_would_read_as_something_else(value, text):
    assert scalar(value) == text
    assert parse_text(f"k: {text}", "<test>")["k"] == value  # read back by the spec loader


def test_comment_lines_hold_printable_ascii_only():
    assert comment("from a\nb\x85c\u2028d.keras") == "# from a?b?c?d.keras"


# --- what the language cannot write: refused, naming the layer, its class and why -----------------------


def _refused(net: Net, tmp_path: Path) -> str:
    with pytest.raises(SpecError) as info:
        import_spec(net.keras_file(tmp_path / "m.keras"))
    message = info.value.format()
    assert len(message.splitlines()) == 1
    return message


def test_a_shared_layer_is_refused(tmp_path):
    net = Net()
    a = net.conv(net.input, 4, 3, name="shared")
    net.layers[-1]["inbound_nodes"].append(
        {"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": [a, 0, 0]}}], "kwargs": {}}
    )
    assert "layer `shared` (Conv2D) is used 2 times (a shared layer)" in _refused(net, tmp_path)


def test_a_skip_connection_across_blocks_is_refused(tmp_path):
    net = Net()
    stem = net.conv(net.input, 8, 3, name="stem")
    inner = net.conv(stem, 4, 1, name="inner")
    x = net.concat([inner, net.conv(stem, 4, 3)], name="mixed0")
    net.concat([net.conv(x, 4, 1), net.conv(inner, 4, 3)], name="mixed1")  # reads inside mixed0
    message = _refused(net, tmp_path)
    assert "layer `inner` (Conv2D) feeds two inputs of layer `mixed1` (Concatenate)" in message
    assert "crosses block boundaries" in message


def test_dense_on_a_feature_map_is_refused_with_the_fix(tmp_path):
    net = Net()
    net.dense(net.pool(net.conv(net.input, 8, 3), "Average", 32, 32, "valid"), 10, name="fc")
    message = _refused(net, tmp_path)
    assert "layer `fc` (Dense): Dense applied to a 1×1×8 feature map" in message
    assert "add Flatten" in message


def test_concatenation_along_height_is_refused(tmp_path):
    net = Net()
    net.concat([net.conv(net.input, 4, 1), net.conv(net.input, 4, 3)], axis=1, name="towers")
    assert "layer `towers` (Concatenate): concatenates along axis 1" in _refused(net, tmp_path)


def test_adding_two_computed_branches_is_refused(tmp_path):
    net = Net()
    x = net.conv(net.input, 8, 3)
    net.add([net.conv(x, 8, 1), net.conv(x, 8, 3)], name="sum")
    assert "layer `sum` (Add): adds two computed branches" in _refused(net, tmp_path)


def test_rescaling_outside_a_residual_branch_is_refused(tmp_path):
    net = Net()
    net.conv(net.layer("Rescaling", net.input, name="scale_input", scale=1 / 255, offset=0.0), 4, 3)
    assert "layer `scale_input` (Rescaling): a rescaling that is not the last layer" in _refused(net, tmp_path)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c.update(data_format="channels_first"), "the spec language is channels-last"),
        (lambda c: c.update(groups=2), "a grouped convolution"),
        (lambda c: c.update(activation="hard_sigmoid"), "activation hard_sigmoid has no counterpart"),
        (lambda c: c.update(filters="64"), "`filters` is 64, not an integer"),
    ],
)
def test_a_conv_the_language_lacks_is_refused(tmp_path, change, expected):
    net = Net()
    net.conv(net.input, 4, 3, name="c")
    change(net.layers[-1]["config"])
    message = _refused(net, tmp_path)
    assert message.startswith(str(tmp_path / "m.keras") + ":1:1: layer `c` (Conv2D): ")
    assert expected in message


@pytest.mark.parametrize(
    ("cls", "module", "registered", "expected"),
    [
        # a stock Keras layer the language has no op for
        ("UpSampling2D", "keras.layers", None, "layer `up` (UpSampling2D): not a layer the spec language"),
        # a custom class from someone else's package: never looked up, never constructed
        ("Swish", "my_project.layers", "MyProject>Swish", "layer `up` (Swish) from module `my_project.layers`"),
        # a name that claims to be inceptionspec's own layer but is registered elsewhere
        ("ScaledResidualAdd", "evil", "Evil>ScaledResidualAdd", "(ScaledResidualAdd) from module `evil`"),
    ],
)
def test_a_layer_the_language_lacks_is_refused_by_name_and_class(tmp_path, cls, module, registered, expected):
    net = Net()
    net.layer(cls, net.conv(net.input, 4, 3), name="up", module=module, registered=registered)
    message = _refused(net, tmp_path)
    assert message.startswith(str(tmp_path / "m.keras") + ":1:1: ")
    assert expected in message


def test_a_config_with_more_layers_than_the_budget_is_refused_before_any_is_read(tmp_path):
    net = Net()
    x = net.input
    for _ in range(5_001):
        x = net.layer("ReLU", x)
    assert "the model has 5,002 layers (limit 5,000)" in _refused(net, tmp_path)


def test_blocks_nested_past_the_depth_limit_are_refused_not_a_crash(tmp_path):
    net = Net((8, 8, 3))

    def nest(x: str, depth: int) -> str:
        if depth == 0:
            return net.conv(x, 2, 1)
        a = net.conv(x, 2, 1)
        return net.concat([nest(a, depth - 1), net.conv(a, 2, 1)])

    nest(net.input, 200)
    assert "blocks nested more than 32 deep" in _refused(net, tmp_path)


def test_an_input_of_unknown_size_is_refused(tmp_path):
    net = Net()
    net.layers[0]["config"]["batch_shape"] = [None, None, None, 3]
    net.conv(net.input, 4, 3)
    assert "the input size is not fixed (?×?×3)" in _refused(net, tmp_path)


# --- hostile .keras files: refused within bounds, through the command line --------------------------


def _lambda(path: Path) -> None:
    net = Net()
    net.layer(
        "Lambda",
        net.input,
        name="evil",
        function={
            "class_name": "__lambda__",
            "config": {
                "code": "4wEAAAAAAAAAAAAAAAEAAAADAAAAQwAAAHMMAAAAdABkAYMBAQB8AFMAKQJOegV0b3VjaCk",
                "defaults": None,
            },
        },
    )
    net.keras_file(path)


def _deep(path: Path) -> None:
    write_keras(path, '{"a": ' * 20_000 + "1" + "}" * 20_000)


def _deep_but_parseable(path: Path) -> None:
    write_keras(path, "[" * 500 + "]" * 500)


def _bomb(path: Path, declared: int) -> None:
    """config.json that inflates to 3 GiB of spaces (3 MB on disk); ``declared``: the size the header claims."""
    chunk = b" " * (1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)  # the same bytes for every chunk
    data = block * 3072 + deflate.flush()
    name = b"config.json"
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, 0, len(data), declared, len(name), 0)
    central = struct.pack(
        "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, 0, len(data), declared, len(name), 0, 0, 0, 0, 0, 0
    )
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(name), len(local) + len(name) + len(data), 0
    )
    path.write_bytes(local + name + data + central + name + end)


def _many_objects(path: Path, count: int, filler: int = 0) -> None:
    """``count`` small JSON objects, and a string that fills config.json up to about its size limit."""
    write_keras(path, '{"filler": "' + "x" * filler + '", "objects": [' + '{"a": {}},' * (count // 2) + "{}]}")


def _outside_class(path: Path) -> None:
    net = Net()
    net.layer("system", net.input, name="run", module="os", registered="os>system", command="touch /tmp/pwned")
    net.keras_file(path)


def _many_entries(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(5000):
            archive.writestr(f"x{i}", b"")


HOSTILE = {
    "lambda.keras": (_lambda, "layer `evil` (Lambda): it carries Python code, which is never run"),
    "deep.keras": (_deep, "config.json is nested more than 64 levels deep"),
    "deep500.keras": (_deep_but_parseable, "config.json is nested 65 levels deep (limit 64)"),
    "bomb.keras": (lambda p: _bomb(p, 3 << 30), "config.json decompresses to 3,221,225,472 bytes"),
    "many_objects.keras": (lambda p: _many_objects(p, 400_000), "config.json has 400,003 JSON objects and arrays"),
    "objects_at_the_limit.keras": (
        lambda p: _many_objects(p, 199_990, 3 << 20),
        "not a Keras model: class_name is None",
    ),
    "bomb_lying.keras": (lambda p: _bomb(p, 1000), "cannot read config.json"),
    "outside.keras": (_outside_class, "layer `run` (system) from module `os`: not a layer the spec language"),
    "many_entries.keras": (_many_entries, "the archive has 5000 entries"),
    "not_a_zip.keras": (lambda p: p.write_bytes(b"\x89HDF\r\n" + b"\0" * 1000), "not a .keras file"),
}


#: The hostile corpus' pace (how much slower this machine is than the reference, and how busy), a fixture here too.
pace = hostile.pace


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_keras_file_is_refused_within_bounds(name, tmp_path, pace):
    make, reason = HOSTILE[name]
    make(tmp_path / name)
    run = hostile.run_limited(["import", name], tmp_path, kill_after=30)
    assert not run.killed and run.returncode == 1, run.stderr
    assert run.stdout == ""
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"{name}:1:1: ") and reason in line, line
    assert "Traceback" not in run.stderr
    assert run.cpu < pace.cpu_limit(2.0)
    assert run.wall < pace.wall_limit(2.0)
    assert run.rss_mb < 300
    assert not Path("/tmp/pwned").exists()


# --- the command line ----------------------------------------------------------------------------------


def test_import_writes_a_file_that_validates(tiny, cli, tmp_path):
    done = cli("import", tiny.name, "-o", "tiny.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("wrote tiny.yaml (") and "layers checked against tiny.keras" in done.stderr
    assert cli("validate", "tiny.yaml", cwd=tmp_path).returncode == 0


def test_summary_render_and_diff_take_a_keras_file(tiny, cli, tmp_path):
    assert cli("import", tiny.name, "-o", "tiny.yaml", cwd=tmp_path).returncode == 0
    summary = cli("summary", tiny.name, cwd=tmp_path)
    assert summary.returncode == 0 and "mixed0" in summary.stdout
    assert cli("render", tiny.name, "-o", "tiny.svg", cwd=tmp_path).returncode == 0
    assert (tmp_path / "tiny.svg").read_text().startswith("<svg")
    same = cli("diff", "tiny.yaml", tiny.name, cwd=tmp_path)
    assert same.returncode == 0, same.stdout + same.stderr


def test_a_source_that_is_not_a_model_is_a_usage_error(cli, tmp_path):
    done = cli("import", "spec.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert "a .keras file or keras:NAME" in done.stderr
    missing = cli("import", "missing.keras", cwd=tmp_path)
    assert missing.returncode == 2 and "missing.keras" in missing.stderr
