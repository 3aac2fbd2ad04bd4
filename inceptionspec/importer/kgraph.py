"""A Keras model config → a graph of layers, checked: known classes only, one input, no shared layers.

Nothing here imports Keras: the config is plain data (read from a ``.keras`` file by
:mod:`inceptionspec.importer.archive`, or serialised from a live model by ``inceptionspec.keras``).
A class is known when it is a stock Keras layer the language can express, one of the project's own
custom layers (``inceptionspec.keras.layers``) or Keras' ``CustomScaleLayer`` of Inception-ResNet-v2;
anything else — a ``Lambda`` with code, a class from another module — is refused by name.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from inceptionspec.core.budget import Budget
from inceptionspec.importer.archive import refuse

#: Stock Keras layers the importer understands (the language has an op, or they fold into one).
STOCK = frozenset(
    {
        "InputLayer",
        "Conv2D",
        "Dense",
        "BatchNormalization",
        "Activation",
        "ReLU",
        "Softmax",
        "MaxPooling2D",
        "AveragePooling2D",
        "GlobalAveragePooling2D",
        "GlobalMaxPooling2D",
        "ZeroPadding2D",
        "Flatten",
        "Dropout",
        "Identity",
        "Concatenate",
        "Add",
        "Rescaling",
    }
)
#: The project's custom layers, as ``inceptionspec.keras.layers`` registers them (a test keeps this in step).
OWN = frozenset(
    {
        "LocalResponseNorm",
        "ScaledResidualAdd",
        "ConstantPad2D",
        "PaddedAveragePooling2D",
        "AdaptiveAveragePooling2D",
        "TrainingOnly",
    }
)
OWN_PACKAGE = "inceptionspec"
#: Layers defined by keras.applications modules: (module, class).
APPLICATIONS = frozenset({("keras.src.applications.inception_resnet_v2", "CustomScaleLayer")})
#: Classes that carry Python code; named in the refusal.
CODE = frozenset({"Lambda", "TFOpLambda", "SlicingOpLambda", "TorchModuleWrapper", "JaxLayer", "FlaxLayer"})
MODELS = frozenset({"Functional", "Sequential", "Model"})


@dataclass
class KLayer:
    """One Keras layer of the config: its class, its config, and the layers it reads (in call order)."""

    index: int
    name: str
    cls: str
    config: dict[str, Any]
    inputs: list[str] = field(default_factory=list)
    #: Called on a list of tensors (a merge), even a list of one.
    on_list: bool = False

    def __str__(self) -> str:
        return f"layer `{shown(self.name)}` ({shown(self.cls)})"


@dataclass
class KGraph:
    name: str
    input: str
    input_shape: tuple[int, ...]
    layers: dict[str, KLayer]
    #: (output name or None, layer name), in the model's order.
    outputs: list[tuple[str | None, str]]
    display: str

    def consumers(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {name: [] for name in self.layers}
        for layer in self.layers.values():
            for source in layer.inputs:
                found[source].append(layer.name)
        return found

    def topological(self) -> list[KLayer]:
        """Layers with every input before its consumer; ties in config order. Refuses a cycle."""
        waiting = {name: len(set(layer.inputs)) for name, layer in self.layers.items()}
        consumers = self.consumers()
        ready = sorted((self.layers[n].index, n) for n, count in waiting.items() if count == 0)
        order: list[KLayer] = []
        heapq.heapify(ready)
        while ready:
            _, name = heapq.heappop(ready)
            order.append(self.layers[name])
            for consumer in dict.fromkeys(consumers[name]):
                waiting[consumer] -= 1
                if waiting[consumer] == 0:
                    heapq.heappush(ready, (self.layers[consumer].index, consumer))
        if len(order) != len(self.layers):
            stuck = min((self.layers[n] for n, c in waiting.items() if c > 0), key=lambda x: x.index)
            raise refuse(self.display, f"{stuck}: the layers form a cycle")
        return order


def shown(text: Any, limit: int = 64) -> str:
    """A name from the file as it may be printed: printable, no terminal escapes, bounded."""
    text = str(text)
    if len(text) <= limit and text.isprintable() and "`" not in text:
        return text
    quoted = json.dumps(text, ensure_ascii=True)
    return quoted if len(quoted) <= limit + 2 else quoted[: limit - 1] + '…"'


def read_graph(data: Any, display: str, budget: Budget | None = None) -> KGraph:
    """The layer graph of a serialised Keras model (Functional or Sequential)."""
    budget = budget or Budget()
    if not isinstance(data, dict):
        raise refuse(display, "not a Keras model config")
    cls = data.get("class_name")
    config = data.get("config")
    if cls not in MODELS or not isinstance(config, dict):
        raise refuse(display, f"not a Keras model: class_name is {shown(cls)}, not Functional or Sequential")
    name = config.get("name") if isinstance(config.get("name"), str) else "model"
    raw_layers = config.get("layers")
    if not isinstance(raw_layers, list) or not raw_layers:
        raise refuse(display, "the model config has no layers")
    if len(raw_layers) > budget.max_layers:
        raise refuse(display, f"the model has {len(raw_layers):,} layers (limit {budget.max_layers:,})")
    layers: dict[str, KLayer] = {}
    for index, raw in enumerate(raw_layers):
        layer = _layer(raw, index, display)
        if layer.name in layers:
            raise refuse(display, f"{layer}: two layers have this name")
        layers[layer.name] = layer
    if cls == "Sequential":
        return _sequential(name, layers, config, display)
    for raw, layer in zip(raw_layers, layers.values(), strict=True):
        layer.inputs, layer.on_list = _inbound(raw.get("inbound_nodes"), layer, display)
        for source in layer.inputs:
            if source not in layers:
                raise refuse(display, f"{layer} reads from `{shown(source)}`, which is not a layer of the model")
    inputs = _endpoints(config.get("input_layers"), display, "input")
    if len(inputs) != 1:
        raise refuse(display, f"the model has {len(inputs)} inputs; a spec has one")
    input_name = inputs[0][1]
    if input_name not in layers or layers[input_name].cls != "InputLayer":
        raise refuse(display, f"the model's input `{shown(input_name)}` is not an input layer")
    outputs = _endpoints(config.get("output_layers"), display, "output")
    for _, out in outputs:
        if out not in layers:
            raise refuse(display, f"the model's output `{shown(out)}` is not a layer of the model")
    graph = KGraph(name, input_name, _input_shape(layers[input_name], display), layers, outputs, display)
    for layer in layers.values():
        if layer.cls == "InputLayer" and layer.name != input_name:
            raise refuse(display, f"{layer}: a second input; a spec has one")
    return graph


def _sequential(name: str, layers: dict[str, KLayer], config: dict[str, Any], display: str) -> KGraph:
    ordered = list(layers.values())
    if ordered[0].cls == "InputLayer":
        first = ordered[0]
        shape = _input_shape(first, display)
    else:
        batch_shape = config.get("build_input_shape") or (ordered[0].config.get("batch_shape"))
        shape = _shape_of(batch_shape, display, "the Sequential model's input")
        input_name = "input"
        while input_name in layers:
            input_name += "_"
        first = KLayer(-1, input_name, "InputLayer", {})
        layers = {first.name: first, **layers}
    previous = first.name
    for layer in ordered:
        if layer is first:
            continue
        if layer.cls == "InputLayer":
            raise refuse(display, f"{layer}: a second input; a spec has one")
        layer.inputs = [previous]
        previous = layer.name
    return KGraph(name, first.name, shape, layers, [(None, previous)], display)


def _layer(raw: Any, index: int, display: str) -> KLayer:
    if not isinstance(raw, dict):
        raise refuse(display, f"layer {index + 1} of the config is not an object")
    cls = raw.get("class_name")
    config = raw.get("config")
    name = raw.get("name", config.get("name") if isinstance(config, dict) else None)
    if not isinstance(cls, str) or not isinstance(name, str) or not isinstance(config, dict):
        raise refuse(display, f"layer {index + 1} of the config lacks a class name, a name or a config")
    layer = KLayer(index, name, cls, config)
    _check_class(layer, raw.get("module"), raw.get("registered_name"), display)
    return layer


def _check_class(layer: KLayer, module: Any, registered: Any, display: str) -> None:
    cls = layer.cls
    if cls in CODE:
        raise refuse(
            display, f"{layer}: it carries Python code, which is never run; write the computation with stock layers"
        )
    if cls in MODELS:
        raise refuse(display, f"{layer}: a model nested in the model; import the inner model on its own")
    if cls in STOCK and (module is None or module == "keras.layers" or str(module).startswith("keras.src.layers")):
        if registered in (None, cls):
            return
    if cls in OWN and registered == f"{OWN_PACKAGE}>{cls}":
        return
    if (module, cls) in APPLICATIONS:
        return
    where = f" from module `{shown(module)}`" if module not in (None, "keras.layers") else ""
    raise refuse(
        display,
        f"{layer}{where}: not a layer the spec language can express "
        "(known: stock Keras layers such as Conv2D, BatchNormalization, pooling, Concatenate, Add, Dense, "
        "and inceptionspec's own layers)",
    )


def _tensor_ref(value: Any) -> tuple[str, int, int] | None:
    """(layer, node index, tensor index) of a serialised tensor, Keras 3 or Keras 2 style."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        history = value.get("config", {}).get("keras_history") if isinstance(value.get("config"), dict) else None
        value = history
    if isinstance(value, list) and len(value) >= 3 and isinstance(value[0], str):
        if isinstance(value[1], int) and isinstance(value[2], int):
            return value[0], value[1], value[2]
    return None


