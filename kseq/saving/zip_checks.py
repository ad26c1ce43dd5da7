"""Checks shared by the zip containers kseq reads (``.keras`` archives, torch files).

Both are opened from bytes already in memory and are never extracted to disk; still, a member
name that would escape a folder (``../x``, ``/etc/x``, ``a\\b``) marks a crafted file and is
refused, every member is read through :mod:`zipfile` (which checks its CRC-32 and stops at its
declared size), and a member that declares more bytes than allowed or expands more than 100x
(a "zip bomb") is refused before it is decompressed.

Example:
    >>> import io, zipfile
    >>> buffer = io.BytesIO()
    >>> with zipfile.ZipFile(buffer, "w") as archive:
    ...     archive.writestr("a.json", "{}")
    >>> with open_zip(buffer.getvalue(), ValueError) as archive:
    ...     read_member(archive, archive.infolist()[0], 1 << 10, ValueError)
    b'{}'
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

__all__ = ["escapes", "open_zip", "read_member"]

Fail = Callable[[str], Exception]
MAX_EXPANSION = 100
_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
)


def escapes(member: str) -> bool:
    """Whether a member name would point outside the folder it is extracted to.

    Example:
        >>> escapes("../evil"), escapes("/etc/passwd"), escapes("archive/data.pkl")
        (True, True, False)
    """
    return member.startswith("/") or "\\" in member or ".." in member.split("/")


def open_zip(data: bytes, fail: Fail) -> zipfile.ZipFile:
    """A ``ZipFile`` over ``data``; an empty or non-zip input raises ``fail(reason)``.

    Example:
        >>> open_zip(b"", ValueError)
        Traceback (most recent call last):
        ...
        ValueError: the file is empty.
    """
    if not data:
        raise fail("the file is empty.")
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except _ERRORS as exc:
        raise fail(f"it is not a zip archive ({exc}); the file is damaged or truncated.") from exc


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, fail: Fail) -> bytes:
    """The bytes of one member, after the size and expansion checks, with its CRC checked.

    Args:
        archive: The open archive.
        info: The member.
        limit: The largest declared size accepted.
        fail: Builds the exception raised on a problem (it gets the reason).
    """
    if info.file_size > limit or info.file_size > MAX_EXPANSION * max(info.compress_size, 1 << 10):
        raise fail(
            f"member {info.filename!r} declares {info.file_size} bytes (stored: "
            f"{info.compress_size}), more than allowed: a potential zip bomb."
        )
    try:
        with archive.open(info) as member_file:
            content = member_file.read(info.file_size + 1)
    except _ERRORS as exc:
        raise fail(f"member {info.filename!r} is damaged ({exc}).") from exc
    if len(content) != info.file_size:
        raise fail(f"member {info.filename!r} does not have its declared size.")
    return content
