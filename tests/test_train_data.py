"""Training data is hostile input: every bad folder is reported with its path before training
starts, bounded, and names are escaped before they reach a terminal. No TensorFlow here."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from inceptionspec.data import DataBudget, DataError, scan_folder, shown
from inceptionspec.data.arrays import read_npz
from inceptionspec.data.read import align_classes, read_data
from inceptionspec.data.shapes import write_shapes


def png(path: Path, width: int = 8, height: int = 8) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height), (200, 10, 10)).save(path)
    return path


def png_header(path: Path, width: int, height: int) -> Path:
    """A PNG that says it is width×height (its pixel data is a few bytes): a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )
    return path


@pytest.fixture
def folder(tmp_path):
    for name in ("b_dog", "a_cat"):
        for i in range(3):
            png(tmp_path / "data" / name / f"{i}.png")
    return tmp_path / "data"


def test_classes_are_the_sorted_folder_names_and_images_are_found_below_them(folder):
    (folder / "a_cat" / "deeper").mkdir()
    png(folder / "a_cat" / "deeper" / "x.PNG")
    (folder / "a_cat" / "notes.txt").write_text("not an image")
    (folder / ".cache").mkdir()
    scanned = scan_folder(folder)
    assert scanned.classes == ["a_cat", "b_dog"]
    assert scanned.counts() == [4, 3]
    assert scanned.ignored == 1


