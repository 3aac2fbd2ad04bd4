"""inceptionspec: a declarative spec compiler for Inception-family networks.

The static path (load, analyze, expand, schema) never imports TensorFlow.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import sys

from inceptionspec.core.budget import Budget, BudgetExceeded
from inceptionspec.core.errors import Diagnostic, Loc, SourceError, SpecError

# The public API, imported on first use: a command pays only for what it runs, and the static
# path never loads TensorFlow (only `inceptionspec.keras` imports keras).
_API = {
    "Analysis": "analysis",
    "analyze": "analysis",
    "Diff": "compare",
    "diff": "compare",
    "Spec": "lang.models",
    "dump": "lang.pipeline",
    "load": "lang.pipeline",
    "resolve": "lang.pipeline",
    "Resolved": "lang.pipeline",
    "build_model": "keras",
    "compile_for_training": "keras",
    "inference_model": "keras",
    "targets": "keras",
    "transfer_weights": "keras",
    "import_model": "importer",
    "CUSTOM_OBJECTS": "keras",
    "load_checkpoint": "keras.checkpoint",
    "export_model": "keras.export",
    "fold_batch_norm": "keras.fold",
}

__all__ = [
    "Analysis",
    "Budget",
    "BudgetExceeded",
    "Diagnostic",
    "Diff",
    "Loc",
    "Resolved",
    "SourceError",
    "Spec",
    "SpecError",
    "analyze",
    "build_model",
    "compile_for_training",
    "diff",
    "dump",
    "export_model",
    "fold_batch_norm",
    "import_model",
    "inference_model",
    "load",
    "load_checkpoint",
    "resolve",
    "targets",
    "transfer_weights",
]


def __dir__() -> list[str]:
    """The public API (loaded on first use, so not yet in the module's namespace) and the rest."""
    return sorted({*__all__, *globals()})


def __getattr__(name: str) -> object:
    module = _API.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'inceptionspec' has no attribute {name!r}")


class _RegisterWithKeras:
    """Registers inceptionspec's custom layers as soon as keras is imported.

    A meta path finder by protocol (``find_spec``): subclassing ``importlib.abc.MetaPathFinder``
    would import ``importlib.resources`` and, through ``tempfile``, ``shutil``, ``bz2`` and
    ``lzma`` into every process, a fifth of the static path's start-up.

    Saved models then load with ``keras.saving.load_model(path, safe_mode=True)``
    after ``import inceptionspec``, in whichever order the two are imported,
    while importing inceptionspec alone never loads TensorFlow."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)  # type: ignore[arg-type]
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        run = loader.exec_module  # type: ignore[union-attr]

        def exec_module(module: object) -> None:
            run(module)  # type: ignore[arg-type]
            importlib.import_module("inceptionspec.keras.layers")

        loader.exec_module = exec_module  # type: ignore[method-assign,union-attr]
        return spec


if "keras" in sys.modules:
    importlib.import_module("inceptionspec.keras.layers")
elif not any(isinstance(f, _RegisterWithKeras) for f in sys.meta_path):
    sys.meta_path.insert(0, _RegisterWithKeras())
