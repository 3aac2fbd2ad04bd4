"""Stage 2 — validate: the pydantic models of the spec language (version 1).

The item models and the defaults model are generated from the op table
(:data:`inceptionspec.ops.USER_OPS`), so a new op appears in the language, the
JSON Schema and the reference docs without being listed here.

An *item* (in stages, branches, layers and heads) is a one-key mapping:

* ``- conv: {filters: 64, kernel: 3}`` — an op, keyed by its kind;
* ``- inception_3a: {inception: [64, 96, 128, 16, 32, 32]}`` — a block, keyed by
  its name: a template call, an inline block with ``branches``, or a sequence
  with ``layers``.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import (
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationInfo,
    create_model,
    model_validator,
)
from pydantic.json_schema import GetJsonSchemaHandler, JsonSchemaValue
from pydantic_core import core_schema

from inceptionspec.core.errors import did_you_mean, one_of
from inceptionspec.lang.depth import Depth
from inceptionspec.lang.node import Node, quote_key
from inceptionspec.lang.pretrained import PretrainedWeights
from inceptionspec.lang.training import Augmentation, ConstantSchedule, Preprocessing, Schedule
from inceptionspec.ops import USER_OPS, Activation, ParamRef, PosInt, Size

NAME_PATTERN = r"^[A-Za-z0-9_]+$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN, max_length=64)]
"""Names of blocks, branches, layers, heads, templates: letters, digits, underscores."""

#: Keys with a meaning inside a block body; they can never name a template.
BLOCK_KEYS = ("kind", "branches", "layers", "merge", "repeat", "defaults")


# --- items --------------------------------------------------------------------------


def field_type(field: Any) -> Any:
    """A field's annotation with its constraints, reusable in another model."""
    return Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation


def _op_item_model(op: type) -> type[Node]:
    annotation: Any = op
    if op.shorthand:
        annotation = annotation | field_type(op.model_fields[op.shorthand])
    annotation = annotation | None  # `- maxpool:` takes every argument from defaults
    return create_model(
        f"{op.__name__}Item",
        __base__=Node,
        __doc__=op.summary,
        **{op.kind: (annotation, Field(description=op.summary))},
    )


OP_ITEMS: dict[str, type[Node]] = {kind: _op_item_model(op) for kind, op in USER_OPS.items()}


def body_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        if "branches" in value:
            return "inline"
        if "layers" in value:
            return "sequence"
        return "call"
    return None


class TemplateCall(Node):
    """``{template_name: args, repeat: N}``: args are a list (positional, in the
    template's ``params`` order), a mapping by parameter name, or null."""

    template: str
    args: list[Any] | dict[str, Any] | None = None
    repeat: PosInt = 1

    @model_validator(mode="before")
    @classmethod
    def _split(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "template" in data:
            return data
        keys = [k for k in data if k != "repeat"]
        if len(keys) != 1:
            found = ", ".join(f"`{k}`" for k in keys) or "none"
            raise ValueError(f"a block names exactly one template or has `branches` / `layers`; found {found}")
        name = keys[0]
        if name in BLOCK_KEYS:
            raise ValueError(f"`{name}` needs `branches` or `layers` beside it")
        out: dict[str, Any] = {"template": name, "args": data[name]}
        if "repeat" in data:
            out["repeat"] = data["repeat"]
        return out

    open_keys: ClassVar[bool] = True  # any key can name a template

    @model_validator(mode="after")
    def _known_template(self, info: ValidationInfo) -> TemplateCall:
        known = (info.context or {}).get("templates")
        if known is not None and self.template not in known:
            if self.template in USER_OPS:
                raise ValueError(
                    f"`{self.template}` is an op kind; write the op as `- {self.template}: {{name: ..., ...}}`"
                )
            hint = did_you_mean(self.template, known)
            raise ValueError(
                f"unknown template {quote_key(self.template)}"
                + (f"; {hint}" if hint else f" (templates: {one_of(known) or 'none defined'})")
            )
        return self

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "title": "TemplateCall",
            "description": cls.__doc__,
            "type": "object",
            "properties": {
                "repeat": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 1_000_000_000,
                    "description": "Unrolls N copies named `name_1` … `name_N`, each fed by the previous one.",
                }
            },
            "additionalProperties": {"type": ["array", "object", "null"]},
            "propertyNames": {"not": {"enum": [k for k in BLOCK_KEYS if k != "repeat"]}},
            "oneOf": [
                {"minProperties": 1, "maxProperties": 1, "not": {"required": ["repeat"]}},
                {"required": ["repeat"], "minProperties": 2, "maxProperties": 2},
            ],
        }


