"""HL7 v2 ADT messages → patient records and merges.

Only this module imports ``hl7``. A file holds one or more messages; a message starts at an
``MSH`` segment (a blank line also ends one) and segments are separated by CR, LF or CRLF.
Batch envelopes (FHS/BHS/BTS/FTS) are ignored. A message's number in the import report is
the line of its MSH segment, counting every segment separator as a line break.

- A01/A04/A08/A28/A31: add or update the patient of PID.
- A40: PID-3 holds the surviving MRN, MRG-1 the prior one; the prior is folded into it.
- Any other message type or event is well-formed but irrelevant: skipped, not an error.

PID-3: the first repetition whose CX.5 (identifier type) is ``MR``. PID-5: XPN family^given.
PID-7: ``YYYYMMDD[HHMM]``. PID-8: administrative sex (A, ambiguous, → O; N → U).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import hl7

from records.patient_records import (
    BadRecord,
    Item,
    Merge,
    PatientRecord,
    RecordError,
    Skipped,
    Upsert,
    clean_mrn,
    make_record,
    parse_hl7_date,
)

UPSERT_EVENTS = frozenset({"A01", "A04", "A08", "A28", "A31"})
MERGE_EVENT = "A40"
_BATCH = ("FHS", "BHS", "BTS", "FTS")
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}")
_SEX = {"A": "O", "N": "U"}


def looks_like_hl7(text: str) -> bool:
    """Whether a file's text starts like an HL7 v2 message or batch."""
    return text[:3] in ("MSH", *_BATCH) and len(text) > 8 and not text[3].isalnum()


def read_messages(text: str) -> Iterator[Item]:
    """Every message of an HL7 v2 file, in order, as upserts, merges or errors."""
    for line_no, segments in _split(text):
        yield _read_message(line_no, segments)


def _split(text: str) -> Iterator[tuple[int, list[str]]]:
    current: list[str] = []
    start = 0
    for line_no, segment in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        segment = segment.strip()
        if segment[:3] in _BATCH:
            continue
        if current and (not segment or segment.startswith("MSH")):
            yield start, current
            current = []
        if segment:
            if not current:
                start = line_no
            current.append(segment)
    if current:
        yield start, current


def _read_message(line_no: int, segments: list[str]) -> Item:
    if not segments[0].startswith("MSH") or len(segments[0]) < 8:
        return BadRecord(line_no, "segment outside a message (no MSH before it)")
    separator = segments[0][3]
    for offset, segment in enumerate(segments):
        if not _SEGMENT_ID.fullmatch(segment[:3]) or segment[3:4] not in ("", separator):
            return BadRecord(line_no + offset, "unparsable segment")
    try:
        message = hl7.parse("\r".join(segments))
    except (hl7.HL7Exception, ValueError, IndexError) as exc:
        return BadRecord(line_no, f"unparsable message ({type(exc).__name__})")
    kind, event = _get(message, "MSH", 9, 1, 1), _get(message, "MSH", 9, 1, 2)
    if kind != "ADT" or event not in UPSERT_EVENTS | {MERGE_EVENT}:
        return Skipped(line_no)
    try:
        record = _patient(message)
        if event != MERGE_EVENT:
            return Upsert(line_no, record)
        prior = clean_mrn(_get(message, "MRG", 1, 1, 1))
    except RecordError as exc:
        return BadRecord(line_no, str(exc))
    if prior == record.mrn:
        return BadRecord(line_no, "A40 merges an MRN into itself")
    return Merge(line_no, record, prior)


def _patient(message: hl7.Message) -> PatientRecord:
    if not _has(message, "PID"):
        raise RecordError("message has no PID segment")
    mrn = clean_mrn(_mr_identifier(message))
    sex = _get(message, "PID", 8, 1, 1).upper()
    return make_record(
        mrn,
        _get(message, "PID", 5, 1, 1),
        _get(message, "PID", 5, 1, 2),
        parse_hl7_date(_get(message, "PID", 7, 1, 1)),
        _SEX.get(sex, sex),
    )


def _mr_identifier(message: hl7.Message) -> str | None:
    for rep in range(1, 100):
        value = _component(message, "PID", 3, rep, 1)
        if value is None:
            return None
        if _get(message, "PID", 3, rep, 5).strip().upper() == "MR":
            return value
    return None


def _has(message: hl7.Message, segment: str) -> bool:
    try:
        message.segment(segment)
    except KeyError:
        return False
    return True


def _get(message: hl7.Message, segment: str, field: int, rep: int, component: int) -> str:
    """A component of the first ``segment``, unescaped; empty when absent."""
    return _component(message, segment, field, rep, component) or ""


def _component(
    message: hl7.Message, segment: str, field: int, rep: int, component: int
) -> str | None:
    try:
        return str(message.extract_field(segment, 1, field, rep, component))
    except (KeyError, IndexError):
        return None
