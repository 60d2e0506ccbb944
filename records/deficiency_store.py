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

from sqlalchemy import delete, insert, select, update
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
from records.models import Deficiency, Document, Encounter, EncounterLink, IdentifierRow
from records.store import Store

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
        writes = _Writes(now, actor)
        _relink(inputs, writes, report)
        for mrn, encounters in inputs.encounters.items():
            requirements = analyze_patient(encounters, inputs.document_facts(mrn), settings, now)
            report.encounters += len(encounters)
            report.requirements += len(requirements)
            _reconcile(encounters, requirements, inputs, writes, settings, report)
        writes.apply(s, inputs)
        report.seconds = round(time.perf_counter() - started, 3)
        changed = report.opened + report.reopened + report.auto_closed + report.withdrawn
        if mrns is None or changed or report.links_changed:
            # The nightly run always leaves its entry; a filing's run only when it changed
            # something (most filings touch no requirement).
            audit(s, actor, "deficiencies analyzed", detail=report.to_json())
    return report


@dataclass(frozen=True)
class _Doc:
    id: int
    doc_type: str | None
    service_date: date | None


@dataclass
class _Link:
    visit_number: str | None
    why: str
    manual: bool


_MUTABLE = (
    "status",
    "open_key",
    "closed_at",
    "closed_by",
    "document_id",
    "suggested_document_id",
    "reason",
    "assigned_to",
    "due_at",
    "delinquent_at",
)


