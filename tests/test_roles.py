"""Who is who on the page: the patient's identifiers and everyone else's (synthetic people).

Tables of real-looking role lines (face sheets, orders, letters, fax covers, outside
records), then the matching rules: other roles are never evidence, a prior MRN merged into
the record agrees, and the decision says what it set aside.
"""

from __future__ import annotations

import datetime as dt

import pytest

from scanner.identifying.identifiers import (
    Identifiers,
    IdentifierSettings,
    PersonName,
    extract_identifiers,
)
from scanner.matching.decision import MatchSettings, RegisteredPatient, blocking_query, decide
from scanner.matching.filing import identifier_rows, people_rows
from scanner.matching.lookup import candidate_records
from scanner.reading.pagetext import PageText

TODAY = dt.date(2025, 1, 1)
D = dt.date
N = PersonName
S = IdentifierSettings()


def read(*texts: str) -> Identifiers:
    pages = [PageText(n, text) for n, text in enumerate(texts, start=1)]
    return extract_identifiers(pages, S, today=TODAY)


def roles(ids: Identifiers) -> set[tuple[str, str, object]]:
    return {(f.role, f.kind, f.value) for f in ids.found}


ROLE_LINES = [
    # (case, text, (role, kind, value) that must be read)
    ("guarantor inline", "Guarantor: ROE, RICHARD   Relationship: Spouse   DOB: 07/04/1975",
     {("guarantor", "name", N("Roe", "Richard")), ("guarantor", "dob", D(1975, 7, 4))}),
    ("guarantor labels", "Guarantor Name: ROE, RICHARD     Guarantor DOB: 07/04/1975",
     {("guarantor", "name", N("Roe", "Richard")), ("guarantor", "dob", D(1975, 7, 4))}),
    ("responsible party", "Responsible Party: Richard Roe",
     {("guarantor", "name", N("Roe", "Richard"))}),
    ("subscriber", "Subscriber: ROE, RICHARD     Subscriber DOB: 07/04/1975",
     {("subscriber", "name", N("Roe", "Richard")), ("subscriber", "dob", D(1975, 7, 4))}),
    ("insured's", "Insured's Name: ROE, RICHARD    Insured's DOB: 07/04/1975",
     {("subscriber", "name", N("Roe", "Richard")), ("subscriber", "dob", D(1975, 7, 4))}),
    ("policy holder", "Policy Holder: Richard Roe", {("subscriber", "name", N("Roe", "Richard"))}),
    ("emergency contact", "Emergency Contact: Anna Smith (Sister)   Phone: (555) 010-1234",
     {("emergency_contact", "name", N("Smith", "Anna"))}),
    ("next of kin", "Next of Kin: SMITH, EMMA",
     {("emergency_contact", "name", N("Smith", "Emma"))}),
    ("NOK", "NOK: SMITH, EMMA   Relationship: Daughter",
     {("emergency_contact", "name", N("Smith", "Emma"))}),
    ("ordering physician Dr.", "Ordering Physician: Dr. Anna Smith",
     {("ordering", "name", N("Smith", "Anna"))}),
    ("ordering provider credentials", "Ordering Provider: SMITH, ANNA MD",
     {("ordering", "name", N("Smith", "Anna"))}),
    ("ordering without colon", "Collected: 03/01/2024    Ordering Dr. Helen Abernathy",
     {("ordering", "name", N("Abernathy", "Helen"))}),
    ("attending", "Attending Physician: Mary Johnson, MD",
     {("attending", "name", N("Johnson", "Mary"))}),
    ("referring", "Referred By: Dr. Paulo Ferreira",
     {("referring", "name", N("Ferreira", "Paulo"))}),
    ("author", "Electronically signed by Dr. Grant Whitlock on 03/02/2024",
     {("author", "name", N("Whitlock", "Grant"))}),
    ("signature with credentials", "Helen Abernathy, MD",
     {("provider", "name", N("Abernathy", "Helen"))}),
    ("name label with credentials", "Name: Helen Abernathy, M.D.",
     {("provider", "name", N("Abernathy", "Helen"))}),
    ("nurse practitioner", "Seen by Jordan Lee, NP today",
     {("provider", "name", N("Lee", "Jordan"))}),
    ("prior MRN", "Prior MRN: 00123456", {("prior_mrn", "mrn", "00123456")}),
    ("outside MRN no colon", "Outside MRN 77788899", {("prior_mrn", "mrn", "77788899")}),
    ("previous MRN beside MRN", "MRN: 00482913    Previous MRN: 00123456",
     {("patient", "mrn", "00482913"), ("prior_mrn", "mrn", "00123456")}),
    ("patient DOB after guarantor", "Guarantor: ROE, RICHARD     Patient DOB: 03/14/1962",
     {("guarantor", "name", N("Roe", "Richard")), ("patient", "dob", D(1962, 3, 14))}),
    ("provider line keeps the DOB the patient's", "Attending: Dr. Kim Park   DOB: 03/14/1962",
     {("attending", "name", N("Park", "Kim")), ("patient", "dob", D(1962, 3, 14))}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in ROLE_LINES], ids=[c[0] for c in ROLE_LINES]
)
def test_role_lines(text: str, expected: set[tuple[str, str, object]]) -> None:
    ids = read(text)
    assert expected <= roles(ids)
    others = {v for r, k, v in expected if r != "patient" and k != "mrn"}
    assert not others & {*ids.names, *ids.dobs}, "another person's value taken as the patient's"