class ResidualArgs(Node):
    scale: Annotated[float, Field(gt=0, le=100)] | ParamRef = Field(
        1.0, description="The residual is multiplied by this before the add."
    )
    activation: Activation = Field("relu", description="Applied after the add.")
    projection: bool | ParamRef = Field(
        True, description="A 1×1 conv (linear) from the concatenated branches back to the input's channels."
    )
    projection_bias: bool | ParamRef = Field(True, description="Whether the projection conv has a bias.")


class ResidualMerge(Node):
    """A scaled residual add: ``shortcut + scale · projection(concat(branches))``."""

    residual: ResidualArgs = Field(description="The residual add's settings.")


Merge = Literal["concat"] | ResidualMerge


class InlineBlock(Node):
    """Parallel branches merged by concatenation or a scaled residual add."""

    kind: str | None = Field(None, description="A label for tables and pictures (the template it came from).")
    branches: Annotated[dict[Name, Branch], Field(min_length=1)] = Field(
        description="The parallel branches, by name, in order (the order of the concatenation)."
    )
    merge: Merge = Field("concat", description="`concat`, or `{residual: {...}}` for a scaled residual add.")
    repeat: PosInt = Field(1, description="Unrolls N copies named `name_1` … `name_N`, each fed by the previous one.")
    defaults: Defaults | None = Field(None, description="Default arguments for the ops inside this block.")


class SequenceBlock(Node):
    """Items applied one after the other."""

    kind: str | None = Field(None, description="A label for tables and pictures.")
    layers: Annotated[list[Item], Field(min_length=1)] = Field(description="The items, applied in order.")
    repeat: PosInt = Field(1, description="Unrolls N copies named `name_1` … `name_N`, each fed by the previous one.")
    defaults: Defaults | None = Field(None, description="Default arguments for the ops inside this block.")


class BranchBody(Node):
    """A branch with its own defaults: ``{defaults: {...}, layers: [...]}``."""

    layers: Annotated[list[Item], Field(min_length=1)] = Field(description="The branch's items, applied in order.")
    defaults: Defaults | None = Field(None, description="Default arguments for the ops of this branch only.")


Branch = Annotated[list["Item"], Field(min_length=1)] | BranchBody

BlockBody = Annotated[
    Annotated[InlineBlock, Tag("inline")]
    | Annotated[SequenceBlock, Tag("sequence")]
    | Annotated[TemplateCall, Tag("call")],
    Discriminator(
        body_tag,
        custom_error_type="block_body",
        custom_error_message="a block is a mapping: a template call, `branches`, or `layers`",
    ),
]

BlockName = Annotated[str, StringConstraints(pattern=NAME_PATTERN, max_length=64)]


def _block_item_schema(schema: dict[str, Any]) -> None:
    schema["propertyNames"] = {"pattern": NAME_PATTERN, "maxLength": 64, "not": {"enum": sorted(USER_OPS)}}


BlockItem = Annotated[
    dict[BlockName, BlockBody],
    Field(min_length=1, max_length=1, json_schema_extra=_block_item_schema),
]


class UnknownOp(Node):
    """Never valid: an item that looks like a misspelt op."""

    open_keys: ClassVar[bool] = True

    @model_validator(mode="before")
    @classmethod
    def _fail(cls, data: Any) -> Any:
        key = next(iter(data)) if isinstance(data, dict) and data else "?"
        hint = did_you_mean(key, USER_OPS)
        raise ValueError(f"unknown op {quote_key(key)}" + (f"; {hint}" if hint else f" (ops: {one_of(USER_OPS)})"))

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"not": {}}


_OP_FIELDS = {name for op in USER_OPS.values() for name in op.model_fields} - {"name"}


def item_tag(value: Any) -> str | None:
    """Which member of the item union a value is: an op kind, a block, or a misspelt op."""
    if isinstance(value, Node):  # an already validated item
        return next(iter(type(value).model_fields), None) if type(value) in OP_ITEMS.values() else "block"
    if not (isinstance(value, dict) and len(value) == 1):
        return None
    key, body = next(iter(value.items()))
    if key in USER_OPS:
        return key
    if isinstance(body, Node):  # a validated block, `{name: InlineBlock}`, being serialised
        return "block"
    looks_like_op = not isinstance(body, dict) or bool(set(body) & _OP_FIELDS)
    if isinstance(key, str) and looks_like_op and did_you_mean(key, USER_OPS):
        return "unknown_op"
    return "block"


