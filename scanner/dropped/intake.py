"""Taking a file in: is it a regular file we may read, what its bytes are, and their hash."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from chartclerk_errors import InputFileError
from chartclerk_files import sha256_stream

# The bytes a file starts with, and the kind of file that makes it. Extensions lie
# (a scanner's "scan.pdf" may be a TIFF, a renamed program may claim to be a PDF).
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"BM", "image/bmp"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


@dataclass(frozen=True)
class Intake:
    """A file that may be read: its hash, size and sniffed media type."""

    path: Path
    sha256: str
    size_bytes: int
    media_type: str | None
    # Which file on disk was read, so release removes that file and not a newer one.
    identity: tuple[int, int, int, int]


def check_regular_file(path: Path) -> os.stat_result:
    """Refuse anything but a plain file: symlinks are never followed, FIFOs never opened.

    Raises:
        InputFileError: the path is a link, a device, a FIFO or a folder.
    """
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        raise InputFileError("symbolic link: not followed")
    if not stat.S_ISREG(info.st_mode):
        raise InputFileError("not a regular file (FIFO, device or socket)")
    return info


def take(path: Path, max_bytes: int) -> Intake:
    """Hash and sniff a dropped file.

    Args:
        path: the file in the inbox.
        max_bytes: larger files are refused before they are read.

    Returns:
        The file's hash, size and media type (None when the bytes are no known kind).

    Raises:
        InputFileError: the file is not a regular readable file, is empty or too large.
    """
    info = check_regular_file(path)
    if info.st_size == 0:
        raise InputFileError("empty file (0 bytes)")
    if info.st_size > max_bytes:
        raise InputFileError(f"file too large ({info.st_size // 2**20} MiB > limit)")
    try:
        # O_NOFOLLOW and O_NONBLOCK: a file swapped for a link or a FIFO after the check
        # must not make us follow it or hang.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            head = handle.read(1024)
            sha256 = sha256_stream(handle, head)
    except PermissionError as exc:
        raise InputFileError("cannot read the file: permission denied") from exc
    except OSError as exc:
        raise InputFileError(f"cannot read the file: {exc.strerror or exc}") from exc
    return Intake(path, sha256, info.st_size, sniff(head), file_identity(info))


def file_identity(info: os.stat_result) -> tuple[int, int, int, int]:
    """Device, inode, size and mtime: what tells one version of a file from another."""
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def sniff_file(path: Path) -> str | None:
    """The media type a stored file's first bytes announce, or None."""
    with path.open("rb") as handle:
        return sniff(handle.read(1024))


def sniff(head: bytes) -> str | None:
    """The media type that a file's first bytes announce, or None."""
    for magic, media_type in MAGIC:
        if head.startswith(magic):
            return media_type
    # Some PDF writers put a few bytes of junk before the header; readers accept it.
    if b"%PDF-" in head:
        return "application/pdf"
    return None
