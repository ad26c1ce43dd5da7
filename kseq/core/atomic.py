"""Atomic file writes: every file kseq saves (models, weights, checkpoints) goes through here.

The bytes go to a hidden temporary file in the destination's folder, which is flushed and
``fsync``-ed, then ``os.replace``-d over the destination, and the folder entry is ``fsync``-ed
too. ``os.replace`` is atomic on POSIX and Windows, so a reader (or a process restarted after a
crash, ``SIGKILL`` or power cut) sees either the complete previous file or the complete new one,
never a torn mixture. If the writer fails, the temporary file is removed and the previous file is
left untouched; a process killed mid-write leaves at most one stray ``.<name>.*.tmp`` file.

Example:
    >>> import os, pathlib, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> target = os.path.join(folder, "hello.txt")
    >>> atomic_write_bytes(target, b"hi")
    >>> pathlib.Path(target).read_bytes(), os.listdir(folder)
    (b'hi', ['hello.txt'])
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from typing import IO

__all__ = ["atomic_write", "atomic_write_bytes"]


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def _fsync_folder(folder: str) -> None:
    """Persist the folder entry that ``os.replace`` changed (a no-op where folders can't be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows: folders cannot be opened; the rename is durable there anyway
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _check_target(path: str) -> str:
    """The absolute folder of ``path``, after checking that ``path`` can be a file there."""
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"Cannot save to {path!r}: it is an existing directory. Pass a file path instead, "
            f"e.g. {os.path.join(path, 'model.keras')!r}."
        )
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"Cannot save to {path!r}: the folder {folder!r} does not exist. Create it first "
            "(os.makedirs(folder, exist_ok=True))."
        )
    return folder


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Open a temporary file (``"w+b"``) that replaces ``path`` when the block ends without error.

    The file is flushed and fsynced before the rename; on an exception the temporary file is
    deleted and ``path`` keeps its previous content. The new file gets the previous file's
    permissions (or the usual ``0o666 & ~umask`` for a new file).

    Args:
        path: Destination file. Its folder must exist.

    Raises:
        IsADirectoryError: ``path`` is a folder.
        FileNotFoundError: The folder of ``path`` does not exist.

    Example:
        >>> import os, pathlib, tempfile
        >>> target = os.path.join(tempfile.mkdtemp(), "numbers.bin")
        >>> with atomic_write(target) as f:
        ...     _ = f.write(bytes([1, 2, 3]))
        >>> list(pathlib.Path(target).read_bytes())
        [1, 2, 3]
    """
    path = os.fspath(path)
    folder = _check_target(path)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_UMASK
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w+b") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`).

    Example:
        >>> import os, pathlib, tempfile
        >>> target = os.path.join(tempfile.mkdtemp(), "a.json")
        >>> atomic_write_bytes(target, b"{}"); pathlib.Path(target).read_text()
        '{}'
    """
    with atomic_write(path) as f:
        f.write(data)
