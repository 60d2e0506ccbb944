"""Deficiency analysis against the store: links documents, opens, closes and reopens.

The reading of what a chart lacks is :mod:`records.deficiencies` (pure); this module loads
its inputs in a few queries, applies its result, and keeps the store idempotent: one open
deficiency per encounter, rule and kind (``Deficiency.open_key`` is unique while open).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.chart_audit import SYSTEM, Actor, actor_name, audit
from records.completeness_rules import CompletenessSettings
from records.deficiencies import (
    MISSING_DOCUMENT,
    DocumentFacts,
    EncounterFacts,
    LinkFacts,
    Requirement,
    analyze_patient,
    link_document,
)
from records.encounters import drop_links, write_link
from records.models import Deficiency, Document, Encounter, EncounterLink, Event, IdentifierRow
from records.store import Store
from records.views import dump_detail

OPEN, COMPLETED, AUTO_CLOSED, WAIVED = "open", "completed", "auto_closed", "waived"
_CHUNK = 500


@dataclass
class AnalysisReport:
    """What one analysis run changed."""

    encounters: int = 0
    requirements: int = 0
    opened: int = 0
    reopened: int = 0
    auto_closed: int = 0
    withdrawn: int = 0
    suggested: int = 0
    links_changed: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The counts as JSON."""
        return asdict(self)


def analyze(
    store: Store,
    settings: CompletenessSettings,
    *,
    now: datetime,
    mrns: Iterable[str] | None = None,
    document_ids: Iterable[int] = (),
    actor: Actor = SYSTEM,
) -> AnalysisReport:
    """Link documents and bring deficiencies up to date for some patients, or for all.

    Args:
        store: the record store.
        settings: the completeness rules.
        now: the time of analysis.
        mrns: the patients to analyse; None analyses every patient with an encounter.
        document_ids: documents whose link must be looked at again even if they left these
            patients (unfiled, refiled elsewhere).
        actor: who asked (the daemon, a clerk's command, a filing).
    """
    started = time.perf_counter()
    report = AnalysisReport()
    with store.session() as s:
        inputs = _load(s, None if mrns is None else set(mrns), set(document_ids))
        _relink(s, inputs, report, now, actor)
        for mrn, encounters in inputs.encounters.items():
            requirements = analyze_patient(encounters, inputs.document_facts(mrn), settings, now)
            report.encounters += len(encounters)
            report.requirements += len(requirements)
            _reconcile(s, encounters, requirements, inputs, settings, report, now)
        report.seconds = round(time.perf_counter() - started, 3)
        audit(s, actor, "deficiencies analyzed", now, detail=report.to_json())
    return report


@dataclass(frozen=True)
class _Doc:
    id: int
    doc_type: str | None
    service_date: date | None


class _Inputs:
    """Everything one analysis run reads, loaded in a few queries."""

    def __init__(self) -> None:
        self.encounters: dict[str, list[EncounterFacts]] = defaultdict(list)
        self.documents: dict[str, list[_Doc]] = defaultdict(list)
        self.numbers: dict[int, list[str]] = defaultdict(list)
        self.links: dict[int, EncounterLink] = {}
        self.rows: dict[int, list[Deficiency]] = defaultdict(list)
        self.filed_to: dict[int, str] = {}

    def document_facts(self, mrn: str) -> list[DocumentFacts]:
        facts = []
        for doc in self.documents.get(mrn, []):
            link = self.links.get(doc.id)
            visit = link.visit_number if link is not None else None
            facts.append(DocumentFacts(doc.id, doc.doc_type, doc.service_date, visit))
        return facts


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _rows(session: Session, query: Any, column: Any, values: Sequence[Any] | None) -> list[Any]:
    """``query`` for all rows (values None) or where ``column`` is in ``values``, chunked."""
    if values is None:
        return list(session.execute(query))
    found: list[Any] = []
    for chunk in _chunks(values):
        found.extend(session.execute(query.where(column.in_(chunk))))
    return found


