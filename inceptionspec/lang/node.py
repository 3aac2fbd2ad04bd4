"""The base class of every model in the language: strict, closed, and located.

Models validate located data (:class:`~inceptionspec.loader.LocDict`) and keep
the position of themselves and of each field, so later stages (resolution,
shape inference) can point at the YAML that caused an error.  Unknown keys are
reported with a suggestion and then dropped, so one typo does not hide the
other errors of the same mapping.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationInfo, model_validator

from inceptionspec.core.errors import Collector, Loc, did_you_mean
from inceptionspec.lang.loader import LocDict


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

    @model_validator(mode="wrap")
    @classmethod
    def _located(cls, data: Any, handler: Any, info: ValidationInfo) -> Any:
        collector: Collector | None = (info.context or {}).get("collector")
        if isinstance(data, LocDict) and collector is not None and not cls.open_keys:
            allowed = cls.allowed_keys()
            unknown = [k for k in data if k not in allowed]
            if unknown:
                for key in unknown:
                    collector.add(
                        data.key_loc(key) or data.loc,
                        f"unknown key `{key}` in {cls.what()}",
                        did_you_mean(key, allowed, (info.context or {}).get("budget"))
                        or f"expected one of {', '.join(allowed)}",
                    )
                kept = LocDict(loc=data.loc)
                for key, value in data.items():
                    if key in allowed:
                        kept.set(key, value, data.key_locs.get(key), data.value_locs.get(key))
                data = kept
        model = handler(data)
        if isinstance(data, LocDict) and isinstance(model, Node):
            model._loc = data.loc
            model._value_locs = {str(k): v for k, v in data.value_locs.items()}
        return model

    @classmethod
    def what(cls) -> str:
        kind = getattr(cls, "kind", None)
        return f"`{kind}`" if isinstance(kind, str) else cls.__name__

    @property
    def loc(self) -> Loc | None:
        return self._loc

    def field_loc(self, name: str) -> Loc | None:
        return (self._value_locs or {}).get(name, self._loc)
