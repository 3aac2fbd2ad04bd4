"""Hostile checkpoints: each file through ``inceptionspec build SPEC --weights-from FILE``.

The hostile corpus's rules (tests/hostile/README.md) for ``--weights-from``: every file below
exits with the expected code and a message saying what is wrong, without a traceback, without
running anything it carries (the pickles would create a marker file), and before TensorFlow is
imported (a checkpoint is checked against the spec first). The files are written by the test:
synthetic safetensors (tests/checkpoint_files.py) and hand-made pickles, which need no torch.
Where torch is installed the .pth files are read with torch.load(weights_only=True); elsewhere
they are refused with the command that converts them. Files torch must write (a zip archive
holding a string) run only where torch is installed.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import resource
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from checkpoint_files import tensors, write_safetensors

TORCH = importlib.util.find_spec("torch") is not None
CPU_LIMIT = 60  # seconds: importing torch alone takes 5 on a loaded machine
PWNED = Path(f"/tmp/inceptionspec-checkpoint-pwned-{uuid.uuid4().hex}")

# Run the CLI in-process in a child, then say whether TensorFlow was imported.
RUNNER = (
    "import sys\n"
    "from inceptionspec.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:], prog_name='inceptionspec')\n"
    "finally:\n"
    "    print('TENSORFLOW IMPORTED' if 'tensorflow' in sys.modules else 'no tensorflow', file=sys.stderr)\n"
)


class Pwn:
    """Unpickled without restriction, this would run a shell command."""

    def __reduce__(self):
        return (os.system, (f"touch {PWNED}",))


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_LIMIT, CPU_LIMIT))


def run(spec: str, source: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUNNER, "build", spec, "--weights-from", str(source), "-o", str(tmp_path / "m.keras")],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limits,
        cwd=tmp_path,
    )


# --- the files ---------------------------------------------------------------------------------


def truncated(path: Path) -> None:
    write_safetensors(path, tensors("torchvision_googlenet"))
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)


def text_file(path: Path) -> None:
    path.write_text("version: 1\nname: not a checkpoint\n")


def random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(4096))


def empty(path: Path) -> None:
    path.write_bytes(b"")


def resnet(path: Path) -> None:
    names = [("conv1.weight", (64, 3, 7, 7), "float32"), ("layer1.0.conv1.weight", (64, 64, 3, 3), "float32")]
    write_safetensors(path, names)


def googlenet(path: Path) -> None:
    write_safetensors(path, tensors("torchvision_googlenet"))


def escape_sequences(path: Path) -> None:
    # One name googlenet's layout knows, so the refusal quotes the other: escaped, not obeyed.
    write_safetensors(path, [("conv1.conv.weight", (64, 3, 7, 7), "float32"), ("\x1b[2J\x1b[31mred", (2,), "float32")])


def many_tensors(path: Path) -> None:
    import numpy as np
    from safetensors.numpy import save_file

    save_file({f"t{i}": np.zeros(1, np.float32) for i in range(100_001)}, str(path))


def shell_pickle(path: Path) -> None:
    path.write_bytes(pickle.dumps({"conv1.conv.weight": Pwn()}, protocol=2))


def shell_pickle_protocol_4(path: Path) -> None:
    # torch's restricted unpickler stops at protocol 4's framing, before the global; its own
    # message would advise weights_only=False, which must not reach the user.
    path.write_bytes(pickle.dumps({"conv1.conv.weight": Pwn()}, protocol=4))


def namespace_pickle(path: Path) -> None:
    import argparse

    path.write_bytes(pickle.dumps({"args": argparse.Namespace(lr=0.1)}, protocol=2))


def directory(path: Path) -> None:
    path.mkdir()


# file name, writer, spec, exit code, message (a substring of stderr, whitespace normalised)
CASES = [
    ("truncated.safetensors", truncated, "googlenet_bn", 2, "not a valid safetensors file"),
    ("text.safetensors", text_file, "googlenet_bn", 2, "not a safetensors file (no safetensors header)"),
    ("random.pth", random_bytes, "googlenet_bn", 2, "not a PyTorch checkpoint"),
    ("empty.bin", empty, "googlenet_bn", 2, "not a PyTorch checkpoint"),
    ("folder.safetensors", directory, "googlenet_bn", 2, "folder.safetensors: not a file"),
    ("resnet.safetensors", resnet, "googlenet_bn", 2, "its 2 tensor names follow no known checkpoint layout"),
    ("googlenet.safetensors", googlenet, "inception_v4", 1, "torchvision_googlenet checkpoint"),
    ("escapes.safetensors", escape_sequences, "googlenet_bn", 2, "not `\\x1b[2J\\x1b[31mred`"),
    ("many.safetensors", many_tensors, "googlenet_bn", 2, "100,001 tensors; checkpoints are limited to 100,000"),
    (
        "shell.pth",
        shell_pickle,
        "googlenet_bn",
        2,
        "the file pickles `posix.system`, which is not a tensor" if TORCH else "reading PyTorch files needs PyTorch",
    ),
    (
        "shell4.pth",
        shell_pickle_protocol_4,
        "googlenet_bn",
        2,
        "torch.load(weights_only=True) refused it, nothing was run" if TORCH else "reading PyTorch files needs PyTorch",
    ),
    (
        "namespace.pth",
        namespace_pickle,
        "googlenet_bn",
        2,
        "pickles `argparse.Namespace`" if TORCH else "python -c 'import torch, safetensors.torch as st;",
    ),
]


@pytest.mark.parametrize(("name", "write", "spec", "code", "message"), CASES, ids=[c[0] for c in CASES])
def test_hostile_checkpoint_is_refused_clearly_and_runs_nothing(tmp_path, name, write, spec, code, message):
    path = tmp_path / name
    write(path)
    result = run(spec, path, tmp_path)
    assert result.returncode == code, result.stderr
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert "\x1b" not in result.stderr  # names from the file are escaped for the terminal
    assert "weights_only` set to `False`" not in result.stderr  # never advise the unrestricted unpickler
    assert "no tensorflow" in result.stderr  # refused before Keras and TensorFlow load
    assert not PWNED.exists()


@pytest.mark.skipif(not TORCH, reason="torch writes these files (zip archives); not installed")
@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{'conv1.conv.weight': torch.ones(2), 'note': 'hello'}", "`note` holds a str, not a tensor"),
        ("{'epoch': 3}", "`epoch` holds the int 3, not a tensor"),
        ("[torch.ones(2)]", "holds a list, not a state dict"),
        ("{'w': torch.ones(2), 'shell': Pwn()}", "the file pickles `posix.system`"),
    ],
)
def test_a_torch_file_holding_anything_but_tensors_is_refused(tmp_path, content, message):
    path = tmp_path / "odd.pth"
    writer = (
        "import os, torch\n"
        f"class Pwn:\n    def __reduce__(self): return (os.system, ('touch {PWNED}',))\n"
        f"torch.save({content}, {str(path)!r})\n"
    )
    subprocess.run([sys.executable, "-c", writer], check=True, timeout=120)
    result = run("googlenet_bn", path, tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in " ".join(result.stderr.split()) and "Traceback" not in result.stderr
    assert not PWNED.exists()
