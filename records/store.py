"""The record store: documents, pages, identifiers and their history, in one database."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, selectinload

from chartclerk_errors import (
    ChartclerkError,
    NotFoundError,
    StoreError,
    StoreFullError,
    StoreLockedError,
    StoreUnavailableError,
)
from records import audit
from records.archive import Archive
from records.audit import SYSTEM, Actor
from records.db import integrity_check, open_engine, session_factory
from records.models import (
    AuditDocument,
    AuditEntry,
    Document,
    DocumentPerson,
    EncounterLink,
    IdentifierRow,
    Page,
    Patient,
    QuarantinedEntry,
)
from records.settings import StoreSettings
from records.views import (
    DocumentDetail,
    DocumentSummary,
    EventView,
    PageView,
    PatientView,
    dump_detail,
    load_detail,
    utc_iso,
)

log = logging.getLogger("chartclerk.store")
STATUSES = ("filed", "review", "quarantined")
__all__ = ["SYSTEM", "NewDocument", "NewPage", "Store", "mrns_in_detail", "now"]


def now() -> datetime:
    """The current time in UTC, without tzinfo (SQLite stores naive datetimes)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class NewPage:
    """A page to store with a new document."""

    number: int
    text: str
    confidence: float | None
    source: str
    rotation: int = 0
    error: str | None = None
    # The tesseract passes the page cost: {"kind", "seconds", "why"} each.
    passes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class NewDocument:
    """Everything the pipeline learned about one file, stored in one transaction."""

    sha256: str | None
    source_name: str
    source_path: str
    status: str
    media_type: str | None = None
    size_bytes: int | None = None
    patient_mrn: str | None = None
    doc_type: str | None = None
    doc_type_loinc: str | None = None
    review_reason: str | None = None
    ocr_confidence: float | None = None
    service_date: date | None = None
    decision: dict[str, Any] | None = None
    pages: list[NewPage] = field(default_factory=list)
    identifiers: list[tuple[str, str, int | None]] = field(default_factory=list)
    # Other people named: (role, kind, value, page); see ``DocumentPerson``.
    people: list[tuple[str, str, str, int | None]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any] | None]] = field(default_factory=list)
    received_at: datetime | None = None
    # Who took the file in: the daemon, or the OS account running `chartclerk ingest`.
    actor: Actor = SYSTEM


def mrns_in_detail(detail: dict[str, Any] | None) -> list[str]:
    """The MRNs an event detail names (keys ``mrn``, ``from``, ``to``), for the audit trail."""
    if not detail:
        return []
    found = {detail.get(key) for key in ("mrn", "from", "to")}
    return sorted(v for v in found if isinstance(v, str) and v)


def insert_reading(s: Session, document_id: int, new: NewDocument) -> None:
    """Write a reading's pages, identifiers and the other people it named.

    A new document's reading, or a reprocess's after the old rows went. One multi-row
    INSERT a table: a dense document names hundreds of dates and people, and an ORM object
    each cost more than everything else of storing it.
    """
    pages = [
        {
            "document_id": document_id,
            "number": p.number,
            "text": p.text,
            "confidence": p.confidence,
            "source": p.source,
            "rotation": p.rotation,
            "error": p.error,
            "passes_json": json.dumps(p.passes) if p.passes else None,
        }
        for p in new.pages
    ]
    identifiers = [
        {"document_id": document_id, "kind": k, "value": v, "page": page}
        for k, v, page in new.identifiers
    ]
    people = [
        {"document_id": document_id, "role": r, "kind": k, "value": v, "page": page}
        for r, k, v, page in new.people
    ]
    for model, rows in ((Page, pages), (IdentifierRow, identifiers), (DocumentPerson, people)):
        if rows:
            s.execute(insert(model), rows)


def store_error(exc: OperationalError | IntegrityError) -> StoreError:
    """The database's refusal as ours: locked, full and unwritable are the world's, retried."""
    message = f"database: {str(exc.orig).splitlines()[0]}"
    text = message.lower()
    if isinstance(exc, IntegrityError):
        return StoreError(message)
    if "locked" in text or "busy" in text:
        return StoreLockedError(message)
    if "full" in text:
        return StoreFullError(message)
    if any(word in text for word in ("readonly", "read-only", "i/o", "unable to open", "disk")):
        return StoreUnavailableError(message)
    return StoreError(message)


