"""Fold Keras layers into the ops a spec writes: Conv2D + BatchNormalization + Activation → one ``conv``
with ``norm`` and ``activation``; a padding layer before a conv or pool → that op's ``padding`` (Caffe's
ceil rounding where that is what the pair computes); the project's own layers back into their ops.

The result is a graph of *units* — an op, a concatenation, a residual add or a residual scale — in
topological order, each with its inferred output shape. Every op is validated by the op table and its
shape inferred by the same rules the compiler uses, so a layer the language cannot express is refused
here, by name, with the reason.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from inceptionspec.importer.archive import refuse
from inceptionspec.importer.kgraph import KGraph, KLayer, shown
from inceptionspec.ops import OPS, Op, Shape, ShapeError, concat, fmt_shape, fmt_window, pair, residual_add
from inceptionspec.ops.geometry import Window2D

#: Keras activation names → the language's.
ACTIVATIONS = {
    "relu": "relu",
    "relu6": "relu6",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "softmax": "softmax",
    "gelu": "gelu",
    "silu": "silu",
    "swish": "silu",
    "elu": "elu",
    "selu": "selu",
    "softplus": "softplus",
    "linear": "none",
}
#: Activations whose output is never negative (zero padding before a max pool is then harmless).
NONNEGATIVE = {"relu", "relu6", "sigmoid", "softmax", "softplus"}
PAD_CLASSES = ("ZeroPadding2D", "ConstantPad2D")
PADDED_CLASSES = ("Conv2D", "MaxPooling2D", "AveragePooling2D")


@dataclass
class Unit:
    """One op of the spec to be (or a merge): what it computes and which Keras layers it stands for."""

    uid: int
    kind: str  # "input", an op kind, "concat", "add" (residual, args: scale) or "scale" (args: scale)
    args: dict[str, Any]
    inputs: list[int]
    layers: list[KLayer]
    shape: Shape = ()
    #: Arguments any of whose values computes the same thing (a max pool's ceil when it makes no difference).
    free: set[str] = field(default_factory=set)

    @property
    def layer(self) -> KLayer:
        return self.layers[0]

    def op(self) -> Op:
        return OPS[self.kind].model_validate(self.args)


@dataclass
class Folded:
    name: str
    input_shape: Shape
    units: list[Unit]
    #: (output name or None, unit id)
    outputs: list[tuple[str | None, int]]
    display: str
    #: Output units marked training-only (the compiler's ``TrainingOnly`` layer on an auxiliary head).
    training_only: set[int] = field(default_factory=set)


class _Folder:
    def __init__(self, graph: KGraph) -> None:
        self.graph = graph
        self.display = graph.display
        self.consumers = graph.consumers()
        self.output_layers = {name for _, name in graph.outputs}
        self.units: list[Unit] = []
        self.unit_of: dict[str, int] = {}
        self.absorbed: set[str] = set()
        self.pads: dict[str, tuple[str, tuple[int, ...], float]] = {}
        self.nonneg: list[bool] = []
        self.training_only: set[str] = set()  # TrainingOnly layers: pass-throughs that mark an output

    def error(self, layer: KLayer, why: str) -> Exception:
        return refuse(self.display, f"{layer}: {why}")

    # --- the walk ---------------------------------------------------------------------
    def run(self) -> Folded:
        for layer in self.graph.topological():
            if layer.name in self.absorbed:
                continue
            if layer.cls == "InputLayer":
                self.add(layer, "input", {}, [], self.graph.input_shape)
                continue
            handler = HANDLERS.get(layer.cls)
            if handler is None:  # kgraph admits only classes with a handler; a bug otherwise
                raise self.error(layer, "no conversion for this class")
            handler(self, layer, _Config(self, layer))
        self._settle_free()
        outputs = []
        for key, name in self.graph.outputs:
            if name not in self.unit_of:
                raise self.error(self.graph.layers[name], "a padding layer cannot be a model output")
            outputs.append((key, self.unit_of[name]))
        marked = {self.unit_of[name] for _, name in self.graph.outputs if name in self.training_only}
        for name in self.training_only:
            if name not in self.output_layers:
                raise self.error(self.graph.layers[name], "marks a layer that is not one of the model's outputs")
        return Folded(self.graph.name, self.graph.input_shape, self.units, outputs, self.display, marked)

    def add(
        self, layer: KLayer, kind: str, args: dict[str, Any], inputs: list[int], shape: Shape | None = None
    ) -> Unit:
        unit = Unit(len(self.units), kind, args, inputs, [layer])
        unit.shape = self.infer(unit) if shape is None else shape
        self.units.append(unit)
        self.unit_of[layer.name] = unit.uid
        return unit

    def infer(self, unit: Unit) -> Shape:
        shapes = [self.units[i].shape for i in unit.inputs]
        try:
            if unit.kind == "concat":
                return concat().infer(shapes)
            if unit.kind == "add":
                return residual_add(1.0).infer(shapes)
            if unit.kind == "scale":
                return shapes[0]
            return unit.op().infer(shapes)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise self.error(unit.layer, f"{where}: {first['msg']}") from None
        except ShapeError as exc:
            raise self.error(unit.layer, _shape_message(unit, shapes, exc)) from None

    def inputs_of(self, layer: KLayer) -> list[int]:
        found = []
        for name in layer.inputs:
            if name in self.pads:
                raise self.error(self.graph.layers[name], "padding not followed by a conv or pool")
            found.append(self.unit_of[name])
        return found

    def padded_input(self, layer: KLayer) -> tuple[int, tuple[int, ...] | None, float, KLayer | None]:
        """The unit a conv or pool reads, and the padding a padding layer before it adds."""
        (name,) = layer.inputs
        if name not in self.pads:
            return self.unit_of[name], None, 0.0, None
        source, pads, value = self.pads[name]
        return self.unit_of[source], pads, value, self.graph.layers[name]

    def sole_consumer(self, name: str) -> KLayer | None:
        consumers = self.consumers[name]
        if len(consumers) != 1 or name in self.output_layers:
            return None
        return self.graph.layers[consumers[0]]

    def absorb(self, unit: Unit, tail: str) -> None:
        """Batch norm and activation layers that follow a conv (and only feed the next) join it."""
        while (nxt := self.sole_consumer(tail)) is not None:
            args = unit.args
            if nxt.cls == "BatchNormalization" and args["norm"] == "none":
                settings = _Config(self, nxt).batch_norm(rank=3)
                args.update(norm="bn", bn=settings, order="act_norm" if args["activation"] != "none" else "norm_act")
            elif nxt.cls in ("Activation", "ReLU", "Softmax") and args["activation"] == "none":
                fn = _Config(self, nxt).activation_layer()
                if fn == "none":
                    break
                args["activation"] = fn
            else:
                break
            self.absorbed.add(nxt.name)
            unit.layers.append(nxt)
            tail = nxt.name
        self.unit_of[tail] = unit.uid

    def nonnegative(self, uid: int) -> bool:
        """Whether a unit's output can never be negative (worked out once per unit, in order, without recursion)."""
        for unit in self.units[len(self.nonneg) : uid + 1]:
            self.nonneg.append(self._nonnegative(unit))
        return self.nonneg[uid]

    def _nonnegative(self, unit: Unit) -> bool:
        if unit.kind == "act":
            return unit.args["fn"] in NONNEGATIVE
        if unit.kind in ("conv", "dense"):
            act_last = unit.args.get("norm", "none") == "none" or unit.args.get("order") == "norm_act"
            return unit.args.get("activation") in NONNEGATIVE and act_last
        passes = ("maxpool", "avgpool", "global_avgpool", "global_maxpool", "adaptive_avgpool", "flatten", "dropout")
        if unit.kind in ("scale", "add") and not unit.args["scale"] > 0:
            return False
        if unit.kind in (*passes, "identity", "lrn", "concat", "scale", "add"):
            return all(self.nonneg[i] for i in unit.inputs)
        return False

    def _settle_free(self) -> None:
        """A max pool whose ceil rounding changes nothing takes the value most other max pools have."""
        settled = Counter(u.args["ceil"] for u in self.units if u.kind == "maxpool" and "ceil" not in u.free)
        common = max(settled.items(), key=lambda kv: (kv[1], not kv[0]))[0] if settled else False
        for unit in self.units:
            if "ceil" in unit.free:
                unit.args["ceil"] = common


