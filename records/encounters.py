"""Encounters in the record store: import from a feed, list, and a clerk's document link."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chartclerk_errors import ImportFileError, NotFoundError, StoreError
from records import encounter_feed, hl7_encounters
from records.chart_audit import Actor, audit
from records.encounter_feed import (
    BadEncounter,
    DischargeCancel,
    EncounterCancel,
    EncounterItem,
    EncounterRecord,
    EncounterUpsert,
    ProviderRecord,
)
from records.models import Document, Encounter, EncounterLink, Provider
from records.store import Store
from records.views import DocumentSummary

_FIELDS = (
    "patient_class",
    "admit_at",
    "discharge_at",
    "procedure_start",
    "procedure_end",
)


@dataclass(frozen=True)
class EncounterView:
    """One encounter as the command line and the desk show it."""

    visit_number: str
    patient_mrn: str
    patient_class: str
    admit_at: datetime | None
    discharge_at: datetime | None
    attending_id: str | None
    attending_name: str | None
    surgeon_id: str | None
    procedure_start: datetime | None
    procedure_end: datetime | None
    status: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready values (times ISO 8601)."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        return data


@dataclass
class EncounterImportReport:
    """What an encounter import did; ``touched`` are the MRNs whose charts changed."""

    format: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    discharged: int = 0
    cancelled: int = 0
    discharges_cancelled: int = 0
    skipped: int = 0
    providers: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        """The report without the MRNs (counts and error lines only)."""
        data = asdict(self)
        data.pop("touched")
        return data


def read_encounter_file(path: Path) -> tuple[str, list[EncounterItem]]:
    """The format of an encounter feed file and its items, in file order.

    Raises:
        ImportFileError: unreadable, empty, or of no known format.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ImportFileError(f"{path.name}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"{path.name}: cannot be read as UTF-8 text") from exc
    head = text.lstrip()
    if not head:
        raise ImportFileError(f"{path.name}: the file is empty")
    if hl7_encounters.looks_like_hl7(head):
        return "hl7v2", list(hl7_encounters.read_messages(text))
    if encounter_feed.looks_like_csv(head):
        return "csv", list(encounter_feed.read_csv(text))
    raise ImportFileError(
        f"{path.name}: unknown format; expected HL7 v2 ADT messages or a CSV with header "
        + ",".join(encounter_feed.CSV_HEADER)
    )


def import_encounters(
    store: Store, path: Path, *, actor: Actor, now: datetime
) -> EncounterImportReport:
    """Load an encounter feed; bad records are reported and skipped.

    Raises:
        ImportFileError: the file cannot be read at all.
    """
    fmt, items = read_encounter_file(path)
    report = EncounterImportReport(fmt)
    with store.session() as s:
        loader = _Loader(s, report, now)
        for item in items:
            loader.apply(item)
        audit(s, actor, "encounters imported", mrns=report.touched, detail=_counts(report))
    return report


def _counts(report: EncounterImportReport) -> dict[str, Any]:
    data = report.to_json()
    data["errors"] = len(report.errors)
    return data


class _Loader:
    def __init__(self, session: Session, report: EncounterImportReport, now: datetime) -> None:
        self.s = session
        self.report = report
        self.now = now
        self.rows = {e.visit_number: e for e in session.scalars(select(Encounter))}
        self.providers = {p.id: p for p in session.scalars(select(Provider))}

    def apply(self, item: EncounterItem) -> None:
        if isinstance(item, BadEncounter):
            self.report.errors.append((item.number, item.message))
        elif isinstance(item, EncounterUpsert):
            self._upsert(item)
        elif isinstance(item, EncounterCancel | DischargeCancel):
            self._cancel(item)
        else:
            self.report.skipped += 1

    def _provider(self, record: ProviderRecord | None) -> str | None:
        if record is None:
            return None
        row = self.providers.get(record.id)
        if row is None:
            row = self.providers[record.id] = Provider(id=record.id, name=record.name)
            self.s.add(row)
            self.report.providers += 1
        elif record.name != record.id and row.name != record.name:
            row.name = record.name
        return record.id

    def _upsert(self, item: EncounterUpsert) -> None:
        record = item.record
        attending = self._provider(record.attending)
        surgeon = self._provider(record.surgeon)
        row = self.rows.get(record.visit_number)
        is_new = row is None
        if row is None:
            row = Encounter(
                visit_number=record.visit_number,
                patient_mrn=record.mrn,
                patient_class=record.patient_class or "unknown",
                status="active",
                updated_at=self.now,
            )
            self.s.add(row)
            self.rows[record.visit_number] = row
        elif row.patient_mrn != record.mrn:
            self.report.errors.append((item.number, "visit number belongs to another patient"))
            return
        changed = is_new or row.status != "active"
        row.status = "active"
        was_discharged = row.discharge_at is not None
        changed |= _apply_fields(row, record, attending, surgeon)
        if row.discharge_at is not None and not was_discharged:
            self.report.discharged += 1
        if is_new:
            self.report.added += 1
        elif changed:
            self.report.updated += 1
        else:
            self.report.unchanged += 1
        if changed:
            row.updated_at = self.now
            self.report.touched.add(row.patient_mrn)

    def _cancel(self, item: EncounterCancel | DischargeCancel) -> None:
        row = self.rows.get(item.visit_number)
        if row is None:
            self.report.errors.append((item.number, "cancels an encounter not on file"))
            return
        if isinstance(item, EncounterCancel):
            row.status = "cancelled"
            self.report.cancelled += 1
        else:
            row.discharge_at = None
            self.report.discharges_cancelled += 1
        row.updated_at = self.now
        self.report.touched.add(row.patient_mrn)


def _apply_fields(
    row: Encounter, record: EncounterRecord, attending: str | None, surgeon: str | None
) -> bool:
    """Copy the fields a record states onto the row; returns whether anything changed."""
    changed = False
    for name in _FIELDS:
        value = getattr(record, name)
        if value is not None and getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    for name, value in (("attending_id", attending), ("surgeon_id", surgeon)):
        if value is not None and getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def list_encounters(
    store: Store, *, patient_mrn: str | None = None, limit: int | None = None
) -> list[EncounterView]:
    """Encounters, newest admission first, optionally of one patient."""
    query = (
        select(Encounter, Provider.name)
        .outerjoin(Provider, Provider.id == Encounter.attending_id)
        .order_by(Encounter.admit_at.desc(), Encounter.id.desc())
    )
    if patient_mrn:
        query = query.where(Encounter.patient_mrn == patient_mrn)
    if limit:
        query = query.limit(limit)
    with store.session() as s:
        return [_view(row, name) for row, name in s.execute(query)]


def _view(row: Encounter, attending_name: str | None) -> EncounterView:
    return EncounterView(
        row.visit_number,
        row.patient_mrn,
        row.patient_class,
        row.admit_at,
        row.discharge_at,
        row.attending_id,
        attending_name,
        row.surgeon_id,
        row.procedure_start,
        row.procedure_end,
        row.status,
    )


def get_link(store: Store, document_id: int) -> dict[str, Any] | None:
    """A document's encounter link as shown in its JSON: ``{visit_number, why, manual}``."""
    with store.session() as s:
        row = s.get(EncounterLink, document_id)
        if row is None:
            return None
        return {"visit_number": row.visit_number, "why": row.why, "manual": row.manual}


def set_link(
    store: Store, document_id: int, visit_number: str | None, *, actor: Actor, now: datetime
) -> str:
    """A clerk links a filed document to one of its patient's encounters (None: patient-level).

    Returns:
        The document's patient's MRN (for the analysis that follows).

    Raises:
        NotFoundError: no such document or encounter.
        StoreError: the document is not filed, or the encounter is another patient's.
    """
    with store.session() as s:
        doc = s.get(Document, document_id)
        if doc is None:
            raise NotFoundError(f"no document with id {document_id}")
        if doc.status != "filed" or doc.patient_mrn is None:
            raise StoreError(f"document {document_id} is {doc.status}, not filed")
        if visit_number is not None:
            encounter = s.scalar(select(Encounter).where(Encounter.visit_number == visit_number))
            if encounter is None:
                raise NotFoundError(f"no encounter with visit number {visit_number}")
            if encounter.patient_mrn != doc.patient_mrn:
                raise StoreError(
                    f"encounter {visit_number} is another patient's; refile the document first"
                )
            if encounter.status != "active":
                raise StoreError(f"encounter {visit_number} is {encounter.status}")
        why = "set by a clerk"
        row = s.get(EncounterLink, document_id)
        write_link(s, row, document_id, visit_number, why, now, manual=True)
        audit(
            s,
            actor,
            "encounter linked",
            mrns=[doc.patient_mrn],
            document_ids=[document_id],
            detail={"visit_number": visit_number, "why": why},
        )
        return doc.patient_mrn


def write_link(
    session: Session,
    row: EncounterLink | None,
    document_id: int,
    visit_number: str | None,
    why: str,
    now: datetime,
    *,
    manual: bool = False,
) -> EncounterLink:
    """Store a document's link (``row``: its present one); the caller audits it."""
    if row is None:
        row = EncounterLink(
            document_id=document_id, visit_number=visit_number, why=why, manual=manual, at=now
        )
        session.add(row)
    else:
        row.visit_number, row.why, row.manual, row.at = visit_number, why, manual, now
    return row


@dataclass(frozen=True)
class EncounterChart:
    """An encounter with what is there: its documents and the patient-level ones."""

    encounter: EncounterView
    documents: list[tuple[DocumentSummary, str]]
    patient_level: list[tuple[DocumentSummary, str]]


def encounter_chart(store: Store, visit_number: str) -> EncounterChart:
    """An encounter, the filed documents linked to it, and its patient's unlinked ones.

    Raises:
        NotFoundError: no encounter with this visit number.
    """
    with store.session() as s:
        found = s.execute(
            select(Encounter, Provider.name)
            .outerjoin(Provider, Provider.id == Encounter.attending_id)
            .where(Encounter.visit_number == visit_number)
        ).one_or_none()
        if found is None:
            raise NotFoundError(f"no encounter with visit number {visit_number}")
        row, name = found
        docs = s.execute(
            select(Document, EncounterLink)
            .outerjoin(EncounterLink, EncounterLink.document_id == Document.id)
            .where(Document.patient_mrn == row.patient_mrn, Document.status == "filed")
            .order_by(Document.service_date, Document.id)
        ).all()
        linked = [
            (DocumentSummary.of(d), link.why)
            for d, link in docs
            if link and link.visit_number == visit_number
        ]
        loose = [
            (DocumentSummary.of(d), link.why if link else "not analysed yet")
            for d, link in docs
            if link is None or link.visit_number is None
        ]
        return EncounterChart(_view(row, name), linked, loose)
