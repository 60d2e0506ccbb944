"""Reading records: search, a patient's chart, a document, page images, the original file."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from chartclerk_errors import NotFoundError
from clerk.web.desk import Desk
from clerk.web.routes_review import guard
from clerk.web.security import Permission, Principal, desk_of
from index import SearchFilters
from records import review, web_sessions
from records.audit import record_access
from records.patients import get_patient
from records.permissions import Action

router = APIRouter()
Viewer = Annotated[Principal, Depends(Permission(Action.VIEW))]
Searcher = Annotated[Principal, Depends(Permission(Action.SEARCH))]
Downloader = Annotated[Principal, Depends(Permission(Action.DOWNLOAD))]
Refiler = Annotated[Principal, Depends(Permission(Action.REFILE))]
SIZES = ("thumb", "page", "zoom")
PER_PAGE = 20
# Reads recorded by the desk and the API: the audit page shows them; a document's history
# shows what happened to it.
READS = frozenset(
    {
        "view",
        "view chart",
        "page image",
        "download",
        "search",
        "patient search",
        "review queue listed",
        "documents listed",
        "denied",
        "stale form refused",
        "quarantine listed",
    }
)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/search")
def search(
    request: Request,
    me: Searcher,
    q: Annotated[str, Query(max_length=500)] = "",
    patient: Annotated[str, Query(max_length=32)] = "",
    doc_type: Annotated[str, Query(alias="type", max_length=32)] = "",
    status: Annotated[str, Query(max_length=16)] = "",
    date_from: Annotated[str, Query(alias="from", max_length=10)] = "",
    date_to: Annotated[str, Query(alias="to", max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    """The query language of ``chartclerk search``, with filters and paging."""
    desk = desk_of(request)
    result = None
    if q.strip():
        filters = SearchFilters(
            patient_mrn=patient or None,
            doc_type=doc_type or None,
            status=status or None,
            date_from=_day(date_from),
            date_to=_day(date_to),
        )
        result = desk.app.search.search(q, filters, limit=PER_PAGE, page=page)
        record_access(
            desk.store,
            me.actor,
            "search",
            document_ids=[h.id for h in result.hits],
            mrns=sorted({h.patient_mrn for h in result.hits if h.patient_mrn}),
            detail=f"query={q!r} page={page} hits={result.total}",
        )
    form = {
        "q": q,
        "patient": patient,
        "type": doc_type,
        "status": status,
        "from": date_from,
        "to": date_to,
    }
    pages = math.ceil(result.total / PER_PAGE) if result else 0
    return desk.render(
        request,
        me,
        "search.html",
        {"result": result, "form": form, "page": page, "pages": pages},
    )


@router.get("/patients/{mrn}")
def chart(request: Request, me: Viewer, mrn: str) -> Response:
    """Demographics and the patient's documents by date and type."""
    desk = desk_of(request)
    patient = get_patient(desk.store, mrn)
    docs = sorted(
        desk.store.list_documents(patient_mrn=patient.mrn),
        key=lambda d: (d.received_at, d.id),
        reverse=True,
    )
    record_access(
        desk.store,
        me.actor,
        "view chart",
        mrns=[patient.mrn],
        document_ids=[d.id for d in docs],
    )
    by_type: dict[str, int] = {}
    for d in docs:
        by_type[d.doc_type or "other"] = by_type.get(d.doc_type or "other", 0) + 1
    return desk.render(
        request, me, "patient.html", {"patient": patient, "docs": docs, "by_type": by_type}
    )


@router.get("/documents/{document_id}")
def document(request: Request, me: Viewer, document_id: int) -> Response:
    """Pages, text, identifiers, history; download and refile where the role may."""
    desk = desk_of(request)
    version = web_sessions.document_version(desk.store, document_id)
    detail = desk.store.get_document(document_id)
    mrn = detail.summary.patient_mrn
    patient = desk.store.patients_by_mrn([mrn]).get(mrn) if mrn else None
    record_access(
        desk.store, me.actor, "view", document_ids=[document_id], mrns=[mrn] if mrn else []
    )
    return desk.render(
        request,
        me,
        "document.html",
        {
            "doc": detail,
            "patient": patient,
            "version": version,
            "settings": desk.settings,
            "changes": [e for e in detail.events if e.kind not in READS],
        },
    )


def page_png(desk: Desk, me: Principal, document_id: int, number: int, size: str) -> Response:
    """One page image at a size, after the caller's permission check; recorded."""
    summary = desk.store.get_document(document_id)
    if not summary.summary.sha256 or not 1 <= number <= max(summary.summary.pages, 1):
        raise NotFoundError("no such page")
    width = {
        "thumb": desk.settings.thumb_width,
        "zoom": desk.settings.zoom_width,
    }.get(size, desk.settings.page_width)
    rotation = next((p.rotation for p in summary.pages if p.number == number), 0)
    data = desk.images.png(summary.summary.sha256, number, width, rotation)
    mrn = summary.summary.patient_mrn
    record_access(
        desk.store,
        me.actor,
        "page image",
        document_ids=[document_id],
        mrns=[mrn] if mrn else [],
        detail=f"page {number} {size}",
    )
    return Response(data, media_type="image/png")


@router.get("/documents/{document_id}/pages/{number}.png")
def page_image(
    request: Request,
    me: Viewer,
    document_id: int,
    number: int,
    size: Annotated[str, Query(pattern="^(thumb|page|zoom)$")] = "page",
) -> Response:
    """A page image, rendered on the server; only through this checked, recorded route."""
    return page_png(desk_of(request), me, document_id, number, size)


@router.get("/documents/{document_id}/original")
def original(request: Request, me: Downloader, document_id: int) -> Response:
    """The original file from the archive, as it was dropped; recorded."""
    desk = desk_of(request)
    summary = desk.store.get_document(document_id).summary
    if not summary.sha256:
        raise NotFoundError("no original file")
    path = desk.store.archive.path_for(summary.sha256)
    if not path.is_file():
        raise NotFoundError("the original file is not in the archive")
    mrn = summary.patient_mrn
    record_access(
        desk.store, me.actor, "download", document_ids=[document_id], mrns=[mrn] if mrn else []
    )
    return FileResponse(
        path,
        media_type="application/octet-stream",
        filename=f"document-{document_id}{_suffix(summary.source_name)}",
    )


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    suffix = name[dot:].lower() if dot > 0 else ""
    return suffix if suffix.isascii() and len(suffix) <= 6 and suffix[1:].isalnum() else ""


@router.post("/documents/{document_id}/refile")
def refile(
    request: Request,
    me: Refiler,
    document_id: int,
    mrn: Annotated[str, Form(max_length=32)],
    reason: Annotated[str, Form(max_length=500)],
    version: Annotated[str, Form(max_length=64)],
) -> Response:
    """Move a filed document to another patient, with a reason kept in its history."""
    desk = desk_of(request)
    guard(desk, me, document_id, version)
    review.refile(desk.store, document_id, mrn.strip(), reason, actor=me.actor)
    desk.app.indexer.enqueue([document_id])
    return RedirectResponse(f"/documents/{document_id}", status_code=303)
