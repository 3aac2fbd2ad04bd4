"""Keras model configs written by hand, in the format Keras 3 saves (``config.json`` of a ``.keras`` file),
so importer tests need no Keras: ``Net().conv(...)`` chains layers, ``Net.keras_file(path)`` writes the zip."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any


def tensor(name: str) -> dict[str, Any]:
    return {
        "class_name": "__keras_tensor__",
        "config": {"shape": None, "dtype": "float32", "keras_history": [name, 0, 0]},
    }


class Net:
    """A functional model under construction: each method adds a layer and returns its name."""

    def __init__(self, shape: tuple[int, int, int] = (32, 32, 3), name: str = "net") -> None:
        self.name = name
        self.layers: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}
        self.input = self.layer("InputLayer", [], name="input_layer", batch_shape=[None, *shape], dtype="float32")

    def layer(
        self,
        cls: str,
        inputs: list[str] | str,
        name: str | None = None,
        module: str = "keras.layers",
        registered: str | None = None,
        merge: bool = False,
        **config: Any,
    ) -> str:
        if name is None:
            base = re.sub("([a-z])([A-Z])", r"\1_\2", re.sub("(.)([A-Z][a-z]+)", r"\1_\2", cls)).lower()  # as Keras
            count = self.counts.get(base, 0)
            self.counts[base] = count + 1
            name = base if count == 0 else f"{base}_{count}"
        inputs = [inputs] if isinstance(inputs, str) else inputs
        args = [[tensor(i) for i in inputs]] if merge else [tensor(i) for i in inputs]
        nodes = [{"args": args, "kwargs": {}}] if inputs else []
        self.layers.append(
            {
                "module": module,
                "class_name": cls,
                "config": {"name": name, **config},
                "registered_name": registered,
                "name": name,
                "inbound_nodes": nodes,
            }
        )
        return name

    # stock layers, with Keras' defaults
    def conv(
        self,
        x: str,
        filters: int,
        kernel: int | list[int],
        strides: int = 1,
        padding: str = "same",
        activation: str = "linear",
        bias: bool = True,
        name: str | None = None,
    ) -> str:
        k = [kernel, kernel] if isinstance(kernel, int) else kernel
        return self.layer(
            "Conv2D",
            x,
            name,
            filters=filters,
            kernel_size=k,
            strides=[strides, strides],
            padding=padding,
            data_format="channels_last",
            dilation_rate=[1, 1],
            groups=1,
            activation=activation,
            use_bias=bias,
        )

    def bn(self, x: str, scale: bool = True, name: str | None = None) -> str:
        return self.layer(
            "BatchNormalization", x, name, axis=-1, momentum=0.99, epsilon=0.001, center=True, scale=scale
        )

    def act(self, x: str, fn: str = "relu", name: str | None = None) -> str:
        return self.layer("Activation", x, name, activation=fn)

    def conv_bn(self, x: str, filters: int, kernel: int | list[int], **kw: Any) -> str:
        return self.act(self.bn(self.conv(x, filters, kernel, bias=False, **kw), scale=False))

    def pool(self, x: str, kind: str = "Max", size: int = 3, strides: int = 1, padding: str = "same") -> str:
        return self.layer(
            f"{kind}Pooling2D",
            x,
            pool_size=[size, size],
            strides=[strides, strides],
            padding=padding,
            data_format="channels_last",
        )

    def pad(self, x: str, pads: int | list[list[int]]) -> str:
        pads = [[pads, pads], [pads, pads]] if isinstance(pads, int) else pads
        return self.layer("ZeroPadding2D", x, padding=pads, data_format="channels_last")

    def concat(self, xs: list[str], axis: int = -1, name: str | None = None) -> str:
        return self.layer("Concatenate", xs, name, merge=True, axis=axis)

    def add(self, xs: list[str], name: str | None = None) -> str:
        return self.layer("Add", xs, name, merge=True)

    def gap(self, x: str) -> str:
        return self.layer("GlobalAveragePooling2D", x, data_format="channels_last", keepdims=False)

    def dense(self, x: str, units: int, activation: str = "softmax", name: str | None = None) -> str:
        return self.layer("Dense", x, name, units=units, activation=activation, use_bias=True)

    def config(self, outputs: list[str] | str | None = None) -> dict[str, Any]:
        outputs = outputs or self.layers[-1]["name"]
        refs = [[o, 0, 0] for o in ([outputs] if isinstance(outputs, str) else outputs)]
        return {
            "module": "keras.src.models.functional",
            "class_name": "Functional",
            "config": {
                "name": self.name,
                "trainable": True,
                "layers": self.layers,
                "input_layers": [self.input, 0, 0],
                "output_layers": refs[0] if len(refs) == 1 else refs,
            },
            "registered_name": "Functional",
        }

    def keras_file(self, path: Path, outputs: list[str] | str | None = None) -> Path:
        return write_keras(path, json.dumps(self.config(outputs)))


def write_keras(path: Path, config_text: str | bytes, extra: dict[str, bytes] | None = None) -> Path:
    """A .keras archive holding this config.json (and no weights: the importer never reads them)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        archive.writestr("config.json", config_text)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def inception_net() -> Net:
    """A small Inception-like model of stock layers: stem, two modules of one template, a residual block, head."""
    net = Net((32, 32, 3), "tiny_inception")
    x = net.conv_bn(net.pad(net.input, 1), 16, 3, strides=2, padding="valid")
    x = net.pool(x, strides=2, padding="valid")
    for name, (a, b) in (("mixed0", (8, 12)), ("mixed1", (16, 12))):
        b1 = net.conv_bn(x, a, 1)
        b2 = net.conv_bn(net.conv_bn(x, 8, 1), b, 3)
        b3 = net.conv_bn(net.pool(x, "Average"), 4, 1)
        x = net.concat([b1, b2, b3], name=name)
    r1 = net.conv_bn(x, 8, 1)
    r2 = net.conv_bn(net.conv_bn(x, 8, 1), 8, 3)
    up = net.conv(net.concat([r1, r2], name="res_mixed"), 32, 1, name="res_conv")
    scaled = net.layer("Rescaling", up, scale=0.2, offset=0.0)
    x = net.act(net.add([x, scaled]), name="res_ac")
    net.dense(net.gap(x), 10, name="predictions")
    return net
