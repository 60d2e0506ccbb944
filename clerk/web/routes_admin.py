"""Supervisors' and auditors' pages: quarantine, the audit trail, users, status."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from chartclerk_errors import NotFoundError
from clerk.status import gather_status
from clerk.web.security import Permission, Principal, desk_of
from clerk.web.trail import TrailFilter, as_csv, trail_rows, verify_answer
from records.audit import record_access
from records.permissions import ROLES, Action
from records.users import add_user, disable_user, get_user, list_users

router = APIRouter()
Supervisor = Annotated[Principal, Depends(Permission(Action.QUARANTINE))]
Auditor = Annotated[Principal, Depends(Permission(Action.AUDIT))]
UserAdmin = Annotated[Principal, Depends(Permission(Action.USERS))]
Anyone = Annotated[Principal, Depends(Permission(Action.STATUS))]


@router.get("/quarantine")
def quarantine(request: Request, me: Supervisor) -> Response:
    """What could not be read or was rejected, and why."""
    desk = desk_of(request)
    docs = desk.store.list_documents(status="quarantined", limit=500)
    record_access(desk.store, me.actor, "quarantine listed", document_ids=[d.id for d in docs])
    return desk.render(request, me, "quarantine.html", {"docs": docs})


@router.post("/quarantine/{document_id}/set-aside")
def set_aside(
    request: Request,
    me: Supervisor,
    document_id: int,
    reason: Annotated[str, Form(min_length=1, max_length=500)],
) -> Response:
    """Mark a quarantined document as dealt with, with a reason (it is kept, never deleted)."""
    desk = desk_of(request)
    desk.store.get_document(document_id)
    desk.store.add_event(document_id, "set aside", {"reason": reason}, actor=me.actor)
    record_access(
        desk.store, me.actor, "set aside", document_ids=[document_id], detail=reason[:200]
    )
    return RedirectResponse("/quarantine", status_code=303)


@router.post("/quarantine/{document_id}/retry")
def retry(request: Request, me: Supervisor, document_id: int) -> Response:
    """Read a quarantined document again from its archived original, with today's settings.

    The reading it replaces stays in its history (``documents reprocess`` does the same on
    the command line); the document ends filed, in review, or back here with a new reason.
    """
    desk = desk_of(request)
    if desk.store.get_document(document_id).summary.status != "quarantined":
        # A stale page: the document left quarantine since it was shown.
        return desk.render(
            request, me, "error.html", {"message": "That document is no longer in quarantine."}, 409
        )
    desk.app.ingestor.read_again(document_id, force=False, actor=me.actor)
    desk.app.indexer.enqueue([document_id])
    return RedirectResponse("/quarantine", status_code=303)


Text = Annotated[str, Query(max_length=120)]


def _trail_form(
    user: Text = "",
    patient: Text = "",
    action: Text = "",
    date_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=10)] = "",
    sort: Text = "at",
    order: Text = "desc",
) -> dict[str, str]:
    """The audit page's filter form, as the query string gives it (shared by page and CSV)."""
    return {
        "user": user,
        "patient": patient,
        "action": action,
        "from": date_from,
        "to": date_to,
        "sort": sort,
        "order": order,
    }


TrailForm = Annotated[dict[str, str], Depends(_trail_form)]


def _trail_filter(form: dict[str, str]) -> TrailFilter:
    def day(value: str) -> date | None:
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            return None

    return TrailFilter(
        user=form["user"].strip(),
        patient=form["patient"].strip(),
        action=form["action"].strip(),
        date_from=day(form["from"]),
        date_to=day(form["to"]),
        sort=form["sort"],
        descending=form["order"] != "asc",
    )


@router.get("/audit")
def audit(request: Request, me: Auditor, form: TrailForm) -> Response:
    """The trail filtered by user, patient, action and dates; sortable; verify's answer."""
    desk = desk_of(request)
    rows = trail_rows(desk.store, _trail_filter(form))
    record_access(desk.store, me.actor, "audit viewed", detail=f"{len(rows)} entries")
    return desk.render(
        request,
        me,
        "audit.html",
        {"rows": rows, "form": form, "verify": verify_answer(desk.store)},
    )


@router.get("/audit.csv")
def audit_csv(request: Request, me: Auditor, form: TrailForm) -> Response:
    """The same rows as CSV (recorded as an export)."""
    desk = desk_of(request)
    rows = trail_rows(desk.store, _trail_filter(form))
    record_access(desk.store, me.actor, "audit exported", detail=f"{len(rows)} entries")
    return Response(
        as_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )


@router.get("/users")
def users(request: Request, me: UserAdmin) -> Response:
    """Who may sign in, with which role."""
    desk = desk_of(request)
    return desk.render(request, me, "users.html", {"users": list_users(desk.store), "roles": ROLES})


@router.post("/users")
def users_add(
    request: Request,
    me: UserAdmin,
    name: Annotated[str, Form(min_length=1, max_length=120)],
    role: Annotated[str, Form(max_length=20)],
    password: Annotated[str, Form(min_length=1, max_length=1024)],
) -> Response:
    """Add a user with a first password."""
    add_user(desk_of(request).store, name.strip(), role, password, actor=me.actor)
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{name}/disable")
def users_disable(request: Request, me: UserAdmin, name: str) -> Response:
    """Disable a user; their sessions end at their next request."""
    store = desk_of(request).store
    if get_user(store, name) is None:
        raise NotFoundError("no such user")
    disable_user(store, name, actor=me.actor)
    return RedirectResponse("/users", status_code=303)


@router.get("/status")
def status(request: Request, me: Anyone) -> Response:
    """Counts by status, the inbox waiting, quarantine, index, last error."""
    desk = desk_of(request)
    return desk.render(request, me, "status.html", {"report": gather_status(desk.app)})
