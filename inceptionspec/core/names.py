"""Names: one reversible scheme from spec paths to backend layer names.

A *spec path* names a block, branch, layer or one primitive part of a layer by the
names written (or generated) in the spec, joined with ``.``: ``inception_3a.3x3.conv``,
``inception_3a.3x3.conv.bn``. Override addressing, heads' ``from``, the diff and the
docs use spec paths.

A *backend name* is what a Keras layer (and so a PyTorch module, an ONNX node, a
TensorFlow variable scope) is called: the same parts joined with ``__``, e.g.
``inception_3a__3x3__conv``. Keras forbids ``/`` in layer names and PyTorch ``.`` in
parameter names; ``__`` is valid on every backend and every export format.

The mapping is a bijection because a name (:data:`NAME_PATTERN`) never starts or ends
with ``_`` and never holds ``__``: splitting a backend name at ``__`` gives the parts
back. Every module that needs a name asks this one; none joins strings itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: One part of a path: letters, digits, ``-`` and single ``_`` between them; starts with a letter or digit.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]*(?:_[A-Za-z0-9-]+)*$"
#: What :data:`NAME_PATTERN` allows, in words (error messages say it).
NAME_RULE = "letters, digits and `-`, joined by single `_`; no `_` at either end"
#: The longest name a spec may write.
MAX_NAME_LENGTH = 64
#: Joins parts in spec paths.
SPEC_SEP = "."
#: Joins parts in backend layer names.
BACKEND_SEP = "__"

_NAME = re.compile(NAME_PATTERN)


def is_name(text: object) -> bool:
    """Whether ``text`` is a valid name for a block, branch, layer, head or template."""
    return isinstance(text, str) and len(text) <= MAX_NAME_LENGTH and _NAME.match(text) is not None


@dataclass(frozen=True, order=True)
class SpecPath:
    """A path of names from the network's top: ``SpecPath(("inception_3a", "3x3", "conv"))``."""

    parts: tuple[str, ...]

    @classmethod
    def parse(cls, dotted: str) -> SpecPath:
        """``"a.b.c"`` → ``SpecPath(("a", "b", "c"))``; the empty string is the root."""
        return cls(tuple(dotted.split(SPEC_SEP)) if dotted else ())

    @classmethod
    def from_backend(cls, name: str) -> SpecPath:
        """The inverse of :attr:`backend`."""
        return cls(tuple(name.split(BACKEND_SEP)) if name else ())

    def __truediv__(self, part: str) -> SpecPath:
        return SpecPath((*self.parts, part))

    def __str__(self) -> str:
        return self.dotted

    @property
    def dotted(self) -> str:
        """The spec path as users write it: ``inception_3a.3x3.conv``."""
        return SPEC_SEP.join(self.parts)

    @property
    def backend(self) -> str:
        """The layer name on every backend: ``inception_3a__3x3__conv``."""
        return BACKEND_SEP.join(self.parts)

    @property
    def name(self) -> str:
        """The last part (``conv``); empty for the root."""
        return self.parts[-1] if self.parts else ""

    @property
    def parent(self) -> SpecPath:
        return SpecPath(self.parts[:-1])

    def is_within(self, other: SpecPath) -> bool:
        """Whether this path is ``other`` or lies inside it."""
        return self.parts[: len(other.parts)] == other.parts

    def relative_to(self, other: SpecPath) -> SpecPath:
        if not self.is_within(other):
            raise ValueError(f"{self} is not inside {other}")
        return SpecPath(self.parts[len(other.parts) :])


ROOT = SpecPath(())


def backend_name(dotted: str) -> str:
    """``inception_3a.3x3.conv`` → ``inception_3a__3x3__conv``."""
    return SpecPath.parse(dotted).backend


def spec_path(backend: str) -> str:
    """``inception_3a__3x3__conv`` → ``inception_3a.3x3.conv``."""
    return SpecPath.from_backend(backend).dotted
