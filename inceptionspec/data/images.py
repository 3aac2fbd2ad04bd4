"""Checking image files from their headers, before anything decodes them.

Pillow reads only the header (format, size, frames), so a decompression bomb — a small file
that decodes into gigabytes — is refused before TensorFlow allocates its pixels.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from inceptionspec.data.errors import DataBudget, Problem

#: Formats TensorFlow's decoder reads (by content, whatever the suffix).
FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "BMP": "BMP", "GIF": "GIF", "MPO": "JPEG"}


def check_image(path: Path, budget: DataBudget) -> str | None:
    """Why ``path`` cannot be used as an image, or None."""
    from PIL import Image, UnidentifiedImageError

    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if size == 0:
        return "an empty file, not an image"
    if size > budget.max_image_bytes:
        return f"{size:,} bytes, more than the {budget.max_image_bytes:,} an image may have"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's own decompression-bomb warning: our bound is lower
            with Image.open(path) as image:
                kind = FORMATS.get(image.format or "")
                if kind is None:
                    return f"a {image.format} image; JPEG, PNG, BMP or GIF expected"
                width, height = image.size
                frames = getattr(image, "n_frames", 1) if kind == "GIF" else 1
    except Image.DecompressionBombError as exc:  # Pillow's own, far higher, bound
        return f"more than {budget.max_pixels:,} pixels ({str(exc).split(',')[0]})"
    except UnidentifiedImageError:
        return "not a readable image (not JPEG, PNG, BMP or GIF)"
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        return f"not a readable image ({str(exc)[:80] or type(exc).__name__})"
    if width * height * frames > budget.max_pixels:
        return f"{width}×{height}{f'×{frames} frames' if frames > 1 else ''} pixels, more than {budget.max_pixels:,}"
    return None


def check_images(paths: list[Path], budget: DataBudget, workers: int = 8) -> list[Problem]:
    """The problems of every image, in order (files are opened in parallel)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda p: check_image(p, budget), paths, chunksize=64))
    return [Problem(path, message) for path, message in zip(paths, results, strict=True) if message]