class Store:
    """The record store; every method is one short transaction."""

    def __init__(self, settings: StoreSettings) -> None:
        self.settings = settings
        self.engine = open_engine(settings.database_url)
        self.sessions = session_factory(self.engine)
        self.archive = Archive(settings.archive_dir)
        settings.quarantine_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Set by the composition root: chart completeness looks at a patient's chart again
        # when documents are filed to it, refiled or unfiled (records.deficiency_store).
        self.on_documents_moved: Callable[[set[str], list[int], Actor], object] | None = None

    def documents_moved(
        self, mrns: Iterable[str | None], document_ids: Iterable[int], *, actor: Actor = SYSTEM
    ) -> None:
        """Tell chart completeness that these patients' filed documents changed.

        The change itself is committed; a failed analysis is logged and left to the next
        (nightly) run rather than failing the filing. What the analysis records is recorded
        as ``actor``: the person whose act set it off.
        """
        if self.on_documents_moved is None:
            return
        try:
            self.on_documents_moved({m for m in mrns if m}, list(document_ids), actor)
        except ChartclerkError as exc:
            log.warning(
                "chart analysis after a filing change failed, left to the next run: %s", exc
            )

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and turns database errors into StoreError."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except (OperationalError, IntegrityError) as exc:
            session.rollback()
            raise store_error(exc) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    # -- documents -------------------------------------------------------------------------

    def find_by_sha(self, sha256: str) -> DocumentSummary | None:
        """The document already holding these exact bytes, if any."""
        with self.session() as s:
            row = s.scalar(select(Document).where(Document.sha256 == sha256))
            return DocumentSummary.of(row) if row else None

    def find_quarantined_entry(self, key: str) -> int | None:
        """The document already made for the unreadable inbox entry with this key, if any."""
        with self.session() as s:
            row = s.get(QuarantinedEntry, key)
            return row.document_id if row else None

    def add_document(self, new: NewDocument, *, entry_key: str | None = None) -> int:
        """Store a document with its pages, identifiers and first events; returns its id.

        ``entry_key`` names an unreadable inbox entry (see :class:`QuarantinedEntry`),
        recorded in the same transaction.
        """
        stamp = new.received_at or now()
        with self.session() as s:
            doc = Document(
                sha256=new.sha256,
                source_name=new.source_name,
                source_path=new.source_path,
                media_type=new.media_type,
                size_bytes=new.size_bytes,
                status=new.status,
                patient_mrn=new.patient_mrn,
                doc_type=new.doc_type,
                doc_type_loinc=new.doc_type_loinc,
                pages=len(new.pages),
                review_reason=new.review_reason,
                ocr_confidence=new.ocr_confidence,
                service_date=new.service_date,
                decision_json=json.dumps(new.decision) if new.decision is not None else None,
                received_at=stamp,
                updated_at=stamp,
            )
            s.add(doc)
            s.flush()
            insert_reading(s, doc.id, new)
            for kind, detail in new.events:
                audit.append(
                    s,
                    new.actor,
                    kind,
                    mrns=mrns_in_detail(detail),
                    document_ids=[doc.id],
                    detail=dump_detail(detail),
                    at=stamp.replace(tzinfo=UTC).isoformat(timespec="microseconds"),
                )
            if entry_key is not None:
                s.add(QuarantinedEntry(key=entry_key, document_id=doc.id))
            return doc.id

    def add_event(
        self,
        document_id: int | None,
        kind: str,
        detail: dict[str, Any] | None = None,
        *,
        actor: Actor = SYSTEM,
        is_access: bool = False,
    ) -> None:
        """Append one audit entry about a document (or none), in its own transaction.

        The MRNs the detail names (``mrn``, ``from``, ``to``) are recorded as the patients
        concerned. Prefer :func:`records.audit.record` inside the act's own transaction.
        """
        with self.session() as s:
            audit.append(
                s,
                actor,
                kind,
                access=is_access,
                mrns=mrns_in_detail(detail),
                document_ids=[document_id] if document_id is not None else [],
                detail=dump_detail(detail),
            )

    def list_events(
        self,
        *,
        actor: str | None = None,
        document_id: int | None = None,
        access_only: bool = False,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """The audit trail, newest first: who did or looked at what, and when."""
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if actor:
            query = query.where(AuditEntry.actor == actor)
        if document_id is not None:
            query = query.join(AuditDocument, AuditDocument.entry_id == AuditEntry.id).where(
                AuditDocument.document_id == document_id
            )
        if access_only:
            query = query.where(AuditEntry.access.is_(True))
        with self.session() as s:
            entries = [audit.EntryView.of(row) for row in s.scalars(query)]
        return [
            {
                "id": e.id,
                "at": utc_iso(e.at),
                "actor": e.actor,
                "channel": e.channel,
                "kind": e.action,
                "document_id": e.document_ids[0] if len(e.document_ids) == 1 else None,
                "document_ids": e.document_ids,
                "mrns": e.mrns,
                "access": e.access,
                "outcome": e.outcome,
                "detail": load_detail(e.detail),
            }
            for e in entries
        ]

    def list_documents(
        self,
        status: str | None = None,
        patient_mrn: str | None = None,
        limit: int | None = None,
        *,
        doc_type: str | None = None,
        since: datetime | None = None,
    ) -> list[DocumentSummary]:
        """Documents, newest first, optionally of one status, patient or type.

        ``since`` keeps those received at or after that moment (naive = UTC).
        """
        query = select(Document).order_by(Document.id.desc())
        if status:
            query = query.where(Document.status == status)
        if patient_mrn:
            query = query.where(Document.patient_mrn == patient_mrn)
        if doc_type:
            query = query.where(Document.doc_type == doc_type)
        if since is not None:
            if since.tzinfo is not None:
                since = since.astimezone(UTC).replace(tzinfo=None)
            query = query.where(Document.received_at >= since)
        if limit:
            query = query.limit(limit)
        with self.session() as s:
            return [DocumentSummary.of(row) for row in s.scalars(query)]

    def get_document(self, document_id: int) -> DocumentDetail:
        """A document with everything stored about it.

        Raises:
            NotFoundError: no document has this id.
        """
        with self.session() as s:
            row = s.scalar(
                select(Document)
                .where(Document.id == document_id)
                .options(
                    selectinload(Document.page_rows),
                    selectinload(Document.identifier_rows),
                )
            )
            if row is None:
                raise NotFoundError(f"no document with id {document_id}")
            people = s.scalars(
                select(DocumentPerson)
                .where(DocumentPerson.document_id == document_id)
                .order_by(DocumentPerson.id)
            )
            detail = _detail(row, audit.history(s, document_id))
            detail.people.extend((p.role, p.kind, p.value, p.page) for p in people)
            link = s.get(EncounterLink, document_id)
            if link is None:
                return detail
            encounter = {"visit_number": link.visit_number, "why": link.why, "manual": link.manual}
            return dataclasses.replace(detail, encounter=encounter)

    def counts_by_status(self) -> dict[str, int]:
        """How many documents are in each status."""
        with self.session() as s:
            rows = s.execute(select(Document.status, func.count()).group_by(Document.status))
            counts = {status: 0 for status in STATUSES}
            counts.update({status: n for status, n in rows})
            return counts

    def last_error(self) -> DocumentSummary | None:
        """The most recently quarantined document."""
        rows = self.list_documents(status="quarantined", limit=1)
        return rows[0] if rows else None

    # -- search index bookkeeping ----------------------------------------------------------

    def mark_indexed(self, ids: Sequence[int], stamp: datetime) -> None:
        """Record that the index holds these documents as they were at ``stamp``."""
        if not ids:
            return
        with self.session() as s:
            s.execute(
                update(Document)
                .where(Document.id.in_(list(ids)), Document.updated_at <= stamp)
                .values(indexed_at=stamp)
            )

    def mark_all_indexed(self, stamp: datetime) -> None:
        """Record that a full rebuild at ``stamp`` took every document as it then was."""
        with self.session() as s:
            s.execute(update(Document).where(Document.updated_at <= stamp).values(indexed_at=stamp))

    def changed_since(self, stamp: datetime) -> list[int]:
        """Documents changed, or written to the index, after ``stamp`` (a rebuild's start)."""
        with self.session() as s:
            query = select(Document.id).where(
                (Document.updated_at > stamp) | (Document.indexed_at > stamp)
            )
            return list(s.scalars(query))

    def pending_index_ids(self) -> list[int]:
        """Documents changed since the index last took them."""
        with self.session() as s:
            query = select(Document.id).where(
                (Document.indexed_at.is_(None)) | (Document.indexed_at < Document.updated_at)
            )
            return list(s.scalars(query))

    def iter_details(
        self, ids: Sequence[int] | None = None, batch: int = 500
    ) -> Iterator[DocumentDetail]:
        """Every document (or those in ``ids``) with its pages, in batches to bound memory."""
        with self.session() as s:
            all_ids = list(ids) if ids is not None else list(s.scalars(select(Document.id)))
        for start in range(0, len(all_ids), batch):
            chunk = all_ids[start : start + batch]
            with self.session() as s:
                rows = s.scalars(
                    select(Document)
                    .where(Document.id.in_(chunk))
                    .options(selectinload(Document.page_rows))
                )
                details = [_detail(row, None) for row in rows]
            yield from details

    def patients_by_mrn(self, mrns: Sequence[str]) -> dict[str, PatientView]:
        """The patients with these MRNs, by MRN (unknown MRNs are left out)."""
        wanted = sorted({m for m in mrns if m})
        if not wanted:
            return {}
        with self.session() as s:
            rows = s.scalars(select(Patient).where(Patient.mrn.in_(wanted)))
            return {row.mrn: PatientView.of(row) for row in rows}

    def count_documents(self) -> int:
        """How many documents the store holds."""
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(Document)) or 0)

    def integrity_check(self) -> str:
        """SQLite's integrity check of the database file."""
        return integrity_check(self.engine)


def _detail(row: Document, history: list[audit.EntryView] | None) -> DocumentDetail:
    """A document's detail; ``history`` None leaves out identifiers and history (indexing)."""
    with_history = history is not None
    return DocumentDetail(
        summary=DocumentSummary.of(row),
        pages=[
            PageView(
                p.number,
                p.text,
                p.confidence,
                p.source,
                p.rotation,
                p.error,
                json.loads(p.passes_json) if p.passes_json else [],
            )
            for p in row.page_rows
        ],
        identifiers=[(i.kind, i.value, i.page) for i in row.identifier_rows]
        if with_history
        else [],
        decision=json.loads(row.decision_json) if row.decision_json else None,
        events=[EventView(e.at, e.actor, e.action, load_detail(e.detail)) for e in history or []],
        service_date=row.service_date,
        ocr_confidence=row.ocr_confidence,
    )
