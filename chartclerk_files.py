"""The one way chartclerk writes a file atomically, and the one way it hashes a file.

Shared by every part (like :mod:`chartclerk_errors`): the archive, the quarantine, the search
index's version stamp and the demo's inbox files all need "a crash leaves either no file or
a whole one", and intake and the archive both need a sha256 that never holds a whole scan
in memory.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20
TEMP_PREFIX = ".tmp-"


def sha256_stream(handle: BinaryIO, head: bytes = b"") -> str:
    """The sha256 of ``head`` followed by the rest of ``handle``, read in chunks."""
    digest = hashlib.sha256(head)
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    """The sha256 of a file, read in chunks."""
    with path.open("rb") as handle:
        return sha256_stream(handle)


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target`` to write; renamed onto ``target`` when the block ends.

    The temporary file is hidden (``.tmp-`` prefix: watchers and sweeps skip it), fsynced
    before the rename and the folder after it, so the rename is durable. When the block
    raises, the temporary file is removed and ``target`` is untouched.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{target.name[:40]}-", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_folder(target.parent)


def fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable: its entry is on disk only once the folder is."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