def _load(session: Session, mrns: set[str] | None, extra_docs: set[int]) -> _Inputs:
    inputs = _Inputs()
    everyone = mrns is None
    wanted_mrns = None if mrns is None else sorted(mrns)
    for (row,) in _rows(session, select(Encounter), Encounter.patient_mrn, wanted_mrns):
        inputs.encounters[row.patient_mrn].append(_facts(row))
    patients = set(inputs.encounters) if mrns is None else mrns
    filed = select(
        Document.id, Document.doc_type, Document.service_date, Document.patient_mrn
    ).where(Document.status == "filed")
    for doc_id, doc_type, service_date, mrn in _rows(
        session, filed, Document.patient_mrn, wanted_mrns
    ):
        if mrn in patients:
            inputs.documents[mrn].append(_Doc(doc_id, doc_type, service_date))
            inputs.filed_to[doc_id] = mrn
    ids = None if everyone else sorted(inputs.filed_to)
    numbers = select(IdentifierRow.document_id, IdentifierRow.value).where(
        IdentifierRow.kind.in_(("encounter", "account"))
    )
    for doc_id, value in _rows(session, numbers, IdentifierRow.document_id, ids):
        if doc_id in inputs.filed_to:
            inputs.numbers[doc_id].append(value)
    links = select(EncounterLink)
    wanted_links = None if everyone else sorted(set(inputs.filed_to) | extra_docs)
    found = _rows(session, links, EncounterLink.document_id, wanted_links)
    if not everyone:
        visits = sorted(e.visit_number for es in inputs.encounters.values() for e in es)
        found += _rows(session, links, EncounterLink.visit_number, visits)
    inputs.links = {link.document_id: link for (link,) in found}
    enc_ids = None if everyone else [e.id for es in inputs.encounters.values() for e in es]
    for (row,) in _rows(session, select(Deficiency), Deficiency.encounter_id, enc_ids):
        inputs.rows[row.encounter_id].append(row)
    return inputs


def _facts(row: Encounter) -> EncounterFacts:
    return EncounterFacts(
        id=row.id,
        visit_number=row.visit_number,
        mrn=row.patient_mrn,
        patient_class=row.patient_class,
        admit_at=row.admit_at,
        discharge_at=row.discharge_at,
        attending_id=row.attending_id,
        surgeon_id=row.surgeon_id,
        procedure_start=row.procedure_start,
        procedure_end=row.procedure_end,
        status=row.status,
    )


def _relink(
    session: Session, inputs: _Inputs, report: AnalysisReport, now: datetime, actor: Actor
) -> None:
    """Link every filed document of these patients; forget links of documents gone."""
    stale = [doc_id for doc_id in inputs.links if doc_id not in inputs.filed_to]
    if stale:
        drop_links(session, stale, now, actor=actor)
        for doc_id in stale:
            del inputs.links[doc_id]
        report.links_changed += len(stale)
    for mrn, docs in inputs.documents.items():
        encounters = inputs.encounters.get(mrn, [])
        own = {e.visit_number for e in encounters if e.status == "active"}
        for doc in docs:
            link = inputs.links.get(doc.id)
            if (
                link is not None
                and link.manual
                and (link.visit_number in own or link.visit_number is None)
            ):
                continue
            facts = LinkFacts(doc.id, tuple(inputs.numbers.get(doc.id, ())), doc.service_date)
            visit, why = link_document(facts, encounters)
            if link is not None and link.visit_number == visit and link.why == why:
                continue
            inputs.links[doc.id] = write_link(session, link, doc.id, visit, why, now, actor=actor)
            report.links_changed += 1