Item = Annotated[
    Union[  # noqa: UP007 - built from the op table
        tuple(
            [Annotated[BlockItem, Tag("block")], Annotated[UnknownOp, Tag("unknown_op")]]
            + [Annotated[model, Tag(kind)] for kind, model in OP_ITEMS.items()]
        )
    ],
    Discriminator(
        item_tag,
        custom_error_type="item",
        custom_error_message="an item is a one-key mapping: `- conv: {...}` for an op, `- name: {...}` for a block",
    ),
]


# --- defaults -----------------------------------------------------------------------


def _partial(op: type) -> type[Node]:
    fields: dict[str, Any] = {}
    for name, field in op.model_fields.items():
        if name == "name":
            continue
        fields[name] = (field_type(field) | None, Field(None, description=field.description))
    return create_model(f"{op.__name__}Defaults", __base__=Node, **fields)


Defaults = create_model(
    "Defaults",
    __base__=Node,
    __doc__="Default arguments per op kind; an op's own arguments win.",
    **{
        kind: (_partial(op) | None, Field(None, description=f"Default arguments of every `{kind}` in scope."))
        for kind, op in USER_OPS.items()
    },
)


# --- templates, heads, training, the spec -------------------------------------------


class Template(Node):
    """A parameterised block: ``$name`` in its body is replaced by the call's argument."""

    description: str = Field("", description="Free text.")
    params: list[Name] | dict[Name, Any] = Field(
        default_factory=list,
        description="Parameter names in positional order; a mapping gives defaults (null: required).",
    )
    branches: Annotated[dict[Name, Branch], Field(min_length=1)] | None = Field(
        None, description="The body of an inline block (exactly one of `branches` and `layers`)."
    )
    merge: Merge = Field("concat", description="How the branches are merged (with `branches`).")
    layers: Annotated[list[Item], Field(min_length=1)] | None = Field(
        None, description="The body of a sequence (exactly one of `branches` and `layers`)."
    )
    defaults: Defaults | None = Field(
        None, description="Default arguments that apply only inside this template's body."
    )

    @model_validator(mode="after")
    def _one_body(self) -> Template:
        if (self.branches is None) == (self.layers is None):
            raise ValueError("a template has either `branches` or `layers`")
        return self


class Head(Node):
    """An output of the network: layers applied to a tapped block or layer."""

    tap: str | None = Field(
        None, alias="from", description="Block or layer name it reads; default: the end of `stages`."
    )
    layers: Annotated[list[Item], Field(min_length=1)] = Field(
        description="The head's items, applied to the tapped output."
    )
    loss_weight: Annotated[float, Field(ge=0, le=1000)] = Field(
        1.0, description="The weight of this output's loss in training (the papers' 0.3 for auxiliary heads)."
    )
    training_only: bool = Field(False, description="An auxiliary head, dropped from the inference model.")
    defaults: Defaults | None = Field(None, description="Default arguments for the ops of this head.")


class Optimizer(Node):
    """The optimizer of `build --compile` and `compile_for_training`."""

    kind: Literal["sgd", "adam", "adamw", "rmsprop"] = Field("sgd", description="Which Keras optimizer.")
    learning_rate: Annotated[float, Field(gt=0, le=10)] = Field(0.01, description="The initial learning rate.")
    momentum: Annotated[float, Field(ge=0, lt=1)] = Field(0.0, description="Momentum (SGD, RMSprop).")
    nesterov: bool = Field(False, description="Nesterov momentum (SGD).")
    weight_decay: Annotated[float, Field(ge=0, le=1)] | None = Field(
        None, description="Decoupled weight decay (AdamW's default: 0.004)."
    )


