"""``chartclerk status``: whether anything is stuck, at a glance."""

from __future__ import annotations

import time
from typing import Any

from clerk.app import App
from records.views import utc_iso
from scanner.dropped.stability import files_in


def gather_status(app: App) -> dict[str, Any]:
    """Counts by status, files waiting in the inbox, quarantine, pending index, last error."""
    waiting = list(files_in(app.settings.inbox.path, app.settings.inbox.ignore_patterns))
    oldest: float | None = None
    for path in waiting:
        try:
            mtime = path.lstat().st_mtime
        except OSError:
            continue
        oldest = mtime if oldest is None else min(oldest, mtime)
    last = app.store.last_error()
    quarantine_dir = app.settings.store.quarantine_dir
    return {
        "documents": app.store.counts_by_status(),
        "inbox_waiting": len(waiting),
        "inbox_oldest_seconds": round(time.time() - oldest) if oldest is not None else None,
        "quarantine_files": sum(1 for _ in quarantine_dir.iterdir())
        if quarantine_dir.exists()
        else 0,
        "index_pending": len(app.store.pending_index_ids()),
        "last_error": (
            {"id": last.id, "reason": last.review_reason, "at": utc_iso(last.received_at)}
            if last
            else None
        ),
    }
