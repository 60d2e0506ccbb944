"""Plain data the record store hands out: no ORM objects leave ``records``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from records.models import Document, Patient

# Roles of the people a document names whose names are its providers (``document_people``).
PROVIDER_ROLES = frozenset({"ordering", "attending", "referring", "author", "provider"})


@dataclass(frozen=True)
class PatientView:
    """A patient of the master index."""

    mrn: str
    last_name: str
    first_name: str
    dob: date | None
    sex: str | None
    merged_into: str | None = None
    inactive: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The patient as JSON-ready values."""
        data = asdict(self)
        data["dob"] = self.dob.isoformat() if self.dob else None
        return data

    @classmethod
    def of(cls, row: Patient) -> PatientView:
        """Copy a patient row."""
        return cls(
            row.mrn, row.last_name, row.first_name, row.dob, row.sex, row.merged_into, row.inactive
        )


@dataclass(frozen=True)
class DocumentSummary:
    """One document row, in the shape of DESIGN.md's JSON contract."""

    id: int
    source_name: str
    sha256: str | None
    status: str
    patient_mrn: str | None
    doc_type: str | None
    pages: int
    review_reason: str | None
    received_at: datetime
    doc_type_loinc: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON object for a document row (times with their UTC offset)."""
        data = asdict(self)
        # The row's shape is a contract (DESIGN.md); the LOINC code is shown with the detail.
        del data["doc_type_loinc"]
        data["received_at"] = utc_iso(self.received_at)
        return data

    @classmethod
    def of(cls, row: Document) -> DocumentSummary:
        """Copy a document row."""
        return cls(
            row.id,
            row.source_name,
            row.sha256,
            row.status,
            row.patient_mrn,
            row.doc_type,
            row.pages,
            row.review_reason,
            row.received_at,
            row.doc_type_loinc,
        )


@dataclass(frozen=True)
class PageView:
    """The stored text of one page."""

    number: int
    text: str
    confidence: float | None
    source: str
    rotation: int
    error: str | None
    # The tesseract passes the page cost: {"kind", "seconds", "why"} each, in order.
    passes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class EventView:
    """One entry in a document's history."""

    at: datetime
    actor: str
    kind: str
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class DocumentDetail:
    """A document with its pages, identifiers, decision and history."""

    summary: DocumentSummary
    pages: list[PageView]
    identifiers: list[tuple[str, str, int | None]]
    decision: dict[str, Any] | None
    events: list[EventView] = field(default_factory=list)
    service_date: date | None = None
    ocr_confidence: float | None = None
    # Other people the document names: (role, kind, value, page).
    people: list[tuple[str, str, str, int | None]] = field(default_factory=list)
    # The encounter it belongs to and why: {visit_number (null: patient-level), why, manual}.
    encounter: dict[str, Any] | None = None

    @property
    def text(self) -> str:
        """The whole document's text, pages separated by form feeds."""
        return "\f".join(page.text for page in self.pages)

    def to_json(self) -> dict[str, Any]:
        """The document row plus text, pages, identifiers, candidates and history."""
        data = self.summary.to_json()
        data["doc_type_loinc"] = self.summary.doc_type_loinc
        data["text"] = self.text
        data["ocr_confidence"] = self.ocr_confidence
        data["service_date"] = self.service_date.isoformat() if self.service_date else None
        data["page_texts"] = [
            {
                "number": p.number,
                "text": p.text,
                "confidence": p.confidence,
                "source": p.source,
                "rotation": p.rotation,
                "error": p.error,
                "passes": p.passes,
            }
            for p in self.pages
        ]
        data["identifiers"] = [
            {"kind": kind, "value": value, "page": page} for kind, value, page in self.identifiers
        ]
        data["candidates"] = (self.decision or {}).get("candidates", [])
        data["decision"] = self.decision
        data["set_aside"] = (self.decision or {}).get("set_aside", [])
        data["providers"] = [
            {"role": role, "name": value, "page": page}
            for role, kind, value, page in self.people
            if role in PROVIDER_ROLES and kind == "name"
        ]
        data["people"] = [
            {"role": role, "kind": kind, "value": value, "page": page}
            for role, kind, value, page in self.people
        ]
        data["encounter"] = self.encounter
        data["history"] = [
            {"at": utc_iso(e.at), "actor": e.actor, "kind": e.kind, "detail": e.detail}
            for e in self.events
        ]
        return data


def utc_iso(moment: datetime) -> str:
    """ISO 8601 with the UTC offset: the store keeps naive UTC times."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def dump_detail(detail: dict[str, Any] | None) -> str | None:
    """Serialise an event detail for the audit trail."""
    return None if detail is None else json.dumps(detail, default=str, sort_keys=True)


def load_detail(text: str | None) -> dict[str, Any] | None:
    """Read back an event detail; a detail in free text comes back as ``{"note": text}``."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return {"note": text}
    return data if isinstance(data, dict) else {"note": text}