class Training(Node):
    """Used when the compiled model is compiled for training."""

    optimizer: Optimizer = Field(default_factory=Optimizer, description="The optimizer and its settings.")
    loss: Literal["categorical_crossentropy", "sparse_categorical_crossentropy"] = Field(
        "categorical_crossentropy", description="The loss of every output."
    )
    label_smoothing: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.0, description="Label smoothing of the categorical cross-entropy (Inception v3 uses 0.1)."
    )
    metrics: list[Literal["accuracy", "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"]] = Field(
        default_factory=lambda: ["accuracy"], description="Metrics reported for every output."
    )
    # `inceptionspec train` (inceptionspec/lang/training.py)
    schedule: Schedule = Field(
        default_factory=lambda: ConstantSchedule(kind="constant"),
        description="How the learning rate changes over the epochs.",
    )
    epochs: PosInt = Field(10, description="Epochs `inceptionspec train` runs (`--epochs` wins).")
    batch_size: Annotated[int, Field(ge=1, le=65_536)] = Field(
        32, description="Images per step, over all devices (`--batch-size` wins)."
    )
    augmentation: Augmentation | None = Field(None, description="Random changes to training images.")


class References(Node):
    """Where the architecture comes from."""

    paper: str | None = Field(None, description="The paper (a URL or a citation).")
    implementation: str | None = Field(
        None, description="The implementation followed, where the paper leaves details open."
    )
    notes: str | None = Field(None, description="Anything else: deviations, parameter counts, known disagreements.")


class Width(Node):
    """Width scaling of every conv's filters: round(filters·multiplier) to the divisor."""

    multiplier: Annotated[float, Field(gt=0, le=64)] = Field(
        1.0, description="Every width-scaled argument (a conv's `filters`) is multiplied by this…"
    )
    divisor: Annotated[int, Field(ge=1, le=1024)] = Field(1, description="…then rounded to a multiple of this…")
    min_filters: Annotated[int, Field(ge=1, le=1_000_000)] = Field(1, description="…and never below this.")


class Spec(Node):
    """An Inception-family network (spec language version 1)."""

    model_config = ConfigDict(
        json_schema_extra={"if": {"not": {"required": ["extends"]}}, "then": {"required": ["input", "stages"]}}
    )

    version: Literal[1] = Field(description="Spec language version; always 1.")
    name: Name = Field(description="The network's name: the Keras model's name and the default file name of `build`.")
    title: str = Field(
        "",
        description="A one-line title, shown by `inceptionspec list`, in tables and pictures. A variant "
        "(`extends`) without its own is titled `name — extends parent`.",
    )
    description: str = Field("", description="Free text.")
    references: References | None = Field(None, description="Where the architecture comes from.")
    extends: str | None = Field(None, description="A shipped spec name or a relative path to a spec file.")
    overrides: dict[str, Any] | None = Field(
        None, description="Edits addressed by name: `inception_4c.n3x3: 320`; null removes."
    )
    # Not nullable: required unless `extends` is given (a variant inherits them).
    input: Annotated[list[Size], Field(min_length=3, max_length=3)] = Field(
        None, description="Input shape [H, W, C], channels last."
    )
    classes: PosInt = Field(1000, description="Number of classes; `$classes` in any op.")
    width: Width | None = Field(None, description="Width scaling of every conv's `filters`.")
    depth: Depth | None = Field(None, description="Depth scaling of every `repeat`.")
    defaults: Defaults | None = Field(None, description="Default arguments per op kind, for the whole network.")
    templates: dict[Name, Template] = Field(
        default_factory=dict, description="Named, parameterised blocks, called from `stages`, branches and heads."
    )
    stages: list[Item] = Field(  # type: ignore[assignment]
        None, description="The body of the network, in order: a list of items."
    )
    heads: dict[Name, Head] = Field(
        default_factory=dict,
        description="The outputs: `main` and auxiliary heads. Without heads, the end of `stages` is the output.",
    )
    training: Training | None = Field(
        None,
        description="Optimizer, schedule, loss, augmentation, epochs and batch size: `train`, `compile_for_training`.",
    )
    preprocessing: Preprocessing | None = Field(
        None, description="How image pixels become the input (default: scaled to 0–1); train, evaluate, predict."
    )
    weights: PretrainedWeights | None = Field(
        None, description="Pretrained checkpoints that map onto this spec (`--weights-from`)."
    )

    def _repr_html_(self) -> str:
        """Jupyter: the summary table and the interactive picture (static analysis, no TensorFlow)."""
        from inceptionspec.render.notebook import spec_html

        return spec_html(self)

    @model_validator(mode="after")
    def _complete(self) -> Spec:
        if self.extends is None:
            missing = [k for k in ("input", "stages") if getattr(self, k) is None]
            if missing:
                raise ValueError(
                    f"missing {' and '.join(f'`{k}`' for k in missing)} (required unless `extends` is given)"
                )
        return self


Spec.model_rebuild()  # the one validator the pipeline uses; other models build on first direct use
