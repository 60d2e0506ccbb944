"""The review queue: the list, an item with its pages and candidates, assign and reject.

Opening an item claims it for ``web.claim_minutes``; every form carries the document's
version (its updated_at) so that an action on a page someone else has acted on since is
refused, never applied over theirs.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from chartclerk_errors import StoreError
from clerk.web.desk import Desk
from clerk.web.security import Permission, Principal, desk_of
from records import review, web_sessions
from records.audit import record_access
from records.patients import list_patients
from records.permissions import Action
from records.store import now

router = APIRouter()
Reviewer = Annotated[Principal, Depends(Permission(Action.REVIEW))]
QUEUE_SHOWN = 200


class StaleForm(StoreError):
    """The page was opened before someone else acted on the document."""


def waiting(desk: Desk) -> list[Any]:
    """The review queue, oldest first."""
    return sorted(desk.store.list_documents(status="review"), key=lambda d: (d.received_at, d.id))


@router.get("/review")
def queue(request: Request, me: Reviewer) -> Response:
    """Counts, age and reason of every item waiting, oldest first."""
    desk = desk_of(request)
    queue_view = web_sessions.review_queue(desk.store, QUEUE_SHOWN)
    others = web_sessions.claimed_by_others(desk.store, me.user.name)
    record_access(
        desk.store,
        me.actor,
        "review queue listed",
        document_ids=[d.id for d in queue_view.items],
    )
    return desk.render(
        request,
        me,
        "review_queue.html",
        {
            "items": queue_view.items,
            "total": queue_view.total,
            "reasons": queue_view.reasons,
            "others": others,
            "now": now(),
        },
    )


@router.get("/review/next")
def next_item(
    request: Request, me: Reviewer, skip: Annotated[int | None, Query()] = None
) -> Response:
    """The oldest item no one else holds (what "save and next" goes to), past ``skip``."""
    desk = desk_of(request)
    minutes = desk.settings.claim_minutes
    for doc_id in web_sessions.next_free_ids(desk.store, me.user.name, skip=skip):
        # Claimed here, so two clerks pressing "next" at once are sent to different items.
        if web_sessions.claim(desk.store, doc_id, me.user.name, minutes).user_name == me.user.name:
            return RedirectResponse(f"/review/{doc_id}", status_code=303)
    return RedirectResponse("/review", status_code=303)


@router.get("/review/{document_id}")
def item(
    request: Request, me: Reviewer, document_id: int, page: Annotated[int, Query(ge=1)] = 1
) -> Response:
    """One item: page images beside what was read and the ranked candidates."""
    desk = desk_of(request)
    # The version is read before the document, so a change in between makes it stale.
    version = web_sessions.document_version(desk.store, document_id)
    detail = desk.store.get_document(document_id)
    if detail.summary.status != "review":
        return RedirectResponse(f"/documents/{document_id}", status_code=303)
    candidates = (detail.decision or {}).get("candidates", [])[:5]
    patients = desk.store.patients_by_mrn([c["mrn"] for c in candidates])
    claim = web_sessions.claim(
        desk.store,
        document_id,
        me.user.name,
        desk.settings.claim_minutes,
        viewed_by=me.actor,
        mrns=[c["mrn"] for c in candidates],
    )
    return desk.render(
        request,
        me,
        "review_item.html",
        {
            "doc": detail,
            "version": version,
            "claim": claim,
            "mine": claim.user_name == me.user.name,
            "candidates": [(c, patients.get(c["mrn"])) for c in candidates],
            "page": min(page, max(detail.summary.pages, 1)),
            "settings": desk.settings,
        },
    )


@router.get("/review/{document_id}/patients")
def patient_search(
    request: Request, me: Reviewer, document_id: int, q: Annotated[str, Query(max_length=120)] = ""
) -> Response:
    """Patients by name (``Last, First``), MRN or date of birth, for when no candidate fits."""
    desk = desk_of(request)
    found = list_patients(desk.store, query=q, limit=20) if q.strip() else []
    record_access(
        desk.store, me.actor, "patient search", mrns=[p.mrn for p in found], detail="review"
    )
    version = web_sessions.document_version(desk.store, document_id)
    return desk.render(
        request,
        me,
        "patient_results.html",
        {"patients": found, "doc_id": document_id, "version": version, "q": q},
    )


def guard(desk: Desk, me: Principal, document_id: int, version: str) -> None:
    """Refuse an action on an item someone else holds, or on a page that went stale."""
    holder = web_sessions.holder(desk.store, document_id)
    if holder is not None and holder.user_name != me.user.name:
        raise StoreError(f"{holder.user_name} is working this item; nothing was changed")
    if web_sessions.document_version(desk.store, document_id) != version:
        record_access(
            desk.store,
            me.actor,
            "stale form refused",
            document_ids=[document_id],
            outcome="refused",
        )
        raise StaleForm(
            "someone else acted on this document after you opened it; nothing was changed - "
            "reload to see it as it is now"
        )


@router.post("/review/{document_id}/assign")
def assign(
    request: Request,
    me: Reviewer,
    document_id: int,
    mrn: Annotated[str, Form(max_length=32)],
    version: Annotated[str, Form(max_length=64)],
) -> Response:
    """File the item to a patient, then open the next one (save and next)."""
    desk = desk_of(request)
    guard(desk, me, document_id, version)
    review.assign(desk.store, document_id, mrn.strip(), actor=me.actor)
    _after(desk, document_id)
    return RedirectResponse("/review/next", status_code=303)


@router.post("/review/{document_id}/reject")
def reject(
    request: Request,
    me: Reviewer,
    document_id: int,
    reason: Annotated[str, Form(max_length=500)],
    version: Annotated[str, Form(max_length=64)],
) -> Response:
    """Keep the item out of every chart, with a reason, then open the next one."""
    desk = desk_of(request)
    guard(desk, me, document_id, version)
    review.reject(desk.store, document_id, reason, actor=me.actor)
    _after(desk, document_id)
    return RedirectResponse("/review/next", status_code=303)


def _after(desk: Desk, document_id: int) -> None:
    # The claim row stays: a claim on a document no longer in review holds nothing, and
    # deleting it would be a second commit on the store's single writer per filing.
    # Indexed by the batching writer within a second: one index commit per click would make
    # twenty clerks queue on the index's single writer.
    desk.app.indexer.enqueue([document_id])