class _Config:
    """Typed access to one layer's config, with errors naming the layer."""

    def __init__(self, folder: _Folder, layer: KLayer) -> None:
        self.folder, self.layer, self.cfg = folder, layer, layer.config

    def error(self, why: str) -> Exception:
        return self.folder.error(self.layer, why)

    def get(self, key: str, default: Any = None) -> Any:
        return self.cfg.get(key, default)

    def number(self, key: str, default: Any = None, integer: bool = False) -> Any:
        value = self.cfg.get(key, default)
        kinds = (int,) if integer else (int, float)
        finite = not isinstance(value, float) or math.isfinite(value)
        if isinstance(value, bool) or not isinstance(value, kinds) or not finite:
            raise self.error(f"`{key}` is {shown(value, 24)}, not {'an integer' if integer else 'a number'}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.cfg.get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"`{key}` is {shown(value, 24)}, not true or false")
        return value

    def pair(self, key: str, default: Any = None) -> Any:
        """An int or [h, w] as the spec writes it (an int when both are equal)."""
        value = self.cfg.get(key, default)
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value, value]
        if not (isinstance(value, list) and len(value) == 2 and all(_is_int(v) for v in value)):
            raise self.error(f"`{key}` is {shown(value, 24)}, not a size or a pair of sizes")
        return value[0] if value[0] == value[1] else list(value)

    def channels_last(self) -> None:
        fmt = self.cfg.get("data_format")
        if fmt not in (None, "channels_last"):
            raise self.error(f"data_format {shown(fmt, 24)}; the spec language is channels-last")

    def padding_mode(self) -> str:
        mode = self.cfg.get("padding", "valid")
        if mode not in ("same", "valid"):
            raise self.error(f"padding {shown(mode, 24)}; the spec knows same, valid and explicit amounts")
        return mode

    def activation(self, key: str = "activation") -> str:
        value = self.cfg.get(key)
        if value is None:
            return "none"
        if not isinstance(value, str) or value not in ACTIVATIONS:
            raise self.error(f"activation {shown(value, 40)} has no counterpart in the spec language")
        return ACTIVATIONS[value]

    def activation_layer(self) -> str:
        cls = self.layer.cls
        if cls == "Activation":
            return self.activation()
        if cls == "Softmax":
            if self.cfg.get("axis", -1) not in (-1, [-1]):
                raise self.error("softmax over an axis other than the last")
            return "softmax"
        max_value = self.cfg.get("max_value")
        if self.cfg.get("negative_slope", 0.0) != 0 or self.cfg.get("threshold", 0.0) != 0:
            raise self.error("a leaky or thresholded ReLU has no counterpart in the spec language")
        if max_value is None:
            return "relu"
        if max_value == 6:
            return "relu6"
        raise self.error(f"ReLU capped at {shown(max_value, 24)}; the spec knows relu and relu6")

    def batch_norm(self, rank: int) -> dict[str, Any]:
        axis = self.cfg.get("axis", -1)
        axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
        if axis not in (-1, rank):
            raise self.error(f"batch norm over axis {shown(axis, 24)}; the spec normalises the channel (last) axis")
        return {
            "epsilon": self.number("epsilon", 1e-3),
            "momentum": self.number("momentum", 0.99),
            "scale": self.flag("scale", True),
            "center": self.flag("center", True),
        }


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shape_message(unit: Unit, shapes: list[Shape], exc: ShapeError) -> str:
    if unit.kind == "dense" and shapes and len(shapes[0]) == 3:
        return (
            f"Dense applied to a {fmt_shape(shapes[0])} feature map (Keras applies it to the last axis); "
            "the spec's dense takes a flat vector: add Flatten or GlobalAveragePooling2D before it"
        )
    return str(exc)


