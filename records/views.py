"""Plain data the record store hands out: no ORM objects leave ``records``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from records.models import Document, Patient


@dataclass(frozen=True)
class PatientView:
    """A patient of the master index."""

    mrn: str
    last_name: str
    first_name: str
    dob: date | None
    sex: str | None
    merged_into: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The patient as JSON-ready values."""
        data = asdict(self)
        data["dob"] = self.dob.isoformat() if self.dob else None
        return data

    @classmethod
    def of(cls, row: Patient) -> PatientView:
        """Copy a patient row."""
        return cls(row.mrn, row.last_name, row.first_name, row.dob, row.sex, row.merged_into)


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

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON object for a document row."""
        data = asdict(self)
        data["received_at"] = self.received_at.isoformat()
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

    @property
    def text(self) -> str:
        """The whole document's text, pages separated by form feeds."""
        return "\f".join(page.text for page in self.pages)

    def to_json(self) -> dict[str, Any]:
        """The document row plus text, pages, identifiers, candidates and history."""
        data = self.summary.to_json()
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
            }
            for p in self.pages
        ]
        data["identifiers"] = [
            {"kind": kind, "value": value, "page": page} for kind, value, page in self.identifiers
        ]
        data["candidates"] = (self.decision or {}).get("candidates", [])
        data["decision"] = self.decision
        data["history"] = [
            {"at": e.at.isoformat(), "actor": e.actor, "kind": e.kind, "detail": e.detail}
            for e in self.events
        ]
        return data


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
