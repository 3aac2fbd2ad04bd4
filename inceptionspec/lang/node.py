"""The base class of every model in the language: strict, closed, and located.

Models validate located data (:class:`~inceptionspec.loader.LocDict`) and keep
the position of themselves and of each field, so later stages (resolution,
shape inference) can point at the YAML that caused an error.  Unknown keys are
reported with a suggestion and then dropped, so one typo does not hide the
other errors of the same mapping.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationInfo, model_validator

from inceptionspec.core.errors import Collector, Loc, did_you_mean
from inceptionspec.lang.loader import LocDict

#: Characters of an unknown key quoted in a message; a longer key is shortened in the middle.
MAX_QUOTED_KEY = 60


def quote_key(key: object, limit: int = MAX_QUOTED_KEY) -> str:
    """A key in backticks for a message, at most about ``limit`` characters: ``abc…xyz (500 characters)``."""
    text = str(key)
    if len(text) <= limit:
        return f"`{text}`"
    half = (limit - 1) // 2
    return f"`{text[:half]}…{text[-half:]}` ({len(text)} characters)"


_ALLOWED: dict[type, frozenset[str]] = {}


class Node(BaseModel):
    # defer_build: only `Spec` builds a validator (nested models become its definitions); the
    # ~60 models building their own at import would cost most of a static command's run time.
    model_config = ConfigDict(extra="forbid", strict=True, validate_default=False, defer_build=True)
    #: Models whose keys are names (a template call) skip the unknown-key check.
    open_keys: ClassVar[bool] = False

    _loc: Loc | None = PrivateAttr(default=None)
    # Plain defaults: a default_factory here costs pydantic a signature inspection per instance.
    _value_locs: dict[str, Loc] | None = PrivateAttr(default=None)

    @classmethod
    def allowed_keys(cls) -> list[str]:
        return [field.alias or name for name, field in cls.model_fields.items()]

    @classmethod
    def _allowed(cls) -> frozenset[str]:
        # Computed once per class: the wrap validator below runs for every mapping of every load.
        allowed = _ALLOWED.get(cls)
        if allowed is None:
            allowed = _ALLOWED[cls] = frozenset(cls.allowed_keys())
        return allowed

    @model_validator(mode="wrap")
    @classmethod
    def _located(cls, data: Any, handler: Any, info: ValidationInfo) -> Any:
        collector: Collector | None = (info.context or {}).get("collector")
        if isinstance(data, LocDict) and collector is not None and not cls.open_keys:
            allowed = cls._allowed()
            unknown = [k for k in data if k not in allowed]
            if unknown:
                names = cls.allowed_keys()
                for key in unknown:
                    collector.add(
                        data.key_loc(key) or data.loc,
                        f"unknown key {quote_key(key)} in {cls.what()}",
                        did_you_mean(key, names, (info.context or {}).get("budget"))
                        or f"expected one of {', '.join(names)}",
                    )
                kept = LocDict(loc=data.loc)
                for key, value in data.items():
                    if key in allowed:
                        kept.set(key, value, data.key_locs.get(key), data.value_locs.get(key))
                data = kept
        model = handler(data)
        if isinstance(data, LocDict) and isinstance(model, Node):
            # One assignment instead of two through pydantic's __setattr__; the located data is not
            # edited after validation (the pipeline edits copies), so its locations can be shared.
            object.__setattr__(model, "__pydantic_private__", {"_loc": data.loc, "_value_locs": data.value_locs})
        return model

    @classmethod
    def what(cls) -> str:
        kind = getattr(cls, "kind", None)
        return f"`{kind}`" if isinstance(kind, str) else cls.__name__

    # Read straight from the private dict: pydantic's __getattr__ path for private attributes costs
    # more than the rest of a layer's lowering (every op's location is read once per variant).
    @property
    def loc(self) -> Loc | None:
        private = self.__pydantic_private__
        return private.get("_loc") if private else None

    def field_loc(self, name: str) -> Loc | None:
        private = self.__pydantic_private__
        if not private:
            return None
        return (private.get("_value_locs") or {}).get(name, private.get("_loc"))


# pydantic inspects a model validator's signature for every model that inherits it (about 0.1 ms
# each, some ninety models per process); a signature computed once is read instead.
_located_function = Node._located.__func__  # type: ignore[attr-defined]
_located_function.__signature__ = inspect.signature(_located_function)
