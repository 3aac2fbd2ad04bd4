"""Stage 6 — compile the IR into a Keras 3 functional model.

This is the only module of the package that imports keras.  Each IR op has one
entry in :data:`LOWERINGS`; stock Keras layers are used wherever one exists,
and the few that do not exist (local response normalisation, the scaled
residual add, padding with -inf for Caffe's ceil pooling, average pooling with
PyTorch's divisor, adaptive average pooling) are small layers written with
``keras.ops`` and registered as serializable.  No Lambda layers, no direct
TensorFlow calls.

Layer names come from the IR; initializers and dropout seeds are derived from
(seed, layer name), so the same spec and seed give the same weights in any
process.  Every build is checked against the static analysis.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops as K  # noqa: E402

from .analysis import Analysis, analyze_graph
from .errors import Budget
from .ir import INPUT, Graph, Layer, lower
from .models import Spec
from .ops import (
    LRN,
    Act,
    AdaptiveAvgPool,
    AvgPool,
    BatchNorm,
    Concat,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool,
    GlobalMaxPool,
    Identity,
    MaxPool,
    Op,
    ResidualAdd,
    pair,
)

PACKAGE = "inceptionspec"


class BuildError(RuntimeError):
    """The compiled model disagrees with the static analysis: a bug, never silent."""


# --- custom layers --------------------------------------------------------------------


@keras.saving.register_keras_serializable(package=PACKAGE)
class LocalResponseNorm(keras.layers.Layer):
    """Caffe's across-channel LRN: x / (bias + alpha/size · Σ x²)^beta over `size` channels."""

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, bias: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.size, self.alpha, self.beta, self.bias = int(size), float(alpha), float(beta), float(bias)

    def call(self, x: Any) -> Any:
        half = self.size // 2
        channels = x.shape[-1]
        squared = K.pad(K.square(x), [[0, 0], [0, 0], [0, 0], [half, half]])
        total = squared[..., 0:channels]
        for i in range(1, self.size):
            total = total + squared[..., i : i + channels]
        return x / K.power(self.bias + (self.alpha / self.size) * total, self.beta)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size, "alpha": self.alpha, "beta": self.beta, "bias": self.bias}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ScaledResidualAdd(keras.layers.Layer):
    """shortcut + scale · residual (Inception-ResNet)."""

    def __init__(self, scale: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs: list[Any]) -> Any:
        shortcut, residual = inputs
        return shortcut + self.scale * residual

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape[0]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ConstantPad2D(keras.layers.Layer):
    """Pads H and W by (top, bottom, left, right) with a constant (-inf before a max pool)."""

    def __init__(self, pads: tuple[int, int, int, int] = (0, 0, 0, 0), value: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.pads = tuple(int(p) for p in pads)
        self.value = float(value)

    def call(self, x: Any) -> Any:
        t, b, left, r = self.pads
        return K.pad(x, [[0, 0], [t, b], [left, r], [0, 0]], constant_values=self.value)

    def compute_output_shape(self, input_shape: Any) -> Any:
        n, h, w, c = input_shape
        t, b, left, r = self.pads
        return n, None if h is None else h + t + b, None if w is None else w + left + r, c

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pads": list(self.pads), "value": self.value}


@keras.saving.register_keras_serializable(package=PACKAGE)
class PaddedAveragePooling2D(keras.layers.Layer):
    """Average pooling with explicit padding and PyTorch's divisor rules.

    Pads with zeros by (top, bottom, left, right), pools the full window, then
    rescales each output by window area / counted cells: cells inside the input
    only (``count_pad`` false) or inside input plus explicit padding (true)."""

    def __init__(
        self,
        pool_size: tuple[int, int] = (3, 3),
        strides: tuple[int, int] = (1, 1),
        pads: tuple[int, int, int, int] = (0, 0, 0, 0),
        counted: tuple[int, int, int, int] = (0, 0, 0, 0),
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.pool_size = tuple(int(v) for v in pool_size)
        self.strides = tuple(int(v) for v in strides)
        self.pads = tuple(int(v) for v in pads)
        self.counted = tuple(int(v) for v in counted)  # padding that counts: top, bottom, left, right

    def build(self, input_shape: Any) -> None:
        _, h, w, _ = input_shape
        (kh, kw), (sh, sw) = self.pool_size, self.strides
        t, b, left, r = self.pads
        ct, cb, cl, cr = self.counted
        rows = _divisors(h, kh, sh, t, b, ct, cb)
        cols = _divisors(w, kw, sw, left, r, cl, cr)
        self._rescale = (kh * kw) / np.outer(rows, cols)[None, :, :, None].astype("float32")

    def call(self, x: Any) -> Any:
        t, b, left, r = self.pads
        x = K.pad(x, [[0, 0], [t, b], [left, r], [0, 0]])
        pooled = K.average_pool(x, self.pool_size, self.strides, padding="valid")
        return pooled * K.convert_to_tensor(self._rescale, dtype=pooled.dtype)

    def compute_output_shape(self, input_shape: Any) -> Any:
        n, h, w, c = input_shape
        (kh, kw), (sh, sw) = self.pool_size, self.strides
        t, b, left, r = self.pads
        return n, (h + t + b - kh) // sh + 1, (w + left + r - kw) // sw + 1, c

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "pads": list(self.pads),
            "counted": list(self.counted),
        }


def _divisors(size: int, k: int, s: int, pad_lo: int, pad_hi: int, count_lo: int, count_hi: int) -> np.ndarray:
    out = (size + pad_lo + pad_hi - k) // s + 1
    starts = np.arange(out) * s - pad_lo
    lo, hi = -count_lo, size + count_hi
    return np.minimum(starts + k, hi) - np.maximum(starts, lo)


@keras.saving.register_keras_serializable(package=PACKAGE)
class AdaptiveAveragePooling2D(keras.layers.Layer):
    """PyTorch's AdaptiveAvgPool2d: window i spans [floor(i·H/out), ceil((i+1)·H/out))."""

    def __init__(self, output_size: tuple[int, int] = (1, 1), **kwargs: Any):
        super().__init__(**kwargs)
        self.output_size = tuple(int(v) for v in output_size)

    def call(self, x: Any) -> Any:
        h, w = x.shape[1], x.shape[2]
        oh, ow = self.output_size
        rows = []
        for i in range(oh):
            h0, h1 = (i * h) // oh, -(-((i + 1) * h) // oh)
            cells = []
            for j in range(ow):
                w0, w1 = (j * w) // ow, -(-((j + 1) * w) // ow)
                cells.append(K.mean(x[:, h0:h1, w0:w1, :], axis=(1, 2), keepdims=True))
            rows.append(K.concatenate(cells, axis=2))
        return K.concatenate(rows, axis=1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape[0], *self.output_size, input_shape[-1]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "output_size": list(self.output_size)}


CUSTOM_OBJECTS = {
    cls.__name__: cls
    for cls in (LocalResponseNorm, ScaledResidualAdd, ConstantPad2D, PaddedAveragePooling2D, AdaptiveAveragePooling2D)
}


# --- lowering table -------------------------------------------------------------------


@dataclass
class Context:
    seed: int
    #: IR layer name → the Keras layer producing its output (for the self-check).
    produced_by: dict[str, keras.layers.Layer] = field(default_factory=dict)

    def seed_for(self, name: str) -> int:
        digest = hashlib.sha256(f"{self.seed}:{name}".encode()).digest()
        return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


Lowering = Callable[[Any, Layer, list[Any], Context], Any]


def _apply(ctx: Context, layer: Layer, keras_layer: keras.layers.Layer, x: Any) -> Any:
    ctx.produced_by[layer.name] = keras_layer
    return keras_layer(x)


def _explicit_pads(padding: Any, size: tuple[int, int], kernel: Any, strides: Any, ceil: bool) -> tuple[int, ...]:
    """(top, bottom, left, right): explicit padding plus the extra row/column of ceil rounding."""
    ph, pw = (0, 0) if padding == "valid" else pair(padding)
    (kh, kw), (sh, sw) = pair(kernel), pair(strides)
    pads = []
    for n, k, s, p in ((size[0], kh, sh, ph), (size[1], kw, sw, pw)):
        extra = 0
        if ceil:
            out = -(-(n + 2 * p - k) // s) + 1
            if (out - 1) * s >= n + p:
                out -= 1
            extra = max(0, (out - 1) * s + k - (n + 2 * p))
        pads += [p, p + extra]
    return tuple(pads)


def lower_conv(op: Conv, layer: Layer, inputs: list[Any], ctx: Context) -> Any:
    x = inputs[0]
    padding = op.padding
    if padding not in ("same", "valid"):
        ph, pw = pair(padding)
        x = keras.layers.ZeroPadding2D(((ph, ph), (pw, pw)), name=f"{layer.name}.pad")(x)
        padding = "valid"
    conv = keras.layers.Conv2D(
        int(op.filters),
        pair(op.kernel),
        strides=pair(op.strides),
        padding=padding,
        dilation_rate=pair(op.dilation),
        use_bias=bool(op.bias),
        kernel_initializer=keras.initializers.GlorotUniform(seed=ctx.seed_for(layer.name)),
        bias_initializer="zeros",
        name=layer.name,
    )
    return _apply(ctx, layer, conv, x)


def lower_maxpool(op: MaxPool, layer: Layer, inputs: list[Any], ctx: Context) -> Any:
    x = inputs[0]
    strides = pair(op.effective_strides())
    padding = op.padding
    if padding not in ("same", "valid") or op.ceil:
        pads = _explicit_pads(padding, layer.input_shapes[0][:2], op.size, strides, bool(op.ceil))
        if any(pads):
            x = ConstantPad2D(pads, value=-math.inf, name=f"{layer.name}.pad")(x)
        padding = "valid"
    pool = keras.layers.MaxPooling2D(pair(op.size), strides=strides, padding=padding, name=layer.name)
    return _apply(ctx, layer, pool, x)


def lower_avgpool(op: AvgPool, layer: Layer, inputs: list[Any], ctx: Context) -> Any:
    x = inputs[0]
    strides, size = pair(op.effective_strides()), pair(op.size)
    h, w = layer.input_shapes[0][:2]
    stock_same = op.padding == "same" and not op.count_pad
    stock_valid = op.padding == "valid" and not op.ceil
    if stock_same or stock_valid:
        pool = keras.layers.AveragePooling2D(size, strides=strides, padding=op.padding, name=layer.name)
        return _apply(ctx, layer, pool, x)
    if op.padding == "same":  # 'same' geometry, padding counted in the divisor
        pads = []
        for n, k, s in ((h, size[0], strides[0]), (w, size[1], strides[1])):
            total = max((-(-n // s) - 1) * s + k - n, 0)
            pads += [total // 2, total - total // 2]
        counted = tuple(pads)
    else:
        pads = list(_explicit_pads(op.padding, (h, w), size, strides, bool(op.ceil)))
        ph, pw = (0, 0) if op.padding == "valid" else pair(op.padding)
        count = op.count_pad is not False  # explicit padding counts unless told otherwise (PyTorch)
        counted = (ph, ph, pw, pw) if count else (0, 0, 0, 0)
    pool = PaddedAveragePooling2D(size, strides, tuple(pads), counted, name=layer.name)
    return _apply(ctx, layer, pool, x)


def lower_dense(op: Dense, layer: Layer, inputs: list[Any], ctx: Context) -> Any:
    dense = keras.layers.Dense(
        int(op.units),
        activation=None if op.activation == "none" else op.activation,
        use_bias=bool(op.bias),
        kernel_initializer=keras.initializers.GlorotUniform(seed=ctx.seed_for(layer.name)),
        name=layer.name,
    )
    return _apply(ctx, layer, dense, inputs[0])


def _stock(make: Callable[[Any, Layer, Context], keras.layers.Layer], merge: bool = False) -> Lowering:
    """A lowering to one Keras layer; a merge takes its inputs as a list (even one branch)."""

    def lowering(op: Any, layer: Layer, inputs: list[Any], ctx: Context) -> Any:
        return _apply(ctx, layer, make(op, layer, ctx), inputs if merge else inputs[0])

    return lowering


#: One entry per IR op. A test checks every op in ``inceptionspec.ops.OPS`` has one.
LOWERINGS: dict[type[Op], Lowering] = {
    Conv: lower_conv,
    MaxPool: lower_maxpool,
    AvgPool: lower_avgpool,
    Dense: lower_dense,
    BatchNorm: _stock(
        lambda op, layer, ctx: keras.layers.BatchNormalization(
            epsilon=float(op.epsilon),
            momentum=float(op.momentum),
            scale=bool(op.scale),
            center=bool(op.center),
            name=layer.name,
        )
    ),
    Act: _stock(lambda op, layer, ctx: keras.layers.Activation(op.fn, name=layer.name)),
    LRN: _stock(lambda op, layer, ctx: LocalResponseNorm(op.size, op.alpha, op.beta, op.bias, name=layer.name)),
    AdaptiveAvgPool: _stock(lambda op, layer, ctx: AdaptiveAveragePooling2D(pair(op.size), name=layer.name)),
    GlobalAvgPool: _stock(
        lambda op, layer, ctx: keras.layers.GlobalAveragePooling2D(keepdims=bool(op.keepdims), name=layer.name)
    ),
    GlobalMaxPool: _stock(
        lambda op, layer, ctx: keras.layers.GlobalMaxPooling2D(keepdims=bool(op.keepdims), name=layer.name)
    ),
    Dropout: _stock(
        lambda op, layer, ctx: keras.layers.Dropout(float(op.rate), seed=ctx.seed_for(layer.name), name=layer.name)
    ),
    Flatten: _stock(lambda op, layer, ctx: keras.layers.Flatten(name=layer.name)),
    Identity: _stock(lambda op, layer, ctx: keras.layers.Identity(name=layer.name)),
    Concat: _stock(lambda op, layer, ctx: keras.layers.Concatenate(axis=-1, name=layer.name), merge=True),
    ResidualAdd: _stock(lambda op, layer, ctx: ScaledResidualAdd(float(op.scale), name=layer.name), merge=True),
}


# --- building -------------------------------------------------------------------------


def compile_graph(graph: Graph, seed: int = 0, analysis: Analysis | None = None) -> keras.Model:
    """The Keras model of an IR graph, checked against its static analysis."""
    # Analyse first: the parameter budget must refuse a model before Keras allocates a weight.
    analysis = analysis or analyze_graph(graph)
    ctx = Context(seed=seed)
    inputs = keras.Input(shape=graph.input_shape, name=INPUT)
    tensors: dict[str, Any] = {INPUT: inputs}
    for layer in graph.layers:
        lowering = LOWERINGS.get(type(layer.op))
        if lowering is None:
            raise BuildError(f"{layer.name}: no Keras lowering for op `{layer.kind}`")
        tensors[layer.name] = lowering(layer.op, layer, [tensors[i] for i in layer.inputs], ctx)
    outputs = {o.name: tensors[o.layer] for o in graph.outputs}
    model = keras.Model(inputs, outputs, name=graph.name)
    check(model, graph, ctx, analysis)
    return model


def check(model: keras.Model, graph: Graph, ctx: Context, analysis: Analysis) -> None:
    """Every layer's Keras output shape and the parameter count must equal the analysis."""
    for layer in graph.layers:
        keras_layer = ctx.produced_by[layer.name]
        got = tuple(keras_layer.output.shape[1:])
        if got != tuple(layer.shape):
            raise BuildError(
                f"internal error: layer {layer.name}: Keras gives {got}, static analysis {tuple(layer.shape)}"
            )
    if model.count_params() != analysis.total_params:
        raise BuildError(
            f"internal error: Keras counts {model.count_params():,} parameters, "
            f"static analysis {analysis.total_params:,}"
        )


def build_model(
    spec: Spec | str,
    include_aux: bool = True,
    seed: int | None = None,
    overrides: Any = None,
    budget: Budget | None = None,
) -> keras.Model:
    """Compile a spec (a :class:`Spec`, a path or a shipped name) into a Keras model.

    Outputs are a dict keyed by head name; with ``include_aux=False`` the
    training-only heads are left out.  ``seed`` (default 0) fixes every weight."""
    if not isinstance(spec, Spec):
        from .pipeline import load

        spec = load(spec, overrides, budget)
    graph = lower(spec, include_aux, budget)
    analysis = analyze_graph(graph, budget)
    return compile_graph(graph, 0 if seed is None else seed, analysis)


def compile_for_training(model: keras.Model, spec: Spec) -> keras.Model:
    """Apply the spec's training section and the heads' loss weights."""
    from .models import Training

    training = spec.training or Training()
    opt = training.optimizer
    optimizers: dict[str, Callable[[], keras.optimizers.Optimizer]] = {
        "sgd": lambda: keras.optimizers.SGD(
            opt.learning_rate, momentum=opt.momentum, nesterov=opt.nesterov, weight_decay=opt.weight_decay
        ),
        "adam": lambda: keras.optimizers.Adam(opt.learning_rate, weight_decay=opt.weight_decay),
        "adamw": lambda: keras.optimizers.AdamW(opt.learning_rate, weight_decay=opt.weight_decay or 0.004),
        "rmsprop": lambda: keras.optimizers.RMSprop(
            opt.learning_rate, momentum=opt.momentum, weight_decay=opt.weight_decay
        ),
    }
    heads = {name: head for name, head in spec.heads.items() if name in model.output}
    names = list(model.output) if isinstance(model.output, dict) else ["output"]

    def loss() -> keras.losses.Loss:
        if training.loss == "sparse_categorical_crossentropy":
            return keras.losses.SparseCategoricalCrossentropy()
        return keras.losses.CategoricalCrossentropy(label_smoothing=training.label_smoothing)

    model.compile(
        optimizer=optimizers[opt.kind](),
        loss={name: loss() for name in names},
        loss_weights={name: (heads[name].loss_weight if name in heads else 1.0) for name in names},
        metrics={name: list(training.metrics) for name in names},
    )
    return model


# --- weight transfer ------------------------------------------------------------------


@dataclass
class TransferReport:
    pairs: list[tuple[str, str]]
    skipped: list[str]
    tensors: int
    values: int

    def __str__(self) -> str:
        text = f"transferred {len(self.pairs)} layers ({self.tensors} tensors, {self.values:,} values)"
        if self.skipped:
            text += f"; {len(self.skipped)} layers of the destination kept their initial weights: "
            text += ", ".join(self.skipped[:5]) + (" …" if len(self.skipped) > 5 else "")
        return text


class TransferError(ValueError):
    """The two models' structures differ; names the first differing layer."""


def _structural_order(model: keras.Model) -> list[keras.layers.Layer]:
    """Layers with weights, in a canonical order: depth-first from the first output,
    visiting each merge's inputs in order.  Two models with the same structure
    give the same sequence whatever their layer names or creation order."""
    order: list[keras.layers.Layer] = []
    seen: set[int] = set()
    # Heads in the spec's order (main first): Keras sorts `model.outputs` of a dict by key.
    outputs = list(model.output.values()) if isinstance(model.output, dict) else list(model.outputs)
    stack: list[tuple[Any, bool]] = [(t._keras_history.operation, False) for t in reversed(outputs)]
    while stack:
        op, expanded = stack.pop()
        if id(op) in seen and not expanded:
            continue
        if expanded:
            if op.weights:
                order.append(op)
            continue
        seen.add(id(op))
        stack.append((op, True))
        nodes = getattr(op, "_inbound_nodes", [])
        if nodes:
            parents = [t._keras_history.operation for t in nodes[0].input_tensors]
            for parent in reversed(parents):
                if id(parent) not in seen:
                    stack.append((parent, False))
    return order


def transfer_weights(src: keras.Model, dst: keras.Model) -> TransferReport:
    """Copy weights from ``src`` into ``dst``, pairing layers by graph structure.

    Layers are paired in the canonical structural order of both models (from
    their first output).  Refuses, before changing anything, if a pair differs
    in layer kind or weight shapes, naming the first difference.  Destination
    layers beyond the source's (auxiliary heads) keep their weights."""
    a, b = _structural_order(src), _structural_order(dst)
    pairs = []
    for i, (s, d) in enumerate(zip(a, b, strict=False)):
        s_shapes = [tuple(w.shape) for w in s.weights]
        d_shapes = [tuple(w.shape) for w in d.weights]
        if s_shapes != d_shapes:
            raise TransferError(
                f"layer {i + 1} differs: {type(s).__name__} `{s.name}` has weights {s_shapes}, "
                f"{type(d).__name__} `{d.name}` has {d_shapes}"
            )
        pairs.append((s, d))
    if len(a) > len(b):
        raise TransferError(
            f"the source has {len(a)} layers with weights, the destination only {len(b)}; "
            f"first without a partner: `{a[len(b)].name}`"
        )
    tensors = values = 0
    for s, d in pairs:
        for sw, dw in zip(s.weights, d.weights, strict=True):
            dw.assign(sw)
            tensors += 1
            values += int(np.prod(sw.shape))
    skipped = [layer.name for layer in b[len(a) :]]
    return TransferReport([(s.name, d.name) for s, d in pairs], skipped, tensors, values)


def load_weights_source(source: str) -> keras.Model:
    """A model to take weights from: ``keras:InceptionV3`` (ImageNet weights), or a file."""
    if source.startswith("keras:"):
        name, _, weights = source[len("keras:") :].partition("@")
        factory = getattr(keras.applications, name, None) if name.isidentifier() else None
        if factory is None or name not in KERAS_APPLICATIONS:
            raise ValueError(f"unknown keras.applications model `{name}`; known: {', '.join(KERAS_APPLICATIONS)}")
        try:
            return factory(weights=None if weights == "none" else "imagenet")
        except Exception as exc:  # download failures surface as many exception types
            raise ValueError(
                f"could not fetch ImageNet weights for {name} ({exc.__class__.__name__}: {exc}); "
                f"use `keras:{name}@none` for random weights, or a local .keras / .weights.h5 file"
            ) from None
    return keras.saving.load_model(source, safe_mode=True, custom_objects=CUSTOM_OBJECTS)


KERAS_APPLICATIONS = ("InceptionV3", "InceptionResNetV2")