def _inbound(nodes: Any, layer: KLayer, display: str) -> tuple[list[str], bool]:
    if layer.cls == "InputLayer":
        return [], False
    if not isinstance(nodes, list) or not nodes:
        raise refuse(display, f"{layer} is not connected to anything")
    if len(nodes) > 1:
        raise refuse(display, f"{layer} is used {len(nodes)} times (a shared layer); a spec layer is applied once")
    node = nodes[0]
    kwargs: dict[str, Any] = {}
    if isinstance(node, dict):  # Keras 3: {"args": [tensor or [tensors]], "kwargs": {...}}
        args = node.get("args")
        kwargs = node.get("kwargs") or {}
        if not isinstance(args, list) or len(args) != 1 or not isinstance(kwargs, dict):
            raise refuse(display, f"{layer} is called with arguments the spec cannot express")
        first = args[0]
        on_list = isinstance(first, list)
        refs = [_tensor_ref(t) for t in (first if on_list else [first])]
    elif isinstance(node, list):  # Keras 2: [[name, node, tensor, kwargs], ...]
        refs = [_tensor_ref(t) for t in node]
        on_list = len(node) > 1
        for t in node:
            if isinstance(t, list) and len(t) > 3 and isinstance(t[3], dict):
                kwargs.update(t[3])
    else:
        raise refuse(display, f"{layer}: its inbound nodes are in a format this importer does not know")
    # Keras records `training=False` for layers built symbolically; the model's own call decides then.
    fixed = {k: v for k, v in kwargs.items() if v is not None and not (k == "training" and v is False)}
    if fixed:
        keys = ", ".join(sorted(shown(k) for k in fixed))
        raise refuse(display, f"{layer} is called with keyword arguments ({keys}) the spec cannot express")
    if not refs or any(ref is None for ref in refs):
        raise refuse(display, f"{layer}: an input is not a tensor reference")
    for source, node_index, tensor_index in refs:  # type: ignore[misc]
        if node_index != 0:
            raise refuse(display, f"{layer} reads `{shown(source)}`'s use {node_index + 1}: a shared layer")
        if tensor_index != 0:
            raise refuse(display, f"{layer} reads output {tensor_index + 1} of `{shown(source)}`; spec layers have one")
    return [ref[0] for ref in refs], on_list  # type: ignore[index]


