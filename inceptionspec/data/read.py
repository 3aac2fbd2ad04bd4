"""Reading `--data` for a command: a folder or a .npz file, checked against what the model expects."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from inceptionspec.data.arrays import Arrays, read_npz
from inceptionspec.data.errors import DataBudget, DataError, Problem, shown
from inceptionspec.data.folders import ImageFolder, describe, scan_folder
from inceptionspec.data.images import check_images


def read_data(
    path: str | Path,
    budget: DataBudget,
    skip_bad: bool = False,
    classes: int | None = None,
    say: Callable[[str], None] = lambda text: None,
) -> ImageFolder | Arrays:
    """An image folder (scanned, every image's header checked) or a .npz file. With ``classes``,
    the data must have that many classes: the hint names the ``--set`` that fits the model to it."""
    path = Path(path)
    if path.suffix.lower() == ".npz" and not path.is_dir():
        arrays = read_npz(path, budget, classes if classes is not None else None)
        found = len(arrays.classes)
        if classes is not None and found != classes:
            raise DataError.at(
                path,
                f"{found} class names in `classes`, but the spec has `classes: {classes}`",
                f"--set classes={found}",
            )
        say(f"{shown(path)}: {len(arrays.y):,} images of {arrays.x.shape[1]}×{arrays.x.shape[2]}, {found} classes")
        return arrays
    folder = scan_folder(path, budget)
    if classes is not None and len(folder.classes) != classes:
        raise DataError.at(
            path,
            f"{len(folder.classes)} class folders, but the spec has `classes: {classes}`",
            f"train with --set classes={len(folder.classes)}",
        )
    bad = check_images(folder.files, budget)
    if bad:
        if not skip_bad:
            raise DataError(bad, "--skip-bad-images leaves such files out (and counts them)")
        bad_paths = {p.path for p in bad}
        folder.keep([f not in bad_paths for f in folder.files])
        folder.skipped += bad
        empty = [folder.classes[i] for i, n in enumerate(folder.counts()) if n == 0]
        if empty:
            raise DataError([Problem(path / c, "no readable images in this class folder") for c in empty])
    say(describe(folder))
    return folder


def align_classes(reference: list[str], other: ImageFolder | Arrays, what: str) -> None:
    """Number ``other``'s labels as ``reference`` (the training data's classes, or the model's)
    numbers them; every class of ``other`` must be one of ``reference`` (it may have fewer)."""
    if isinstance(other, Arrays):
        if len(other.classes) != len(reference):
            raise DataError.at(other.path, f"{len(other.classes)} classes; {what} has {len(reference)}")
        other.classes = list(reference)
        return
    missing = sorted(set(other.classes) - set(reference))
    if missing:
        names = ", ".join(f"`{shown(c)}`" for c in missing[:5]) + (" …" if len(missing) > 5 else "")
        raise DataError.at(other.root, f"class folders that {what} does not have: {names}")
    index = {name: i for i, name in enumerate(reference)}
    other.labels = [index[other.classes[label]] for label in other.labels]
    other.classes = list(reference)