def test_not_a_directory_is_named(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(DataError, match=r"file\.txt: not a directory"):
        scan_folder(target)
    with pytest.raises(DataError, match=r"missing: no such directory"):
        scan_folder(tmp_path / "missing")


def test_a_folder_without_class_folders_says_what_is_expected(tmp_path):
    png(tmp_path / "flat" / "1.png")
    with pytest.raises(DataError) as err:
        scan_folder(tmp_path / "flat")
    assert "flat: no class folders" in str(err.value)
    assert "1 images lie directly in it" in str(err.value)


def test_every_empty_class_is_named(folder):
    (folder / "c_empty").mkdir()
    (folder / "d_empty").mkdir()
    (folder / "d_empty" / "readme.md").write_text("")
    with pytest.raises(DataError) as err:
        scan_folder(folder)
    assert "c_empty: no images" in str(err.value) and "d_empty: no images" in str(err.value)


def test_a_file_that_is_not_an_image_is_named_or_skipped_and_counted(folder):
    (folder / "b_dog" / "broken.jpg").write_bytes(b"this is text, not a JPEG")
    with pytest.raises(DataError, match=r"b_dog/broken\.jpg: not a readable image") as err:
        read_data(folder, DataBudget())
    assert "--skip-bad-images" in str(err.value)
    data = read_data(folder, DataBudget(), skip_bad=True)
    assert len(data.files) == 6 and [p.path.name for p in data.skipped] == ["broken.jpg"]


def test_the_class_count_must_be_the_specs_and_the_fix_is_suggested(folder):
    with pytest.raises(DataError) as err:
        read_data(folder, DataBudget(), classes=10)
    assert "2 class folders, but the spec has `classes: 10`" in str(err.value)
    assert "--set classes=2" in str(err.value)


def test_a_decompression_bomb_is_refused_from_its_header(folder):
    png_header(folder / "a_cat" / "bomb.png", 10_000, 10_000)  # 100 megapixels from 100 bytes
    with pytest.raises(DataError, match=r"bomb\.png: 10000×10000 pixels, more than 67,108,864"):
        read_data(folder, DataBudget())
    png_header(folder / "a_cat" / "bomb.png", 100_000, 100_000)  # past Pillow's own limit too
    with pytest.raises(DataError, match=r"bomb\.png: more than 67,108,864 pixels \(Image size \(10000000000 pixels\)"):
        read_data(folder, DataBudget())


def test_an_oversized_file_is_refused_before_it_is_opened(folder):
    with pytest.raises(DataError, match=r"0\.png: \d+ bytes, more than the 10 an image may have"):
        read_data(folder, DataBudget(max_image_bytes=10))


def test_the_scan_is_bounded(folder):
    with pytest.raises(DataError, match="more than 3 files and folders"):
        scan_folder(folder, DataBudget(max_entries=3))
    deep = folder / "a_cat" / "1" / "2" / "3"
    deep.mkdir(parents=True)
    with pytest.raises(DataError, match="nested more than 2 deep"):
        scan_folder(folder, DataBudget(max_depth=2))


def test_links_are_followed_inside_the_folder_only(folder, tmp_path):
    outside = png(tmp_path / "secret" / "private.png")
    (folder / "a_cat" / "leak.png").symlink_to(outside)
    (folder / "b_dog" / "leakdir").symlink_to(outside.parent, target_is_directory=True)
    (folder / "b_dog" / "again.png").symlink_to(folder / "a_cat" / "0.png")
    (folder / "a_cat" / "loop").symlink_to(folder / "a_cat", target_is_directory=True)
    scanned = scan_folder(folder)
    assert outside not in scanned.files and not any("private" in str(f) for f in scanned.files)
    assert scanned.links_outside == 2
    assert folder / "b_dog" / "again.png" in scanned.files
    assert scanned.counts() == [3, 4]


def test_names_are_escaped_for_the_terminal(tmp_path):
    evil = tmp_path / "data" / "cat\x1b[31mred"
    png(evil / "1.png")
    (evil / "bad\x07.png").write_bytes(b"nope")
    with pytest.raises(DataError) as err:
        read_data(tmp_path / "data", DataBudget())
    text = str(err.value)
    assert "\x1b" not in text and "\x07" not in text
    assert "cat\\x1b[31mred/bad\\x07.png" in text
    assert shown("a\u202eb\udcff") == "a\\u202eb\\udcff"


def test_validation_classes_are_numbered_as_the_training_classes(folder, tmp_path):
    png(tmp_path / "val" / "b_dog" / "1.png")
    val = read_data(tmp_path / "val", DataBudget())
    align_classes(["a_cat", "b_dog"], val, "--data")
    assert val.labels == [1] and val.classes == ["a_cat", "b_dog"]
    png(tmp_path / "val" / "zebra" / "1.png")
    with pytest.raises(DataError, match="class folders that --data does not have: `zebra`"):
        align_classes(["a_cat", "b_dog"], read_data(tmp_path / "val", DataBudget()), "--data")


def test_npz_arrays_are_read_without_unpickling_and_checked(tmp_path):
    good = tmp_path / "good.npz"
    np.savez(good, x=np.zeros((4, 8, 8), np.uint8), y=np.array([0, 1, 2, 1]), classes=np.array(["a", "b", "c"]))
    arrays = read_npz(good)
    assert arrays.x.shape == (4, 8, 8, 1) and arrays.classes == ["a", "b", "c"]
    evil = tmp_path / "evil.npz"
    np.savez(evil, x=np.array([object()], dtype=object), y=np.array([0]))
    with pytest.raises(DataError, match="holds Python objects"):
        read_npz(evil)
    with pytest.raises(DataError, match=r"arrays of .* GiB, more than 0 GiB"):
        read_npz(good, DataBudget(max_array_bytes=10))
    labels = tmp_path / "labels.npz"
    np.savez(labels, x=np.zeros((2, 8, 8, 3), np.uint8), y=np.array([0, 7]))
    with pytest.raises(DataError, match="labels run from 0 to 7, outside 0–3"):
        read_npz(labels, classes=4)


def test_the_shapes_folder_is_a_valid_data_set_of_every_format(tmp_path):
    root = write_shapes(tmp_path / "shapes", per_class=5, size=16)
    data = read_data(root, DataBudget(), classes=4)
    assert data.counts() == [5, 5, 5, 5]
    assert {f.suffix for f in data.files} == {".png", ".jpg"}


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda root: root.mkdir(), "no class folders"),
        (lambda root: (root / "a").mkdir(parents=True), "a: no images"),
        (lambda root: png(root / "a" / "1.png") and (root / "a" / "2.gif").write_text("x"), "2.gif: not a readable"),
        (
            lambda root: png(root / "a" / "1.png") and png(root / "b" / "1.png"),
            "2 class folders, but the spec has `classes: 1`",
        ),
    ],
)
def test_the_cli_reports_bad_data_with_its_path_and_exit_1_before_tensorflow(tmp_path, setup, expected):
    root = tmp_path / "data"
    setup(root)
    run = run_cli("train", "examples/googlenet_cifar", "--data", root, "--out", tmp_path / "run", "--set", "classes=1")
    assert run.returncode == 1, run.stderr
    assert expected in run.stderr and "Traceback" not in run.stderr
    assert str(root) in run.stderr
    assert not (tmp_path / "run").exists()
