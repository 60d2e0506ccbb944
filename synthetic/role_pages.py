"""Pages that name other people besides the patient: face sheets, letters, fax covers, orders.

The other people are registered patients too (twins and namesakes among them), so a page
read without roles would look like two patients, or like the wrong one.
"""

from __future__ import annotations

import random
import textwrap

from synthetic import names
from synthetic.clinical_text import WRAP_CHARS, Line
from synthetic.patients import SyntheticPatient
from synthetic.spec import DocumentSpec, ShownIdentifiers

_RELATIONS = ("Spouse", "Parent", "Child", "Sibling", "Other")
_PLANS = ("BLUE RIDGE PPO", "CASCADE HMO", "MERIDIAN MEDICARE ADV", "SUMMIT COMMERCIAL")


def _date(value: object, fmt: str) -> str:
    from synthetic.content import format_date  # a cycle otherwise: content uses this module

    return format_date(value, fmt)  # type: ignore[arg-type]


def _caps(p: SyntheticPatient) -> str:
    return f"{p.last_name.upper()}, {p.first_name.upper()}"


def _full(p: SyntheticPatient) -> str:
    return f"{p.first_name} {p.last_name}"


def _phone(rng: random.Random) -> str:
    return f"(555) 010-{rng.randrange(10_000):04d}"


def patient_block(spec: DocumentSpec, shown: ShownIdentifiers, heading: bool) -> list[str]:
    """The patient's own label lines: ``Patient Name:``, ``MRN:``, ``DOB:``."""
    lines = ["PATIENT INFORMATION"] if heading else []
    name = f"{shown.last}, {shown.first}".upper() if shown.last else None
    first = [f"Patient Name: {name}" if name else "", f"MRN: {shown.mrn}" if shown.mrn else ""]
    if any(first):
        lines.append("     ".join(x for x in first if x))
    dob = _date(shown.dob, spec.date_format) if shown.dob else None
    second = [f"DOB: {dob}" if dob else "", f"Sex: {shown.sex}" if shown.sex else ""]
    if any(second):
        lines.append("     ".join(x for x in second if x))
    return lines


def face_sheet_lines(spec: DocumentSpec, rng: random.Random) -> list[str]:
    """Guarantor, insurance subscriber and emergency contact, under headings or labels."""
    headings = rng.random() < 0.6
    out: list[str] = []
    for role, person in spec.others:
        dob = _date(person.dob, spec.date_format)
        relation = rng.choice(_RELATIONS)
        if role == "guarantor":
            if headings:
                out += ["GUARANTOR", f"Name: {_caps(person)}     Relationship: {relation}",
                        f"DOB: {dob}     Phone: {_phone(rng)}"]  # fmt: skip
            else:
                out.append(f"Guarantor Name: {_caps(person)}     Guarantor DOB: {dob}")
        elif role == "subscriber":
            if headings:
                out.append("INSURANCE")
            out += [f"Plan: {rng.choice(_PLANS)}     Member ID: XK{rng.randrange(10**7):07d}",
                    f"Subscriber: {_caps(person)}     Subscriber DOB: {dob}"]  # fmt: skip
        elif role == "emergency_contact":
            if headings:
                out += ["EMERGENCY CONTACT",
                        f"Name: {_caps(person)}     Relationship: {relation}",
                        f"Phone: {_phone(rng)}"]  # fmt: skip
            else:
                label = rng.choice(("Emergency Contact:", "Next of Kin:"))
                out.append(f"{label} {_full(person)} ({relation})     Phone: {_phone(rng)}")
    return out


def provider_lines(spec: DocumentSpec, rng: random.Random) -> list[str]:
    """Ordering and attending providers whose names are registered patients' names."""
    out = []
    for role, person in spec.others:
        if role not in ("ordering", "attending"):
            continue
        label = "Ordering Physician:" if role == "ordering" else "Attending Physician:"
        if rng.random() < 0.5:
            out.append(f"{label} Dr. {_full(person)}")
        else:
            out.append(f"{label} {_caps(person)} {rng.choice(('MD', 'DO', 'NP'))}")
    return out


def outside_lines(spec: DocumentSpec, shown: ShownIdentifiers, rng: random.Random) -> list[str]:
    """An outside facility's record: the patient's name and DOB, and its own (prior) MRN."""
    lines = []
    if shown.last:
        lines.append(f"Name: {shown.first} {shown.last}")
    if shown.mrn:
        lines.append(f"MRN: {shown.mrn}")
    if shown.dob:
        lines.append(f"Date of Birth: {_date(shown.dob, spec.date_format)}")
    if spec.prior_mrn:
        label = rng.choice(("Prior MRN:", "Outside MRN:", "Previous MRN:"))
        lines.append(f"{label} {spec.prior_mrn}")
    return lines


def letter_lines(spec: DocumentSpec, shown: ShownIdentifiers, rng: random.Random) -> list[Line]:
    """A referral letter's opening: salutation, RE line and a first sentence naming the patient."""
    doctor = rng.choice(names.CLINICIANS)
    dob = _date(shown.dob, spec.date_format) if shown.dob else None
    name = f"{shown.first} {shown.last}" if shown.last else None
    out = [Line("p", f"Dear {doctor},"), Line("b", "")]
    if spec.letter_style == "re" and name:
        mrn = f", MRN {shown.mrn}" if shown.mrn else ""
        out.append(Line("p", f"RE: {name}{mrn}" + (f", DOB {dob}" if dob else "")))
        sentence = "Thank you for asking me to see this patient in consultation."
    elif spec.letter_style == "your_patient" and name:
        born = f" (date of birth {dob})" if dob else ""
        sentence = f"I had the pleasure of seeing your patient {name}{born} in the clinic today."
    else:
        title = "Mr." if shown.sex == "M" else rng.choice(("Mrs.", "Ms."))
        born = f", born {dob}," if dob else ""
        sentence = f"Thank you for referring {title} {name}{born} for further evaluation."
    out += [Line("p", t) for t in textwrap.wrap(sentence, WRAP_CHARS)]
    others = [p for role, p in spec.others if role == "emergency_contact"]
    if others:
        out.append(Line("p", f"Accompanied today by {_full(others[0])}, who helped with history."))
    return [*out, Line("b", "")]


def cover_lines(spec: DocumentSpec, rng: random.Random) -> tuple[list[str], list[Line]]:
    """A fax cover sheet: to, from, RE (whom it is about) and pages; then a notice."""
    person = spec.cover_for or spec.patient
    assert person is not None
    dob = _date(person.dob, spec.date_format)
    lines = [
        f"To: {rng.choice(names.CLINICIANS)}     Fax: {_phone(rng)}",
        f"From: Health Information Management     Phone: {_phone(rng)}",
        f"RE: {_caps(person)}     DOB: {dob}",
        f"Pages: {spec.pages} (including cover)",
    ]
    notice = (
        "The documents accompanying this transmission contain confidential health "
        "information that is legally privileged. If you have received this in error, "
        "please notify the sender immediately and destroy the documents."
    )
    return lines, [Line("p", t) for t in textwrap.wrap(notice, WRAP_CHARS)]
