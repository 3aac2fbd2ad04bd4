"""Template parameters: ``$name`` references, and the language's models that accept them.

Ops (and the few settings models the IR reads) declare their arguments with concrete
types (``ops/catalog.py``). Inside a template body, and anywhere ``$classes`` is allowed,
a spec may write a parameter reference instead; the models that validate the written
spec are *generated* here from the concrete ones, every scalar argument widened with
``| ParamRef``. Arguments an op requires are optional in the generated models (a
``defaults`` section may supply them), and the generated models carry no model-level
checks: both the required arguments and the checks are enforced on the expanded spec,
where every value is known whichever scope supplied it.
"""

from __future__ import annotations

import functools
import types
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

from pydantic import BaseModel, Field, StringConstraints, create_model
from pydantic.fields import FieldInfo
from typing_extensions import TypeAliasType

from inceptionspec.lang.node import Node

#: The type aliases defined here, by name (the JSON Schema inlines them, as ``ops.base``'s).
ALIASES: dict[str, TypeAliasType] = {}


def alias(name: str, value: Any) -> TypeAliasType:
    """A shared type: pydantic generates its schema once per validator, not once per use."""
    out = ALIASES[name] = TypeAliasType(name, value)
    return out


#: A template parameter reference: ``$n3x3``.
PARAM_PATTERN = r"^\$[A-Za-z_][A-Za-z0-9_]*$"

ParamRef = alias("ParamRef", Annotated[str, StringConstraints(pattern=PARAM_PATTERN)])
"""A template parameter (``$n3x3``); only meaningful inside a template (``$classes`` anywhere)."""

#: A parameter's name as a template declares it (``params: [n1x1, n3x3]``): an identifier.
ParamName = alias("ParamName", Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)])


def field_type(field: FieldInfo) -> Any:
    """A field's annotation with its constraints, reusable in another model."""
    return Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation


def wide(tp: Any) -> Any:
    """``tp`` accepting a parameter reference wherever it holds a scalar (inside pairs too).
    Settings models are replaced by their widened model (a whole model is never a ``$param``)."""
    if tp is None or tp is type(None):
        return tp
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return widened(tp)
    if isinstance(tp, TypeAliasType):
        return _wide_alias(tp)
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        members = [wide(arg) for arg in get_args(tp)]
        if not any(_accepts_param(m) for m in members):
            members.append(ParamRef)
        return Union[tuple(members)]  # noqa: UP007 - built at run time
    if origin is Annotated:
        base, *meta = get_args(tp)
        if get_origin(base) is list:  # a constrained list (a pair): widen its items, keep its length
            (item,) = get_args(base)
            return Union[Annotated[(list[wide(item)], *meta)], ParamRef]  # type: ignore[valid-type]  # noqa: UP007
    return Union[tp, ParamRef]  # noqa: UP007


@functools.cache
def _wide_alias(concrete: TypeAliasType) -> TypeAliasType:
    return alias(f"{concrete.__name__}OrParam", wide(concrete.__value__))


def _accepts_param(tp: Any) -> bool:
    if tp is ParamRef:
        return True
    if isinstance(tp, TypeAliasType):
        return tp.__name__.endswith("OrParam") or _accepts_param(tp.__value__)
    return get_origin(tp) in (Union, types.UnionType) and any(_accepts_param(a) for a in get_args(tp))


@functools.cache
def widened(model: type[BaseModel]) -> type[Node]:
    """The written-language model of a concrete one: same name, fields and descriptions; every
    argument also a ``$param``; required arguments optional; no model-level checks."""
    fields: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if field.is_required():
            default: dict[str, Any] = {"default": None}
        elif field.default_factory is not None:
            factory = field.default_factory
            if isinstance(factory, type) and issubclass(factory, BaseModel):
                factory = widened(factory)
            default = {"default_factory": factory}
        else:
            default = {"default": field.default}
        fields[name] = (wide(field_type(field)), Field(**default, alias=field.alias, description=field.description))
    if isinstance(getattr(model, "kind", None), str):  # an op: messages name it by kind (`conv`)
        fields["kind"] = (ClassVar[str], model.kind)  # type: ignore[attr-defined]
    return create_model(model.__name__, __base__=Node, __doc__=model.__doc__, __module__=__name__, **fields)


def required_fields(model: type[BaseModel]) -> set[str]:
    """Arguments a (concrete) model requires: the JSON Schema leaves them optional, and without a default."""
    return {name for name, field in model.model_fields.items() if field.is_required()}
