"""Chart completeness in the JSON API: ``encounters list`` and ``deficiencies list`` shapes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from clerk.web.security import Permission, Principal, desk_of
from records import deficiency_worklist as worklist
from records.audit import record_access
from records.encounters import list_encounters
from records.permissions import Action
from records.store import now

router = APIRouter(prefix="/api/v1")
Viewer = Annotated[Principal, Depends(Permission(Action.VIEW))]
Clerk = Annotated[Principal, Depends(Permission(Action.DEFICIENCIES))]


@router.get("/encounters")
def encounters(
    request: Request, me: Viewer, patient: Annotated[str | None, Query(max_length=32)] = None
) -> list[dict[str, Any]]:
    """Encounters, newest admission first (``encounters list --json``)."""
    desk = desk_of(request)
    rows = list_encounters(desk.store, patient_mrn=patient or None)
    record_access(
        desk.store,
        me.actor,
        "encounters listed",
        mrns=sorted({e.patient_mrn for e in rows}),
        detail=f"{len(rows)} encounter(s)",
    )
    return [e.to_json() for e in rows]


@router.get("/deficiencies")
def deficiencies(
    request: Request,
    me: Clerk,
    provider: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    delinquent: bool = False,
    encounter: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, Any]]:
    """The worklist (``deficiencies list --json``)."""
    desk = desk_of(request)
    views = worklist.list_deficiencies(
        desk.store,
        now=now(),
        provider=provider or None,
        status=status or None,
        delinquent=delinquent,
        visit_number=encounter or None,
    )
    record_access(
        desk.store,
        me.actor,
        "deficiencies listed",
        mrns=sorted({v.patient_mrn for v in views}),
        detail=f"{len(views)} deficiency(ies)",
    )
    return [v.to_json() for v in views]
