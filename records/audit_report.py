"""The audit report for a privacy officer: entries filtered by time, user, patient, action."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from records.audit import EntryView
from records.models import AuditEntry, AuditPatient
from records.store import Store

SORT_FIELDS: tuple[str, ...] = ("id", "at", "actor", "channel", "action", "outcome")


@dataclass(frozen=True)
class ReportFilter:
    """What a report keeps; every field None keeps everything."""

    date_from: date | None = None
    date_to: date | None = None  # inclusive
    user: str | None = None
    patient: str | None = None
    action: str | None = None
    sort: str = "id"


def report(store: Store, wanted: ReportFilter, batch: int = 2000) -> Iterator[EntryView]:
    """The entries ``wanted`` keeps, in its sort order (then by id), streamed.

    Raises:
        ValueError: an unknown sort field.
    """
    if wanted.sort not in SORT_FIELDS:
        raise ValueError(f"--sort: one of {', '.join(SORT_FIELDS)}")
    query = select(AuditEntry)
    if wanted.date_from is not None:
        query = query.where(AuditEntry.at >= wanted.date_from.isoformat())
    if wanted.date_to is not None:
        query = query.where(AuditEntry.at < (wanted.date_to + timedelta(days=1)).isoformat())
    if wanted.user:
        query = query.where(AuditEntry.actor == wanted.user)
    if wanted.action:
        query = query.where(AuditEntry.action == wanted.action)
    if wanted.patient:
        query = query.join(AuditPatient, AuditPatient.entry_id == AuditEntry.id).where(
            AuditPatient.mrn == wanted.patient
        )
    query = query.order_by(getattr(AuditEntry, wanted.sort), AuditEntry.id)
    with store.session() as s:
        for row in s.scalars(query.execution_options(yield_per=batch)):
            entry = EntryView.of(row)
            # The lookup table is an index; the hashed entry itself must name the patient.
            if wanted.patient and wanted.patient not in entry.mrns:
                continue
            yield entry
