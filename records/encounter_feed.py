"""Encounters read from a feed file (CSV or HL7 v2 ADT), before they touch the database.

Every format turns its input into a stream of :data:`EncounterItem`: an
:class:`EncounterUpsert` (admit, register, transfer, update, discharge), an
:class:`EncounterCancel` (HL7 A11), a :class:`DischargeCancel` (HL7 A13), a
:class:`BadEncounter` or a :class:`SkippedEncounter`. Pure: text in, items out.

CSV header: ``visit_number,mrn,class,admit_at,discharge_at,attending,procedure_start,
procedure_end``; times ISO 8601 (``2026-11-02T08:30`` or ``2026-11-02 08:30``); the
attending is a provider id, optionally followed by ``|`` and the name (``P1001|Hale, Iris``).

Error messages name the field, never its value (values are PHI or close to it).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from records.patient_records import RecordError, clean_mrn

CSV_HEADER = (
    "visit_number",
    "mrn",
    "class",
    "admit_at",
    "discharge_at",
    "attending",
    "procedure_start",
    "procedure_end",
)
# HL7 table 0004 (patient class), and the words a CSV may use instead.
PATIENT_CLASSES = {
    "I": "inpatient",
    "O": "outpatient",
    "E": "emergency",
    "P": "preadmit",
    "R": "recurring",
    "B": "obstetrics",
    "C": "commercial",
    "N": "not_applicable",
    "U": "unknown",
}
_CLASS_WORDS = frozenset(PATIENT_CLASSES.values()) | {"surgery", "observation", "day_surgery"}
_VISIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
_HL7_TS = re.compile(r"(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?")


@dataclass(frozen=True)
class ProviderRecord:
    """A provider as the feed names them."""

    id: str
    name: str


@dataclass(frozen=True)
class EncounterRecord:
    """An encounter as a feed states it; None means "not stated" (keep what is stored)."""

    visit_number: str
    mrn: str
    patient_class: str | None = None
    admit_at: datetime | None = None
    discharge_at: datetime | None = None
    attending: ProviderRecord | None = None
    surgeon: ProviderRecord | None = None
    procedure_start: datetime | None = None
    procedure_end: datetime | None = None


@dataclass(frozen=True)
class EncounterUpsert:
    """Add the encounter, or update the stated fields of the one with this visit number."""

    number: int
    record: EncounterRecord
    event: str = "csv"


@dataclass(frozen=True)
class EncounterCancel:
    """The admission never happened (HL7 A11): the encounter is cancelled."""

    number: int
    visit_number: str


@dataclass(frozen=True)
class DischargeCancel:
    """The discharge was entered in error (HL7 A13): the patient is in house again."""

    number: int
    visit_number: str


@dataclass(frozen=True)
class BadEncounter:
    """A record that was skipped, with its line number and the reason."""

    number: int
    message: str


@dataclass(frozen=True)
class SkippedEncounter:
    """A well-formed record that does not change any encounter."""

    number: int


EncounterItem = (
    EncounterUpsert | EncounterCancel | DischargeCancel | BadEncounter | SkippedEncounter
)


def clean_visit(value: str | None) -> str:
    """A visit (encounter/account) number stripped of whitespace.

    Raises:
        RecordError: missing, or holding characters a visit number cannot have.
    """
    visit = (value or "").strip()
    if not visit:
        raise RecordError("missing visit number")
    if not _VISIT.fullmatch(visit):
        raise RecordError("visit number is not 1-64 letters, digits, '.', '_', '/' or '-'")
    return visit


def clean_class(value: str | None) -> str | None:
    """``inpatient``, ``outpatient``, ... from an HL7 code or a word; None when empty.

    Raises:
        RecordError: an unknown class.
    """
    text = (value or "").strip()
    if not text:
        return None
    if text.upper() in PATIENT_CLASSES:
        return PATIENT_CLASSES[text.upper()]
    word = text.lower().replace(" ", "_").replace("-", "_")
    if word not in _CLASS_WORDS:
        raise RecordError("class is not an HL7 patient class code or a known class word")
    return word


def parse_iso_time(value: str | None, field: str) -> datetime | None:
    """An ISO 8601 date or date-time (naive, or converted to UTC), or None when empty.

    Raises:
        RecordError: not an ISO 8601 date-time.
    """
    text = (value or "").strip()
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError as exc:
        raise RecordError(f"{field} is not an ISO 8601 date-time") from exc
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return stamp


def parse_hl7_time(value: str | None, field: str) -> datetime | None:
    """An HL7 ``YYYYMMDD[HH[MM[SS]]][+ZZZZ]`` timestamp (converted to UTC when zoned).

    Raises:
        RecordError: not an HL7 timestamp.
    """
    text = (value or "").strip()
    if not text:
        return None
    match = _HL7_TS.fullmatch(text)
    if not match:
        raise RecordError(f"{field} is not an HL7 timestamp")
    parts = [int(p) if p else 0 for p in match.groups()[:6]]
    try:
        stamp = datetime(*parts)  # type: ignore[arg-type]
    except ValueError as exc:
        raise RecordError(f"{field} is not a valid date-time") from exc
    if match[7]:
        sign = 1 if match[7][0] == "+" else -1
        offset = timedelta(hours=int(match[7][1:3]), minutes=int(match[7][3:5]))
        stamp -= sign * offset
    return stamp


def provider_of(text: str | None) -> ProviderRecord | None:
    """A CSV provider cell ``ID`` or ``ID|Name``; None when empty."""
    cell = (text or "").strip()
    if not cell:
        return None
    ident, _, name = cell.partition("|")
    ident = ident.strip()
    if not ident or len(ident) > 64:
        raise RecordError("attending id is empty or longer than 64 characters")
    return ProviderRecord(ident, " ".join(name.split())[:200] or ident)


def make_encounter(
    visit: str | None,
    mrn: str | None,
    patient_class: str | None,
    admit_at: datetime | None,
    discharge_at: datetime | None,
    **extra: object,
) -> EncounterRecord:
    """A validated encounter record.

    Raises:
        RecordError: a field is missing or inconsistent (discharge before admission).
    """
    if admit_at and discharge_at and discharge_at < admit_at:
        raise RecordError("discharge_at is before admit_at")
    start, end = extra.get("procedure_start"), extra.get("procedure_end")
    if isinstance(start, datetime) and isinstance(end, datetime) and end < start:
        raise RecordError("procedure_end is before procedure_start")
    return EncounterRecord(
        clean_visit(visit),
        clean_mrn(mrn),
        clean_class(patient_class),
        admit_at,
        discharge_at,
        **extra,  # type: ignore[arg-type]
    )


def looks_like_csv(text: str) -> bool:
    """Whether a file's first line is the encounter CSV header."""
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    return tuple(cell.strip().lower() for cell in first.split(",")) == CSV_HEADER


def read_csv(text: str) -> Iterator[EncounterItem]:
    """Every data row of an encounter CSV; the record number is the row's line in the file."""
    body = text.lstrip()
    offset = text[: len(text) - len(body)].count("\n")
    reader = csv.reader(io.StringIO(body, newline=""))
    next(reader, None)
    for row in reader:
        number = reader.line_num + offset
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(CSV_HEADER):
            yield BadEncounter(number, f"expected {len(CSV_HEADER)} columns, found {len(row)}")
            continue
        visit, mrn, kind, admit, discharge, attending, start, end = (c.strip() for c in row)
        try:
            record = make_encounter(
                visit,
                mrn,
                kind,
                parse_iso_time(admit, "admit_at"),
                parse_iso_time(discharge, "discharge_at"),
                attending=provider_of(attending),
                procedure_start=parse_iso_time(start, "procedure_start"),
                procedure_end=parse_iso_time(end, "procedure_end"),
            )
        except RecordError as exc:
            yield BadEncounter(number, str(exc))
            continue
        yield EncounterUpsert(number, record)
