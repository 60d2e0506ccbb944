"""Deficiency analysis: what each discharged encounter of a patient lacks. Pure.

One patient's encounters, filed documents (each with its encounter link) and the rules in;
requirements out, each either satisfied by one document or expected open with perhaps a
suggested document. No database, no clock: the caller reconciles the result with the
stored deficiencies (``records.deficiency_store``).

A document *fits* a requirement when it is linked to that encounter, is of a type the rule
accepts, and its service date lies in the rule's window (by calendar day: a scan carries a
date, rarely a time). A document that fits exactly one requirement of the patient satisfies
it. One that fits several, or that is linked to the encounter but undated or out of window,
or that is patient-level but of an accepted type and dated in the window (or undated), is
only *suggested*: a clerk decides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from records.completeness_rules import CompletenessSettings, DocumentRule

MISSING_DOCUMENT = "missing_document"


@dataclass(frozen=True)
class EncounterFacts:
    """What analysis needs of an encounter."""

    id: int
    visit_number: str
    mrn: str
    patient_class: str
    admit_at: datetime | None
    discharge_at: datetime | None
    attending_id: str | None = None
    surgeon_id: str | None = None
    procedure_start: datetime | None = None
    procedure_end: datetime | None = None
    status: str = "active"

    def times(self) -> dict[str, datetime | None]:
        """The anchors rules are written against (a missing procedure end is its start)."""
        return {
            "admit": self.admit_at,
            "discharge": self.discharge_at,
            "procedure_start": self.procedure_start,
            "procedure_end": self.procedure_end or self.procedure_start,
        }

    def analysable(self, now: datetime) -> bool:
        """Deficiency analysis starts at discharge (a chart is finished after the stay)."""
        return (
            self.status == "active" and self.discharge_at is not None and self.discharge_at <= now
        )


@dataclass(frozen=True)
class DocumentFacts:
    """What analysis needs of a filed document; ``visit_number`` None is patient-level."""

    id: int
    doc_type: str | None
    service_date: date | None
    visit_number: str | None


@dataclass(frozen=True)
class Requirement:
    """A document an encounter must hold under one rule, and where analysis stands on it."""

    encounter_id: int
    visit_number: str
    rule: str
    doc_type: str
    assigned_to: str | None
    due_at: datetime | None
    delinquent_at: datetime
    window: tuple[date, date]
    satisfied_by: int | None = None
    suggested: int | None = None

    @property
    def key(self) -> str:
        """The idempotency key: one open deficiency per encounter, rule and kind."""
        return open_key(self.encounter_id, self.rule, MISSING_DOCUMENT)


def open_key(encounter_id: int, rule: str, kind: str, document_id: int | None = None) -> str:
    """The key that keeps one open deficiency per encounter, rule and kind (and document)."""
    key = f"{encounter_id}:{rule}:{kind}"
    return key if document_id is None else f"{key}:{document_id}"


def responsible(rule: DocumentRule, encounter: EncounterFacts) -> str | None:
    """Who answers for a rule's document: the surgeon falls back to the attending.

    A scan carries no electronic author, so ``author`` is the attending too.
    """
    if rule.responsible == "surgeon" and encounter.surgeon_id:
        return encounter.surgeon_id
    return encounter.attending_id


def delinquent_at(rule: DocumentRule, encounter: EncounterFacts, default_days: int) -> datetime:
    """When a chart still lacking this document becomes delinquent (days after discharge)."""
    assert encounter.discharge_at is not None
    days = rule.delinquent_after_days if rule.delinquent_after_days is not None else default_days
    return encounter.discharge_at + timedelta(days=days)


def requirements_of(
    encounter: EncounterFacts, settings: CompletenessSettings, now: datetime
) -> list[Requirement]:
    """The documents a discharged encounter must hold (before looking at any document)."""
    if not encounter.analysable(now):
        return []
    times = encounter.times()
    found = []
    for rule in settings.rules:
        if encounter.patient_class not in rule.classes:
            continue
        if any(times[anchor] is None for anchor in rule.anchors):
            continue
        if rule.min_stay_hours and not _stay_at_least(encounter, rule.min_stay_hours):
            continue
        start, end, due = rule.window_from.at(times), rule.window_to.at(times), rule.due.at(times)
        assert start is not None and end is not None
        found.append(
            Requirement(
                encounter_id=encounter.id,
                visit_number=encounter.visit_number,
                rule=rule.name,
                doc_type=rule.doc_type,
                assigned_to=responsible(rule, encounter),
                due_at=due,
                delinquent_at=delinquent_at(rule, encounter, settings.delinquent_after_days),
                window=(start.date(), end.date()),
            )
        )
    return found


def _stay_at_least(encounter: EncounterFacts, hours: float) -> bool:
    if encounter.admit_at is None or encounter.discharge_at is None:
        return False
    return encounter.discharge_at - encounter.admit_at >= timedelta(hours=hours)


def analyze_patient(
    encounters: Sequence[EncounterFacts],
    documents: Sequence[DocumentFacts],
    settings: CompletenessSettings,
    now: datetime,
) -> list[Requirement]:
    """Every requirement of a patient's discharged encounters, satisfied or not.

    Args:
        encounters: the patient's encounters (any state; only discharged active ones count).
        documents: the patient's filed documents with their encounter links.
        settings: the completeness rules.
        now: the time of analysis (injected so results are reproducible).

    Returns:
        One requirement per encounter and applicable rule, with ``satisfied_by`` set to the
        document that closes it, else ``suggested`` set to a document a clerk should look at.
    """
    accepts = {rule.name: set(rule.accepts) for rule in settings.rules}
    requirements = [r for e in encounters for r in requirements_of(e, settings, now)]
    fits: dict[int, list[int]] = defaultdict(list)  # document id -> requirement indexes
    near: dict[int, list[int]] = defaultdict(list)  # requirement index -> document ids
    for doc in sorted(documents, key=lambda d: d.id):
        for index, req in enumerate(requirements):
            if doc.doc_type not in accepts[req.rule]:
                continue
            dated_in = doc.service_date is not None and (
                req.window[0] <= doc.service_date <= req.window[1]
            )
            if doc.visit_number == req.visit_number:
                if dated_in:
                    fits[doc.id].append(index)
                else:
                    near[index].append(doc.id)
            elif doc.visit_number is None and (dated_in or doc.service_date is None):
                near[index].append(doc.id)
    satisfied: dict[int, int] = {}
    for doc_id, indexes in fits.items():
        if len(indexes) == 1:
            satisfied.setdefault(indexes[0], doc_id)
        else:
            for index in indexes:
                near[index].append(doc_id)
    result = []
    for index, req in enumerate(requirements):
        if index in satisfied:
            result.append(_with(req, satisfied_by=satisfied[index]))
        else:
            result.append(_with(req, suggested=min(near[index]) if near[index] else None))
    return result


def _with(
    req: Requirement, *, satisfied_by: int | None = None, suggested: int | None = None
) -> Requirement:
    return Requirement(
        encounter_id=req.encounter_id,
        visit_number=req.visit_number,
        rule=req.rule,
        doc_type=req.doc_type,
        assigned_to=req.assigned_to,
        due_at=req.due_at,
        delinquent_at=req.delinquent_at,
        window=req.window,
        satisfied_by=satisfied_by,
        suggested=suggested,
    )


# -- linking documents to encounters ---------------------------------------------------------


@dataclass(frozen=True)
class LinkFacts:
    """What linking needs of a filed document: numbers read on it and its service date."""

    id: int
    numbers: tuple[str, ...]
    service_date: date | None


def link_document(doc: LinkFacts, encounters: Sequence[EncounterFacts]) -> tuple[str | None, str]:
    """The encounter a document belongs to, and why; None is a patient-level document.

    The visit/account number read on the page names the encounter; else the service date
    falling in exactly one stay (admission to discharge day, open while in house) does.
    """
    active = [e for e in encounters if e.status == "active"]
    if not active:
        return None, "no encounter of the patient on file"
    numbers = set(doc.numbers)
    named = sorted({e.visit_number for e in active if e.visit_number in numbers})
    if len(named) == 1:
        return named[0], "visit number on the page"
    if len(named) > 1:
        return None, "visit numbers of several encounters on the page"
    if doc.service_date is None:
        why = "no visit number of the patient on the page, and no service date"
        return None, why
    stays = [e.visit_number for e in active if _in_stay(doc.service_date, e)]
    if len(stays) == 1:
        return stays[0], "service date in the encounter's stay"
    if len(stays) > 1:
        return None, f"service date in {len(stays)} encounters' stays"
    return None, "service date outside every encounter"


def _in_stay(day: date, encounter: EncounterFacts) -> bool:
    if encounter.admit_at is None:
        return False
    if day < encounter.admit_at.date():
        return False
    return encounter.discharge_at is None or day <= encounter.discharge_at.date()
