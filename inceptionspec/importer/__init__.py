"""Import: a Keras model back into a spec (``inceptionspec import``).

The pipeline, one module per step: ``archive`` reads a ``.keras`` file's config as untrusted data
(bounded, nothing executed, Keras not imported) → ``kgraph`` checks it into a layer graph (known
classes only) → ``fold`` folds layers into the ops a spec writes → ``structure`` finds the
series-parallel blocks → ``tree`` makes blocks, branches and residual merges → ``compact`` and
``assemble`` find repeats, templates, defaults and names → :mod:`inceptionspec.lang.writer` writes
the text → the text is loaded back through the front end and ``check`` compares its IR with the
source, layer by layer. Only a ``keras:`` source or a live model needs Keras
(:mod:`inceptionspec.keras.config`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inceptionspec.core.budget import Budget
from inceptionspec.core.errors import SpecError, UsageError
from inceptionspec.core.names import is_name

if TYPE_CHECKING:
    from inceptionspec.importer.archive import KerasConfig
    from inceptionspec.importer.check import ImportCheckError
    from inceptionspec.lang.models import Spec

# The steps are imported when a model is imported: `summary`, `render` and `diff` ask
# `is_model_source` of every operand, and a spec operand should not pay for the importer.

#: ``keras:NAME`` sources: keras.applications models built with random weights.
KERAS_PREFIX = "keras:"
SUFFIX = ".keras"


@dataclass(frozen=True)
class Imported:
    """The result of an import: the spec's text, the spec it loads to, and the checked layer count."""

    text: str
    spec: Spec
    source: str
    layers: int


def is_model_source(source: object) -> bool:
    """Whether a command-line operand names a Keras model rather than a spec."""
    if isinstance(source, Path):
        source = str(source)
    return isinstance(source, str) and (source.startswith(KERAS_PREFIX) or source.lower().endswith(SUFFIX))


def read_source(source: Any, budget: Budget | None = None) -> KerasConfig:
    """The config of a model source: a ``.keras`` path, ``keras:InceptionV3``, a config dict, or a live model."""
    from inceptionspec.importer.archive import KerasConfig, read_keras_file

    if isinstance(source, dict):
        return KerasConfig(source, "<config>")
    if isinstance(source, (str, Path)):
        text = str(source)
        if text.startswith(KERAS_PREFIX):
            from inceptionspec.keras.config import application_config

            # `keras:NAME@none` (as `build --weights-from` spells random weights) is the same model: the
            # importer never reads weights.
            name = text[len(KERAS_PREFIX) :].removesuffix("@none")
            try:
                return KerasConfig(application_config(name), text)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        if not text.lower().endswith(SUFFIX):
            raise UsageError(
                f"{text}: a model to import is a .keras file or keras:NAME (InceptionV3, InceptionResNetV2)"
            )
        return read_keras_file(Path(text), text)
    if hasattr(source, "get_config") and hasattr(source, "layers"):
        from inceptionspec.keras.config import model_config

        return KerasConfig(model_config(source), f"<Keras model {getattr(source, 'name', '?')}>")
    raise UsageError(f"cannot import a {type(source).__name__}: give a .keras path, keras:NAME or a Keras model")


def import_spec(source: Any, name: str | None = None, budget: Budget | None = None) -> Imported:
    """Import a Keras model as a spec: the text and the loaded :class:`Spec`.

    SpecError (naming the layer, its class and why) when the model cannot be written as a spec."""
    from inceptionspec.importer.assemble import assemble
    from inceptionspec.importer.check import ImportCheckError, check
    from inceptionspec.importer.fold import fold
    from inceptionspec.importer.kgraph import read_graph
    from inceptionspec.importer.structure import decompose
    from inceptionspec.ir import lower
    from inceptionspec.lang.pipeline import load
    from inceptionspec.lang.resolve import SpecText
    from inceptionspec.lang.writer import write

    budget = budget or Budget()
    if name is not None and not is_name(name):
        raise UsageError(f"--name {name!r}: a name is letters, digits and single underscores inside")
    config = read_source(source, budget)
    graph = read_graph(config.data, config.display, budget)
    folded = fold(graph)
    decomposed = decompose(folded, budget)
    assembled = assemble(folded, decomposed, name, config.display)
    text = write(assembled.draft)
    try:
        spec = load(SpecText(text, Path(config.display), f"<import of {config.display}>"), budget=budget)
    except SpecError as err:
        raise ImportCheckError(f"the written spec does not load:\n{err.format()}") from None
    count = check(folded, assembled.shortcut_of, assembled.outputs, lower(spec, True, budget))
    return Imported(text, spec, config.display, count)


def import_model(source: Any, name: str | None = None) -> Spec:
    """The spec of a Keras model (a ``.keras`` path, ``keras:InceptionV3``, or a model object), loaded
    and expanded like :func:`inceptionspec.load`'s result: ready for ``analyze``, ``build_model`` or ``diff``."""
    return import_spec(source, name).spec


def readable(source: Any, budget: Budget | None = None) -> Any:
    """What the front end reads for an operand: a model source becomes the text of its import."""
    if not is_model_source(source):
        return source
    from inceptionspec.lang.resolve import SpecText

    imported = import_spec(source, budget=budget)
    return SpecText(imported.text, Path(str(source)), str(source))


def __getattr__(name: str) -> Any:
    if name == "ImportCheckError":
        from inceptionspec.importer.check import ImportCheckError

        return ImportCheckError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ImportCheckError", "Imported", "import_model", "import_spec", "is_model_source", "readable"]
