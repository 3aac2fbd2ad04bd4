"""Image folders: one sub-folder per class, scanned with bounds, symlinks kept inside.

``DIR/cat/001.jpg``, ``DIR/dog/a/b.png``: the class names are the sub-folders' names, sorted
(as ``keras.utils.image_dataset_from_directory`` sorts them), and a class's images are every
JPEG, PNG, BMP and GIF file below its folder. Hidden entries (``.git``, ``.DS_Store``) are
skipped. A symbolic link is followed only when its target lies inside ``DIR``; every folder is
visited once.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from inceptionspec.data.errors import DataBudget, DataError, Problem, shown

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


@dataclass
class ImageFolder:
    """The images of a folder: ``files[i]`` is of class ``classes[labels[i]]``."""

    root: Path
    classes: list[str]
    files: list[Path] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    #: Files that are not images by their suffix, and links that lead outside the folder: not read.
    ignored: int = 0
    links_outside: int = 0
    #: Images left out by `--skip-bad-images`.
    skipped: list[Problem] = field(default_factory=list)

    def counts(self) -> list[int]:
        out = [0] * len(self.classes)
        for label in self.labels:
            out[label] += 1
        return out

    def keep(self, good: list[bool]) -> None:
        """Keep only the files marked good."""
        self.files = [f for f, ok in zip(self.files, good, strict=True) if ok]
        self.labels = [lab for lab, ok in zip(self.labels, good, strict=True) if ok]


class _Walk:
    def __init__(self, root: Path, budget: DataBudget) -> None:
        self.root, self.budget = root, budget
        self.real_root = root.resolve()
        self.entries = 0
        self.visited: set[tuple[int, int]] = set()
        self.ignored = 0
        self.links_outside = 0

    def inside(self, path: Path) -> bool:
        try:
            return path.resolve().is_relative_to(self.real_root)
        except (OSError, RuntimeError):  # a loop of links
            return False

    def entries_of(self, folder: Path) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(folder) as it:
                out = []
                for entry in it:
                    self.entries += 1
                    if self.entries > self.budget.max_entries:
                        raise DataError.at(
                            self.root,
                            f"more than {self.budget.max_entries:,} files and folders; "
                            "the scan stops there (DataBudget.max_entries)",
                        )
                    if not entry.name.startswith("."):
                        out.append(entry)
                return sorted(out, key=lambda e: e.name)
        except PermissionError:
            raise DataError.at(folder, "cannot be read (permission denied)") from None

    def follow(self, entry: os.DirEntry[str]) -> os.stat_result | None:
        """The entry's status, following a link only if it stays inside the root."""
        try:
            if entry.is_symlink():
                if not self.inside(Path(entry.path)):
                    self.links_outside += 1
                    return None
                return os.stat(entry.path)
            return entry.stat(follow_symlinks=False)
        except OSError:
            return None

    def first_visit(self, info: os.stat_result) -> bool:
        key = (info.st_dev, info.st_ino)
        if key in self.visited:
            return False
        self.visited.add(key)
        return True

    def images(self, folder: Path) -> list[Path]:
        found: list[Path] = []
        stack = [(folder, 0)]
        while stack:
            current, depth = stack.pop()
            for entry in reversed(self.entries_of(current)):
                info = self.follow(entry)
                if info is None:
                    continue
                if stat.S_ISDIR(info.st_mode):
                    if depth + 1 > self.budget.max_depth:
                        raise DataError.at(
                            entry.path, f"folders nested more than {self.budget.max_depth} deep in a class folder"
                        )
                    if self.first_visit(info):
                        stack.append((Path(entry.path), depth + 1))
                elif stat.S_ISREG(info.st_mode) and entry.name.lower().endswith(IMAGE_SUFFIXES):
                    found.append(Path(entry.path))
                else:
                    self.ignored += 1
        return sorted(found)


def scan_folder(root: str | Path, budget: DataBudget | None = None) -> ImageFolder:
    """The classes and image files of ``root``; :class:`DataError` naming the path when it is not
    a folder of class folders, or when a class has no image."""
    budget = budget or DataBudget()
    root = Path(root)
    if not root.exists():
        raise DataError.at(root, "no such directory")
    if not root.is_dir():
        raise DataError.at(root, "not a directory (expected a folder with one sub-folder per class)")
    walk = _Walk(root, budget)
    walk.first_visit(root.stat())
    class_dirs: list[Path] = []
    loose = 0
    for entry in walk.entries_of(root):
        info = walk.follow(entry)
        if info is not None and stat.S_ISDIR(info.st_mode) and walk.first_visit(info):
            class_dirs.append(Path(entry.path))
        elif entry.name.lower().endswith(IMAGE_SUFFIXES):
            loose += 1
    if not class_dirs:
        hint = f"{loose} images lie directly in it; put each class's images in a sub-folder" if loose else None
        raise DataError.at(root, "no class folders: expected one sub-folder per class, e.g. DIR/cat/1.jpg", hint)
    if len(class_dirs) > budget.max_classes:
        raise DataError.at(root, f"{len(class_dirs):,} class folders, more than {budget.max_classes:,}")
    folder = ImageFolder(root, [d.name for d in class_dirs])
    empty = []
    for label, class_dir in enumerate(class_dirs):
        images = walk.images(class_dir)
        if not images:
            empty.append(Problem(class_dir, "no images (JPEG, PNG, BMP or GIF) in this class folder"))
        folder.files += images
        folder.labels += [label] * len(images)
    folder.ignored, folder.links_outside = walk.ignored, walk.links_outside
    if empty:
        raise DataError(empty, "every class needs images; remove the empty folders or fill them")
    return folder


def describe(folder: ImageFolder) -> str:
    """One line for the terminal: how many images and classes, what was left out."""
    text = f"{shown(folder.root)}: {len(folder.files):,} images in {len(folder.classes)} classes"
    notes = []
    if folder.skipped:
        notes.append(f"{len(folder.skipped)} unreadable skipped")
    if folder.links_outside:
        notes.append(f"{folder.links_outside} links leading outside ignored")
    return text + (f" ({', '.join(notes)})" if notes else "")
