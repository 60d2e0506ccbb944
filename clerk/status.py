"""``chartclerk status``: whether anything is stuck, at a glance."""

from __future__ import annotations

import shutil
import time
from typing import Any

from chartclerk_errors import DiskFullError, TesseractMissingError
from clerk.app import App
from records.views import utc_iso
from scanner.dropped.claim import PROCESSING
from scanner.dropped.stability import files_in
from scanner.dropped.watcher import inbox_problem
from scanner.health import read_health

# Below this much free space where the data lives, status warns before the disk fills.
LOW_DISK_BYTES = 256 * 2**20


def gather_status(app: App) -> dict[str, Any]:
    """Counts by status, the inbox, quarantine, pending index, last error, what waits on what."""
    inbox = app.settings.inbox.path
    problem = inbox_problem(app.settings.inbox)
    present = problem is None
    waiting = list(files_in(inbox, app.settings.inbox.ignore_patterns)) if present else []
    oldest: float | None = None
    for path in waiting:
        try:
            mtime = path.lstat().st_mtime
        except OSError:
            continue
        oldest = mtime if oldest is None else min(oldest, mtime)
    processing = inbox / PROCESSING
    in_processing = (
        sum(1 for p in processing.rglob("*") if not p.is_dir()) if processing.is_dir() else 0
    )
    last = app.store.last_error()
    quarantine_dir = app.settings.store.quarantine_dir
    return {
        "documents": app.store.counts_by_status(),
        "inbox": "ok" if present else "missing",
        "inbox_waiting": len(waiting),
        "inbox_oldest_seconds": round(time.time() - oldest) if oldest is not None else None,
        "inbox_processing": in_processing,
        "quarantine_files": sum(1 for _ in quarantine_dir.iterdir())
        if quarantine_dir.exists()
        else 0,
        "index_pending": len(app.store.pending_index_ids()),
        "last_error": (
            {"id": last.id, "reason": last.review_reason, "at": utc_iso(last.received_at)}
            if last
            else None
        ),
        "waiting_on": waiting_on(app, problem),
        "daemon_heartbeat_at": (read_health(app.health_file) or {}).get("heartbeat_at"),
    }


def waiting_on(app: App, problem: str | None) -> dict[str, dict[str, Any]]:
    """The environmental failures in force, each with its own message, keyed by kind.

    What the daemon last met (from its health file), plus what this command sees itself:
    the inbox gone, the data disk nearly full, tesseract not on the PATH.
    """
    health = read_health(app.health_file) or {}
    found: dict[str, dict[str, Any]] = {}
    for kind, entry in (health.get("waiting_on") or {}).items():
        if isinstance(entry, dict):
            found[str(kind)] = dict(entry)
    if problem is not None:
        found["inbox_missing"] = {"advice": problem}
    try:
        free = shutil.disk_usage(app.settings.data_dir).free
    except OSError:
        free = None
    if free is not None and free < LOW_DISK_BYTES:
        found.setdefault(DiskFullError.kind, {"advice": DiskFullError.advice})
        found[DiskFullError.kind]["free_bytes"] = free
    if shutil.which("tesseract") is None:
        found.setdefault(TesseractMissingError.kind, {"advice": TesseractMissingError.advice})
    return found
