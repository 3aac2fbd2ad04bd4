"""What an export format is: how to write a Keras model as an artifact and how to run the artifact.

A format is one :class:`Format` value in its own module (``to_onnx``, ``to_saved_model``,
``to_litert``) and one entry in :data:`inceptionspec.keras.export.FORMATS`. Writing goes through
Keras' own ``Model.export`` with an explicit input signature: the input is called ``input``, the
batch is dynamic unless fixed, and the outputs keep the model's head names.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from inceptionspec.core.errors import UsageError
from inceptionspec.ir import INPUT

#: The extra that installs every optional export dependency.
EXTRA = "export"
INSTALL = f'pip install "inceptionspec[{EXTRA}]"'

#: A loaded artifact: a batch in, ``{head: values}`` out.
Runner = Callable[[np.ndarray], dict[str, np.ndarray]]


class ExportError(UsageError):
    """The export cannot be done as asked (exit code 2)."""


class MissingDependency(ExportError):
    """An optional package the format needs is not installed."""


@dataclass(frozen=True)
class Format:
    name: str
    #: Appended to the model name for the default output path ("" for a directory).
    suffix: str
    #: The ``format`` argument of ``keras.Model.export``.
    keras_format: str
    #: What runs the artifact in the check.
    runtime: str
    #: Importable modules the format needs to write or check (all in the ``export`` extra).
    requires: tuple[str, ...]
    load: Callable[[Path], Runner]
    #: Whether the artifact can take any batch size (else ``--batch`` defaults to 1).
    dynamic_batch: bool = True

    def missing(self) -> list[str]:
        return [module for module in self.requires if importlib.util.find_spec(module) is None]

    def require(self) -> None:
        """Raise :class:`MissingDependency` with the pip command when a needed package is absent."""
        missing = self.missing()
        if missing:
            raise MissingDependency(
                f"--format {self.name} needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
                f"not installed: {INSTALL}"
            )

    def default_path(self, model_name: str) -> Path:
        return Path(f"{model_name}{self.suffix}" if self.suffix else f"{model_name}_{self.name}")

    def write(self, model: keras.Model, path: Path, batch: int | None = None) -> None:
        """Write ``model`` (a TensorFlow-backend model with one image input) to ``path``."""
        if batch is None and not self.dynamic_batch:
            batch = 1
        with warnings.catch_warnings():
            # Keras' tf2onnx shim probes `np.object`, which NumPy 2 warns about.
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"keras\.src\.export")
            model.export(
                str(path), format=self.keras_format, input_signature=input_signature(model, batch), verbose=False
            )


def input_signature(model: keras.Model, batch: int | None) -> list[keras.InputSpec]:
    """The one input, named ``input``; ``batch`` None is a dynamic batch."""
    if len(model.inputs) != 1:
        raise ExportError(f"model `{model.name}` has {len(model.inputs)} inputs; export takes one image input")
    shape = tuple(model.inputs[0].shape[1:])
    return [keras.InputSpec(shape=(batch, *shape), dtype="float32", name=INPUT)]
