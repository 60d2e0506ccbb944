"""What the world currently refuses the daemon, for ``chartclerk status`` and the heartbeat.

Only environmental failures (:class:`chartclerk_errors.NotReadyError`) are recorded here; a
file's own bad bytes end in quarantine and show there. The daemon keeps the board in memory
and writes it to a small JSON file after each change, so ``status`` (another process) can
show it, even while the database is the thing that is locked.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chartclerk_errors import NotReadyError, TesseractMissingError

log = logging.getLogger("chartclerk.health")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Health:
    """The environmental failures now in force, by kind; thread-safe."""

    def __init__(self, path: Path | None = None) -> None:
        """Keep the board, written to ``path`` after each change (None: memory only)."""
        self.path = path
        self._lock = threading.Lock()
        self._failures: dict[str, dict[str, Any]] = {}
        self._inbox_missing: str | None = None
        self._heartbeat: str | None = None

    def failed(self, failure: NotReadyError) -> None:
        """A file waits because of ``failure``; shown until a file goes through again."""
        with self._lock:
            entry = self._failures.setdefault(
                failure.kind, {"advice": failure.advice, "since": _now(), "count": 0}
            )
            entry["count"] += 1
            entry["last"] = _now()
            entry["message"] = str(failure).splitlines()[0][:200] if str(failure) else ""
        self.save()

    def succeeded(self, *, ocr_ran: bool) -> None:
        """A file went through: the store, the disk and the archive work again.

        Tesseract is cleared only by a file that needed it.
        """
        with self._lock:
            kept = {TesseractMissingError.kind} if not ocr_ran else set()
            cleared = {k: v for k, v in self._failures.items() if k in kept}
            changed = cleared != self._failures
            self._failures = cleared
        if changed:
            self.save()

    def inbox_missing(self, reason: str | None) -> None:
        """The inbox folder is gone (a share not mounted), or back when ``reason`` is None."""
        with self._lock:
            changed = reason != self._inbox_missing
            self._inbox_missing = reason
        if changed:
            if reason is None:
                log.warning("the inbox is back")
            else:
                log.error("%s", reason)
            self.save()

    def beat(self) -> None:
        """The daemon is alive (written with the heartbeat)."""
        with self._lock:
            self._heartbeat = _now()
        self.save()

    def snapshot(self) -> dict[str, Any]:
        """The board as ``status`` shows it."""
        with self._lock:
            return {
                "waiting_on": {kind: dict(entry) for kind, entry in self._failures.items()},
                "inbox_missing": self._inbox_missing,
                "heartbeat_at": self._heartbeat,
                "pid": os.getpid(),
            }

    def save(self) -> None:
        """Write the board beside the database; best effort (the disk may be what is full)."""
        if self.path is None:
            return
        data = json.dumps(self.snapshot(), indent=1)
        tmp: Path | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=".health-", dir=self.path.parent)
            tmp = Path(name)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(data)
            tmp.replace(self.path)
        except OSError as exc:
            log.warning("could not write the daemon's health file: %s", exc.strerror)
            if tmp is not None:
                tmp.unlink(missing_ok=True)


def read_health(path: Path) -> dict[str, Any] | None:
    """The board the daemon last wrote, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