class _Row:
    """A deficiency as analysis sees it: plain values, changes noted for one bulk write."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)
        self.dirty = False

    id: int | None
    encounter_id: int
    kind: str
    rule: str
    status: str
    open_key: str | None
    closed_at: datetime | None
    closed_by: str | None
    document_id: int | None
    suggested_document_id: int | None
    reason: str | None
    assigned_to: str | None
    due_at: datetime | None
    delinquent_at: datetime | None

    def set(self, **values: Any) -> None:
        for key, value in values.items():
            if getattr(self, key) != value:
                setattr(self, key, value)
                self.dirty = True


class _Writes:
    """What one analysis run changes, written in a few bulk statements at the end."""

    def __init__(self, now: datetime, actor: Actor) -> None:
        self.now, self.actor = now, actor
        self.links: dict[int, _Link | None] = {}
        self.new_rows: list[dict[str, Any]] = []
        # action -> document id -> (its patient, what happened to it)
        self.history: dict[str, dict[int, tuple[str | None, dict[str, Any]]]] = defaultdict(dict)

    def event(
        self, document_id: int, kind: str, detail: dict[str, Any], mrn: str | None = None
    ) -> None:
        self.history[kind][document_id] = (mrn, detail)

    def record_history(self, session: Session) -> None:
        """One trail entry per action and up to 200 documents.

        Each document's history shows it, without one chained entry per document on a run
        over 10,000 charts.
        """
        for kind, docs in self.history.items():
            ids = sorted(docs)
            for chunk in _chunks(ids, 200):
                audit(
                    session,
                    self.actor,
                    kind,
                    mrns=[m for m in (docs[d][0] for d in chunk) if m],
                    document_ids=chunk,
                    detail={"documents": {str(d): docs[d][1] for d in chunk}},
                )

    def apply(self, session: Session, inputs: _Inputs) -> None:
        gone = [doc_id for doc_id, link in self.links.items() if link is None]
        for chunk in _chunks(gone):
            session.execute(delete(EncounterLink).where(EncounterLink.document_id.in_(chunk)))
        known: list[dict[str, Any]] = []
        fresh: list[dict[str, Any]] = []
        for doc_id, link in self.links.items():
            if link is None:
                continue
            row = {"document_id": doc_id, "at": self.now, **asdict(link)}
            (known if doc_id in inputs.stored_links else fresh).append(row)
        if known:
            session.execute(update(EncounterLink), known)
        if fresh:
            session.execute(insert(EncounterLink), fresh)
        changed = [
            {"id": row.id, **{key: getattr(row, key) for key in _MUTABLE}}
            for rows in inputs.rows.values()
            for row in rows
            if row.dirty and row.id is not None
        ]
        if changed:
            session.execute(update(Deficiency), changed)
        if self.new_rows:
            session.execute(insert(Deficiency), self.new_rows)
        self.record_history(session)


class _Inputs:
    """Everything one analysis run reads, loaded in a few queries."""

    def __init__(self) -> None:
        self.encounters: dict[str, list[EncounterFacts]] = defaultdict(list)
        self.documents: dict[str, list[_Doc]] = defaultdict(list)
        self.numbers: dict[int, list[str]] = defaultdict(list)
        self.links: dict[int, _Link] = {}
        self.stored_links: set[int] = set()
        self.rows: dict[int, list[_Row]] = defaultdict(list)
        self.filed_to: dict[int, str] = {}

    def document_facts(self, mrn: str) -> list[DocumentFacts]:
        facts = []
        for doc in self.documents.get(mrn, []):
            link = self.links.get(doc.id)
            visit = link.visit_number if link is not None else None
            facts.append(DocumentFacts(doc.id, doc.doc_type, doc.service_date, visit))
        return facts


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


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
    columns = select(
        Encounter.id,
        Encounter.visit_number,
        Encounter.patient_mrn,
        Encounter.patient_class,
        Encounter.admit_at,
        Encounter.discharge_at,
        Encounter.attending_id,
        Encounter.surgeon_id,
        Encounter.procedure_start,
        Encounter.procedure_end,
        Encounter.status,
    )
    for values in _rows(session, columns, Encounter.patient_mrn, wanted_mrns):
        facts = EncounterFacts(*values)
        inputs.encounters[facts.mrn].append(facts)
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
    links = select(
        EncounterLink.document_id,
        EncounterLink.visit_number,
        EncounterLink.why,
        EncounterLink.manual,
    )
    wanted_links = None if everyone else sorted(set(inputs.filed_to) | extra_docs)
    found = _rows(session, links, EncounterLink.document_id, wanted_links)
    if not everyone:
        visits = sorted(e.visit_number for es in inputs.encounters.values() for e in es)
        found += _rows(session, links, EncounterLink.visit_number, visits)
    inputs.links = {doc_id: _Link(visit, why, manual) for doc_id, visit, why, manual in found}
    inputs.stored_links = set(inputs.links)
    enc_ids = None if everyone else [e.id for es in inputs.encounters.values() for e in es]
    fields = ("id", "encounter_id", "kind", "rule", *_MUTABLE)
    query = select(*(getattr(Deficiency, name) for name in fields))
    for values in _rows(session, query, Deficiency.encounter_id, enc_ids):
        row = _Row(**dict(zip(fields, values, strict=True)))
        inputs.rows[row.encounter_id].append(row)
    return inputs


def _relink(inputs: _Inputs, writes: _Writes, report: AnalysisReport) -> None:
    """Link every filed document of these patients; forget links of documents gone."""
    for doc_id in [doc_id for doc_id in inputs.links if doc_id not in inputs.filed_to]:
        former = inputs.links.pop(doc_id)
        writes.links[doc_id] = None
        writes.event(doc_id, "encounter unlinked", {"visit_number": former.visit_number})
        report.links_changed += 1
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
            inputs.links[doc.id] = writes.links[doc.id] = _Link(visit, why, False)
            writes.event(doc.id, "encounter linked", {"visit_number": visit, "why": why}, mrn)
            report.links_changed += 1


def _reconcile(
    encounters: list[EncounterFacts],
    requirements: list[Requirement],
    inputs: _Inputs,
    writes: _Writes,
    settings: CompletenessSettings,
    report: AnalysisReport,
) -> None:
    by_encounter = {e.id: e for e in encounters}
    wanted = {(r.encounter_id, r.rule) for r in requirements}
    for req in requirements:
        rows = [
            row
            for row in inputs.rows[req.encounter_id]
            if row.rule == req.rule and row.kind == MISSING_DOCUMENT
        ]
        _settle(req, rows, by_encounter[req.encounter_id], inputs, writes, settings, report)
    for encounter in encounters:
        for row in inputs.rows[encounter.id]:
            if row.status != OPEN:
                continue
            gone = row.kind == MISSING_DOCUMENT and (encounter.id, row.rule) not in wanted
            if gone or encounter.status != "active":
                why = (
                    "encounter cancelled" if encounter.status != "active" else "no longer required"
                )
                _close(row, WAIVED, writes, reason=why)
                report.withdrawn += 1


def _settle(
    req: Requirement,
    rows: list[_Row],
    encounter: EncounterFacts,
    inputs: _Inputs,
    writes: _Writes,
    settings: CompletenessSettings,
    report: AnalysisReport,
) -> None:
    """Bring the stored deficiencies of one requirement in line with the analysis."""
    open_row = next((row for row in rows if row.status == OPEN), None)
    if req.satisfied_by is not None:
        if open_row is not None:
            _close(open_row, AUTO_CLOSED, writes, document_id=req.satisfied_by)
            _history(
                writes, req.satisfied_by, "deficiency auto-closed", open_row, req, encounter.mrn
            )
            report.auto_closed += 1
        return
    if req.suggested is not None:
        report.suggested += 1
    if open_row is not None:
        open_row.set(
            suggested_document_id=req.suggested,
            assigned_to=req.assigned_to,
            due_at=req.due_at,
            delinquent_at=req.delinquent_at,
        )
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
        row.set(
            status=OPEN,
            open_key=req.key,
            closed_at=None,
            closed_by=None,
            document_id=None,
            suggested_document_id=req.suggested,
            reason=f"reopened: document {former} no longer satisfies it",
        )
        if former is not None:
            _history(writes, former, "deficiency reopened", row, req, encounter.mrn)
        report.reopened += 1
        return
    writes.new_rows.append(
        {
            "encounter_id": req.encounter_id,
            "kind": MISSING_DOCUMENT,
            "doc_type": req.doc_type,
            "rule": req.rule,
            "rule_version": settings.version,
            "assigned_to": req.assigned_to,
            "status": OPEN,
            "opened_at": writes.now,
            "due_at": req.due_at,
            "delinquent_at": req.delinquent_at,
            "suggested_document_id": req.suggested,
            "open_key": req.key,
        }
    )
    report.opened += 1


def _close(
    row: _Row,
    status: str,
    writes: _Writes,
    *,
    document_id: int | None = None,
    reason: str | None = None,
) -> None:
    # Closed by the system whoever ran the analysis: only a person's waiver is final.
    row.set(status=status, open_key=None, closed_at=writes.now, closed_by=actor_name(SYSTEM))
    row.set(suggested_document_id=None)
    if document_id is not None:
        row.set(document_id=document_id)
    if reason is not None:
        row.set(reason=reason)


def _history(
    writes: _Writes, document_id: int, kind: str, row: _Row, req: Requirement, mrn: str
) -> None:
    detail = {"deficiency": row.id, "rule": row.rule, "visit_number": req.visit_number}
    writes.event(document_id, kind, detail, mrn)
