"""Operations on stored documents: take one out of a chart, read one again from its original.

Each change is one transaction that also writes the document's history. Nothing here logs
PHI; the history (``events``) and earlier readings (``readings``) are where PHI may go.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from chartclerk_errors import NotFoundError, StoreError
from records import audit
from records.audit import Actor
from records.models import Document, DocumentPerson, IdentifierRow, Page, Patient, Reading
from records.store import NewDocument, Store, insert_reading, mrns_in_detail, now
from records.views import DocumentSummary, dump_detail, utc_iso

REJECTED_PREFIX = "rejected: "
UNFILED_PREFIX = "unfiled: "


def is_rejected(status: str, review_reason: str | None) -> bool:
    """Whether a document was rejected by a clerk (set aside: in no chart, out of search)."""
    return status == "quarantined" and (review_reason or "").startswith(REJECTED_PREFIX)


def _document(session: Session, document_id: int) -> Document:
    row = session.get(Document, document_id)
    if row is None:
        raise NotFoundError(f"no document with id {document_id}")
    return row


def unfile(store: Store, document_id: int, reason: str, *, actor: Actor) -> DocumentSummary:
    """Take a filed document out of its chart, back to the review queue.

    Works whether or not the patient it was filed to is (still) in the patient index: a
    document misfiled to an MRN that is not in the index must still come out of that chart.

    Raises:
        NotFoundError: no such document.
        StoreError: the document is not filed, or no reason was given.
    """
    if not reason.strip():
        raise StoreError("a reason is required to unfile a document")
    with store.session() as s:
        doc = _document(s, document_id)
        if doc.status != "filed":
            raise StoreError(f"document {document_id} is {doc.status}, not filed")
        stamp = now()
        detail = {"from": doc.patient_mrn, "reason": reason}
        doc.status, doc.patient_mrn = "review", None
        doc.review_reason = f"{UNFILED_PREFIX}{reason}"
        doc.updated_at = stamp
        _record(s, actor, "unfiled", doc.id, detail)
        summary = DocumentSummary.of(doc)
    # Chart completeness: a deficiency this document closed opens again.
    store.documents_moved([detail["from"]], [document_id], actor=actor)
    return summary


@dataclass(frozen=True)
class Original:
    """The archived original of a document about to be read again."""

    document_id: int
    path: Path
    media_type: str | None
    status: str


def original_for_reprocess(store: Store, document_id: int, *, force: bool) -> Original:
    """The archived original of a document that may be read again.

    Documents in review and quarantined ones may; filed ones (and ones a clerk rejected)
    only with ``force`` - the caller checks that whoever asks may force.

    Raises:
        NotFoundError: no such document.
        StoreError: the document may not be read again, or its original is not archived
            (a file that could not be read at intake) or no longer matches its hash.
    """
    with store.session() as s:
        doc = _document(s, document_id)
        status, reason, sha, media = doc.status, doc.review_reason, doc.sha256, doc.media_type
    if status == "filed" and not force:
        raise StoreError(f"document {document_id} is filed; reprocess it with --force")
    if is_rejected(status, reason) and not force:
        raise StoreError(f"document {document_id} was rejected; reprocess it with --force")
    if sha is None or not store.archive.contains(sha):
        raise StoreError(f"document {document_id} has no intact archived original to read")
    return Original(document_id, store.archive.path_for(sha), media, status)


def store_reading(
    store: Store, document_id: int, new: NewDocument, *, actor: Actor
) -> DocumentSummary:
    """Replace a document's reading with ``new``, keeping the one it replaces.

    The earlier pages, decision and outcome go to the ``readings`` table; the document's
    history gets a ``reprocessed`` event naming both outcomes.

    Raises:
        NotFoundError: no such document.
    """
    stamp = now()
    with store.session() as s:
        doc = _document(s, document_id)
        pages = list(s.scalars(select(Page).where(Page.document_id == document_id)))
        reading = Reading(
            document_id=doc.id,
            replaced_at=stamp,
            status=doc.status,
            patient_mrn=doc.patient_mrn,
            doc_type=doc.doc_type,
            review_reason=doc.review_reason,
            ocr_confidence=doc.ocr_confidence,
            decision_json=doc.decision_json,
            pages_json=json.dumps([_page_json(p) for p in pages]),
        )
        s.add(reading)
        before = {"status": doc.status, "mrn": doc.patient_mrn, "reason": doc.review_reason}
        # Old rows go first: the new pages reuse their (document, number) keys.
        for model in (Page, IdentifierRow, DocumentPerson):
            s.execute(delete(model).where(model.document_id == doc.id))
        insert_reading(s, doc.id, new)
        doc.status, doc.patient_mrn = new.status, new.patient_mrn
        doc.doc_type, doc.doc_type_loinc = new.doc_type, new.doc_type_loinc
        doc.review_reason, doc.ocr_confidence = new.review_reason, new.ocr_confidence
        doc.service_date, doc.pages = new.service_date, len(new.pages)
        doc.decision_json = json.dumps(new.decision) if new.decision is not None else None
        doc.updated_at = stamp
        s.flush()
        after = {"status": new.status, "mrn": new.patient_mrn, "reason": new.review_reason}
        detail = {"before": before, "after": after, "earlier_reading": reading.id}
        _record(s, actor, "reprocessed", doc.id, detail)
        summary = DocumentSummary.of(doc)
    # A new reading may file the document elsewhere or take it out of its chart.
    store.documents_moved([before["mrn"], new.patient_mrn], [document_id], actor=actor)
    return summary


def _record(
    session: Session, actor: Actor, kind: str, document_id: int, detail: dict[str, Any]
) -> None:
    """One entry in the audit trail (the document's history), in the act's transaction."""
    audit.record(
        session,
        actor,
        kind,
        mrns=mrns_in_detail(detail) + mrns_in_detail(detail.get("before")),
        document_ids=[document_id],
        detail=dump_detail(detail),
    )


def _page_json(page: Page) -> dict[str, object]:
    return {
        "number": page.number,
        "text": page.text,
        "confidence": page.confidence,
        "source": page.source,
        "rotation": page.rotation,
        "error": page.error,
        "passes": json.loads(page.passes_json) if page.passes_json else [],
    }


def earlier_readings(store: Store, document_id: int) -> list[dict[str, object]]:
    """The readings a document's reprocessing replaced, oldest first, as JSON-ready dicts."""
    with store.session() as s:
        rows = s.scalars(
            select(Reading).where(Reading.document_id == document_id).order_by(Reading.id)
        )
        return [
            {
                "id": r.id,
                "replaced_at": utc_iso(r.replaced_at),
                "status": r.status,
                "patient_mrn": r.patient_mrn,
                "doc_type": r.doc_type,
                "review_reason": r.review_reason,
                "ocr_confidence": r.ocr_confidence,
                "decision": json.loads(r.decision_json) if r.decision_json else None,
                "pages": json.loads(r.pages_json),
            }
            for r in rows
        ]


def archived_hashes(store: Store) -> list[tuple[int, str]]:
    """``(document id, sha256)`` of every document whose original was archived."""
    with store.session() as s:
        query = select(Document.id, Document.sha256).where(Document.sha256.is_not(None))
        return [(doc_id, sha) for doc_id, sha in s.execute(query) if sha]


def document_ids(store: Store) -> set[int]:
    """The id of every stored document."""
    with store.session() as s:
        return set(s.scalars(select(Document.id)))


def rows_not_made_by(store: Store, mrns: set[str], source_names: set[str]) -> tuple[int, int]:
    """How many patients and documents the store holds outside these MRNs and file names."""
    with store.session() as s:
        patients = s.scalar(
            select(func.count()).select_from(Patient).where(Patient.mrn.not_in(sorted(mrns)))
        )
        documents = s.scalar(
            select(func.count())
            .select_from(Document)
            .where(Document.source_name.not_in(sorted(source_names)))
        )
    return int(patients or 0), int(documents or 0)
