"""``chartclerk verify``: whether everything is where the store says, and whole.

Four checks, each naming what is wrong by document id or hash prefix (never PHI):

- ``database``: SQLite's integrity check (``quick_check`` when cheap).
- ``archive``: every archived original is there and (not cheap) its bytes match its hash.
- ``index``: the search index holds exactly the store's documents (those still pending an
  index write are not counted against it).
- ``audit``: the audit trail's hash chain (not in the cheap form: it reads every entry).

The daemon's heartbeat runs the cheap form (no hashing of the archive, a quick check).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from chartclerk_errors import AuditChainError, ChartclerkError
from clerk.app import App
from records import audit, operations
from records.archive import sha256_of

log = logging.getLogger("chartclerk.verify")
_SHOWN = 20


@dataclass
class Check:
    """One check's outcome: ``ok``, or the problems found (ids and hash prefixes only)."""

    name: str
    ok: bool = True
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    skipped: str | None = None

    def problem(self, message: str) -> None:
        """Record one thing wrong."""
        self.ok = False
        self.problems.append(message)

    def to_json(self) -> dict[str, Any]:
        """The check as JSON-ready values."""
        return {
            "check": self.name,
            "ok": self.ok,
            "checked": self.checked,
            "problems": self.problems,
            "skipped": self.skipped,
        }

    def summary(self) -> str:
        """One line: the check's name and its first problems."""
        if self.skipped:
            return f"{self.name}: skipped ({self.skipped})"
        if self.ok:
            return f"{self.name}: ok ({self.checked} checked)"
        shown = "; ".join(self.problems[:_SHOWN])
        more = f" and {len(self.problems) - _SHOWN} more" if len(self.problems) > _SHOWN else ""
        return f"{self.name}: {len(self.problems)} problem(s): {shown}{more}"


def run_checks(app: App, *, cheap: bool = False) -> list[Check]:
    """Every check, in order; a check that fails to run is itself a problem."""
    checks: list[tuple[str, Callable[[App, bool], Check]]] = [
        ("database", check_database),
        ("archive", check_archive),
        ("index", check_index),
        ("audit", check_audit),
    ]
    results = []
    for name, run in checks:
        try:
            results.append(run(app, cheap))
        except ChartclerkError as exc:
            failed = Check(name)
            failed.problem(f"could not run: {exc}")
            results.append(failed)
    return results


def check_database(app: App, cheap: bool) -> Check:
    """SQLite's own integrity (or quick) check and its foreign-key check."""
    check = Check("database", checked=1)
    pragma = "quick_check" if cheap else "integrity_check"
    with app.store.engine.connect() as connection:
        rows = [str(r[0]) for r in connection.execute(text(f"PRAGMA {pragma}"))]
        broken_keys = list(connection.execute(text("PRAGMA foreign_key_check")))
    if rows != ["ok"]:
        for row in rows[:_SHOWN]:
            check.problem(f"{pragma}: {row}")
    for table, rowid, parent, _ in broken_keys[:_SHOWN]:
        check.problem(f"{table} row {rowid} points at a missing {parent} row")
    return check


def check_archive(app: App, cheap: bool) -> Check:
    """Every archived original present; its bytes hashed unless ``cheap``."""
    check = Check("archive")
    archive = app.store.archive
    for doc_id, sha in operations.archived_hashes(app.store):
        check.checked += 1
        path = archive.path_for(sha)
        if not path.is_file():
            check.problem(f"document {doc_id}: original {sha[:12]}… missing")
        elif not cheap and sha256_of(path) != sha:
            check.problem(f"document {doc_id}: original {sha[:12]}… does not match its hash")
    return check


def check_index(app: App, cheap: bool) -> Check:
    """The index's ids against the store's (pending ones excepted)."""
    check = Check("index")
    stored = operations.document_ids(app.store)
    indexed = app.search.ids()
    pending = set(app.store.pending_index_ids())
    check.checked = len(stored)
    for doc_id in sorted(indexed - stored)[:_SHOWN]:
        check.problem(f"document {doc_id} is in the index but not in the store")
    for doc_id in sorted(stored - indexed - pending)[:_SHOWN]:
        check.problem(f"document {doc_id} is in the store but not in the index")
    if not check.ok:
        check.problems.append("`chartclerk reindex` rebuilds the index from the store")
    return check


def check_audit(app: App, cheap: bool) -> Check:
    """The audit trail's hash chain, recomputed from the first entry (not when cheap)."""
    check = Check("audit")
    if cheap:
        check.skipped = "the whole chain is walked by `chartclerk verify` and `audit verify`"
        return check
    try:
        result = audit.verify(app.store.engine)
    except AuditChainError as exc:
        check.problem(str(exc))
        return check
    check.checked = result.count
    return check


def heartbeat_checks(app: App) -> None:
    """The cheap checks, for the daemon's heartbeat: a warning per failing check."""
    for check in run_checks(app, cheap=True):
        if not check.ok:
            log.warning("verify: %s", check.summary())
