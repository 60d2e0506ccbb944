"""Property: lines naming other people never change whom a page is filed to.

A page of a registered patient (or of a stranger, or with a conflict) is decided; then any
number of lines naming other registered people by role (guarantor, subscriber, emergency
contact, ordering/attending provider, author, prior MRN, accession/account/encounter
numbers), with registered names, birth dates and numbers, are added between its lines, and
sections under a role heading (``GUARANTOR``, ``EMERGENCY CONTACT``) after it, as a face
sheet prints them. The decision must file to the same patient, or stay in review. (A
heading governs the lines below it, so a section is added after the patient's lines.)
The registry holds twins and namesakes; it has no merged records, so a prior MRN is never
evidence here.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.identifying.identifiers import IdentifierSettings, extract_identifiers
from scanner.matching.decision import MatchSettings, RegisteredPatient, decide
from scanner.reading.pagetext import PageText
from synthetic import generate_patients
from synthetic.patients import SyntheticPatient

PEOPLE = generate_patients(40, 3)
REGISTRY = [RegisteredPatient(p.mrn, p.last_name, p.first_name, p.dob, p.sex) for p in PEOPLE]
IDS = IdentifierSettings()
MATCH = MatchSettings()
TODAY = dt.date(2025, 1, 1)
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

people = st.sampled_from(PEOPLE)
numbers = st.one_of(
    st.sampled_from([p.mrn for p in PEOPLE]), st.from_regex(r"\d{6,10}", fullmatch=True)
)


def us(value: dt.date) -> str:
    return f"{value.month:02d}/{value.day:02d}/{value.year}"


def caps(p: SyntheticPatient) -> str:
    return f"{p.last_name.upper()}, {p.first_name.upper()}"


def full(p: SyntheticPatient) -> str:
    return f"{p.first_name} {p.last_name}"


@st.composite
def role_line(draw: st.DrawFn) -> str:
    """One line naming someone other than the patient, with registered values."""
    p, q = draw(people), draw(people)
    return draw(
        st.sampled_from(
            [
                f"Guarantor: {caps(p)}     Relationship: Spouse     DOB: {us(p.dob)}",
                f"Guarantor Name: {caps(p)}     Guarantor DOB: {us(q.dob)}",
                f"Responsible Party: {full(p)}",
                f"Subscriber: {caps(p)}     Subscriber DOB: {us(p.dob)}",
                f"Insured's Name: {caps(p)}     Insured's DOB: {us(q.dob)}",
                f"Emergency Contact: {full(p)} (Sister)     Phone: (555) 010-1234",
                f"Next of Kin: {caps(p)}",
                f"Ordering Physician: Dr. {full(p)}",
                f"Attending Physician: {caps(p)} MD",
                f"Referring Provider: {full(p)}, DO",
                f"Electronically signed by Dr. {full(p)} on {us(q.dob)}",
                f"Prior MRN: {draw(numbers)}",
                f"Outside MRN: {draw(numbers)}",
                f"Accession #: {draw(numbers)}",
                f"Acct #: {draw(numbers)}",
                f"Encounter #: {draw(numbers)}",
            ]
        )
    )


@st.composite
def role_section(draw: st.DrawFn) -> list[str]:
    """A face sheet's section about someone else: a heading, then Name:/DOB: lines."""
    p = draw(people)
    heading = draw(st.sampled_from(["GUARANTOR", "EMERGENCY CONTACT", "NEXT OF KIN",
                                    "Guarantor Information", "SUBSCRIBER"]))  # fmt: skip
    return [heading, f"Name: {caps(p)}     Relationship: Parent", f"DOB: {us(p.dob)}"]


@st.composite
def patient_page(draw: st.DrawFn) -> list[str]:
    """A patient's label lines: any subset of name, MRN and DOB, maybe another's value."""
    p = draw(people)
    other = draw(people)
    name_of = draw(st.sampled_from([p, p, p, other]))
    dob_of = draw(st.sampled_from([p, p, p, other]))
    mrn = draw(st.sampled_from([p.mrn, p.mrn, p.mrn, draw(numbers)]))
    lines = ["LABORATORY REPORT"]
    style = draw(st.sampled_from(["labelled", "header", "block"]))
    show = draw(st.sets(st.sampled_from(["name", "mrn", "dob"]), min_size=1))
    if style == "header":
        if "name" in show:
            lines.append(caps(name_of))
        lines.append(f"MRN: {mrn}     DOB: {us(dob_of.dob)}")
        return lines
    if style == "block":
        lines.append("PATIENT INFORMATION")
    if "name" in show:
        lines.append(draw(st.sampled_from([f"Patient Name: {caps(name_of)}",
                                           f"Name: {full(name_of)}"])))  # fmt: skip
    if "mrn" in show:
        lines.append(f"MRN: {mrn}")
    if "dob" in show:
        lines.append(f"DOB: {us(dob_of.dob)}     Sex: {p.sex}")
    return lines


def decision_of(lines: list[str]) -> tuple[str, str | None]:
    ids = extract_identifiers([PageText(1, "\n".join(lines))], IDS, today=TODAY)
    decision = decide(ids, REGISTRY, MATCH)
    return decision.action, decision.mrn


@SETTINGS
@given(
    page=patient_page(),
    inserts=st.lists(st.tuples(st.integers(0, 20), role_line()), max_size=6),
    sections=st.lists(role_section(), max_size=3),
)
def test_other_peoples_lines_never_change_the_filing(
    page: list[str], inserts: list[tuple[int, str]], sections: list[list[str]]
) -> None:
    before = decision_of(page)
    lines = list(page)
    for position, line in inserts:
        lines.insert(1 + position % len(lines), line)
    for section in sections:
        lines += section
    after = decision_of(lines)
    if before[0] == "file":
        assert after == before, "\n".join(lines)
    else:
        assert after[0] == "review", "\n".join(lines)