def _padding_value(pads: tuple[int, ...]) -> Any:
    """(top, bottom, left, right) with top == bottom and left == right, as the spec writes it."""
    ph, pw = pads[0], pads[2]
    if (ph, pw) == (0, 0):
        return "valid"
    return ph if ph == pw else [ph, pw]


# --- one handler per Keras class ------------------------------------------------------------


def _pad(folder: _Folder, layer: KLayer, cfg: _Config) -> None:
    cfg.channels_last()
    if layer.cls == "ZeroPadding2D":
        raw = cfg.get("padding", 1)
        if _is_int(raw):
            raw = [[raw, raw], [raw, raw]]
        elif isinstance(raw, list) and len(raw) == 2 and all(_is_int(v) for v in raw):
            raw = [[raw[0], raw[0]], [raw[1], raw[1]]]
        if not (isinstance(raw, list) and len(raw) == 2 and all(isinstance(p, list) and len(p) == 2 for p in raw)):
            raise cfg.error(f"padding {shown(raw, 40)} is not ((top, bottom), (left, right))")
        pads = (raw[0][0], raw[0][1], raw[1][0], raw[1][1])
        value = 0.0
    else:
        pads = cfg.get("pads")
        pads = tuple(pads) if isinstance(pads, list) and len(pads) == 4 else None
        value = cfg.get("value", 0.0)
        if pads is None or not (isinstance(value, (int, float)) and not isinstance(value, bool)):
            raise cfg.error("pads or value malformed")
    if not all(_is_int(p) and 0 <= p <= 10_000 for p in pads):  # type: ignore[union-attr]
        raise cfg.error(f"padding {shown(list(pads), 40)} is not a list of sizes")  # type: ignore[arg-type]
    consumer = folder.sole_consumer(layer.name)
    if consumer is None or consumer.cls not in PADDED_CLASSES:
        raise cfg.error("padding that does not feed exactly one conv or pool; the spec pads inside convs and pools")
    (source,) = layer.inputs
    if source in folder.pads:
        raise cfg.error("padding after padding; the spec pads once, inside the conv or pool")
    folder.pads[layer.name] = (source, pads, float(value))  # type: ignore[arg-type]
    folder.absorbed.add(layer.name)


