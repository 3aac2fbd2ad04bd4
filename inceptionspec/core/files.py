"""Reading and writing files a spec or a command names, without trusting them.

:func:`read_bounded` is the only way inceptionspec reads a spec: regular files only (a FIFO, a
device, a directory is refused), opened so that nothing can block (``O_NONBLOCK``: a FIFO swapped
in after the check, ``/proc/kmsg``), and read up to one byte past the limit whatever the file's
size says (``/proc`` files say they are empty, and a file can grow while it is read).
:func:`write_text` keeps the file's name in the error when a write fails (``/dev/full``).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from inceptionspec.core.errors import SourceError, UsageError

_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
_CHUNK = 1 << 16


def reason(exc: BaseException) -> str:
    """An OSError (or the ValueError of a NUL byte, the RuntimeError of a symlink loop before
    Python 3.13) as a short phrase: ``No such file or directory``."""
    if isinstance(exc, OSError):
        if exc.errno == errno.ELOOP:
            return "too many levels of symbolic links (a symlink loop?)"
        return exc.strerror or str(exc)
    if isinstance(exc, RuntimeError) and "loop" in str(exc).lower():
        return "too many levels of symbolic links (a symlink loop?)"
    return str(exc)


def regular_file(path: Path, display: str | None = None) -> Path:
    """``path`` if it is a regular file (after symlinks); SourceError otherwise, without opening it
    (opening a device can have effects of its own)."""
    shown = display or str(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        dangling = os.path.islink(path)
        raise SourceError(shown, "no such file" + (" (a dangling symbolic link)" if dangling else "")) from None
    except (OSError, ValueError) as exc:
        raise SourceError(shown, reason(exc)) from None
    if stat.S_ISDIR(mode):
        raise SourceError(shown, "not a file (a directory)")
    if not stat.S_ISREG(mode):
        raise SourceError(shown, "not a file (a FIFO, socket or device)")
    return path


def read_bounded(path: Path, limit: int, display: str | None = None) -> bytes:
    """At most ``limit + 1`` bytes of the regular file ``path`` (so the caller sees it is too
    long); SourceError when it is not a regular file, cannot be opened, or a read would block."""
    shown = display or str(path)
    regular_file(path, shown)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except (OSError, ValueError) as exc:
        raise SourceError(shown, reason(exc)) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for something else since the check
            raise SourceError(shown, "not a file (a FIFO, socket or device)")
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            try:
                chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            except BlockingIOError:
                raise SourceError(shown, "reading it would block (a special file, not a spec)") from None
            except OSError as exc:
                raise SourceError(shown, reason(exc)) from None
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def write_text(path: Path, text: str) -> None:
    """Write a command's output file; UsageError naming the file when it cannot be written
    (``/dev/full: No space left on device``)."""
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    """:func:`write_text` for bytes (a PNG, an encoded text)."""
    try:
        with open(path, "wb") as stream:
            stream.write(data)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {reason(exc)}") from None
