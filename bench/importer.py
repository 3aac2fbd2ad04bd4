"""Benchmark of `inceptionspec import`: how long an import takes, how long the spec it writes is, and
how close the imported spec's model computes to the source with the same weights.

    python -m bench.importer            # every shipped spec round-tripped, keras.applications at full size
    python -m bench.importer --quick    # Inception v3 only

Per model: the import's wall and CPU time (median of 3; Keras building the source model is not
counted — only reading its config into a spec, the self-check included), the spec's lines against the
shipped spec's (target ≤ 1.5× for keras:InceptionV3 and keras:InceptionResNetV2), and for
keras.applications the largest output difference after transferring the source's weights, batch-norm
statistics randomised (target ≤ 1e-5).
Prints a markdown table with the machine's load and the command.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def _timed(fn, repeats: int = 3) -> tuple[float, float, object]:
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def _randomise_batch_norms(keras, np, model) -> None:
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            weights = layer.get_weights()
            new = [rng.normal(0, 0.2, w.shape).astype("float32") for w in weights[:-1]]
            layer.set_weights([*new, rng.uniform(0.5, 1.5, weights[-1].shape).astype("float32")])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.importer", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="keras:InceptionV3 only")
    args = parser.parse_args(argv)

    import keras
    import numpy as np

    from inceptionspec import build_model, transfer_weights
    from inceptionspec.importer import import_spec
    from inceptionspec.keras.config import model_config
    from inceptionspec.lang.library import shipped

    rows = []
    apps = ["InceptionV3"] if args.quick else ["InceptionV3", "InceptionResNetV2"]
    shipped_lines = {name: len(path.read_text().splitlines()) for name, path in shipped().items()}
    for app in apps:
        source = getattr(keras.applications, app)(weights=None)
        _randomise_batch_norms(keras, np, source)  # the default statistics (0, 1) would hide a wrong epsilon
        config = model_config(source)
        wall, cpu, imported = _timed(lambda config=config: import_spec(config))
        model = build_model(imported.spec, include_aux=False)
        transfer_weights(source, model)
        x = np.random.default_rng(0).normal(size=(2, 299, 299, 3)).astype("float32")
        diff = float(np.abs(source.predict(x, verbose=0) - model.predict(x, verbose=0)["main"]).max())
        reference = {"InceptionV3": "inception_v3", "InceptionResNetV2": "inception_resnet_v2"}[app]
        lines = len(imported.text.splitlines())
        rows.append((f"keras:{app}", imported.layers, wall, cpu, lines, shipped_lines[reference], f"{diff:.1e}"))
        keras.backend.clear_session()
    if not args.quick:
        for name in sorted(shipped()):
            config = model_config(build_model(name))
            wall, cpu, imported = _timed(lambda config=config: import_spec(config))
            lines = len(imported.text.splitlines())
            rows.append((f"round trip of {name}", imported.layers, wall, cpu, lines, shipped_lines[name], "—"))
            keras.backend.clear_session()
    print(
        f"`{' '.join(['python -m bench.importer', *(argv or sys.argv[1:])])}` — load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n"
    )
    header = ["model", "layers checked", "import wall", "import CPU", "lines", "shipped lines", "ratio", "max diff"]
    print("| " + " | ".join(header) + " |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, layers, wall, cpu, lines, ref, diff in rows:
        print(
            f"| {name} | {layers} | {wall * 1000:.0f} ms | {cpu * 1000:.0f} ms | {lines} | {ref} | "
            f"{lines / ref:.2f} | {diff} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