FACE_SHEET = """\
REGISTRATION
PATIENT INFORMATION
Patient Name: DOE, JANE A     MRN: 00482913
DOB: 03/14/1962     Sex: F
GUARANTOR
Name: ROE, RICHARD     Relationship: Spouse
DOB: 07/04/1975     Phone: (555) 010-1234
INSURANCE
Plan: CASCADE HMO     Member ID: XK1234567
Subscriber: ROE, RICHARD     Subscriber DOB: 07/04/1975
EMERGENCY CONTACT
Name: SMITH, ANNA     Relationship: Sister
DOB: 05/19/2001
CHIEF COMPLAINT:
Name: the lines below a clinical heading are the patient's again"""


def test_face_sheet_sections_by_heading() -> None:
    ids = read(FACE_SHEET)
    assert ids.mrns == ("00482913",)
    assert ids.names == (N("Doe", "Jane", "A"),)
    assert ids.dobs == (D(1962, 3, 14),)
    assert {("guarantor", "name", N("Roe", "Richard")), ("guarantor", "dob", D(1975, 7, 4)),
            ("subscriber", "dob", D(1975, 7, 4)), ("emergency_contact", "name", N("Smith", "Anna")),
            ("emergency_contact", "dob", D(2001, 5, 19))} <= roles(ids)  # fmt: skip


def test_headings_are_read_through_ocr_specks() -> None:
    text = "PATIENT INFORMATION. . oe\nName: DOE, JANE\n. GUARANTOR .- He\nName: ROE, RICHARD"
    text += "\nEMERGENCY CONTACT — | oe 8\nName: SMITH, ANNA\n_* INSURANCE ae\nPatient ID: 7730021"
    ids = read(text)
    assert ids.names == (N("Doe", "Jane"),)
    assert ids.mrns == ("7730021",)
    assert {("guarantor", "name", N("Roe", "Richard")),
            ("emergency_contact", "name", N("Smith", "Anna"))} <= roles(ids)  # fmt: skip


def test_a_heading_whose_colon_ocr_followed_with_specks_is_still_a_heading() -> None:
    """Bench (seed 2): ``GUARANTOR: .- fee`` put the guarantor's name and DOB on the patient."""
    for heading in ("GUARANTOR: .- fee", "GUARANTOR: a o", "GUARANTOR:"):
        ids = read(f"Patient Name: DOE, JANE\n{heading}\nName: ROE, RICHARD\nDOB: 07/04/1975")
        assert ids.names == (N("Doe", "Jane"),), heading
        assert ids.dobs == (), heading
        assert ("guarantor", "dob", D(1975, 7, 4)) in roles(ids)


@pytest.mark.parametrize(
    "line",
    [
        "Guarantor: Self",  # a value, capitalised: no heading
        "Guarantor: ROE, RICHARD",
        "GUARANTOR: 12345678",  # a number is a value, not a speck
        "Emergency Contact: mom",  # not printed as a heading
    ],
)
def test_a_role_label_with_a_real_value_heads_nothing(line: str) -> None:
    ids = read(f"{line}\nName: DOE, JANE\nDOB: 03/14/1962")
    assert ids.names == (N("Doe", "Jane"),)
    assert ids.dobs == (D(1962, 3, 14),)


def test_a_heading_ends_at_the_page() -> None:
    ids = read("GUARANTOR\nName: ROE, RICHARD", "Name: DOE, JANE\nMRN: 00482913")
    assert ids.names == (N("Doe", "Jane"),)


