"""HL7 v2 ADT messages → patient records, merges and identifier changes.

Only this module imports ``hl7``. A file holds one or more messages; a message starts at an
``MSH`` segment (a blank line also ends one) and segments are separated by CR, LF or CRLF.
Batch envelopes (FHS/BHS/BTS/FTS) are ignored. A message's number in the import report is
the line of its MSH segment, counting every segment separator as a line break.

- A01/A04/A08/A28/A31: add or update the patient of PID. An empty field leaves what the
  index holds; the HL7 null ``""`` clears it (a family name cannot be cleared).
- A40: PID-3 holds the surviving MRN, MRG-1 the prior one; the prior is folded into it.
- A47: PID-3 holds the patient's new MRN, MRG-1 the one it replaces; the patient and its
  documents move to the new MRN.
- A37 (unlink) and the other link/merge events chartclerk does not apply are reported as
  not handled, to be done by hand: silently skipping them would leave the index wrong.
- Any other message type or event is well-formed but irrelevant: skipped, not an error.

PID-3: the first repetition whose CX.5 (identifier type) is one of the configured MRN type
codes and whose CX.4 (assigning authority) is this facility's (``feeds`` in config.yaml).
PID-5: XPN family^given. PID-7: ``YYYYMMDD[HHMM]``. PID-8: administrative sex (A,
ambiguous, → O; N → U).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import hl7

from records.patient_records import (
    BadRecord,
    IdChange,
    Item,
    Merge,
    NotHandled,
    PatientRecord,
    RecordError,
    Skipped,
    Upsert,
    clean_mrn,
    make_record,
    parse_hl7_date,
)
from records.settings import FeedSettings

UPSERT_EVENTS = frozenset({"A01", "A04", "A08", "A28", "A31"})
MERGE_EVENT = "A40"
ID_CHANGE_EVENT = "A47"
# Events that link, unlink, merge or move identities in ways chartclerk does not apply.
NOT_HANDLED_EVENTS = frozenset(
    {"A24", "A37", "A34", "A35", "A36", "A39", "A41", "A42", "A43", "A44", "A45", "A46"}
    | {"A48", "A49", "A50", "A51"}
)
HL7_NULL = '""'
_BATCH = ("FHS", "BHS", "BTS", "FTS")
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{2}")
_SEX = {"A": "O", "N": "U"}


def looks_like_hl7(text: str) -> bool:
    """Whether a file's text starts like an HL7 v2 message or batch."""
    return text[:3] in ("MSH", *_BATCH) and len(text) > 8 and not text[3].isalnum()


def read_messages(text: str, feeds: FeedSettings | None = None) -> Iterator[Item]:
    """Every message of an HL7 v2 file, in order, as upserts, merges or errors."""
    feeds = feeds or FeedSettings()
    for line_no, segments in _split(text):
        yield _read_message(line_no, segments, feeds)


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


def _read_message(line_no: int, segments: list[str], feeds: FeedSettings) -> Item:
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
    if kind == "ADT" and event in NOT_HANDLED_EVENTS:
        return NotHandled(line_no, f"ADT^{event} is not handled; apply it by hand")
    if kind != "ADT" or event not in UPSERT_EVENTS | {MERGE_EVENT, ID_CHANGE_EVENT}:
        return Skipped(line_no)
    try:
        record, keep = _patient(message, feeds)
        if event in UPSERT_EVENTS:
            return Upsert(line_no, record, keep)
        prior = clean_mrn(_prior_identifier(message, feeds))
    except RecordError as exc:
        return BadRecord(line_no, str(exc))
    if prior == record.mrn:
        return BadRecord(line_no, f"{event} changes an MRN into itself")
    if event == MERGE_EVENT:
        return Merge(line_no, record, prior, keep)
    return IdChange(line_no, record, prior, keep)


def _patient(message: hl7.Message, feeds: FeedSettings) -> tuple[PatientRecord, frozenset[str]]:
    """The PID's patient, and the fields it left empty (to keep as the index holds them)."""
    if not _has(message, "PID"):
        raise RecordError("message has no PID segment")
    mrn = _mr_identifier(message, feeds)
    if mrn is None and _component(message, "PID", 3, 1, 1):
        raise RecordError("PID-3 holds no MRN of the configured type codes and authority")
    mrn = clean_mrn(mrn)
    keep: set[str] = set()
    values: dict[str, str | None] = {}
    for name, field, component in (
        ("last_name", 5, 1),
        ("first_name", 5, 2),
        ("dob", 7, 1),
        ("sex", 8, 1),
    ):
        raw = _get(message, "PID", field, 1, component)
        if raw == HL7_NULL:
            values[name] = None
        elif raw.strip():
            values[name] = raw
        else:
            values[name] = None
            keep.add(name)
    if values["last_name"] is None and "last_name" not in keep:
        raise RecordError("PID-5 family name cannot be cleared")
    sex = (values["sex"] or "").upper()
    record = make_record(
        mrn,
        values["last_name"] or "?",
        values["first_name"],
        parse_hl7_date(values["dob"]),
        _SEX.get(sex, sex),
    )
    if "last_name" in keep:
        # Only an update may leave the family name as it is; the loader checks that.
        record = replace(record, last_name="")
    return record, frozenset(keep)


def _mr_identifier(message: hl7.Message, feeds: FeedSettings) -> str | None:
    for rep in range(1, 100):
        value = _component(message, "PID", 3, rep, 1)
        if value is None:
            return None
        if feeds.is_mrn(_get(message, "PID", 3, rep, 5), _authority(message, "PID", rep)):
            return value
    return None


def _prior_identifier(message: hl7.Message, feeds: FeedSettings) -> str | None:
    """MRG-1's MRN: a repetition of an MRN type, or of no type (often so in MRG)."""
    for rep in range(1, 100):
        value = _component(message, "MRG", 1, rep, 1)
        if value is None:
            return None
        code = _get(message, "MRG", 1, rep, 5)
        authorities = _authority(message, "MRG", rep)
        if not code.strip() and (not any(authorities) or feeds.ours(authorities)):
            return value
        if code.strip() and feeds.is_mrn(code, authorities):
            return value
    return None


def _authority(message: hl7.Message, segment: str, rep: int) -> list[str | None]:
    """CX.4 (assigning authority): its namespace id and universal id."""
    field = 3 if segment == "PID" else 1
    return [_subcomponent(message, segment, field, rep, 4, sub) for sub in (1, 2)]


def _subcomponent(
    message: hl7.Message, segment: str, field: int, rep: int, component: int, sub: int
) -> str | None:
    try:
        return str(message.extract_field(segment, 1, field, rep, component, sub)) or None
    except (KeyError, IndexError):
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
