"""HL7 v2 ADT messages → encounters (visits), with their providers.

Shares :mod:`records.hl7_adt`'s splitting and field access (the one user of ``hl7``'s
parser). Events:

- A01 admit, A04 register, A02 transfer, A06/A07 class change, A08 update: add or update
  the encounter of PV1-19 with what the message states (an empty field keeps what is stored).
- A03 discharge: as above, with PV1-45 (or EVN-2, else MSH-7) as the discharge time.
- A11 cancel admit: the encounter is cancelled. A13 cancel discharge: its discharge is undone.
- Anything else is well-formed but irrelevant: skipped.

PV1-2 patient class (table 0004), PV1-7 attending (XCN id^family^given), PV1-19 visit number
(PID-18 account number when PV1-19 is empty), PV1-44/45 admit/discharge time. A PR1 segment
gives the procedure: PR1-5 its start, PR1-7 its minutes, PR1-11 the surgeon.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import hl7

from records.encounter_feed import (
    BadEncounter,
    DischargeCancel,
    EncounterCancel,
    EncounterItem,
    EncounterRecord,
    EncounterUpsert,
    ProviderRecord,
    SkippedEncounter,
    make_encounter,
    parse_hl7_time,
)
from records.hl7_adt import _component, _get, _has, _split, looks_like_hl7
from records.patient_records import RecordError, clean_mrn

UPDATE_EVENTS = frozenset({"A01", "A02", "A03", "A04", "A06", "A07", "A08"})
__all__ = ["looks_like_hl7", "read_messages"]


def read_messages(text: str) -> Iterator[EncounterItem]:
    """Every message of an HL7 v2 file, in order, as encounter items."""
    for line_no, segments in _split(text):
        yield _read_message(line_no, segments)


def _read_message(line_no: int, segments: list[str]) -> EncounterItem:
    if not segments[0].startswith("MSH") or len(segments[0]) < 8:
        return BadEncounter(line_no, "segment outside a message (no MSH before it)")
    try:
        message = hl7.parse("\r".join(segments))
    except (hl7.HL7Exception, ValueError, IndexError) as exc:
        return BadEncounter(line_no, f"unparsable message ({type(exc).__name__})")
    kind, event = _get(message, "MSH", 9, 1, 1), _get(message, "MSH", 9, 1, 2)
    if kind != "ADT" or event not in UPDATE_EVENTS | {"A11", "A13"}:
        return SkippedEncounter(line_no)
    try:
        if not _has(message, "PV1"):
            raise RecordError("message has no PV1 segment")
        visit = _get(message, "PV1", 19, 1, 1) or _get(message, "PID", 18, 1, 1)
        if event in ("A11", "A13"):
            visit_number = make_encounter(visit, _mrn(message), None, None, None).visit_number
            cancel = EncounterCancel if event == "A11" else DischargeCancel
            return cancel(line_no, visit_number)
        return EncounterUpsert(line_no, _encounter(message, visit, event), event)
    except RecordError as exc:
        return BadEncounter(line_no, str(exc))


def _encounter(message: hl7.Message, visit: str, event: str) -> EncounterRecord:
    discharge = parse_hl7_time(_get(message, "PV1", 45, 1, 1), "PV1-45")
    if event == "A03" and discharge is None:
        discharge = parse_hl7_time(
            _get(message, "EVN", 2, 1, 1) or _get(message, "MSH", 7, 1, 1), "EVN-2"
        )
    start = surgeon = end = None
    if _has(message, "PR1"):
        start = parse_hl7_time(_get(message, "PR1", 5, 1, 1), "PR1-5")
        minutes = _get(message, "PR1", 7, 1, 1).strip()
        if start is not None and minutes.isdigit():
            end = start + timedelta(minutes=int(minutes))
        surgeon = _provider(message, "PR1", 11)
    return make_encounter(
        visit,
        _mrn(message),
        _get(message, "PV1", 2, 1, 1),
        parse_hl7_time(_get(message, "PV1", 44, 1, 1), "PV1-44"),
        discharge,
        attending=_provider(message, "PV1", 7),
        surgeon=surgeon,
        procedure_start=start,
        procedure_end=end,
    )


def _mrn(message: hl7.Message) -> str:
    if not _has(message, "PID"):
        raise RecordError("message has no PID segment")
    first = None
    for rep in range(1, 100):
        value = _component(message, "PID", 3, rep, 1)
        if value is None:
            break
        first = first or value
        if _get(message, "PID", 3, rep, 5).strip().upper() == "MR":
            return clean_mrn(value)
    return clean_mrn(first)


def _provider(message: hl7.Message, segment: str, field: int) -> ProviderRecord | None:
    ident = _get(message, segment, field, 1, 1).strip()
    if not ident:
        return None
    if len(ident) > 64:
        raise RecordError(f"{segment}-{field} provider id is longer than 64 characters")
    family = _get(message, segment, field, 1, 2).strip()
    given = _get(message, segment, field, 1, 3).strip()
    name = ", ".join(part for part in (family, given) if part)
    return ProviderRecord(ident, name[:200] or ident)
