"""The audit trail as the desk shows it: filtered, sorted rows and a CSV export."""

from __future__ import annotations

import csv
import io
from collections import deque
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any

from chartclerk_errors import AuditChainError
from records.audit import EntryView, verify
from records.audit_report import ReportFilter, report
from records.store import Store

COLUMNS = (
    "id",
    "at",
    "actor",
    "channel",
    "client",
    "action",
    "documents",
    "mrns",
    "outcome",
    "detail",
)
SORTS = ("at", "actor", "channel", "action", "outcome")


@dataclass(frozen=True)
class TrailFilter:
    """What the auditor asked for; empty strings mean no restriction."""

    user: str = ""
    patient: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "at"
    descending: bool = True
    limit: int = 500


def trail_rows(store: Store, wanted: TrailFilter) -> list[dict[str, Any]]:
    """Entries of the trail matching ``wanted``, sorted as asked, at most ``limit``.

    Newest first keeps the last ``limit`` of the ascending stream (the report streams in
    batches, so memory stays bounded by ``limit``).
    """
    sort = wanted.sort if wanted.sort in SORTS else "at"
    entries = report(
        store,
        ReportFilter(
            date_from=wanted.date_from,
            date_to=wanted.date_to,
            user=wanted.user or None,
            patient=wanted.patient or None,
            action=wanted.action or None,
            sort="id" if sort == "at" else sort,
        ),
    )
    if wanted.descending:
        kept = list(deque(entries, maxlen=wanted.limit))
        kept.reverse()
    else:
        kept = list(islice(entries, wanted.limit))
    return [_row(e) for e in kept]


def _row(entry: EntryView) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "channel": entry.channel,
        "client": entry.client or "",
        "action": entry.action,
        "documents": " ".join(str(i) for i in entry.document_ids),
        "mrns": " ".join(entry.mrns),
        "outcome": entry.outcome,
        "detail": entry.detail or "",
    }


def verify_answer(store: Store) -> str:
    """What ``audit verify`` says of the chain."""
    try:
        result = verify(store.engine)
    except AuditChainError as exc:
        return str(exc)
    return f"unbroken: {result.count} entries, head {result.head_hash[:16]}"


def as_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV, header first."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS))
    writer.writeheader()
    for row in rows:
        # A leading = + - @ would make a spreadsheet run the cell as a formula.
        writer.writerow({k: _cell(str(row[k])) for k in COLUMNS})
    return out.getvalue()


def _cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
