"""Start-up of the CLI as a regular install runs it: the package copied by pip (not the editable
checkout), byte-compiled, beside the same dependencies; against ``python -c "import keras"``.

    python -m bench.startup_installed             # 7 rounds
    python -m bench.startup_installed --rounds 11

``python -m bench``'s process section measures the editable checkout (its finder and, without
cached bytecode, a compile of every module per run). This builds ``pip install --no-deps --target``
of the repository into a temporary directory, byte-compiles it, and runs a bare interpreter (no
site-packages of its own) with that copy first on ``PYTHONPATH`` and the current environment's
site-packages after it, so only the way inceptionspec is installed differs. Cases alternate round
by round; min / median wall time and the median's ratio to ``import keras`` (issue 12's target:
≤ 0.08). Prints a markdown table with the command and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    'python -c "import keras"': ["-c", "import keras"],
    "validate googlenet": ["-m", "inceptionspec.cli", "validate", "googlenet"],
    "summary googlenet --format json": ["-m", "inceptionspec.cli", "summary", "googlenet", "--format", "json"],
    "validate inception_resnet_v2": ["-m", "inceptionspec.cli", "validate", "inception_resnet_v2"],
    "summary inception_resnet_v2 --format json": [
        "-m", "inceptionspec.cli", "summary", "inception_resnet_v2", "--format", "json",
    ],
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    # Every command below is our own interpreter, pip, or the commands being measured.
    with tempfile.TemporaryDirectory() as tmp:
        target, bare = Path(tmp) / "installed", Path(tmp) / "venv"
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(ROOT)]
        subprocess.run(pip, check=True, capture_output=True)  # noqa: S603
        compile_all = [sys.executable, "-m", "compileall", "-q", str(target)]
        subprocess.run(compile_all, check=True, capture_output=True)  # noqa: S603
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)  # noqa: S603
        python = str(bare / "bin" / "python")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
        env["PYTHONPATH"] = f"{target}{os.pathsep}{sysconfig.get_paths()['purelib']}"
        env["TF_CPP_MIN_LOG_LEVEL"] = "3"
        for case in CASES.values():  # warm-up: file caches, Keras' own first-run work
            subprocess.run([python, *case], env=env, capture_output=True, cwd=tmp, check=True)  # noqa: S603
        walls: dict[str, list[float]] = {name: [] for name in CASES}
        for _ in range(args.rounds):
            for name, case in CASES.items():
                start = time.perf_counter()
                subprocess.run([python, *case], env=env, capture_output=True, cwd=tmp, check=True)  # noqa: S603
                walls[name].append(time.perf_counter() - start)
    reference = statistics.median(walls['python -c "import keras"'])
    print(f"`python -m bench.startup_installed --rounds {args.rounds}` — load average {os.getloadavg()[0]:.1f}")
    print()
    print("| command | wall s, min / median | ÷ `import keras` (medians) |")
    print("|---|---:|---:|")
    for name, values in walls.items():
        median = statistics.median(values)
        print(f"| `{name}` | {min(values):.3f} / {median:.3f} | {median / reference:.3f} |")


if __name__ == "__main__":
    main()
