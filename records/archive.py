"""The archive of original files, content-addressed by sha256.

A file is written to a temporary name in its final folder, fsynced, renamed into place and
read back to verify its hash, so that a crash leaves either no file or a whole one.
"""

from __future__ import annotations

import errno
import shutil
import time
from pathlib import Path

from chartclerk_errors import (
    ArchiveUnwritableError,
    DiskFullError,
    NotReadyError,
    StillBeingWrittenError,
)
from chartclerk_files import CHUNK, TEMP_PREFIX, atomic_path, sha256_of

__all__ = ["Archive", "sha256_of"]


class Archive:
    """Original files stored under ``root/ab/cd/<sha256>``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        """Where the bytes with this hash live (whether or not they are there yet)."""
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def contains(self, sha256: str) -> bool:
        """True when the archive holds a file with this hash and its bytes match it."""
        path = self.path_for(sha256)
        return path.is_file() and sha256_of(path) == sha256

    def store(self, source: Path, sha256: str) -> Path:
        """Copy ``source`` into the archive under ``sha256`` and verify it.

        Idempotent: a verified copy already in place is kept as it is.

        Raises:
            NotReadyError: the copy could not be written (disk full, unwritable), or the
                source changed while it was copied.
        """
        target = self.path_for(sha256)
        if self.contains(sha256):
            return target
        try:
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._copy_atomically(source, target)
        except OSError as exc:
            raise _archive_error(exc) from exc
        if sha256_of(target) != sha256:
            target.unlink(missing_ok=True)
            raise StillBeingWrittenError("the file changed while it was copied to the archive")
        return target

    @staticmethod
    def _copy_atomically(source: Path, target: Path) -> None:
        with atomic_path(target) as tmp, source.open("rb") as src, tmp.open("wb") as out:
            shutil.copyfileobj(src, out, CHUNK)

    def sweep_temp(self, older_than_seconds: float = 3600.0) -> int:
        """Remove temporary files a crash left mid-copy; returns how many went.

        Only files older than ``older_than_seconds`` go, so a copy another process is
        writing right now is never touched.
        """
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self.root.glob(f"??/??/{TEMP_PREFIX}*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def verify_all(self) -> list[str]:
        """Hash every archived file; returns the names whose bytes do not match."""
        bad = []
        for path in self.root.glob("??/??/*"):
            if path.name.startswith(TEMP_PREFIX):
                continue
            if sha256_of(path) != path.name:
                bad.append(path.name)
        return bad


def _archive_error(exc: OSError) -> NotReadyError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(f"cannot write the archive copy: {exc.strerror or exc}")
    return ArchiveUnwritableError(f"cannot write the archive copy: {exc.strerror or exc}")
