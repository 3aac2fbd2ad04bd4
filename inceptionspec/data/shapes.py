"""A small, learnable image folder, made on the spot: for trying `train` and for tests.

``python -m inceptionspec.data.shapes DIR`` writes ``DIR/<class>/<n>.png|jpg``: each class is a
simple pattern (stripes across or down, a checkerboard, a disc) at a random scale and phase, in
random colours, over noise. Some files are JPEG, some grayscale or with an alpha channel, so
reading them exercises every conversion the pipeline does.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

Pattern = Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]


def _stripes_across(y: np.ndarray, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.sin(y * rng.uniform(0.5, 1.2) + rng.uniform(0, 6.3)) > 0


def _stripes_down(y: np.ndarray, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.sin(x * rng.uniform(0.5, 1.2) + rng.uniform(0, 6.3)) > 0


def _checkerboard(y: np.ndarray, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    f = rng.uniform(0.5, 1.0)
    return (np.sin(y * f + rng.uniform(0, 6.3)) > 0) ^ (np.sin(x * f + rng.uniform(0, 6.3)) > 0)


def _disc(y: np.ndarray, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    size = y.shape[0]
    cy, cx = rng.uniform(0.3, 0.7, 2) * size
    return (y - cy) ** 2 + (x - cx) ** 2 < (rng.uniform(0.15, 0.35) * size) ** 2


PATTERNS: dict[str, Pattern] = {
    "across": _stripes_across,
    "checkerboard": _checkerboard,
    "disc": _disc,
    "down": _stripes_down,
}


def write_shapes(root: str | Path, per_class: int = 100, size: int = 40, classes: int = 4, seed: int = 0) -> Path:
    """Write ``classes`` pattern classes of ``per_class`` images of ``size``×``size`` under ``root``."""
    from PIL import Image

    root = Path(root)
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    for name in list(PATTERNS)[:classes]:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(per_class):
            mask = PATTERNS[name](y, x, rng)[..., None]
            fg, bg = rng.uniform(0, 255, (2, 3))
            while abs((fg - bg) @ [0.299, 0.587, 0.114]) < 60:  # visible in grayscale too
                fg, bg = rng.uniform(0, 255, (2, 3))
            pixels = np.where(mask, fg, bg) + rng.normal(0, 20, (size, size, 3))
            image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
            kind = n % 5
            if kind == 0:
                image.convert("L").save(folder / f"{n:04d}.png")
            elif kind == 1:
                image.convert("RGBA").save(folder / f"{n:04d}.png")
            elif kind == 2:
                image.save(folder / f"{n:04d}.jpg", quality=90)
            else:
                image.save(folder / f"{n:04d}.png")
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--size", type=int, default=40)
    parser.add_argument("--classes", type=int, default=4, choices=range(1, len(PATTERNS) + 1))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    write_shapes(args.root, args.per_class, args.size, args.classes, args.seed)
    print(f"wrote {args.classes} classes of {args.per_class} images to {args.root}")


if __name__ == "__main__":
    main()
