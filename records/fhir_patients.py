"""FHIR R4 Patient resources (a Bundle, one resource, or ndjson) → patient records.

Only this module imports ``fhir.resources``. Each resource is validated against the R4B
Patient model (R4B's Patient is R4's), then read:

- MRN: the first ``identifier`` whose ``type.coding`` holds one of the configured MRN type
  codes (``MR`` by default; system v2-0203, or no system) and whose ``system`` (or
  ``assigner``) is this facility's when ``feeds.assigning_authorities`` names any; other
  identifiers (SSN, driver's licence, another hospital's MRN, ...) are ignored.
- ``active: false``, or a ``link`` of type ``replaced-by``: the record is kept but marked
  inactive, and no document is filed to it without a clerk.
- name: the ``official`` name, else the first; ``family`` and the first ``given``.
- ``birthDate`` (a partial date such as ``1980`` or ``1980-05`` is rejected).
- ``gender`` male/female/other/unknown → M/F/O/U.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError

from records.patient_records import (
    BadRecord,
    Item,
    RecordError,
    Skipped,
    Upsert,
    make_record,
    parse_iso_date,
)
from records.settings import FeedSettings

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


INACTIVE = "inactive in the patient feed"
REPLACED = "replaced by another patient record"


def read_bundle(document: dict[str, Any], feeds: FeedSettings | None = None) -> Iterator[Item]:
    """The Patient entries of a Bundle; the record number is the entry's (from 1).

    Entries holding other resource types are counted as skipped.
    """
    entries = document.get("entry") or []
    if not isinstance(entries, list):
        yield BadRecord(1, "Bundle.entry is not a list")
        return
    for number, entry in enumerate(entries, start=1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            yield BadRecord(number, "entry has no resource")
        elif resource.get("resourceType") != "Patient":
            yield Skipped(number)
        else:
            yield read_resource(number, resource, feeds)


def read_ndjson(text: str, feeds: FeedSettings | None = None) -> Iterator[Item]:
    """One Patient resource per line; the record number is the line number."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            resource = json.loads(line)
        except json.JSONDecodeError:
            yield BadRecord(number, "line is not valid JSON")
            continue
        if not isinstance(resource, dict) or resource.get("resourceType") != "Patient":
            yield BadRecord(number, "line is not a FHIR Patient resource")
        else:
            yield read_resource(number, resource, feeds)


def read_resource(number: int, resource: dict[str, Any], feeds: FeedSettings | None = None) -> Item:
    """One Patient resource as an upsert, or the reason it cannot be loaded."""
    try:
        patient = Patient.model_validate(resource)
    except ValidationError as exc:
        # Field paths only: pydantic's message would echo the (PHI) input value.
        fields = sorted({".".join(str(p) for p in err["loc"]) for err in exc.errors()})
        return BadRecord(number, f"not a valid FHIR Patient ({', '.join(fields)[:200]})")
    try:
        family, given = _name(patient)
        dob = _birth_date(patient.birthDate)
        # make_record takes male/female/other/unknown as M/F/O/U and rejects the rest.
        record = make_record(
            _mrn(patient, feeds or FeedSettings()), family, given, dob, patient.gender
        )
    except RecordError as exc:
        return BadRecord(number, str(exc))
    return Upsert(number, replace(record, inactive=_inactive(patient)))


def _inactive(patient: Patient) -> str | None:
    if any(link.type == "replaced-by" for link in patient.link or []):
        return REPLACED
    if patient.active is False:
        return INACTIVE
    return None


def _birth_date(value: object) -> date | None:
    # fhir.resources keeps a partial date ("1980", "1980-05") as a str: no use for matching.
    if value is None:
        return None
    if not isinstance(value, date):
        raise RecordError("birthDate is not a full YYYY-MM-DD date")
    return parse_iso_date(value.isoformat())


def _mrn(patient: Patient, feeds: FeedSettings) -> str | None:
    for identifier in patient.identifier or []:
        codings = identifier.type.coding if identifier.type else None
        assigner = identifier.assigner
        authorities = [
            identifier.system,
            assigner.display if assigner else None,
            assigner.identifier.value if assigner and assigner.identifier else None,
        ]
        for coding in codings or []:
            if coding.system in (None, V2_0203) and feeds.is_mrn(coding.code, authorities):
                return identifier.value
    return None


def _name(patient: Patient) -> tuple[str | None, str | None]:
    names: list[HumanName] = list(patient.name or [])
    if not names:
        return None, None
    chosen = next((n for n in names if n.use == "official"), names[0])
    given = chosen.given[0] if chosen.given else None
    return chosen.family, given
