"""The review queue and refiling: a clerk's decisions, each kept in the document's history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chartclerk_errors import NotFoundError, StoreError
from records import audit
from records.audit import Actor
from records.models import Document, Patient
from records.operations import REJECTED_PREFIX
from records.store import Store, mrns_in_detail, now
from records.views import DocumentSummary, dump_detail


def _document_in(session: Session, document_id: int, status: str) -> Document:
    row = session.get(Document, document_id)
    if row is None:
        raise NotFoundError(f"no document with id {document_id}")
    if row.status != status:
        wanted = "in review" if status == "review" else status
        raise StoreError(f"document {document_id} is {row.status}, not {wanted}")
    return row


def _require_patient(session: Session, mrn: str) -> Patient:
    patient = session.scalar(select(Patient).where(Patient.mrn == mrn))
    if patient is None:
        # Errors never carry an MRN: they reach logs and screens (DESIGN.md invariant 5).
        raise NotFoundError("no patient with the MRN given in the patient index")
    if patient.merged_into:
        raise StoreError(
            "the MRN given was merged into another patient's; file to the surviving MRN "
            "(`chartclerk patients show` of the old MRN names it)"
        )
    return patient


def _require_reason(reason: str, action: str) -> None:
    if not reason.strip():
        raise StoreError(f"a reason is required to {action} a document")


def _record(
    session: Session, doc: Document, actor: Actor, kind: str, detail: dict[str, Any]
) -> DocumentSummary:
    """Stamp the change on the document and the audit trail, in the same transaction."""
    doc.updated_at = now()
    audit.record(
        session,
        actor,
        kind,
        mrns=mrns_in_detail(detail),
        document_ids=[doc.id],
        detail=dump_detail(detail),
    )
    return DocumentSummary.of(doc)


def assign(store: Store, document_id: int, mrn: str, *, actor: Actor) -> DocumentSummary:
    """File a document waiting in review to a patient.

    Raises:
        NotFoundError: no such document or patient.
        StoreError: the document is not in review.
    """
    with store.session() as s:
        doc = _document_in(s, document_id, "review")
        _require_patient(s, mrn)
        detail = {"mrn": mrn, "review_reason": doc.review_reason}
        doc.status, doc.patient_mrn, doc.review_reason = "filed", mrn, None
        summary = _record(s, doc, actor, "assigned", detail)
    store.documents_moved([mrn], [document_id], actor=actor)
    return summary


def reject(store: Store, document_id: int, reason: str, *, actor: Actor) -> DocumentSummary:
    """Keep a document out of every chart without deleting it.

    Raises:
        NotFoundError: no such document.
        StoreError: the document is not in review, or no reason was given.
    """
    _require_reason(reason, "reject")
    with store.session() as s:
        doc = _document_in(s, document_id, "review")
        # Rejected documents are set aside like quarantined files: in no chart, never deleted.
        doc.status, doc.review_reason = "quarantined", f"{REJECTED_PREFIX}{reason}"
        return _record(s, doc, actor, "rejected", {"reason": reason})


def refile(
    store: Store, document_id: int, mrn: str, reason: str, *, actor: Actor
) -> DocumentSummary:
    """Move a filed document to another patient, keeping the earlier filing in its history.

    Raises:
        NotFoundError: no such document or patient.
        StoreError: the document is not filed, or no reason was given.
    """
    _require_reason(reason, "refile")
    with store.session() as s:
        doc = _document_in(s, document_id, "filed")
        _require_patient(s, mrn)
        detail = {"from": doc.patient_mrn, "to": mrn, "reason": reason}
        doc.patient_mrn = mrn
        summary = _record(s, doc, actor, "refiled", detail)
    store.documents_moved([detail["from"], mrn], [document_id], actor=actor)
    return summary