def _reconcile(
    session: Session,
    encounters: list[EncounterFacts],
    requirements: list[Requirement],
    inputs: _Inputs,
    settings: CompletenessSettings,
    report: AnalysisReport,
    now: datetime,
) -> None:
    by_encounter = {e.id: e for e in encounters}
    wanted = {(r.encounter_id, r.rule) for r in requirements}
    for req in requirements:
        rows = [
            row
            for row in inputs.rows[req.encounter_id]
            if row.rule == req.rule and row.kind == MISSING_DOCUMENT
        ]
        _settle(session, req, rows, by_encounter[req.encounter_id], inputs, settings, report, now)
    for encounter in encounters:
        for row in inputs.rows[encounter.id]:
            if row.status != OPEN:
                continue
            gone = row.kind == MISSING_DOCUMENT and (encounter.id, row.rule) not in wanted
            if gone or encounter.status != "active":
                why = (
                    "encounter cancelled" if encounter.status != "active" else "no longer required"
                )
                _close(row, WAIVED, now, reason=why)
                report.withdrawn += 1


def _settle(
    session: Session,
    req: Requirement,
    rows: list[Deficiency],
    encounter: EncounterFacts,
    inputs: _Inputs,
    settings: CompletenessSettings,
    report: AnalysisReport,
    now: datetime,
) -> None:
    """Bring the stored deficiencies of one requirement in line with the analysis."""
    open_row = next((row for row in rows if row.status == OPEN), None)
    if req.satisfied_by is not None:
        if open_row is not None:
            _close(open_row, AUTO_CLOSED, now, document_id=req.satisfied_by)
            _history(session, req.satisfied_by, "deficiency auto-closed", open_row, now)
            report.auto_closed += 1
        return
    if req.suggested is not None:
        report.suggested += 1
    if open_row is not None:
        open_row.suggested_document_id = req.suggested
        open_row.assigned_to = req.assigned_to
        open_row.due_at, open_row.delinquent_at = req.due_at, req.delinquent_at
        return
    if any(row.status == WAIVED and row.closed_by != actor_name(SYSTEM) for row in rows):
        return
    if any(
        row.status == COMPLETED and inputs.filed_to.get(row.document_id or -1) == encounter.mrn
        for row in rows
    ):
        return
    closed = [row for row in rows if row.status in (AUTO_CLOSED, COMPLETED)]
    if closed:
        row = closed[-1]
        former = row.document_id
        row.status, row.open_key, row.closed_at, row.closed_by = OPEN, req.key, None, None
        row.document_id, row.suggested_document_id = None, req.suggested
        row.reason = f"reopened: document {former} no longer satisfies it"
        if former is not None:
            _history(session, former, "deficiency reopened", row, now)
        report.reopened += 1
        return
    row = Deficiency(
        encounter_id=req.encounter_id,
        kind=MISSING_DOCUMENT,
        doc_type=req.doc_type,
        rule=req.rule,
        rule_version=settings.version,
        assigned_to=req.assigned_to,
        status=OPEN,
        opened_at=now,
        due_at=req.due_at,
        delinquent_at=req.delinquent_at,
        suggested_document_id=req.suggested,
        open_key=req.key,
    )
    session.add(row)
    inputs.rows[req.encounter_id].append(row)
    report.opened += 1


def _close(
    row: Deficiency,
    status: str,
    now: datetime,
    *,
    document_id: int | None = None,
    reason: str | None = None,
    actor: Actor = SYSTEM,
) -> None:
    row.status, row.open_key, row.closed_at, row.closed_by = status, None, now, actor_name(actor)
    if document_id is not None:
        row.document_id = document_id
    row.suggested_document_id = None
    if reason is not None:
        row.reason = reason


def _history(session: Session, document_id: int, kind: str, row: Deficiency, now: datetime) -> None:
    session.flush()
    detail = {"deficiency": row.id, "rule": row.rule, "doc_type": row.doc_type}
    session.add(
        Event(document_id=document_id, at=now, actor=SYSTEM, kind=kind, detail=dump_detail(detail))
    )
