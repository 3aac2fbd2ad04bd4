"""Sections 1 and 5: wall time, CPU time and peak memory of whole processes.

Each run is a fresh child process; its resource usage comes from ``os.wait4`` on
that child alone (exact per-child max RSS, unlike deltas of RUSAGE_CHILDREN,
whose ru_maxrss is a maximum over all children ever waited for).  All cases are
run round-robin (case 1, case 2, …, case 1, case 2, …) so that a change in the
machine's load affects every case alike; discarded warm-up runs (one per launcher,
environment and command) come first.

Two environments are measured for ``python -m inceptionspec.cli``:

* ``as-is``: the environment the benchmark was started in.  If it sets
  PYTHONDONTWRITEBYTECODE and the source tree has no ``__pycache__`` (an editable
  install never byte-compiles), every run compiles inceptionspec from source.
* ``pyc``: PYTHONDONTWRITEBYTECODE removed and PYTHONPYCACHEPREFIX pointed at a
  private temporary directory, so runs after the warm-up read cached bytecode,
  as a regular ``pip install`` (which byte-compiles) would.  Nothing is written
  into the source tree.

The baseline ``python -c "import keras"`` reads TensorFlow's and Keras' own
``__pycache__`` in site-packages in either environment.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import ROOT, loadavg, log, ratio, summarize

KERAS_IMPORT = "import keras"
#: The start-up target (issue 12) is `validate SPEC` and `summary SPEC --format json`; the terminal
#: table adds rich's import, which `summary`'s formatting owns.
COMMAND_OPTIONS = {"summary": ["--format", "json"]}
#: Reference processes: the interpreter alone, the package alone (the floor of every CLI run), Keras.
REFERENCES = {"python -c pass": "pass", "import inceptionspec": "import inceptionspec", KERAS_IMPORT: KERAS_IMPORT}


@dataclass
class Case:
    key: str
    command: str  # validate | summary | import keras
    spec: str | None
    launcher: str  # module | script (PATH) | script (direct) | python -c
    env_name: str  # as-is | pyc
    argv: list[str]
    env: dict[str, str]
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def run_once(argv: list[str], env: dict[str, str], timeout: float = 300.0) -> tuple[float, float, int, int, str]:
    """(wall s, user+sys CPU s, max RSS KiB, exit status, stderr tail) of one child process."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(  # noqa: S603 (the commands being measured)
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=ROOT
        )
        killer = threading.Timer(timeout, proc.kill)  # a hung child is killed, not waited for forever
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read()[-2000:].decode("utf-8", "replace")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, proc.returncode, tail


def _environments(pyc_dir: Path) -> dict[str, dict[str, str]]:
    asis = dict(os.environ)
    pyc = dict(os.environ)
    pyc.pop("PYTHONDONTWRITEBYTECODE", None)
    pyc["PYTHONPYCACHEPREFIX"] = str(pyc_dir)
    return {"as-is": asis, "pyc": pyc}


def launchers() -> dict[str, list[str]]:
    """How to start the CLI: ``python -m``, the console script on PATH, and the script it stands for."""
    out = {"module": [sys.executable, "-m", "inceptionspec.cli"]}
    on_path = shutil.which("inceptionspec")
    direct = Path(sysconfig.get_path("scripts")) / "inceptionspec"
    if on_path:
        out["script (PATH)"] = [on_path]
    if direct.is_file() and (not on_path or Path(on_path).resolve() != direct.resolve()):
        out["script (direct)"] = [str(direct)]
    return out


