"""``python -m bench.worker SECTION CONFIG.json OUT.json``: one in-process section, isolated in its own process.

The static analysis runs in a process that never imports TensorFlow; build and
inference each start from a fresh interpreter, so no section inherits another's
memory, threads or caches.
"""

from __future__ import annotations

import json
import sys
import traceback


def main(argv: list[str]) -> int:
    section, config_path, out_path = argv
    with open(config_path, encoding="utf-8") as fh:
        config = json.load(fh)
    try:
        if section == "analysis":
            from .static import run

            result = run(config)
        elif section == "build":
            from .keras_bench import run_build

            result = run_build(config)
        elif section == "inference":
            from .keras_bench import run_inference

            result = run_inference(config)
        else:
            raise SystemExit(f"unknown section {section!r}")
    except Exception:
        result = {"error": traceback.format_exc(limit=8)}
        print(result["error"], file=sys.stderr)
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=1)
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