def _conv(folder: _Folder, layer: KLayer, cfg: _Config) -> None:
    cfg.channels_last()
    if cfg.get("groups", 1) != 1:
        raise cfg.error("a grouped convolution has no counterpart in the spec language")
    source, pads, value, pad_layer = folder.padded_input(layer)
    padding: Any = cfg.padding_mode()
    if pads is not None:
        if padding != "valid" or value != 0.0:
            raise cfg.error("padding before a conv that pads itself, or with a value other than zero")
        if pads[0] != pads[1] or pads[2] != pads[3]:
            raise cfg.error(f"asymmetric padding {list(pads)} before it; a spec's conv pads symmetrically")
        padding = _padding_value(pads)
    args = {
        "filters": cfg.number("filters", integer=True),
        "kernel": cfg.pair("kernel_size"),
        "strides": cfg.pair("strides", 1),
        "dilation": cfg.pair("dilation_rate", 1),
        "padding": padding,
        "bias": cfg.flag("use_bias", True),
        "norm": "none",
        "activation": cfg.activation(),
        "order": "norm_act",
    }
    unit = folder.add(layer, "conv", args, [source])
    if pad_layer is not None:
        unit.layers.append(pad_layer)
    folder.absorb(unit, layer.name)


def _pool(folder: _Folder, layer: KLayer, cfg: _Config) -> None:
    cfg.channels_last()
    kind = "maxpool" if layer.cls == "MaxPooling2D" else "avgpool"
    source, pads, value, pad_layer = folder.padded_input(layer)
    size = cfg.pair("pool_size")
    strides = cfg.pair("strides", size) if cfg.get("strides") is not None else size
    args: dict[str, Any] = {"size": size, "strides": strides, "padding": cfg.padding_mode(), "ceil": False}
    free: set[str] = set()
    if pads is not None:
        if args["padding"] != "valid":
            raise cfg.error("padding before a pool that pads itself")
        size_hw = folder.units[source].shape[:2]
        if kind == "maxpool":
            if value == -math.inf:
                pass
            elif value != 0.0:
                raise cfg.error(f"padding with {value:g} before a max pool; the spec's max pool pads with -inf")
            elif any(pads) and not folder.nonnegative(source):
                raise cfg.error(
                    "zero padding before a max pool on values that can be negative; the spec's max pool pads with "
                    "-inf (the two agree only after a ReLU)"
                )
            ceils = _pool_ceils(pads, size_hw, size, strides)
        else:
            if value != 0.0 or pads[0] != pads[1] or pads[2] != pads[3]:
                raise cfg.error(f"padding {list(pads)} before an average pool: the spec pads symmetrically with zeros")
            ceils = [False]
            args["count_pad"] = True
        if not ceils:
            raise cfg.error(
                f"padding {list(pads)} before a {fmt_window(size, strides)} pool on a {fmt_shape(size_hw)} map: "
                "no spec padding (with or without ceil rounding) computes it"
            )
        args["padding"] = _padding_value(pads)
        args["ceil"] = ceils[0]
        if len(ceils) == 2:
            free.add("ceil")
    elif kind == "maxpool" and args["padding"] == "valid":
        size_hw = folder.units[source].shape[:2]
        if len(_pool_ceils((0, 0, 0, 0), size_hw, size, strides)) == 2:
            free.add("ceil")
    unit = folder.add(layer, kind, args, [source])
    unit.free = free
    if pad_layer is not None:
        unit.layers.append(pad_layer)