def test_a_bare_name_over_a_guarantor_dob_is_the_guarantors() -> None:
    ids = read("GUARANTOR\nROE, RICHARD\nDOB: 07/04/1975\nPATIENT\nDOE, JANE\nMRN: 00482913")
    assert ids.names == (N("Doe", "Jane"),)
    assert ("guarantor", "name", N("Roe", "Richard")) in roles(ids)


def test_a_role_line_between_header_name_and_label_does_not_part_them() -> None:
    ids = read("ROE, RICHARD\nGuarantor: DOE, JOHN\nMRN: 00482913   DOB: 03/14/1962")
    assert N("Roe", "Richard") in ids.names  # still read: it contradicts, if it is not hers


def test_sticker_and_label_block_stay_the_patients_under_a_heading() -> None:
    ids = read("EMERGENCY CONTACT\nName: SMITH, ANNA\nPATIENT INFORMATION\nName: DOE, JANE")
    assert ids.names == (N("Doe", "Jane"),)


PROSE = [
    ("your patient", "I saw your patient Jane Roe (date of birth 03/14/1961) today.",
     N("Roe", "Jane"), D(1961, 3, 14)),
    ("your patient, wrapped", "I had the pleasure of seeing your patient Jane\nRoe (date of "
     "birth\nMarch 14, 1961) in the clinic.", N("Roe", "Jane"), D(1961, 3, 14)),
    ("our mutual patient", "Our mutual patient, Mr. Richard Roe, DOB 07/04/1975, returns.",
     N("Roe", "Richard"), D(1975, 7, 4)),
    ("RE line", "Dear Dr. Okonkwo,\nRE: Jane Roe, DOB 03/14/1961", N("Roe", "Jane"),
     D(1961, 3, 14)),
    ("RE comma form", "RE: DOE, JANE     DOB: 03/14/1962", N("Doe", "Jane"), D(1962, 3, 14)),
    ("Regarding", "Regarding: Jane A. Roe", N("Roe", "Jane", "A"), None),
    ("honorific born", "Thank you for referring Mrs. Jane Roe, born March 14, 1961, for care.",
     N("Roe", "Jane"), D(1961, 3, 14)),
    ("salutation", "Dear Ms. Jane Roe,\nYour results are enclosed.", N("Roe", "Jane"), None),
]  # fmt: skip


@pytest.mark.parametrize(("text", "name", "dob"), [c[1:] for c in PROSE], ids=[c[0] for c in PROSE])
def test_prose_subject(text: str, name: PersonName, dob: dt.date | None) -> None:
    ids = read(text)
    assert ids.names == (name,)
    assert ids.dobs == ((dob,) if dob else ())


@pytest.mark.parametrize(
    "text",
    [
        "Dear Dr. Helen Abernathy,",  # the addressee is a provider, not the subject
        "The patient was accompanied by her daughter, Anna Smith.",
        "Mr. Roe was seen today.",  # a surname alone is no name
        "RE: Lab results for the above patient",
        "Recommend Mrs. Smith follow up in two weeks.",  # no birth date: not the subject
        "To: Dr. Chidi Okonkwo     From: Health Information Management",
        # bench (seed 2): a bare "patient" in prose, OCR eating the space before "in"
        "Thank you for asking me to see this patient.in consultation, | accompanied by",
        "Thank you for asking me to see this patient in consultation, as requested.",
    ],
)
def test_prose_that_names_no_patient(text: str) -> None:
    assert read(text).names == ()


def test_providers_are_kept_once_with_their_most_specific_role() -> None:
    ids = read(
        "Collected: 03/01/2024    Ordering: Dr. Helen Abernathy",
        "Electronically signed by Dr. Helen Abernathy on 03/02/2024\nHelen Abernathy, MD",
    )
    assert [(f.role, f.value) for f in ids.providers] == [("ordering", N("Abernathy", "Helen"))]
    rows = people_rows(ids)
    assert ("ordering", "name", "Abernathy, Helen", 1) in rows
    assert all(kind != "name" or role != "patient" for role, kind, _, _ in rows)


# -- matching ----------------------------------------------------------------------------------

M = MatchSettings()
DOE = RegisteredPatient("00482913", "Doe", "Jane", D(1962, 3, 14), "F")
ROE = RegisteredPatient("00991234", "Roe", "Richard", D(1975, 7, 4), "M")
TWIN_ANNA = RegisteredPatient("00550001", "Smith", "Anna", D(2001, 5, 19), "F")
TWIN_EMMA = RegisteredPatient("00550002", "Smith", "Emma", D(2001, 5, 19), "F")
REGISTRY = (DOE, ROE, TWIN_ANNA, TWIN_EMMA)


