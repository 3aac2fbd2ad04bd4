"""The CLI in a fresh process with limits, measured on the CLI process itself (the hostile tests).

A child forked straight from pytest would report pytest's resident set (a forked process starts
with its parent's pages counted, and exec keeps that peak): the launcher is a fresh, small
interpreter that forks and execs the CLI, so the CPU time and peak memory it reports through a pipe
are the CLI's own. The memory and CPU limits apply to the CLI alone; a timer kills the launcher's
process group if the CLI runs away.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

LAUNCHER = """
import json, os, resource, sys, time
report, memory, cpu = (int(a) for a in sys.argv[1:4])
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.close(report)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    os.execv(sys.executable, [sys.executable, "-m", "inceptionspec.cli", *sys.argv[4:]])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with os.fdopen(report, "w") as out:
    json.dump({"status": status, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_kb": usage.ru_maxrss}, out)
"""


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    wall: float  # the CLI's, without the launcher's start-up
    cpu: float  # user + system seconds of the CLI process
    rss_mb: float  # its peak resident set
    killed: bool = False


def run_limited(
    args: list[str],
    cwd: Path,
    *,
    memory_mb: int = 300,
    cpu_seconds: int = 9,
    kill_after: float = 60.0,
    stdout: int | None = subprocess.PIPE,
    env: dict[str, str] | None = None,
) -> Run:
    """Run ``inceptionspec ARGS`` in ``cwd`` under the launcher. ``cpu_seconds`` is a hard stop (SIGXCPU)
    for a runaway, not the tests' limit; ``stdout`` may be a file descriptor (a full disk, a closed pipe)."""
    environment = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    environment.pop("INCEPTIONSPEC_TRACEBACK", None)
    report_read, report_write = os.pipe()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, str(report_write), str(memory_mb << 20), str(cpu_seconds), *map(str, args)],
        cwd=cwd,
        stdout=stdout,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        pass_fds=(report_write,),
        start_new_session=True,  # the launcher and the CLI: one process group to kill
        env=environment,
    )
    os.close(report_write)
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(kill_after, kill)
    timer.start()
    output: dict[str, bytes] = {}
    pipes = [("err", proc.stderr)] + ([("out", proc.stdout)] if proc.stdout is not None else [])
    readers = [
        threading.Thread(target=lambda key, pipe: output.__setitem__(key, pipe.read()), args=(key, pipe))
        for key, pipe in pipes
    ]
    for reader in readers:
        reader.start()
    with os.fdopen(report_read, "rb") as pipe:
        report = pipe.read()
    proc.wait()
    wall = time.perf_counter() - start
    timer.cancel()
    for reader in readers:
        reader.join()
    for _, pipe in pipes:
        pipe.close()
    if report:  # the CLI's own numbers
        usage = json.loads(report)
        returncode = os.waitstatus_to_exitcode(usage["status"])
        wall, cpu, rss_mb = usage["wall"], usage["cpu"], usage["rss_kb"] / 1024
    else:  # the launcher was killed before it could report
        returncode, cpu, rss_mb = proc.returncode, float("nan"), float("nan")
    return Run(
        returncode,
        output.get("out", b"").decode("utf-8", "replace"),
        output.get("err", b"").decode("utf-8", "replace"),
        wall,
        cpu,
        rss_mb,
        killed.is_set(),
    )
