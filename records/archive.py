"""The archive of original files, content-addressed by sha256.

A file is written to a temporary name in its final folder, fsynced, renamed into place and
read back to verify its hash, so that a crash leaves either no file or a whole one.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

from chartclerk_errors import StoreError

CHUNK = 1 << 20


def sha256_of(path: Path) -> str:
    """Hash a file in chunks, so a large scan never sits whole in memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


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
            StoreError: the copy could not be written, or its hash differs (source changed).
        """
        target = self.path_for(sha256)
        if self.contains(sha256):
            return target
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            self._copy_atomically(source, target)
        except OSError as exc:
            raise StoreError(f"cannot write the archive copy: {exc.strerror or exc}") from exc
        if sha256_of(target) != sha256:
            target.unlink(missing_ok=True)
            raise StoreError("archive copy does not match the file's hash (file changed?)")
        return target

    @staticmethod
    def _copy_atomically(source: Path, target: Path) -> None:
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            tmp.replace(target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)

    def sweep_temp(self, older_than_seconds: float = 3600.0) -> int:
        """Remove temporary files a crash left mid-copy; returns how many went.

        Only files older than ``older_than_seconds`` go, so a copy another process is
        writing right now is never touched.
        """
        cutoff = time.time() - older_than_seconds
        removed = 0
        for path in self.root.glob("??/??/.tmp-*"):
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
            if path.name.startswith(".tmp-"):
                continue
            if sha256_of(path) != path.name:
                bad.append(path.name)
        return bad


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the folder's entry is on disk too.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
