"""The Whoosh schema, its version stamp, and the mapping of a document onto its fields."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from whoosh.fields import DATETIME, ID, STORED, Schema

from chartclerk_files import atomic_path
from index.analysis import FoldedText, file_name_analyzer, name_analyzer, text_analyzer
from index.models import IndexDocument

#: Bump whenever the schema or an analyzer changes: an index stamped with another version is
#: reported as ``needs_rebuild`` and recreated empty, for the store to refill.
#: (Not bumped for ``FoldedText``: its terms and postings are Whoosh ``TEXT``'s, so an index
#: written before it is the same index; its plain fields are upgraded at its next write,
#: :func:`index.analysis.fold_text_fields`, rather than the whole index rebuilt at start.)
SCHEMA_VERSION = 2
VERSION_FILE = "chartclerk-index.json"
ENGINE = "whoosh"

#: Fields a query may name (``mrn:00482913``); anything else in ``word:`` form is an error.
#: ``type`` is another name for ``doc_type``; ``source`` holds the words of the file's name.
QUERY_FIELDS = (
    "text",
    "name",
    "mrn",
    "dob",
    "doc_type",
    "type",
    "status",
    "service",
    "received",
    "source",
    "id",
)
#: Query field names that stand for another field.
FIELD_ALIASES = {"doc_type": ["type"]}
REJECTED = "yes"


def build_schema() -> Schema:
    """Return the index schema (version :data:`SCHEMA_VERSION`)."""
    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        mrn=ID(stored=True),
        name=FoldedText(analyzer=name_analyzer(), phrase=True),
        dob=ID,
        doc_type=ID(stored=True),
        status=ID(stored=True),
        service=DATETIME,
        received=DATETIME,
        effective=DATETIME,
        source_name=STORED,
        # The file's name split into words ("fax_2024-03_ward7.pdf": fax, 2024, 03, ward7, pdf).
        source=FoldedText(analyzer=file_name_analyzer()),
        rejected=ID,
        text=FoldedText(analyzer=text_analyzer(), stored=True),
    )


def _day(value: date) -> datetime:
    return datetime.combine(value, time.min)


def _naive_utc(value: datetime) -> datetime:
    # Whoosh stores naive datetimes; an aware one is turned into UTC first.
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def document_fields(doc: IndexDocument) -> dict[str, Any]:
    """Map a document onto the schema's fields (missing values are left out)."""
    fields: dict[str, Any] = {
        "id": str(doc.id),
        "received": _naive_utc(doc.received_at),
        "effective": _day(doc.effective_date),
        "status": doc.status,
        "source_name": doc.source_name,
        "source": doc.source_name,
        "text": doc.text,
    }
    if doc.rejected:
        fields["rejected"] = REJECTED
    optional: dict[str, Any] = {
        "mrn": doc.patient_mrn,
        "name": doc.patient_name,
        "dob": doc.dob.isoformat() if doc.dob else None,
        "doc_type": doc.doc_type,
        "service": _day(doc.service_date) if doc.service_date else None,
    }
    fields.update({key: value for key, value in optional.items() if value})
    return fields


def day_start(value: date) -> datetime:
    """Return the first instant of a day, as stored in the date fields."""
    return _day(value)


def day_end(value: date) -> datetime:
    """Return the last instant of a day, for inclusive date ranges."""
    return datetime.combine(value, time.max)


def write_version(folder: Path) -> None:
    """Stamp ``folder`` with the current schema version (atomically)."""
    stamp = {"engine": ENGINE, "schema_version": SCHEMA_VERSION}
    with atomic_path(folder / VERSION_FILE) as tmp:
        tmp.write_text(json.dumps(stamp), encoding="utf-8")


def version_matches(folder: Path) -> bool:
    """Return True when ``folder`` carries a readable stamp of the current schema version."""
    stamp: Any = None
    with contextlib.suppress(OSError, ValueError):
        stamp = json.loads((folder / VERSION_FILE).read_text(encoding="utf-8"))
    return (
        isinstance(stamp, dict)
        and stamp.get("engine") == ENGINE
        and stamp.get("schema_version") == SCHEMA_VERSION
    )