def is_python_script(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            first = fh.readline()
    except OSError:
        return False
    return b"python" in first


def build_cases(config: dict[str, Any], pyc_dir: Path) -> list[Case]:
    envs = _environments(pyc_dir)
    starters = launchers()
    cases: list[Case] = []
    for env_name in config["process_envs"]:
        for launcher, prefix in starters.items():
            if launcher != "module" and env_name not in config["script_envs"]:
                continue
            for command in ("validate", "summary"):
                for spec in config["process_specs"]:
                    if launcher != "module" and spec not in config["script_specs"]:
                        continue
                    key = f"{command} {spec} [{launcher}, {env_name}]"
                    argv = [*prefix, command, spec, *COMMAND_OPTIONS.get(command, [])]
                    cases.append(Case(key, command, spec, launcher, env_name, argv, envs[env_name]))
    for label, code in REFERENCES.items():
        for env_name in config["process_envs"]:
            if label == KERAS_IMPORT and env_name != "as-is":
                continue  # TensorFlow's bytecode is cached in site-packages either way
            key = f"{label} [{env_name}]"
            cases.append(Case(key, label, None, "python -c", env_name, [sys.executable, "-c", code], envs[env_name]))
    return cases


_IMPORTTIME = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def import_profile(spec: str, env: dict[str, str], command: str = "summary") -> dict[str, Any]:
    """``python -X importtime -m inceptionspec.cli COMMAND SPEC``: what the CLI imports, grouped."""
    argv = [
        sys.executable,
        "-X",
        "importtime",
        "-m",
        "inceptionspec.cli",
        command,
        spec,
        *COMMAND_OPTIONS.get(command, []),
    ]
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False)  # noqa: S603
    wall = time.perf_counter() - start
    rows = []
    for line in proc.stderr.splitlines():
        m = _IMPORTTIME.match(line)
        if m:
            self_us, cum_us, indent, name = int(m[1]), int(m[2]), len(m[3]), m[4]
            rows.append({"module": name, "self_us": self_us, "cumulative_us": cum_us, "depth": (indent - 1) // 2})
    by_package: dict[str, int] = {}
    for r in rows:
        top = r["module"].split(".")[0]
        by_package[top] = by_package.get(top, 0) + r["self_us"]
    total_us = sum(r["self_us"] for r in rows)
    heavy = sorted(rows, key=lambda r: r["self_us"], reverse=True)[:15]
    inceptionspec_modules = sorted(
        (r for r in rows if r["module"].startswith("inceptionspec")), key=lambda r: r["self_us"], reverse=True
    )
    imported = {r["module"].split(".")[0] for r in rows}
    return {
        "command": " ".join([Path(argv[0]).name, *argv[1:]]),
        "exit_status": proc.returncode,
        "wall_s": wall,
        "import_total_ms": total_us / 1000,
        "by_package_ms": {k: v / 1000 for k, v in sorted(by_package.items(), key=lambda kv: -kv[1])[:15]},
        "top_self_ms": [{"module": r["module"], "self_ms": r["self_us"] / 1000} for r in heavy],
        "inceptionspec_modules_ms": [
            {"module": r["module"], "self_ms": r["self_us"] / 1000, "cumulative_ms": r["cumulative_us"] / 1000}
            for r in inceptionspec_modules
        ],
        "imports_tensorflow": "tensorflow" in imported,
        "imports_keras": "keras" in imported,
    }


def run(config: dict[str, Any], memory_only: bool = False) -> dict[str, Any]:
    """Run the process cases; returns the raw per-case samples and derived ratios."""
    repeats = config["memory_repeats"] if memory_only else config["process_repeats"]
    with tempfile.TemporaryDirectory(prefix="inceptionspec-bench-pyc-") as tmp:
        pyc_dir = Path(tmp)
        if memory_only:
            config = {**config, "process_envs": ["as-is"], "script_envs": []}
        cases = build_cases(config, pyc_dir)
        started = loadavg()
        # Warm-up: one discarded run per (launcher, environment, command) — it fills the OS file cache
        # and, in the `pyc` environment, the bytecode cache for every spec of the group.
        warmups = list({(c.launcher, c.env_name, c.command): c for c in cases}.values())
        log(f"process: {len(cases)} cases, {len(warmups)} warm-up runs, then {repeats} round-robin rounds")
        t = time.perf_counter()
        for case in warmups:
            *_, status, tail = run_once(case.argv, case.env)
            if status != 0:
                case.errors.append(f"exit {status}: {tail.strip()[-400:]}")
        log(f"process: warm-up done in {time.perf_counter() - t:.1f}s")
        for round_ in range(1, repeats + 1):
            t = last = time.perf_counter()
            for i, case in enumerate(cases):
                if time.perf_counter() - last > 20:
                    last = time.perf_counter()
                    log(f"process: round {round_}/{repeats}: {i}/{len(cases)} cases, next: {case.key}")
                wall, cpu, rss, status, tail = run_once(case.argv, case.env)
                if status != 0:
                    case.errors.append(f"exit {status}: {tail.strip()[-400:]}")
                case.wall.append(wall)
                case.cpu.append(cpu)
                case.rss_kib.append(rss)
            log(f"process: round {round_}/{repeats} done in {time.perf_counter() - t:.1f}s")
        profiles = {}
        if not memory_only:
            envs = _environments(pyc_dir)
            spec = config["process_specs"][-1]
            for env_name in config["process_envs"]:
                log(f"process: import profile of `summary {spec}` [{env_name}]")
                profiles[env_name] = import_profile(spec, envs[env_name])
    results = []
    for case in cases:
        results.append(
            {
                "key": case.key,
                "command": case.command,
                "spec": case.spec,
                "launcher": case.launcher,
                "env": case.env_name,
                "argv": [Path(case.argv[0]).name if i == 0 else a for i, a in enumerate(case.argv)],
                "wall_s": summarize(case.wall),
                "cpu_s": summarize(case.cpu),
                "max_rss_mib": summarize(r / 1024 for r in case.rss_kib),
                "errors": case.errors[:3],
            }
        )
    keras = next(r for r in results if r["command"] == KERAS_IMPORT and r["env"] == "as-is")
    for r in results:
        r["ratio_to_import_keras"] = ratio(r["wall_s"]["median"], keras["wall_s"]["median"])
        r["ratio_to_import_keras_min"] = ratio(r["wall_s"]["min"], keras["wall_s"]["min"])
        r["cpu_ratio_to_import_keras"] = ratio(r["cpu_s"]["median"], keras["cpu_s"]["median"])
    script = launchers().get("script (PATH)")
    return {
        "repeats": repeats,
        "cases": results,
        "import_profiles": profiles,
        "launchers": {
            k: v[0] if k != "module" else " ".join([Path(v[0]).name, *v[1:]]) for k, v in launchers().items()
        },
        "script_on_path_is_python": is_python_script(script[0]) if script else None,
        "loadavg": {"start": started, "end": loadavg()},
    }
