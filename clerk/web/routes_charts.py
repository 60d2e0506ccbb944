"""Chart completeness at the desk: the worklist, an encounter, letters, the report.

Routes stay thin: the permission, a call into records, one audit entry, a template.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from chartclerk_errors import StoreError
from clerk.web.security import Permission, Principal, desk_of
from records import deficiency_worklist as worklist
from records.audit import record_access
from records.completeness_report import BUCKETS, bucket_of, completeness_report
from records.encounters import encounter_chart
from records.letters import send_letters
from records.permissions import Action
from records.store import now

router = APIRouter()
Clerk = Annotated[Principal, Depends(Permission(Action.DEFICIENCIES))]
Supervisor = Annotated[Principal, Depends(Permission(Action.WAIVE))]
SHOWN = 500
AGES = tuple(name for name, _, _ in BUCKETS)


@router.get("/worklist")
def worklist_page(
    request: Request,
    me: Clerk,
    provider: Annotated[str, Query(max_length=64)] = "",
    age: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    """Open deficiencies, oldest discharge first, by provider and by age."""
    desk = desk_of(request)
    stamp = now()
    every = worklist.list_deficiencies(desk.store, now=stamp, status="open")
    rows = [
        v
        for v in every
        if (not provider or v.assigned_to == provider)
        and (not age or bucket_of(v.age_days or 0) == age)
    ]
    shown = rows[:SHOWN]
    record_access(
        desk.store,
        me.actor,
        "deficiencies listed",
        mrns=sorted({v.patient_mrn for v in shown}),
        document_ids=sorted({d for v in shown for d in (v.suggested_document_id,) if d}),
        detail=f"{len(shown)} shown",
    )
    return desk.render(
        request,
        me,
        "worklist.html",
        {
            "rows": shown,
            "total": len(rows),
            "providers": sorted(Counter(v.assigned_to or "" for v in every).items()),
            "ages": [
                (name, sum(1 for v in every if bucket_of(v.age_days or 0) == name)) for name in AGES
            ],
            "provider": provider,
            "age": age,
            "now": stamp,
        },
    )


@router.get("/encounter")
def encounter_page(
    request: Request, me: Clerk, visit: Annotated[str, Query(min_length=1, max_length=64)]
) -> Response:
    """One encounter: what is there (its documents) and what is missing (deficiencies)."""
    desk = desk_of(request)
    stamp = now()
    chart = encounter_chart(desk.store, visit)
    deficiencies = worklist.list_deficiencies(desk.store, now=stamp, visit_number=visit)
    record_access(
        desk.store,
        me.actor,
        "view encounter",
        mrns=[chart.encounter.patient_mrn],
        document_ids=[d.id for d, _ in chart.documents + chart.patient_level],
        detail=visit,
    )
    return desk.render(
        request,
        me,
        "encounter.html",
        {
            "chart": chart,
            "deficiencies": deficiencies,
            "checks": desk.app.settings.completeness.document_checks,
            "now": stamp,
        },
    )


def _back(visit: str) -> Response:
    return RedirectResponse(f"/encounter?visit={visit}", status_code=303)


@router.post("/deficiencies/complete")
def complete(
    request: Request,
    me: Clerk,
    deficiency_id: Annotated[int, Form()],
    document_id: Annotated[int, Form()],
) -> Response:
    """Close a deficiency with the document that satisfies it."""
    view = worklist.complete(
        desk_of(request).store, deficiency_id, document_id, actor=me.actor, now=now()
    )
    return _back(view.visit_number)


@router.post("/deficiencies/waive")
def waive(
    request: Request,
    me: Supervisor,
    deficiency_id: Annotated[int, Form()],
    reason: Annotated[str, Form(max_length=500)],
) -> Response:
    """Waive a deficiency (supervisors), with the reason kept in the trail."""
    view = worklist.waive(
        desk_of(request).store,
        deficiency_id,
        reason,
        actor=me.actor,
        role=me.user.role,
        now=now(),
    )
    return _back(view.visit_number)


@router.post("/deficiencies/mark")
def mark(
    request: Request,
    me: Clerk,
    document_id: Annotated[int, Form()],
    kind: Annotated[str, Form(max_length=32)],
    clear: Annotated[bool, Form()] = False,
) -> Response:
    """Mark a filed document as lacking a signature or a date/time, or clear the mark."""
    desk = desk_of(request)
    view = worklist.mark(
        desk.store,
        document_id,
        kind,
        desk.app.settings.completeness,
        actor=me.actor,
        now=now(),
        clear=clear,
    )
    return _back(view.visit_number)


@router.post("/letters")
def letter(
    request: Request, me: Clerk, provider: Annotated[str, Form(min_length=1, max_length=64)]
) -> Response:
    """One provider's request letter as a PDF to print; the sending is recorded."""
    desk = desk_of(request)
    with tempfile.TemporaryDirectory() as folder:
        sent = send_letters(
            desk.store,
            desk.app.settings.completeness,
            Path(folder),
            now=now(),
            actor=me.actor,
            provider=provider,
        )
        if not sent:
            raise StoreError("this provider has no open deficiencies: no letter to print")
        data = sent[0].path.read_bytes()
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{sent[0].path.name}"'},
    )


@router.get("/completeness")
def report_page(request: Request, me: Clerk) -> Response:
    """Open and delinquent deficiencies by provider and age, with a chart of the buckets."""
    desk = desk_of(request)
    report = completeness_report(desk.store, desk.app.settings.completeness, now=now())
    record_access(desk.store, me.actor, "completeness report", detail="by provider and age")
    tallest = max([1, *report["by_age"]["open"].values()])
    bars = [
        (name, report["by_age"]["open"][name], report["by_age"]["delinquent"][name])
        for name in AGES
    ]
    return desk.render(
        request, me, "completeness.html", {"report": report, "bars": bars, "tallest": tallest}
    )