def _pool_ceils(pads: tuple[int, ...], size_hw: tuple[int, ...], size: Any, strides: Any) -> list[bool]:
    (kh, kw), (ph, pw) = pair(size), (pads[0], pads[2])
    if 2 * ph > kh or 2 * pw > kw:
        return []
    padding = _padding_value((ph, ph, pw, pw))
    return [c for c in (False, True) if _pads(size_hw, Window2D.of(size, strides, padding, ceil=c)) == pads]


def _pads(size_hw: tuple[int, ...], window: Window2D) -> tuple[int, ...] | None:
    """The pads after which a ``valid`` window computes ``window``; None when it does not fit."""
    try:
        return window.pads(size_hw[0], size_hw[1])
    except ShapeError:
        return None


def _padded_avgpool(folder: _Folder, layer: KLayer, cfg: _Config) -> None:
    source = folder.inputs_of(layer)[0]
    size, strides = cfg.pair("pool_size"), cfg.pair("strides")
    pads, counted = tuple(cfg.get("pads") or ()), tuple(cfg.get("counted") or ())
    if len(pads) != 4 or len(counted) != 4 or not all(_is_int(v) and v >= 0 for v in pads + counted):
        raise cfg.error("pads or counted malformed")
    hw = folder.units[source].shape[:2]
    args: dict[str, Any] | None = None
    for ceil in _pool_ceils(pads, hw, size, strides):
        ph, pw = pads[0], pads[2]
        if counted == (ph, ph, pw, pw) and (ph, pw) != (0, 0):
            count: bool | None = True
        elif counted == (0, 0, 0, 0):
            count = False if (ph, pw) != (0, 0) else None
        else:
            continue
        args = {"size": size, "strides": strides, "padding": _padding_value(pads), "ceil": ceil, "count_pad": count}
        break
    if args is None and pads == _pads(hw, Window2D.of(size, strides, "same")) and counted == pads:
        args = {"size": size, "strides": strides, "padding": "same", "ceil": False, "count_pad": True}
    if args is None:
        raise cfg.error(f"pads {list(pads)} counted {list(counted)}: no spec average pool computes this")
    folder.add(layer, "avgpool", args, [source])


def _simple(kind: str, make: Callable[[_Config], dict[str, Any]]) -> Callable[[_Folder, KLayer, _Config], None]:
    def handler(folder: _Folder, layer: KLayer, cfg: _Config) -> None:
        folder.add(layer, kind, make(cfg), folder.inputs_of(layer))

    return handler


def _dense(cfg: _Config) -> dict[str, Any]:
    return {
        "units": cfg.number("units", integer=True),
        "bias": cfg.flag("use_bias", True),
        "activation": cfg.activation(),
    }


def _dropout(cfg: _Config) -> dict[str, Any]:
    if cfg.get("noise_shape") is not None:
        raise cfg.error("dropout with a noise shape has no counterpart in the spec language")
    return {"rate": cfg.number("rate")}


