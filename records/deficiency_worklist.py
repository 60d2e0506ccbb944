"""The deficiency worklist: list, complete, waive, and a clerk's document-level marks.

Every act here is one audit entry in the same transaction as the change.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chartclerk_errors import NotFoundError, StoreError
from records.chart_audit import Actor, actor_name, audit
from records.completeness_rules import CompletenessSettings
from records.deficiencies import open_key
from records.deficiency_store import COMPLETED, OPEN, WAIVED
from records.models import Deficiency, DeficiencyLetter, Document, Encounter, EncounterLink
from records.permissions import Action, require
from records.store import Store

STATUSES = (OPEN, COMPLETED, "auto_closed", WAIVED)
DOCUMENT_CHECK_RULE = "document_check"


@dataclass(frozen=True)
class DeficiencyView:
    """One deficiency in the shape of the command line's JSON."""

    id: int
    visit_number: str
    patient_mrn: str
    kind: str
    doc_type: str | None
    rule: str
    rule_version: str
    assigned_to: str | None
    status: str
    opened_at: datetime
    due_at: datetime | None
    delinquent_at: datetime | None
    age_days: int | None
    document_id: int | None
    delinquent: bool
    discharge_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    reason: str | None
    suggested_document_id: int | None
    letters: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready values (times ISO 8601)."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        return data


def age_days(discharge_at: datetime | None, since: datetime, until: datetime) -> int:
    """Whole days since discharge (since opening, for an encounter not yet discharged)."""
    return max(0, (until - (discharge_at or since)).days)


def view_of(
    row: Deficiency, encounter: Encounter, now: datetime, letters: list[dict[str, Any]]
) -> DeficiencyView:
    """A deficiency row with its encounter, as of ``now``."""
    until = row.closed_at or now
    late = row.status == OPEN and row.delinquent_at is not None and row.delinquent_at <= now
    return DeficiencyView(
        id=row.id,
        visit_number=encounter.visit_number,
        patient_mrn=encounter.patient_mrn,
        kind=row.kind,
        doc_type=row.doc_type,
        rule=row.rule,
        rule_version=row.rule_version,
        assigned_to=row.assigned_to,
        status=row.status,
        opened_at=row.opened_at,
        due_at=row.due_at,
        delinquent_at=row.delinquent_at,
        age_days=age_days(encounter.discharge_at, row.opened_at, until),
        document_id=row.document_id,
        delinquent=late,
        discharge_at=encounter.discharge_at,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        reason=row.reason,
        suggested_document_id=row.suggested_document_id,
        letters=letters,
    )


def list_deficiencies(
    store: Store,
    *,
    now: datetime,
    provider: str | None = None,
    status: str | None = None,
    delinquent: bool = False,
    visit_number: str | None = None,
    patient_mrn: str | None = None,
) -> list[DeficiencyView]:
    """Deficiencies, oldest discharge first, filtered as asked.

    Raises:
        StoreError: an unknown status.
    """
    if status is not None and status not in STATUSES:
        raise StoreError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    query = select(Deficiency, Encounter).join(Encounter, Encounter.id == Deficiency.encounter_id)
    if provider:
        query = query.where(Deficiency.assigned_to == provider)
    if status or delinquent:
        query = query.where(Deficiency.status == (OPEN if delinquent else status))
    if delinquent:
        query = query.where(Deficiency.delinquent_at <= now)
    if visit_number:
        query = query.where(Encounter.visit_number == visit_number)
    if patient_mrn:
        query = query.where(Encounter.patient_mrn == patient_mrn)
    query = query.order_by(Encounter.discharge_at, Deficiency.id)
    with store.session() as s:
        rows = list(s.execute(query))
        letters = _letters(s, [d.id for d, _ in rows])
        return [view_of(d, e, now, letters.get(d.id, [])) for d, e in rows]


