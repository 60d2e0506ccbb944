"""The review queue and refiling: a clerk's decisions, each kept in the document's history."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from chartclerk_errors import NotFoundError, StoreError
from records.models import Document, Event, Patient
from records.store import Store, now
from records.views import DocumentSummary, dump_detail


def _document(session: Session, document_id: int) -> Document:
    row = session.get(Document, document_id)
    if row is None:
        raise NotFoundError(f"no document with id {document_id}")
    return row


def _require_patient(session: Session, mrn: str) -> Patient:
    patient = session.scalar(select(Patient).where(Patient.mrn == mrn))
    if patient is None:
        raise NotFoundError(f"no patient with MRN {mrn} in the patient index")
    if patient.merged_into:
        raise StoreError(f"MRN {mrn} was merged into {patient.merged_into}; file to that MRN")
    return patient


def assign(store: Store, document_id: int, mrn: str, *, actor: str) -> DocumentSummary:
    """File a document waiting in review to a patient.

    Raises:
        NotFoundError: no such document or patient.
        StoreError: the document is not in review.
    """
    with store.session() as s:
        doc = _document(s, document_id)
        if doc.status != "review":
            raise StoreError(f"document {document_id} is {doc.status}, not in review")
        _require_patient(s, mrn)
        stamp = now()
        previous_reason = doc.review_reason
        doc.status, doc.patient_mrn, doc.review_reason, doc.updated_at = "filed", mrn, None, stamp
        s.add(
            Event(
                document=doc,
                at=stamp,
                actor=actor,
                kind="assigned",
                detail=dump_detail({"mrn": mrn, "review_reason": previous_reason}),
            )
        )
        return DocumentSummary.of(doc)


def reject(store: Store, document_id: int, reason: str, *, actor: str) -> DocumentSummary:
    """Keep a document out of every chart without deleting it.

    Raises:
        NotFoundError: no such document.
        StoreError: the document is not in review, or no reason was given.
    """
    if not reason.strip():
        raise StoreError("a reason is required to reject a document")
    with store.session() as s:
        doc = _document(s, document_id)
        if doc.status != "review":
            raise StoreError(f"document {document_id} is {doc.status}, not in review")
        stamp = now()
        # Rejected documents are set aside like quarantined files: in no chart, never deleted.
        doc.status, doc.review_reason, doc.updated_at = "quarantined", f"rejected: {reason}", stamp
        s.add(
            Event(
                document=doc,
                at=stamp,
                actor=actor,
                kind="rejected",
                detail=dump_detail({"reason": reason}),
            )
        )
        return DocumentSummary.of(doc)


def refile(store: Store, document_id: int, mrn: str, reason: str, *, actor: str) -> DocumentSummary:
    """Move a filed document to another patient, keeping the earlier filing in its history.

    Raises:
        NotFoundError: no such document or patient.
        StoreError: the document is not filed, or no reason was given.
    """
    if not reason.strip():
        raise StoreError("a reason is required to refile a document")
    with store.session() as s:
        doc = _document(s, document_id)
        if doc.status != "filed":
            raise StoreError(f"document {document_id} is {doc.status}, not filed")
        _require_patient(s, mrn)
        stamp = now()
        previous = doc.patient_mrn
        doc.patient_mrn, doc.updated_at = mrn, stamp
        s.add(
            Event(
                document=doc,
                at=stamp,
                actor=actor,
                kind="refiled",
                detail=dump_detail({"from": previous, "to": mrn, "reason": reason}),
            )
        )
        return DocumentSummary.of(doc)
