"""Whom a document is about, what it is, and whether it may be filed without a clerk."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from records.patients import find_candidates
from records.store import Store
from scanner.classify import ClassifySettings, classify
from scanner.identifiers import Identifiers, IdentifierSettings, extract_identifiers
from scanner.matching import MatchDecision, MatchSettings, PatientRecord, blocking_query, decide
from scanner.names import PersonName
from scanner.pagetext import PageText


class FilingSettings(BaseModel):
    """Settings of the identify, classify and match stages."""

    model_config = ConfigDict(extra="forbid")

    identifiers: IdentifierSettings = Field(default_factory=IdentifierSettings)
    matching: MatchSettings = Field(default_factory=MatchSettings)
    classify: ClassifySettings = Field(default_factory=ClassifySettings)


@dataclass(frozen=True)
class Filing:
    """The outcome of identify → classify → match for one document."""

    status: str
    patient_mrn: str | None
    review_reason: str | None
    doc_type: str | None
    service_date: date | None
    decision: dict[str, Any] | None
    identifiers: list[tuple[str, str, int | None]] = field(default_factory=list)


def decide_filing(
    pages: Sequence[PageText], store: Store, settings: FilingSettings, today: date
) -> Filing:
    """Identify, classify and match a read document; file it only when it is safe to.

    ``today`` bounds dates of birth (none is in the future) and reads two-digit years.
    """
    identifiers = extract_identifiers(pages, settings.identifiers, today=today)
    kind = classify(pages, settings.classify)
    query = blocking_query(identifiers)
    candidates = [
        PatientRecord(p.mrn, p.last_name, p.first_name, p.dob, p.sex)
        for p in find_candidates(store, query.mrns, query.dobs, query.last_names)
        if p.merged_into is None
    ]
    confidences = [p.confidence for p in pages if p.confidence is not None]
    decision = decide(
        identifiers,
        candidates,
        settings.matching,
        ocr_confidence=min(confidences) if confidences else None,
        has_text=any(p.text.strip() for p in pages),
    )
    reason = decision.reason
    unread = [p.number for p in pages if p.error]
    status = decision.action if decision.action == "file" else "review"
    if unread:
        # A document with unread pages is never filed: the page a clerk cannot see may be
        # someone else's.
        status = "review"
        reason = f"page(s) {', '.join(map(str, unread))} could not be read"
    return Filing(
        status="filed" if status == "file" else "review",
        patient_mrn=decision.mrn if status == "file" else None,
        review_reason=None if status == "file" else reason,
        doc_type=kind.doc_type,
        service_date=identifiers.service_dates[0] if identifiers.service_dates else None,
        decision=_decision_json(decision),
        identifiers=identifier_rows(identifiers),
    )


def _decision_json(decision: MatchDecision) -> dict[str, Any]:
    return {
        "action": decision.action,
        "reason": decision.reason,
        "candidates": [asdict(c) for c in decision.candidates],
    }


def identifier_rows(identifiers: Identifiers) -> list[tuple[str, str, int | None]]:
    """The identifiers as (kind, value, page) rows for the store."""
    rows: list[tuple[str, str, int | None]] = []
    for found in identifiers.found:
        value = found.value
        if isinstance(value, PersonName):
            text = f"{value.last}, {value.first}" + (f" {value.middle}" if value.middle else "")
        elif isinstance(value, date):
            text = value.isoformat()
        else:
            text = str(value)
        rows.append((found.kind, text, found.page))
    return rows