def _letters(session: Session, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        query = (
            select(DeficiencyLetter)
            .where(DeficiencyLetter.deficiency_id.in_(ids[start : start + 500]))
            .order_by(DeficiencyLetter.id)
        )
        for letter in session.scalars(query):
            found[letter.deficiency_id].append(
                {"level": letter.level, "sent_at": letter.sent_at.isoformat()}
            )
    return found


def _open_row(session: Session, deficiency_id: int) -> tuple[Deficiency, Encounter]:
    row = session.get(Deficiency, deficiency_id)
    if row is None:
        raise NotFoundError(f"no deficiency with id {deficiency_id}")
    if row.status != OPEN:
        raise StoreError(f"deficiency {deficiency_id} is {row.status}, not open")
    encounter = session.get(Encounter, row.encounter_id)
    assert encounter is not None
    return row, encounter


def complete(
    store: Store, deficiency_id: int, document_id: int, *, actor: Actor, now: datetime
) -> DeficiencyView:
    """A clerk closes a deficiency with the document that satisfies it.

    Raises:
        NotFoundError: no such deficiency or document.
        StoreError: the deficiency is not open, or the document is not filed to the patient.
    """
    with store.session() as s:
        row, encounter = _open_row(s, deficiency_id)
        doc = s.get(Document, document_id)
        if doc is None:
            raise NotFoundError(f"no document with id {document_id}")
        if doc.status != "filed" or doc.patient_mrn != encounter.patient_mrn:
            raise StoreError(f"document {document_id} is not filed to this encounter's patient")
        _close(row, COMPLETED, now, actor, document_id=document_id)
        _act(s, actor, "deficiency completed", row, encounter, now, document_id)
        return view_of(row, encounter, now, [])


def waive(
    store: Store,
    deficiency_id: int,
    reason: str,
    *,
    actor: Actor,
    role: str | None,
    now: datetime,
) -> DeficiencyView:
    """A supervisor waives a deficiency.

    Args:
        store: the record store.
        deficiency_id: the deficiency.
        reason: why (kept on it and in the trail).
        actor: who waives it.
        role: the acting person's role, as the face verified it (waiving needs ``waive``).
        now: the time of the act.

    Raises:
        PermissionDenied: the role may not waive.
        NotFoundError: no such deficiency.
        StoreError: not open, or no reason given.
    """
    require(role, Action.WAIVE)
    if not reason.strip():
        raise StoreError("a reason is required to waive a deficiency")
    with store.session() as s:
        row, encounter = _open_row(s, deficiency_id)
        _close(row, WAIVED, now, actor, reason=reason)
        _act(s, actor, "deficiency waived", row, encounter, now, None, reason=reason)
        return view_of(row, encounter, now, [])


def mark(
    store: Store,
    document_id: int,
    kind: str,
    settings: CompletenessSettings,
    *,
    actor: Actor,
    now: datetime,
    clear: bool = False,
) -> DeficiencyView:
    """A clerk marks a filed document as lacking a signature or a date/time (or clears it).

    Raises:
        NotFoundError: no such document, or nothing to clear.
        StoreError: an unknown check, or the document is not linked to an encounter.
    """
    if kind not in settings.document_checks:
        raise StoreError(f"unknown check {kind!r}; expected {', '.join(settings.document_checks)}")
    with store.session() as s:
        doc = s.get(Document, document_id)
        if doc is None:
            raise NotFoundError(f"no document with id {document_id}")
        link = s.get(EncounterLink, document_id)
        if doc.status != "filed" or link is None or link.visit_number is None:
            raise StoreError(
                f"document {document_id} is not filed to an encounter; "
                f"link it first (documents link {document_id} --encounter V)"
            )
        encounter = s.scalar(select(Encounter).where(Encounter.visit_number == link.visit_number))
        assert encounter is not None
        key = open_key(encounter.id, DOCUMENT_CHECK_RULE, kind, document_id)
        row = s.scalar(select(Deficiency).where(Deficiency.open_key == key))
        if clear:
            if row is None:
                raise NotFoundError(f"document {document_id} has no open {kind} mark")
            _close(row, COMPLETED, now, actor, reason="cleared")
            _act(s, actor, "deficiency mark cleared", row, encounter, now, document_id)
            return view_of(row, encounter, now, [])
        if row is None:
            row = _new_mark(encounter, kind, document_id, key, settings, now)
            s.add(row)
            s.flush()
            _act(s, actor, "deficiency marked", row, encounter, now, document_id)
        return view_of(row, encounter, now, [])


def _new_mark(
    encounter: Encounter,
    kind: str,
    document_id: int,
    key: str,
    settings: CompletenessSettings,
    now: datetime,
) -> Deficiency:
    late = None
    if encounter.discharge_at is not None:
        late = encounter.discharge_at + timedelta(days=settings.delinquent_after_days)
    return Deficiency(
        encounter_id=encounter.id,
        kind=kind,
        doc_type=None,
        rule=DOCUMENT_CHECK_RULE,
        rule_version=settings.version,
        assigned_to=encounter.attending_id,
        status=OPEN,
        opened_at=now,
        due_at=late,
        delinquent_at=late,
        document_id=document_id,
        open_key=key,
    )


def _close(
    row: Deficiency,
    status: str,
    now: datetime,
    actor: Actor,
    *,
    document_id: int | None = None,
    reason: str | None = None,
) -> None:
    row.status, row.open_key, row.closed_at = status, None, now
    row.closed_by = actor_name(actor)
    row.suggested_document_id = None
    if document_id is not None:
        row.document_id = document_id
    if reason is not None:
        row.reason = reason


def _act(
    session: Session,
    actor: Actor,
    action: str,
    row: Deficiency,
    encounter: Encounter,
    now: datetime,
    document_id: int | None,
    **extra: Any,
) -> None:
    detail = {"deficiency": row.id, "kind": row.kind, "rule": row.rule, **extra}
    documents = [document_id] if document_id is not None else []
    # An entry naming the document is part of its history too.
    audit(
        session,
        actor,
        action,
        mrns=[encounter.patient_mrn],
        document_ids=documents,
        detail=detail,
    )