def _global(cfg: _Config) -> dict[str, Any]:
    cfg.channels_last()
    return {"keepdims": cfg.flag("keepdims", False)}


def _flatten(cfg: _Config) -> dict[str, Any]:
    cfg.channels_last()
    return {}


def _standalone_bn(folder: _Folder, layer: KLayer, cfg: _Config) -> None:
    inputs = folder.inputs_of(layer)
    rank = len(folder.units[inputs[0]].shape)
    folder.add(layer, "bn", cfg.batch_norm(rank), inputs)


def _activation(folder: _Folder, layer: KLayer, cfg: _Config) -> None:
    fn = cfg.activation_layer()
    if fn == "none":
        folder.add(layer, "identity", {}, folder.inputs_of(layer))
    else:
        folder.add(layer, "act", {"fn": fn}, folder.inputs_of(layer))


def _concatenate(folder: _Folder, layer: KLayer, cfg: _Config) -> None:
    inputs = folder.inputs_of(layer)
    rank = len(folder.units[inputs[0]].shape)
    axis = cfg.get("axis", -1)
    if not _is_int(axis) or axis not in (-1, rank):
        raise cfg.error(
            f"concatenates along axis {shown(axis, 24)} of rank-{rank + 1} tensors; the spec concatenates "
            "branches on the channel (last) axis"
        )
    folder.add(layer, "concat", {}, inputs)


def _add(folder: _Folder, layer: KLayer, cfg: _Config) -> None:
    inputs = folder.inputs_of(layer)
    if len(inputs) != 2:
        raise cfg.error(f"adds {len(inputs)} tensors; the spec's residual merge adds a block's branches to its input")
    scale = 1.0 if layer.cls == "Add" else float(cfg.number("scale"))
    folder.add(layer, "add", {"scale": scale}, inputs)


def _training_only(folder: _Folder, layer: KLayer, cfg: _Config) -> None:
    """inceptionspec's mark on an auxiliary head's output: the head is ``training_only``; no layer."""
    (source,) = folder.inputs_of(layer)
    folder.unit_of[layer.name] = source
    folder.training_only.add(layer.name)


def _rescaling(folder: _Folder, layer: KLayer, cfg: _Config) -> None:
    offset = cfg.get("offset", 0.0)
    scale = cfg.number("scale")
    if offset != 0:
        raise cfg.error("rescaling with an offset has no counterpart in the spec language")
    folder.add(layer, "scale", {"scale": float(scale)}, folder.inputs_of(layer))


def _lrn(cfg: _Config) -> dict[str, Any]:
    return {
        "size": cfg.number("size", 5, integer=True),
        "alpha": cfg.number("alpha", 1e-4),
        "beta": cfg.number("beta", 0.75),
        "bias": cfg.number("bias", 1.0),
    }


HANDLERS: dict[str, Callable[[_Folder, KLayer, _Config], None]] = {
    "ZeroPadding2D": _pad,
    "ConstantPad2D": _pad,
    "Conv2D": _conv,
    "MaxPooling2D": _pool,
    "AveragePooling2D": _pool,
    "PaddedAveragePooling2D": _padded_avgpool,
    "Dense": _simple("dense", _dense),
    "BatchNormalization": _standalone_bn,
    "Activation": _activation,
    "ReLU": _activation,
    "Softmax": _activation,
    "GlobalAveragePooling2D": _simple("global_avgpool", _global),
    "GlobalMaxPooling2D": _simple("global_maxpool", _global),
    "Flatten": _simple("flatten", _flatten),
    "Dropout": _simple("dropout", _dropout),
    "Identity": _simple("identity", lambda cfg: {}),
    "TrainingOnly": _training_only,
    "Concatenate": _concatenate,
    "Add": _add,
    "ScaledResidualAdd": _add,
    "CustomScaleLayer": _add,
    "Rescaling": _rescaling,
    "LocalResponseNorm": _simple("lrn", _lrn),
    "AdaptiveAveragePooling2D": _simple("adaptive_avgpool", lambda cfg: {"size": cfg.pair("output_size")}),
}


def fold(graph: KGraph) -> Folded:
    """The units of a Keras layer graph; SpecError naming the first layer that cannot be expressed."""
    return _Folder(graph).run()
