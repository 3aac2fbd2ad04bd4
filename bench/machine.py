"""A description of the machine and software a run measured (no TensorFlow import)."""

from __future__ import annotations

import datetime as dt
import os
import platform
import shlex
import subprocess
import sys
from importlib import metadata
from typing import Any

from .common import ROOT, loadavg


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _mem_total_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError):
        pass
    return None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    # Read-only queries; --no-optional-locks keeps `status` from refreshing the index.
    try:
        out = subprocess.run(  # noqa: S603
            ["git", "--no-optional-locks", *args],  # noqa: S607 (git from PATH, read-only queries)
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def describe(argv: list[str]) -> dict[str, Any]:
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = None
    status = _git("status", "--porcelain")
    return {
        "date": dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds"),
        "hostname": platform.node(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": affinity,
        "memory_gib": _mem_total_gib(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "versions": {
            name: _version(name)
            for name in ("inceptionspec", "tensorflow", "keras", "numpy", "pydantic", "PyYAML", "click", "rich")
        },
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "loadavg_start": loadavg(),
        "env": {
            key: os.environ.get(key)
            for key in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX", "TF_CPP_MIN_LOG_LEVEL", "KERAS_BACKEND")
            if key in os.environ
        },
        "inceptionspec_bytecode_cached": (ROOT / "inceptionspec" / "__pycache__").is_dir(),
        "command": f"cd {shlex.quote(str(ROOT))} && {shlex.quote(sys.executable)} -m bench {shlex.join(argv)}".rstrip(),
    }
