"""Patient matching: when a document may be filed, and why it goes to review otherwise.

All patients are synthetic.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.identifying.identifiers import (
    Identifiers,
    IdentifierSettings,
    PersonName,
    extract_identifiers,
)
from scanner.matching.decision import (
    REVIEW_REASONS,
    MatchSettings,
    RegisteredPatient,
    blocking_query,
    decide,
)
from scanner.reading.pagetext import PageText

D = dt.date
S = MatchSettings()

DOE = RegisteredPatient("00482913", "Doe", "Jane", D(1962, 3, 14), "F")
ROE = RegisteredPatient("00991234", "Roe", "Richard", D(1975, 7, 4), "M")
TWIN_ANNA = RegisteredPatient("00550001", "Smith", "Anna", D(2001, 5, 19), "F")
TWIN_EMMA = RegisteredPatient("00550002", "Smith", "Emma", D(2001, 5, 19), "F")
TWIN_JOHN = RegisteredPatient("00550003", "Nguyen", "John", D(1999, 9, 29), "M")
TWIN_JOAN = RegisteredPatient("00550004", "Nguyen", "Joan", D(1999, 9, 29), "F")
GARCIA_1 = RegisteredPatient("00660001", "Garcia", "Maria", D(1980, 1, 22), "F")
GARCIA_2 = RegisteredPatient("00660002", "Garcia", "Maria", D(1980, 1, 22), "F")
HARTLEY = RegisteredPatient("00770001", "Hartley", "William", D(1955, 11, 23), "M")
OBRIEN = RegisteredPatient("00880001", "O'Brien", "Sean", D(1990, 2, 28), "M")
SMITH_JONES = RegisteredPatient("00880002", "Smith-Jones", "Mary", D(1970, 6, 30), "F")
PATEL = RegisteredPatient("00440001", "Patel", "Priya", D(1985, 4, 7), None)
NO_DOB = RegisteredPatient("00330001", "Okafor", "Chidi", None, None)
REGISTRY = (
    DOE, ROE, TWIN_ANNA, TWIN_EMMA, TWIN_JOHN, TWIN_JOAN, GARCIA_1, GARCIA_2, HARTLEY, OBRIEN,
    SMITH_JONES, PATEL, NO_DOB,
)  # fmt: skip


def N(last: str, first: str, middle: str | None = None) -> PersonName:
    return PersonName(last, first, middle)


def ids(
    mrns: tuple[str, ...] = (),
    names: tuple[PersonName, ...] = (),
    dobs: tuple[dt.date, ...] = (),
    sexes: tuple[str, ...] = (),
    **other: tuple[str, ...],
) -> Identifiers:
    return Identifiers(mrns=mrns, names=names, dobs=dobs, sexes=sexes, **other)  # type: ignore[arg-type]


FILE_CASES = [
    ("mrn+dob", ids(mrns=("00482913",), dobs=(DOE.dob,)), DOE),  # type: ignore[arg-type]
    ("mrn+name", ids(mrns=("00482913",), names=(N("Doe", "Jane"),)), DOE),
    ("name+dob", ids(names=(N("Doe", "Jane"),), dobs=(D(1962, 3, 14),)), DOE),
    ("all agree", ids(("00482913",), (N("DOE", "JANE", "A"),), (D(1962, 3, 14),), ("F",)), DOE),
    ("mrn without leading zeros", ids(mrns=("482913",), dobs=(D(1962, 3, 14),)), DOE),
    ("nickname Bill", ids(names=(N("Hartley", "Bill"),), dobs=(D(1955, 11, 23),)), HARTLEY),
    ("nickname Will + mrn", ids(mrns=("00770001",), names=(N("Hartley", "Will"),)), HARTLEY),
    ("ocr'd surname", ids(names=(N("Hartlev", "William"),), dobs=(D(1955, 11, 23),)), HARTLEY),
    ("apostrophe", ids(names=(N("O'Brien", "Sean"),), dobs=(D(1990, 2, 28),)), OBRIEN),
    ("apostrophe lost", ids(names=(N("O Brien", "Sean"),), dobs=(D(1990, 2, 28),)), OBRIEN),
    ("apostrophe run in", ids(names=(N("Obrien", "Sean"),), dobs=(D(1990, 2, 28),)), OBRIEN),
    ("hyphenated", ids(names=(N("Smith-Jones", "Mary"),), dobs=(D(1970, 6, 30),)), SMITH_JONES),
    ("hyphen dropped", ids(names=(N("Smith Jones", "Mary"),), dobs=(D(1970, 6, 30),)), SMITH_JONES),
    ("twin by first name", ids(names=(N("Smith", "Anna"),), dobs=(D(2001, 5, 19),)), TWIN_ANNA),
    ("other twin", ids(names=(N("Smith", "Emma"),), dobs=(D(2001, 5, 19),)), TWIN_EMMA),
    ("twin by mrn", ids(mrns=("00550002",), dobs=(D(2001, 5, 19),)), TWIN_EMMA),
    ("namesake by mrn", ids(("00660002",), (N("Garcia", "Maria"),), (D(1980, 1, 22),)), GARCIA_2),
    (
        "swap is harmless with mrn+name",
        ids(("00440001",), (N("Patel", "Priya"),), (D(1985, 7, 4),)),
        PATEL,
    ),  # fmt: skip
    ("record without dob", ids(mrns=("00330001",), names=(N("Okafor", "Chidi"),)), NO_DOB),
    (
        "accession decoy",
        ids(mrns=("00482913",), dobs=(D(1962, 3, 14),), accession_numbers=("00991234",)),
        DOE,
    ),  # fmt: skip
    (
        "account decoy",
        ids(mrns=("00482913",), dobs=(D(1962, 3, 14),), account_numbers=("00660001",)),
        DOE,
    ),  # fmt: skip
    (
        "unlabelled decoy",
        ids(mrns=("00482913",), dobs=(D(1962, 3, 14),), unlabelled_numbers=("00991234",)),
        DOE,
    ),  # fmt: skip
    ("record sex unknown", ids(("00440001",), (N("Patel", "Priya"),), sexes=("F",)), PATEL),
]


@pytest.mark.parametrize(
    ("identifiers", "patient"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES]
)
def test_files(identifiers: Identifiers, patient: RegisteredPatient) -> None:
    decision = decide(identifiers, REGISTRY, S)
    assert (decision.action, decision.mrn, decision.reason) == ("file", patient.mrn, None)
    assert decision.candidates[0].mrn == patient.mrn


REVIEW_CASES = [
    ("name only", ids(names=(N("Doe", "Jane"),)), "name only"),
    ("name only, nickname", ids(names=(N("Hartley", "Bill"),)), "name only"),
    ("mrn only", ids(mrns=("00482913",)), "single identifier"),
    ("dob only", ids(dobs=(D(1962, 3, 14),)), "single identifier"),
    ("mrn + swapped dob", ids(mrns=("00440001",), dobs=(D(1985, 7, 4),)), "single identifier"),
    ("name + swapped dob", ids(names=(N("Patel", "Priya"),), dobs=(D(1985, 7, 4),)), "name only"),
    ("last name + dob", ids(names=(N("Doe", "J"),), dobs=(D(1962, 3, 14),)), "single identifier"),
    ("mrn of A, dob of B", ids(mrns=("00482913",), dobs=(ROE.dob,)), "identifier conflict"),  # type: ignore[arg-type]
    (
        "mrn of A, name of B",
        ids(mrns=("00482913",), names=(N("Roe", "Richard"),)),
        "identifier conflict",
    ),  # fmt: skip
    (
        "mrn of A, other first name",
        ids(("00482913",), (N("Doe", "John"),), (D(1962, 3, 14),)),
        "identifier conflict",
    ),  # fmt: skip
    (
        "mrn of A, other dob",
        ids(("00482913",), (N("Doe", "Jane"),), (D(1962, 3, 15),)),
        "identifier conflict",
    ),  # fmt: skip
    (
        "unknown mrn, name+dob of A",
        ids(("00000077",), (N("Doe", "Jane"),), (D(1962, 3, 14),)),
        "identifier conflict",
    ),  # fmt: skip
    (
        "sex differs",
        ids(mrns=("00482913",), dobs=(D(1962, 3, 14),), sexes=("M",)),
        "identifier conflict",
    ),  # fmt: skip
    (
        "two dobs",
        ids(("00482913",), (N("Doe", "Jane"),), (D(1962, 3, 14), D(1980, 1, 22))),
        "identifier conflict",
    ),  # fmt: skip
    (
        "two names",
        ids(("00482913",), (N("Doe", "Jane"), N("Roe", "Richard"))),
        "identifier conflict",
    ),
    (
        "two patients' mrns",
        ids(mrns=("00482913", "00991234"), dobs=(D(1962, 3, 14),)),
        "multiple patients on document",
    ),  # fmt: skip
    (
        "twins' mrns",
        ids(mrns=("00550001", "00550002"), dobs=(D(2001, 5, 19),)),
        "multiple patients on document",
    ),  # fmt: skip
    (
        "namesakes",
        ids(names=(N("Garcia", "Maria"),), dobs=(D(1980, 1, 22),)),
        "ambiguous candidates",
    ),  # fmt: skip
    (
        "namesakes, all caps",
        ids(names=(N("GARCIA", "MARIA"),), dobs=(D(1980, 1, 22),)),
        "ambiguous candidates",
    ),  # fmt: skip
    (
        "twins by initial",
        ids(names=(N("Smith", "A"),), dobs=(D(2001, 5, 19),)),
        "ambiguous candidates",
    ),  # fmt: skip
    ("twins Jon", ids(names=(N("Nguyen", "Jon"),), dobs=(D(1999, 9, 29),)), "ambiguous candidates"),
    ("nobody", ids(names=(N("Zyxwv", "Quorra"),), dobs=(D(1901, 1, 1),)), "unknown patient"),
    # bench: a stranger who shares a surname or a birth date is not a conflict with them
    (
        "unknown mrn, a registered surname",
        ids(("00000077",), (N("Doe", "Mary"),), (D(1901, 1, 1),)),
        "unknown patient",
    ),  # fmt: skip
    (
        "unknown mrn, a registered dob",
        ids(("00000077",), (N("Zyxwv", "Quorra"),), (D(1962, 3, 14),)),
        "unknown patient",
    ),  # fmt: skip
    ("name of A, dob of B", ids(names=(N("Doe", "Jane"),), dobs=(ROE.dob,)), "unknown patient"),  # type: ignore[arg-type]
    # bench: namesakes with nothing but the name are a name-only page first
    ("namesakes, name only", ids(names=(N("Garcia", "Maria"),)), "name only"),
    ("unknown mrn", ids(mrns=("00000077",), dobs=(D(1901, 1, 1),)), "unknown patient"),
    ("no identifiers", ids(), "no identifiers"),
    (
        "only numbers",
        ids(accession_numbers=("00482913",), unlabelled_numbers=("00991234",)),
        "no identifiers",
    ),  # fmt: skip
]


@pytest.mark.parametrize(
    ("identifiers", "reason"), [c[1:] for c in REVIEW_CASES], ids=[c[0] for c in REVIEW_CASES]
)
def test_reviews(identifiers: Identifiers, reason: str) -> None:
    decision = decide(identifiers, REGISTRY, S)
    assert (decision.action, decision.mrn, decision.reason) == ("review", None, reason)
    assert reason in REVIEW_REASONS


GOOD = ids(("00482913",), (N("Doe", "Jane"),), (D(1962, 3, 14),))


def test_good_baseline_files() -> None:
    assert decide(GOOD, REGISTRY, S).action == "file"


def test_low_ocr_confidence_goes_to_review_with_candidates() -> None:
    decision = decide(GOOD, REGISTRY, S, ocr_confidence=40.0)
    assert (decision.action, decision.reason) == ("review", "low ocr confidence")
    assert decision.candidates[0].mrn == DOE.mrn
    assert decide(GOOD, REGISTRY, S, ocr_confidence=90.0).action == "file"


def test_no_text() -> None:
    decision = decide(GOOD, REGISTRY, S, has_text=False)
    assert (decision.action, decision.reason, decision.candidates) == ("review", "no text", ())


def test_no_candidates_from_store() -> None:
    assert decide(GOOD, [], S).reason == "unknown patient"


def test_duplicate_candidate_rows_do_not_make_ambiguity() -> None:
    assert decide(GOOD, [DOE, DOE, ROE], S).mrn == DOE.mrn


def test_irrelevant_candidates_are_dropped() -> None:
    decision = decide(GOOD, REGISTRY, S)
    assert [c.mrn for c in decision.candidates] == [DOE.mrn]


@pytest.mark.parametrize(
    ("identifiers", "reason"),
    [
        (ids(mrns=("00482913",), dobs=(D(1962, 3, 14),)), "mrn exact"),
        (ids(mrns=("00482913",), dobs=(D(1962, 3, 14),)), "dob exact"),
        (ids(mrns=("00440001",), dobs=(D(1985, 7, 4),)), "dob day/month swapped"),
        (
            ids(names=(N("Hartley", "Bill"),), dobs=(D(1955, 11, 23),)),
            "first name nickname Bill=William",
        ),  # fmt: skip
        (ids(names=(N("Hartlev", "William"),)), "last name similar (0.94)"),
        (ids(names=(N("Doe", "Jayne"),)), "first name similar (0.95)"),
        (ids(names=(N("Smith-Jones", "Mary"),)), "last name exact"),
        (ids(names=(N("Jones", "Mary"),)), "last name matches one part of a double name"),
        (ids(mrns=("00482913",), sexes=("F",)), "sex agrees"),
        (ids(mrns=("00482913",), dobs=(D(1962, 3, 15),)), "dob differs"),
        (ids(names=(N("Jane", "Doe"),), dobs=(D(1962, 3, 14),)), "name order reversed"),
    ],
)
def test_reasons_explain_the_best_candidate(identifiers: Identifiers, reason: str) -> None:
    decision = decide(identifiers, REGISTRY, S)
    assert reason in decision.candidates[0].reasons


def test_phonetic_first_name() -> None:
    record = RegisteredPatient("00120001", "Kowalski", "Katherine", D(1961, 8, 17), "F")
    page = ids(names=(N("Kowalski", "Catherine"),), dobs=(D(1961, 8, 17),))
    decision = decide(page, [record], S)
    assert decision.action == "file"
    assert any(
        r.startswith("first name") and "differs" not in r for r in decision.candidates[0].reasons
    )


def test_candidates_capped_and_ranked() -> None:
    namesakes = [
        RegisteredPatient(f"0066{i:04d}", "Garcia", "Maria", D(1980, 1, 22), "F") for i in range(9)
    ]
    page = ids(mrns=("00660003",), names=(N("Garcia", "Maria"),), dobs=(D(1980, 1, 22),))
    decision = decide(page, namesakes, MatchSettings(max_candidates=3))
    assert decision.mrn == "00660003"
    assert len(decision.candidates) == 3
    scores = [c.score for c in decision.candidates]
    assert scores == sorted(scores, reverse=True)


def test_stricter_threshold_sends_to_review() -> None:
    page = ids(mrns=("00482913",), dobs=(D(1962, 3, 14),))
    assert decide(page, REGISTRY, MatchSettings(auto_file_threshold=40)).reason == "low match score"


def test_settings_reject_unknown_keys() -> None:
    with pytest.raises(ValueError, match="treshold"):
        MatchSettings.model_validate({"treshold": 3})


def test_blocking_query() -> None:
    page = ids(
        mrns=("00482913", "00482913"),
        names=(N("Smith-Jones", "Mary"), N("O'Brien", "Sean")),
        dobs=(D(1985, 4, 7), D(1962, 3, 14)),
    )
    query = blocking_query(page)
    assert query.mrns == ("00482913",)
    assert query.dobs == (D(1985, 4, 7), D(1985, 7, 4), D(1962, 3, 14))
    assert query.last_names == ("Smith-Jones", "Smith", "Jones", "O'Brien")


def test_end_to_end_from_text() -> None:
    text = (
        "ST. MARY HOSPITAL  LAB\n"
        "Patient: DOE, JANE  MRN: 0048-2913  DOB: 03/14/1962\n"
        "Accession: 00991234"
    )
    page_ids = extract_identifiers([PageText(1, text)], IdentifierSettings())
    assert decide(page_ids, REGISTRY, S).mrn == DOE.mrn


@pytest.mark.parametrize(
    ("text", "action", "reason"),
    [
        # bench: an unlabelled header name that is someone else's was not read (misfile)
        ("ROE, RICHARD\nMRN: 00482913   DOB: 03/14/1962   Sex: F", "review", "identifier conflict"),
        ("DOE, JANE A\nMRN: 00482913   DOB: 03/14/1962   Sex: F", "file", None),
        ("DOE, JANE A\nDOB: 03/14/1962   Sex: F", "file", None),
        # a sticker's name with the MRN only
        ("Doe, Jane\nMRN: 00482913   Sex: F", "file", None),
        # bench doc216: a table whose name cell carries the border is still read
        (
            "| Patient Name   | MRN        | DOB        |\n"
            "| Roe, Richard   | 00482913   | 03/14/1962 |",
            "review",
            "identifier conflict",
        ),
        # OCR's semicolon for the comma of a header name that is someone else's
        ("Roe; Richard\nMRN: 00482913   DOB: 03/14/1962", "review", "identifier conflict"),
    ],
)
def test_end_to_end_header_name_line(text: str, action: str, reason: str | None) -> None:
    page_ids = extract_identifiers([PageText(1, f"PROGRESS NOTE\n{text}")], IdentifierSettings())
    decision = decide(page_ids, REGISTRY, S)
    assert (decision.action, decision.reason) == (action, reason)


# --- properties --------------------------------------------------------------------------

POOL = (DOE, ROE, TWIN_ANNA, TWIN_EMMA, GARCIA_1, GARCIA_2)


@st.composite
def mixed_identifiers(draw: st.DrawFn) -> Identifiers:
    """Identifiers whose values are drawn from several patients at once."""
    picks = st.lists(st.sampled_from(POOL), max_size=3)
    mrns = tuple(p.mrn for p in draw(picks))
    names = tuple(N(p.last_name, p.first_name) for p in draw(picks))
    dobs = tuple(p.dob for p in draw(picks) if p.dob is not None)
    return Identifiers(mrns=mrns, names=names, dobs=dobs)


@settings(max_examples=300, deadline=None)
@given(mixed_identifiers())
def test_filed_patient_is_singled_out_by_every_identifier(page: Identifiers) -> None:
    decision = decide(page, POOL, S)
    if decision.action == "review":
        assert decision.mrn is None and decision.reason in REVIEW_REASONS
        return
    chosen = next(p for p in POOL if p.mrn == decision.mrn)
    assert all(m == chosen.mrn for m in page.mrns)
    assert all(d == chosen.dob for d in page.dobs)
    assert all((n.last, n.first) == (chosen.last_name, chosen.first_name) for n in page.names)
    evidence = bool(page.mrns) + bool(page.dobs) + bool(page.names)
    assert evidence >= 2
    if not page.mrns:
        assert chosen not in (GARCIA_1, GARCIA_2)  # namesakes need an MRN


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(POOL), min_size=1, max_size=3))
def test_names_alone_never_file(people: list[RegisteredPatient]) -> None:
    page = Identifiers(names=tuple(N(p.last_name, p.first_name) for p in people))
    assert decide(page, POOL, S).action == "review"


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_random_text_end_to_end_never_raises(text: str) -> None:
    page_ids = extract_identifiers([PageText(1, text)], IdentifierSettings())
    decision = decide(page_ids, REGISTRY, S)
    assert decision.action in ("file", "review")


def test_a_twins_exact_name_next_to_a_nickname_is_two_patients() -> None:
    born = D(1980, 1, 2)
    mary = RegisteredPatient("00990001", "Smith", "Mary", born, "F")
    maria = RegisteredPatient("00990002", "Smith", "Maria", born, "F")
    page = ids(mrns=(mary.mrn,), names=(N("Smith", "Mary"), N("Smith", "Maria")), dobs=(born,))
    decision = decide(page, [mary, maria], S)
    assert (decision.action, decision.reason) == ("review", "multiple patients on document")
    # The name of the MRN holder alone, nickname-alike twin registered or not, still files.
    alone = ids(mrns=(mary.mrn,), names=(N("Smith", "Mary"),), dobs=(born,))
    assert decide(alone, [mary, maria], S).mrn == mary.mrn


def test_a_namesake_with_no_birth_date_on_record_is_ambiguous() -> None:
    born = D(1991, 8, 3)
    twin = RegisteredPatient("00330002", "Okafor", "Chidi", born, "M")
    page = ids(names=(N("Okafor", "Chidi"),), dobs=(born,))
    decision = decide(page, [twin, NO_DOB], S)
    assert (decision.action, decision.reason) == ("review", "ambiguous candidates")
    # An MRN on the page tells them apart.
    assert (
        decide(ids(mrns=(twin.mrn,), names=page.names, dobs=page.dobs), [twin, NO_DOB], S).mrn
        == twin.mrn
    )
