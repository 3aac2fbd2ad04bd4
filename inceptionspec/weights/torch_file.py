"""PyTorch state-dict files (``.pth``, ``.pt``, ``.bin``), read with ``torch.load(weights_only=True)``.

The one module outside ``inceptionspec/keras/`` allowed to import torch (``tests/test_layout.py``
names it), and only inside :func:`open_torch_file`: PyTorch's restricted unpickler accepts
tensors, containers and numbers, and refuses every other global before anything runs.
Without PyTorch the file is refused with the one-line command that converts it to
safetensors elsewhere. A file holding anything but a flat mapping of names to tensors is
refused too, naming what it holds.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from inceptionspec.weights.checkpoint import (
    Checkpoint,
    CheckpointFileError,
    TensorInfo,
    check_header,
    describe_value,
)

PIP_TORCH = 'pip install "inceptionspec[torch]"'
#: A zip archive (torch.save since PyTorch 1.6) or a pickle (the legacy format).
MAGIC = (b"PK\x03\x04", b"\x80")
#: Entries of a training checkpoint that may hold the state dict itself.
WRAPPERS = ("state_dict", "model", "model_state_dict")

_DTYPES = {"float32": "F32", "float16": "F16", "bfloat16": "BF16", "float64": "F64", "int64": "I64", "bool": "BOOL"}


def conversion_command(path: Path) -> str:
    """The shell command that writes ``path`` as a .safetensors file beside it (needs torch and safetensors)."""
    target = path.with_suffix(".safetensors")
    code = (
        "import torch, safetensors.torch as st; "
        f'sd = torch.load({json.dumps(str(path))}, weights_only=True, map_location="cpu"); '
        "st.save_file({k: v.detach().clone().contiguous() for k, v in sd.items()}, "
        f"{json.dumps(str(target))})"
    )
    quoted = f"'{code}'" if "'" not in code else shlex.quote(code)
    return f"python -c {quoted}"


def _refused_global(message: str) -> str | None:
    found = re.search(r"GLOBAL ([\w.]+)", message)
    return found.group(1) if found else None


def _reason(message: str) -> str:
    """The restricted unpickler's own reason, without torch's advice to load the file unrestricted."""
    found = re.search(r"WeightsUnpickler error:\s*(.+?)\s*(?:\n\n|$)", message, re.S)
    text = found.group(1) if found else (message.strip().splitlines() or [""])[0]
    return " ".join(text.split())[:300]


def open_torch_file(path: Path) -> Checkpoint:
    with path.open("rb") as f:
        head = f.read(4)
    if not head.startswith(MAGIC):
        raise CheckpointFileError(f"{path}: not a PyTorch checkpoint (neither a torch.save zip archive nor a pickle)")
    if importlib.util.find_spec("torch") is None:
        raise CheckpointFileError(
            f"{path}: reading PyTorch files needs PyTorch ({PIP_TORCH}); or convert the file to safetensors "
            f"where PyTorch is installed and pass the .safetensors file:\n    {conversion_command(path)}"
        )
    import torch  # the restricted unpickler below is the only way this module reads a file

    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols before refusing them
            warnings.simplefilter("ignore", UserWarning)
            try:
                loaded = torch.load(path, map_location="cpu", weights_only=True, mmap=head.startswith(MAGIC[0]))
            except RuntimeError as exc:
                if "mmap" not in str(exc):
                    raise
                loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError, zip errors …
        message = str(exc)
        refused = _refused_global(message)
        if refused:
            raise CheckpointFileError(
                f"{path}: the file pickles `{refused}`, which is not a tensor; inceptionspec reads only "
                "state dicts of tensors (torch.load(weights_only=True) refused it, nothing was run). "
                "Save the weights alone: torch.save(model.state_dict(), FILE)"
            ) from None
        raise CheckpointFileError(
            f"{path}: not a readable PyTorch checkpoint ({_reason(message) or type(exc).__name__}); "
            "torch.load(weights_only=True) refused it, nothing was run"
        ) from None
    state, notes = _state_dict(path, loaded, torch)
    infos = {
        key: TensorInfo(tuple(int(d) for d in value.shape), _DTYPES.get(str(value.dtype).removeprefix("torch."), "?"))
        for key, value in state.items()
    }

    def read(key: str) -> Any:
        value = state[key].detach()
        return (value.float() if value.is_floating_point() else value).numpy()

    return Checkpoint(path, check_header(path, infos), read, notes)


def _state_dict(path: Path, loaded: Any, torch: Any) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The flat name → tensor mapping inside what torch.load returned, or a clear refusal."""
    if not isinstance(loaded, Mapping):
        raise CheckpointFileError(f"{path}: holds {describe_value(loaded)}, not a state dict (a mapping of tensors)")
    notes: tuple[str, ...] = ()
    for wrapper in WRAPPERS:
        inner = loaded.get(wrapper)
        if isinstance(inner, Mapping) and inner and all(isinstance(v, torch.Tensor) for v in inner.values()):
            others = sorted(str(k) for k in loaded if k != wrapper)
            notes = (f"read the state dict under `{wrapper}`" + (f"; left out: {', '.join(others)}" if others else ""),)
            loaded = inner
            break
    for key, value in loaded.items():
        if not isinstance(key, str):
            raise CheckpointFileError(f"{path}: holds a {type(key).__name__} key, not a state dict")
        if not isinstance(value, torch.Tensor):
            raise CheckpointFileError(
                f"{path}: `{key[:200]}` holds {describe_value(value)}, not a tensor; inceptionspec reads only "
                "state dicts of tensors (torch.save(model.state_dict(), FILE))"
            )
    return dict(loaded), notes
