"""The expanded spec: what ``load`` returns and the IR reads.

After expansion a spec has no templates, defaults, width scaling or ``$params`` left:
every op is a concrete op of :data:`inceptionspec.ops.USER_OPS` with all its arguments,
every block is inline (``branches``) or a sequence (``layers``). These models say so:
validating the expander's output against them checks each op's required arguments and
runs each op's model-level checks, whichever ``defaults`` supplied its arguments.

:class:`ExpandedSpec` is a :class:`~inceptionspec.lang.models.Spec` (the public API's
``Spec``), narrowed. An op item is a one-key mapping ``{kind: op}``; the one place that
decodes items is :mod:`inceptionspec.lang.tree`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Field, Tag
from typing_extensions import TypeAliasType

from inceptionspec.lang.models import Head, ResidualArgs, Spec, body_tag
from inceptionspec.lang.node import Node
from inceptionspec.ops import USER_OPS, Name


class ResidualMerge(Node):
    residual: ResidualArgs


# Types used in several places are aliases: pydantic builds each once per validator.
Merge = TypeAliasType("ExpandedMerge", Literal["concat"] | ResidualMerge)


class InlineBlock(Node):
    """Parallel branches merged by concatenation or a scaled residual add."""

    kind: str | None = None
    branches: Annotated[dict[Name, Items], Field(min_length=1)]
    merge: Merge = "concat"


class SequenceBlock(Node):
    """Items applied one after the other."""

    kind: str | None = None
    layers: Items


def _block_body_tag(value: Any) -> str | None:
    tag = body_tag(value)
    return tag if tag != "call" else None


BlockBody = TypeAliasType(
    "ExpandedBlockBody",
    Annotated[
        Annotated[InlineBlock, Tag("inline")] | Annotated[SequenceBlock, Tag("sequence")],
        Discriminator(
            _block_body_tag,
            custom_error_type="block_body",
            custom_error_message="an expanded block has `branches` or `layers`",
        ),
    ],
)

BlockItem = TypeAliasType("ExpandedBlockItem", Annotated[dict[Name, BlockBody], Field(min_length=1, max_length=1)])


def item_tag(value: Any) -> str | None:
    if not (isinstance(value, dict) and len(value) == 1):
        return None
    key = next(iter(value))
    return key if key in USER_OPS else "block"


#: An op item is a one-key mapping to the concrete op: no wrapper model (one fewer class per op).
_OP_ITEMS = [
    Annotated[Annotated[dict[Literal[kind], op], Field(min_length=1, max_length=1)], Tag(kind)]  # type: ignore[valid-type]
    for kind, op in USER_OPS.items()
]
Item = TypeAliasType(
    "ExpandedItem",
    Annotated[
        Union[tuple([Annotated[BlockItem, Tag("block")], *_OP_ITEMS])],  # noqa: UP007 - built from the op table
        Discriminator(
            item_tag,
            custom_error_type="item",
            custom_error_message="an item is a one-key mapping: `- conv: {...}` for an op, `- name: {...}` for a block",
        ),
    ],
)
Items = TypeAliasType("ExpandedItems", Annotated[list[Item], Field(min_length=1)])


class ExpandedHead(Head):
    layers: Items
    defaults: None = None  # type: ignore[assignment]


class ExpandedSpec(Spec):
    """A spec after expansion (what :func:`inceptionspec.load` returns)."""

    stages: list[Item]  # type: ignore[assignment]
    heads: dict[Name, ExpandedHead] = Field(default_factory=dict)  # type: ignore[assignment]
    # Resolved and expanded away: an expanded spec has none of these.
    extends: None = None  # type: ignore[assignment]
    overrides: None = None  # type: ignore[assignment]
    width: None = None  # type: ignore[assignment]
    defaults: None = None  # type: ignore[assignment]
    templates: Annotated[dict[Name, Any], Field(max_length=0)] = Field(default_factory=dict)  # type: ignore[assignment]
