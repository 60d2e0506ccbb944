"""When is a dropped file finished? When its size and mtime stop changing.

Scanners and copy tools open and close a file several times while writing it, so a single
"closed" event proves nothing; a file is taken only after it has looked the same for
``stable_seconds``. Hidden and temporary names are never taken.
"""

from __future__ import annotations

import fnmatch
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

Identity = tuple[int, int, int, int]
# A file that is still empty is far more often one a scanner or copier has created and not
# yet begun to write than a truly empty drop: it waits this long before it is taken.
EMPTY_GRACE_SECONDS = 30.0


def is_ignored(path: Path, root: Path, patterns: Sequence[str]) -> bool:
    """True for temp and hidden files, and anything inside a hidden folder of the inbox."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = (path.name,)
    if any(part.startswith(".") for part in parts[:-1]):
        return True
    return any(fnmatch.fnmatchcase(path.name, pattern) for pattern in patterns)


def files_in(root: Path, patterns: Sequence[str]) -> Iterator[Path]:
    """Every file under ``root`` that may be taken: hidden folders skipped, links not followed.

    A link itself is listed (so it can be quarantined); the folder it points to is not walked.
    """
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            path = Path(folder) / name
            if not is_ignored(path, root, patterns):
                yield path


def _identity(path: Path) -> Identity | None:
    try:
        info = path.lstat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


class StabilityTracker:
    """Files seen in the inbox, each with the moment it last changed. Thread-safe."""

    def __init__(
        self,
        stable_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        empty_grace_seconds: float = EMPTY_GRACE_SECONDS,
    ):
        self.stable_seconds = stable_seconds
        self.empty_grace_seconds = max(stable_seconds, empty_grace_seconds)
        self.clock = clock
        self._lock = threading.Lock()
        self._seen: dict[Path, tuple[Identity, float]] = {}
        # Files already handed over whose entry is still there (a quarantine that could not
        # move them): not offered again until they change.
        self._handed: dict[Path, Identity] = {}

    def observe(self, path: Path) -> None:
        """Note that ``path`` may have changed (an event, or a catch-up scan found it)."""
        identity = _identity(path)
        with self._lock:
            if identity is None:
                self._seen.pop(path, None)
                self._handed.pop(path, None)
                return
            if self._handed.get(path) == identity:
                return
            self._handed.pop(path, None)
            previous = self._seen.get(path)
            if previous is None or previous[0] != identity:
                self._seen[path] = (identity, self.clock())

    def pending(self) -> int:
        """How many files are waiting to become stable."""
        with self._lock:
            return len(self._seen)

    def take_ready(self) -> list[Path]:
        """Files unchanged for ``stable_seconds``; they leave the tracker as they are returned."""
        now = self.clock()
        ready: list[Path] = []
        with self._lock:
            for path, (identity, since) in list(self._seen.items()):
                current = _identity(path)
                if current is None:
                    del self._seen[path]
                elif current != identity:
                    self._seen[path] = (current, now)
                elif now - since >= self._wait_for(identity):
                    del self._seen[path]
                    self._handed[path] = identity
                    ready.append(path)
        return sorted(ready)

    def _wait_for(self, identity: Identity) -> float:
        return self.empty_grace_seconds if identity[2] == 0 else self.stable_seconds

    def retry_later(self, path: Path, delay: float) -> None:
        """Offer a handed-over file again ``delay`` seconds from now (its handling failed).

        A file whose handling raised (database locked, disk full) is still in the inbox; it
        must be tried again without waiting for it to change or for the daemon to restart.
        """
        identity = _identity(path)
        with self._lock:
            self._handed.pop(path, None)
            if identity is None:
                self._seen.pop(path, None)
                return
            self._seen[path] = (identity, self.clock() + delay)

    def give_back(self, path: Path) -> None:
        """Return a file from :meth:`take_ready` that could not be handled yet; still stable."""
        with self._lock:
            identity = self._handed.pop(path, None)
            if identity is not None:
                self._seen[path] = (identity, self.clock() - self.stable_seconds)

    def forget_gone(self) -> None:
        """Drop handed-over entries whose files have left the inbox."""
        with self._lock:
            for path in [p for p in self._handed if _identity(p) is None]:
                del self._handed[path]