def test_face_sheet_with_registered_relatives_files_to_the_patient() -> None:
    decision = decide(read(FACE_SHEET), REGISTRY, M)
    assert (decision.action, decision.mrn) == ("file", DOE.mrn)
    assert "guarantor name and dob: not the patient" in decision.set_aside
    assert "emergency contact name and dob: not the patient" in decision.set_aside


def test_twin_as_emergency_contact_files_to_the_other_twin() -> None:
    text = "Name: SMITH, ANNA\nMRN: 00550001\nDOB: 05/19/2001\nEmergency Contact: SMITH, EMMA"
    decision = decide(read(text), REGISTRY, M)
    assert (decision.action, decision.mrn) == ("file", TWIN_ANNA.mrn)


def test_ordering_physician_namesake_of_a_patient_is_no_evidence() -> None:
    text = "Name: Jane Doe\nDOB: 03/14/1962\nOrdering Physician: Dr. Richard Roe"
    decision = decide(read(text), REGISTRY, M)
    assert (decision.action, decision.mrn) == ("file", DOE.mrn)
    assert "ordering provider name: not the patient" in decision.set_aside


def test_conflict_among_the_patients_own_identifiers_still_goes_to_review() -> None:
    text = "Patient Name: ROE, RICHARD\nMRN: 00482913\nDOB: 03/14/1962\nGuarantor: DOE, JANE"
    decision = decide(read(text), REGISTRY, M)
    assert decision.action == "review"


def test_fax_cover_naming_someone_else_than_its_pages_is_a_conflict() -> None:
    cover = "FACSIMILE TRANSMITTAL\nTo: Dr. Chidi Okonkwo\nRE: ROE, RICHARD     DOB: 07/04/1975"
    page = "Patient Name: DOE, JANE\nMRN: 00482913\nDOB: 03/14/1962"
    assert decide(read(cover, page), REGISTRY, M).action == "review"
    same = "FACSIMILE TRANSMITTAL\nRE: DOE, JANE     DOB: 03/14/1962"
    assert decide(read(same, page), REGISTRY, M).mrn == DOE.mrn


MERGED = RegisteredPatient("00482913", "Doe", "Jane", D(1962, 3, 14), "F", ("00123456",))


def test_prior_mrn_merged_into_the_record_counts_as_agreement() -> None:
    ids = read("Name: Jane Doe\nPrior MRN: 00123456")
    assert blocking_query(ids).mrns == ("00123456",)
    decision = decide(ids, (MERGED, ROE), M)
    assert (decision.action, decision.mrn) == ("file", DOE.mrn)
    assert "prior mrn merged into this record" in decision.candidates[0].reasons
    # Without the merge it is someone else's number: name alone, review.
    assert decide(ids, REGISTRY, M).action == "review"


def test_prior_mrn_that_is_another_patients_current_mrn_is_no_evidence() -> None:
    ids = read("Name: Jane Doe\nDate of Birth: 03/14/1962\nOutside MRN: 00991234")
    decision = decide(ids, REGISTRY, M)
    assert (decision.action, decision.mrn) == ("file", DOE.mrn)
    assert any(why.startswith("prior mrn") for why in decision.set_aside)
    assert ("prior_mrn", "00991234", 1) in identifier_rows(ids)


def test_a_merged_mrn_as_the_patients_own_mrn_agrees_with_the_survivor() -> None:
    ids = read("MRN: 00123456\nDOB: 03/14/1962")
    decision = decide(ids, (MERGED,), M)
    assert (decision.action, decision.mrn) == ("file", DOE.mrn)


def test_candidate_records_give_survivors_their_merged_mrns() -> None:
    from records.views import PatientView

    found = [
        PatientView("00000001", "Doe", "Jane", D(1962, 3, 14), "F", "00000002"),
        PatientView("00000002", "Doe", "Jane", D(1962, 3, 14), "F", "00000003"),
        PatientView("00000003", "Doe", "Jane", D(1962, 3, 14), "F", None),
    ]
    assert [(r.mrn, set(r.prior_mrns)) for r in candidate_records(found)] == [
        ("00000003", {"00000001", "00000002"})
    ]


def test_provider_roles_agree_between_scanner_and_records() -> None:
    from records.views import PROVIDER_ROLES as STORED
    from scanner.identifying.roles import PROVIDER_ROLES

    assert STORED == PROVIDER_ROLES