def _endpoints(value: Any, display: str, what: str) -> list[tuple[str | None, str]]:
    """Model inputs or outputs: one reference, a list of them, or a mapping name → reference."""
    if isinstance(value, dict):
        items: Iterable[tuple[str | None, Any]] = value.items()
    elif _tensor_ref(value) is not None:
        items = [(None, value)]
    elif isinstance(value, list):
        items = [(None, v) for v in value]
    else:
        raise refuse(display, f"the model config does not say its {what}s")
    found = []
    for key, ref in items:
        parsed = _tensor_ref(ref)
        if parsed is None or not (key is None or isinstance(key, str)):
            raise refuse(display, f"the model config's {what}s are not layer references")
        if parsed[2] != 0 or parsed[1] != 0:
            raise refuse(display, f"the model's {what} `{shown(parsed[0])}` is not a layer's only output")
        found.append((key, parsed[0]))
    return found


def _input_shape(layer: KLayer, display: str) -> tuple[int, ...]:
    config = layer.config
    shape = config.get("batch_shape", config.get("batch_input_shape"))
    return _shape_of(shape, display, str(layer))


def _shape_of(batch_shape: Any, display: str, what: str) -> tuple[int, ...]:
    if not isinstance(batch_shape, list) or len(batch_shape) != 4:
        raise refuse(display, f"{what}: a spec's input is an image, height × width × channels")
    dims = batch_shape[1:]
    if any(d is None for d in dims):
        raise refuse(display, f"{what}: the input size is not fixed ({_dims(dims)}); a spec's input is")
    if not all(isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 100_000 for d in dims):
        raise refuse(display, f"{what}: the input shape {_dims(dims)} is not a list of sizes")
    return tuple(dims)


def _dims(dims: list[Any]) -> str:
    return "×".join("?" if d is None else shown(d, 12) for d in dims)
