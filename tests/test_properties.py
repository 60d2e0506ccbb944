"""Properties of identifier extraction and the filing decision, on generated input.

The filing rule under test (DESIGN.md, invariant 4, and scanner.matching.decision): a document is
filed without a clerk only when exactly one patient among the candidates is consistent with
every identifier on the page. Twins, namesakes, duplicate rows and MRNs that differ only in
leading zeros are generated around the page's patient to try to break it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.identifying.identifiers import Identifiers, IdentifierSettings, extract_identifiers
from scanner.identifying.names import PersonName
from scanner.matching.agreement import compare_name, mrn_key
from scanner.matching.decision import MatchSettings, RegisteredPatient, decide
from scanner.reading.pagetext import PageText, Word

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MATCH = MatchSettings()

LAST = ["Smith", "Nguyen", "Garcia", "O'Brien", "Smith-Jones", "Okafor", "Hartley", "Patel", "Lee"]
FIRST = ["Anna", "Emma", "John", "Joan", "Maria", "Sean", "Mary", "Priya", "Chidi", "William"]
LABELS = [
    "MRN:", "MR#", "Medical Record No.", "Patient:", "Name:", "DOB:", "Date of Birth:", "Sex:",
    "Accession:", "Acct #", "Encounter:", "Service Date:", "Patient ID", "Chart No", "Age:",
    "Room", "Physician:", ",", ":", "/", "-", "\n", "\t", " ",
]  # fmt: skip
FRAGMENTS = [
    "00482913", "482913", "12345678901", "03/14/1962", "14/03/62", "1962-03-14", "2/30/1990",
    "Doe, Jane", "JANE DOE", "O'BRIEN, SEAN P", "M", "F", "Female", "00/00/0000", "99999999",
    "\u00e9", "\x00", "\u202e", "\ufeff", "l0O", "ﬁ",
]  # fmt: skip


# -- extract_identifiers -----------------------------------------------------------------------

soup = st.lists(
    st.one_of(st.sampled_from(LABELS), st.sampled_from(FRAGMENTS), st.text(max_size=12)),
    max_size=40,
).map(" ".join)


@st.composite
def pages(draw: st.DrawFn) -> list[PageText]:
    """Pages of label soup, some with word boxes (as OCR gives), some without (text layer)."""
    result = []
    for number in range(1, draw(st.integers(1, 3)) + 1):
        text = draw(soup)
        words: tuple[Word, ...] = ()
        if draw(st.booleans()):
            coords = st.floats(-50, 3000, allow_nan=False)
            words = tuple(
                Word(
                    text=w,
                    left=draw(coords),
                    top=draw(coords),
                    width=draw(st.floats(0, 400, allow_nan=False)),
                    height=draw(st.floats(0, 60, allow_nan=False)),
                    conf=draw(st.floats(-1, 100, allow_nan=False)),
                    line=i // 4,
                )
                for i, w in enumerate(text.split()[:30])
            )
        result.append(PageText(number=number, text=text, words=words))
    return result


identifier_settings = st.builds(
    IdentifierSettings,
    date_order=st.sampled_from(["mdy", "dmy"]),
    mrn_check_digit=st.sampled_from(["none", "mod10", "mod11"]),
    two_digit_year_pivot=st.integers(0, 99),
)


@SETTINGS
@given(pages(), identifier_settings, st.one_of(st.none(), st.dates()))
def test_extraction_never_raises_and_keeps_its_promises(
    doc: list[PageText], config: IdentifierSettings, today: dt.date | None
) -> None:
    ids = extract_identifiers(doc, config, today=today)
    numbers = {page.number for page in doc}
    assert all(found.page in numbers for found in ids.found)
    if today is not None:
        assert all(dob <= today for dob in ids.dobs), "a date of birth in the future"
    # An unlabelled number is never also an MRN, and values are deduplicated.
    assert not set(ids.unlabelled_numbers) & set(ids.mrns)
    assert len(set(ids.mrns)) == len(ids.mrns)


# -- decide ------------------------------------------------------------------------------------

mrns = st.from_regex(r"[1-9][0-9]{5,7}", fullmatch=True)
dobs = st.dates(dt.date(1920, 1, 1), dt.date(2020, 12, 31))
patient = st.builds(
    RegisteredPatient,
    mrn=mrns,
    last_name=st.sampled_from(LAST),
    first_name=st.sampled_from(FIRST),
    dob=st.one_of(dobs, dobs, st.none()),
    sex=st.sampled_from(["M", "F", None]),
)


@st.composite
def relative(draw: st.DrawFn, of: RegisteredPatient) -> RegisteredPatient:
    """Someone a blocking query would hand over with ``of``, built to confuse."""
    kind = draw(st.sampled_from(["twin", "namesake", "duplicate", "zeros", "stranger", "dob"]))
    other_mrn = draw(mrns.filter(lambda m: mrn_key(m) != mrn_key(of.mrn)))
    other_first = draw(st.sampled_from([f for f in FIRST if f != of.first_name]))
    if kind == "twin":  # same surname and birthday, another given name
        return RegisteredPatient(other_mrn, of.last_name, other_first, of.dob, of.sex)
    if kind == "namesake":  # same name and birthday, another person
        return RegisteredPatient(other_mrn, of.last_name, of.first_name, of.dob, of.sex)
    if kind == "duplicate":  # the same row twice
        return of
    if kind == "zeros":  # an MRN equal once leading zeros go, someone else's
        return RegisteredPatient("00" + of.mrn, of.last_name, other_first, of.dob, None)
    if kind == "dob":  # shares only the birthday
        return RegisteredPatient(other_mrn, draw(st.sampled_from(LAST)), other_first, of.dob, None)
    # Anyone else (MRNs are unique in a registry: the stranger has an MRN of its own).
    return dataclasses.replace(draw(patient), mrn=other_mrn)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[Identifiers, list[RegisteredPatient]]:
    """A page about one patient (some identifiers shown, maybe a stray one) and candidates."""
    subject = draw(patient)
    show = draw(st.sets(st.sampled_from(["mrn", "name", "dob", "sex"]), min_size=1))
    page_mrns = [subject.mrn.zfill(draw(st.integers(6, 10)))] if "mrn" in show else []
    names = [PersonName(subject.last_name.upper(), subject.first_name.upper())]
    page_names = names if "name" in show else []
    page_dobs = [subject.dob] if "dob" in show and subject.dob else []
    page_sexes = [subject.sex] if "sex" in show and subject.sex else []
    others: list[RegisteredPatient] = []
    for other in draw(st.lists(relative(subject), max_size=4)):
        # A registry has one person per MRN: a second person drawn with a taken MRN is
        # dropped (the same row twice is kept: that is the duplicate case).
        taken = {c.mrn: c for c in [subject, *others]}
        if taken.get(other.mrn, other) == other:
            others.append(other)
    stray_on_page = draw(st.booleans())
    if others and stray_on_page:
        # A stray identifier of another candidate on the same page.
        stray = draw(st.sampled_from(others))
        field = draw(st.sampled_from(["mrn", "dob", "name"]))
        if field == "mrn":
            page_mrns.append(stray.mrn)
        elif field == "dob" and stray.dob:
            page_dobs.append(stray.dob)
        elif field == "name":
            page_names.append(PersonName(stray.last_name, stray.first_name))
    subject_found = draw(st.booleans())
    candidates = others + ([subject] if subject_found or not others else [])
    ids = Identifiers(
        mrns=tuple(dict.fromkeys(page_mrns)),
        names=tuple(dict.fromkeys(page_names)),
        dobs=tuple(dict.fromkeys(page_dobs)),
        sexes=tuple(dict.fromkeys(page_sexes)),
    )
    return ids, draw(st.permutations(candidates))


def consistent(ids: Identifiers, record: RegisteredPatient) -> bool:
    """Nothing on the page belongs to someone else (unknown fields of the record aside).

    Names are compared as the site compares them (a nickname or OCR slip is the same name);
    the twin test below covers where that is not enough.
    """
    threshold = MATCH.name_similarity_threshold
    return (
        all(mrn_key(m) == mrn_key(record.mrn) for m in ids.mrns)
        and all(record.dob is None or d == record.dob for d in ids.dobs)
        and all(record.sex is None or s == record.sex for s in ids.sexes)
        and not any(
            compare_name(
                n, record.last_name, record.first_name, MATCH.weights, threshold
            ).contradicts
            for n in ids.names
        )
    )


@SETTINGS
@given(scenario(), st.one_of(st.none(), st.floats(0, 100)))
def test_never_files_unless_exactly_one_candidate_fits_every_identifier(
    case: tuple[Identifiers, list[RegisteredPatient]], ocr_confidence: float | None
) -> None:
    ids, candidates = case
    decision = decide(ids, candidates, MATCH, ocr_confidence=ocr_confidence)
    if decision.action != "file":
        assert decision.mrn is None and decision.reason
        return
    fitting = {c.mrn for c in candidates if consistent(ids, c)}
    assert fitting == {decision.mrn}, (ids, candidates, decision)
    # ... and never on a name alone, nor with low OCR confidence.
    assert ids.mrns or ids.dobs
    assert ocr_confidence is None or ocr_confidence >= MATCH.min_ocr_confidence


@SETTINGS
@given(scenario())
def test_a_namesake_or_duplicate_mrn_holder_always_blocks_auto_filing(
    case: tuple[Identifiers, list[RegisteredPatient]],
) -> None:
    ids, candidates = case
    fitting = {c.mrn for c in candidates if consistent(ids, c)}
    if len(fitting) != 1:
        assert decide(ids, candidates, MATCH).action == "review"


def test_a_twins_exact_name_on_the_page_blocks_filing() -> None:
    mary = RegisteredPatient("100000", "Smith", "Mary", dt.date(1980, 1, 2), "F")
    maria = RegisteredPatient("200000", "Smith", "Maria", dt.date(1980, 1, 2), "F")
    page = Identifiers(
        mrns=("100000",),
        names=(PersonName("Smith", "Mary"), PersonName("Smith", "Maria")),
        dobs=(dt.date(1980, 1, 2),),
    )
    # Maria Smith is a registered patient of her own, named exactly on the page: two
    # patients may be on this document, however well Mary's MRN, DOB and name agree.
    assert decide(page, [mary, maria], MATCH).action == "review"
