"""Which Keras 3 backend runs the model: the user's choice, TensorFlow when there is none.

Keras fixes its backend when it is first imported, from ``KERAS_BACKEND`` or else the ``backend``
key of ``keras.json`` (in ``$KERAS_HOME`` or ``~/.keras``). :func:`select` runs before that import:
it keeps the user's choice, picks TensorFlow when there is none, and turns a backend that is not
installed into a :class:`~inceptionspec.core.errors.UsageError` with the pip command to run,
instead of an ``ImportError`` from deep inside Keras. It imports nothing heavy itself.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

from inceptionspec.core.errors import UsageError

#: Backend → (the module it needs, the extra that installs it).
BACKENDS: dict[str, tuple[str, str]] = {
    "tensorflow": ("tensorflow", ""),  # a core dependency
    "jax": ("jax", "jax"),
    "torch": ("torch", "torch"),
}
DEFAULT = "tensorflow"


def _keras_json() -> Path:
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "keras.json"


def configured() -> tuple[str, str]:
    """The backend the user chose and where: ``("jax", "KERAS_BACKEND")``, ``("torch", "keras.json")``,
    or ``("tensorflow", "default")``."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"], "KERAS_BACKEND"
    try:
        backend = json.loads(_keras_json().read_text(encoding="utf-8")).get("backend")
    except (OSError, ValueError, AttributeError):
        backend = None
    return (backend, str(_keras_json())) if isinstance(backend, str) and backend else (DEFAULT, "default")


def install_hint(backend: str) -> str:
    extra = BACKENDS[backend][1]
    return f'pip install "inceptionspec[{extra}]"' if extra else 'pip install "inceptionspec"'


def select() -> str:
    """The backend to run on, checked to be supported and installed; set it as ``KERAS_BACKEND`` before
    Keras is imported. Once Keras is imported its backend is fixed, and this only reports it."""
    if "keras" in sys.modules:
        return active()
    backend, source = configured()
    if backend not in BACKENDS:
        raise UsageError(
            f"{source}: unsupported Keras backend `{backend}`; inceptionspec runs on {', '.join(BACKENDS)}"
        )
    module = BACKENDS[backend][0]
    if importlib.util.find_spec(module) is None:
        raise UsageError(
            f"the Keras backend `{backend}` (from {source}) needs {module}, which is not installed: "
            f"{install_hint(backend)}"
        )
    return backend


def active() -> str:
    """The backend Keras runs on (imports Keras)."""
    import keras

    return keras.backend.backend()


def describe() -> str:
    """``keras 3.15.1 on jax 0.10.2``: for reports and benchmark results."""
    import keras

    backend = keras.backend.backend()
    module = sys.modules.get(BACKENDS.get(backend, (backend, ""))[0])
    version = getattr(module, "__version__", "?")
    return f"keras {keras.__version__} on {backend} {version}"
