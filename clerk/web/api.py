"""The JSON API, ``/api/v1/``: the command line's JSON shapes, per-user bearer tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from chartclerk_errors import StoreError
from clerk.web.routes_records import page_png
from clerk.web.routes_review import waiting
from clerk.web.security import Permission, Principal, desk_of
from clerk.web.trail import TrailFilter, trail_rows
from index import SearchFilters
from records import review, web_sessions
from records.audit import record_access
from records.permissions import Action

router = APIRouter(prefix="/api/v1")
Viewer = Annotated[Principal, Depends(Permission(Action.VIEW))]
Searcher = Annotated[Principal, Depends(Permission(Action.SEARCH))]
Reviewer = Annotated[Principal, Depends(Permission(Action.REVIEW))]
Auditor = Annotated[Principal, Depends(Permission(Action.AUDIT))]


class AssignBody(BaseModel):
    """``{"mrn": ...}``."""

    mrn: str = Field(min_length=1, max_length=32)


class RejectBody(BaseModel):
    """``{"reason": ...}``."""

    reason: str = Field(min_length=1, max_length=500)


@router.get("/documents")
def documents(
    request: Request,
    me: Viewer,
    status: Annotated[str | None, Query(max_length=16)] = None,
    patient: Annotated[str | None, Query(max_length=32)] = None,
) -> list[dict[str, Any]]:
    """One row per document, newest first (``documents list --json``)."""
    desk = desk_of(request)
    rows = desk.store.list_documents(status=status or None, patient_mrn=patient or None)
    record_access(
        desk.store,
        me.actor,
        "documents listed",
        document_ids=[d.id for d in rows],
        mrns=sorted({d.patient_mrn for d in rows if d.patient_mrn}),
    )
    return [d.to_json() for d in rows]


@router.get("/documents/{document_id}")
def document(request: Request, me: Viewer, document_id: int) -> dict[str, Any]:
    """A document with its text, identifiers and candidates (``documents show --json``)."""
    desk = desk_of(request)
    detail = desk.store.get_document(document_id)
    mrn = detail.summary.patient_mrn
    record_access(
        desk.store, me.actor, "view", document_ids=[document_id], mrns=[mrn] if mrn else []
    )
    return detail.to_json()


@router.get("/documents/{document_id}/pages/{number}.png")
def page(request: Request, me: Viewer, document_id: int, number: int) -> Response:
    """A page image at screen size."""
    return page_png(desk_of(request), me, document_id, number, "page")


@router.get("/search")
def search(
    request: Request,
    me: Searcher,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    patient: Annotated[str | None, Query(max_length=32)] = None,
    doc_type: Annotated[str | None, Query(alias="type", max_length=32)] = None,
) -> list[dict[str, Any]]:
    """Ranked hits with snippets (``search --json``)."""
    desk = desk_of(request)
    result = desk.app.search.search(
        q, SearchFilters(patient_mrn=patient or None, doc_type=doc_type or None), limit=limit
    )
    record_access(
        desk.store,
        me.actor,
        "search",
        document_ids=[h.id for h in result.hits],
        mrns=sorted({h.patient_mrn for h in result.hits if h.patient_mrn}),
        detail=f"query={q!r} hits={result.total}",
    )
    return [h.to_json() for h in result.hits]


@router.get("/review")
def review_list(request: Request, me: Reviewer) -> list[dict[str, Any]]:
    """The queue, oldest first, each with up to 5 candidates (``review list --json``)."""
    desk = desk_of(request)
    rows = []
    for summary in waiting(desk):
        detail = desk.store.get_document(summary.id)
        row = summary.to_json()
        row["candidates"] = (detail.decision or {}).get("candidates", [])[:5]
        rows.append(row)
    record_access(desk.store, me.actor, "review queue listed", document_ids=[r["id"] for r in rows])
    return rows


@router.post("/review/{document_id}/assign")
def review_assign(
    request: Request, me: Reviewer, document_id: int, body: Annotated[AssignBody, Body()]
) -> dict[str, Any]:
    """File a review item to a patient (refused while a clerk holds it on the desk)."""
    desk = desk_of(request)
    _not_held_by_another(request, me, document_id)
    summary = review.assign(desk.store, document_id, body.mrn.strip(), actor=me.actor)
    desk.app.indexer.enqueue([document_id])
    return summary.to_json()


@router.post("/review/{document_id}/reject")
def review_reject(
    request: Request, me: Reviewer, document_id: int, body: Annotated[RejectBody, Body()]
) -> dict[str, Any]:
    """Reject a review item with a reason."""
    desk = desk_of(request)
    _not_held_by_another(request, me, document_id)
    summary = review.reject(desk.store, document_id, body.reason, actor=me.actor)
    desk.app.indexer.enqueue([document_id])
    return summary.to_json()


def _not_held_by_another(request: Request, me: Principal, document_id: int) -> None:
    holder = web_sessions.holder(desk_of(request).store, document_id)
    if holder is not None and holder.user_name != me.user.name:
        raise StoreError(f"{holder.user_name} is working this item; nothing was changed")


@router.get("/audit")
def audit(
    request: Request,
    me: Auditor,
    user: Annotated[str, Query(max_length=120)] = "",
    patient: Annotated[str, Query(max_length=32)] = "",
    action: Annotated[str, Query(max_length=120)] = "",
    limit: Annotated[int, Query(ge=1, le=10000)] = 200,
) -> list[dict[str, Any]]:
    """The trail, newest first."""
    desk = desk_of(request)
    rows = trail_rows(
        desk.store, TrailFilter(user=user, patient=patient, action=action, limit=limit)
    )
    record_access(desk.store, me.actor, "audit viewed", detail=f"{len(rows)} entries")
    return rows
