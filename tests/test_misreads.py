"""A name misread by OCR is the patient's, a different name is somebody else's.

When a page reads the patient's name twice and one reading has a glyph OCR confuses
(``Pefia`` for ``Peña``), that is one name read badly; two clean readings that differ are
two people (twins, namesakes) and the page goes to review. All patients are synthetic.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from records.patient_records import letters_key
from scanner.identifying.identifiers import Identifiers, IdentifierSettings, extract_identifiers
from scanner.identifying.misreads import misread_keys, ocr_misread
from scanner.identifying.names import PersonName
from scanner.matching.decision import MatchSettings, RegisteredPatient, decide
from scanner.reading.pagetext import PageText

S = MatchSettings()
BORN = dt.date(1962, 4, 6)
HANNAH = RegisteredPatient("11838986", "Peña", "Hannah", BORN, "F")
KEVIN = RegisteredPatient("86783323", "Peña", "Kevin", dt.date(2012, 6, 21), "M")


@pytest.mark.parametrize(
    ("page", "record"),
    [
        ("Pefia", "Peña"),  # the tilde read as the dot of an i
        ("Peiia", "Peña"),
        ("Nufez", "Núñez"),
        ("Kirn", "Kim"),  # m read as rn
        ("Marn", "Mam"),
        ("Ciark", "Clark"),  # l read as i
        ("WiIliam", "William"),  # l read as a capital I
        ("Kcvin", "Kevin"),  # e read as c
        ("Bnan", "Brian"),  # ri read as n
        ("Clancy", "Dancy"),  # d read as cl
    ],
)
def test_one_confused_glyph_is_a_misread(page: str, record: str) -> None:
    assert ocr_misread(page, record)


@pytest.mark.parametrize(
    ("page", "record"),
    [
        ("Peña", "Peña"),  # the same spelling is no misread (it is exact)
        ("Pena", "Peña"),
        ("Erin", "Eric"),  # any other letter is another name
        ("Dana", "Dona"),
        ("Anna", "Emma"),
        ("Hanna", "Hannah"),  # a dropped letter is not a confused glyph
        ("Kcvim", "Kevin"),  # two confusions
        ("Pefia", "Pena"),  # fi stands for ñ only where the record has one
        ("Ii", "Li"),  # too short to tell
        ("Perez", "Pena"),
    ],
)
def test_other_differences_are_not_misreads(page: str, record: str) -> None:
    assert not ocr_misread(page, record)


def page(*names: PersonName, mrn: str | None = HANNAH.mrn, dob: dt.date = BORN) -> Identifiers:
    return Identifiers(mrns=(mrn,) if mrn else (), names=names, dobs=(dob,))


def test_the_patients_name_read_twice_once_misread_files() -> None:
    """Bench doc0096: ``Name: Hannah Pena`` on page 1, ``Hannah Pefia`` on page 2."""
    ids = page(PersonName("Pena", "Hannah"), PersonName("Pefia", "Hannah"))
    decision = decide(ids, [HANNAH, KEVIN], S)
    assert (decision.action, decision.mrn) == ("file", HANNAH.mrn)
    # The misread reading is shown to the clerk, not hidden.
    assert "last name misread by ocr" in decision.candidates[0].reasons


def test_a_misread_alone_never_files_a_page() -> None:
    """Bench doc0050: ``your patient Kevin Pefia (date of birth June 21, 2012)``.

    A misread takes a contradiction away; it is no agreement. Clay and Day, Horn and Hom
    are real surnames one confused glyph apart: a new patient Mary Clay, born the same day
    as the registered Mary Day, must not be filed into Day's chart on name and birth date.
    """
    ids = page(PersonName("Pefia", "Kevin"), mrn=None, dob=KEVIN.dob)  # type: ignore[arg-type]
    assert decide(ids, [HANNAH, KEVIN], S).action == "review"
    day = RegisteredPatient("100", "Day", "Mary", dt.date(1970, 3, 4), "F")
    clay = page(PersonName("Clay", "Mary"), mrn=None, dob=day.dob)  # type: ignore[arg-type]
    assert decide(clay, [day], S).action == "review"
    # With her MRN and birth date on the page, the misread surname no longer contradicts.
    with_mrn = page(PersonName("Clay", "Mary"), mrn=day.mrn, dob=day.dob)  # type: ignore[arg-type]
    assert (decide(with_mrn, [day], S).action, decide(with_mrn, [day], S).mrn) == ("file", "100")


def test_the_misread_name_from_page_text_files() -> None:
    text = (
        "OPERATIVE REPORT\nName: Hannah Pena\nMRN: 11838986\nDate of Birth: 04/06/1962\n"
        "\f"
        "Name: Hannah Pefia\nMRN: 11838986\n"
    )
    pages = [PageText(n, t) for n, t in enumerate(text.split("\f"), 1)]
    ids = extract_identifiers(pages, IdentifierSettings())
    assert decide(ids, [HANNAH, KEVIN], S).mrn == HANNAH.mrn


# The dangerous cases: a second reading that is somebody else's name still goes to review.


def assert_conflict_with_or_without_the_twin(
    ids: Identifiers, patient: RegisteredPatient, twin: RegisteredPatient
) -> None:
    for registry in ([patient, twin], [patient]):
        decision = decide(ids, registry, S)
        assert (decision.action, decision.reason) == ("review", "identifier conflict")


def test_a_twins_given_name_on_the_second_line_is_a_conflict() -> None:
    anna = RegisteredPatient("00550001", "Smith", "Anna", BORN, "F")
    emma = RegisteredPatient("00550002", "Smith", "Emma", BORN, "F")
    ids = page(PersonName("Smith", "Anna"), PersonName("Smith", "Emma"), mrn=anna.mrn)
    # The twin registered or not, Emma's name contradicts Anna's record.
    assert_conflict_with_or_without_the_twin(ids, anna, emma)


def test_a_twins_name_one_glyph_away_is_still_a_conflict() -> None:
    """Marnie and Mamie differ by rn/m, but Mamie is a given name of its own."""
    marnie = RegisteredPatient("00550003", "Smith", "Marnie", BORN, "F")
    mamie = RegisteredPatient("00550004", "Smith", "Mamie", BORN, "F")
    ids = page(PersonName("Smith", "Marnie"), PersonName("Smith", "Mamie"), mrn=marnie.mrn)
    assert_conflict_with_or_without_the_twin(ids, marnie, mamie)
    # Read alone with the birth date, either twin's name fits both: a clerk decides.
    alone = page(PersonName("Smith", "Mamie"), mrn=None)
    assert decide(alone, [marnie, mamie], S).reason == "ambiguous candidates"


def test_a_different_real_surname_on_the_second_line_is_a_conflict() -> None:
    ids = page(PersonName("Pena", "Hannah"), PersonName("Perez", "Hannah"))
    decision = decide(ids, [HANNAH], S)
    assert (decision.action, decision.reason) == ("review", "identifier conflict")


def test_a_near_namesake_in_the_registry_is_not_taken_for_a_misread() -> None:
    """Kirn and Kim are both registered: ``Kirn`` on the page is not Kim misread."""
    born = dt.date(1970, 1, 1)
    kim = RegisteredPatient("00770010", "Kim", "Daniel", born, "M")
    kirn = RegisteredPatient("00770011", "Kirn", "Daniel", dt.date(1980, 2, 2), "M")
    both = [kim, kirn]
    # Kim's MRN and birth date, Kirn's exact name: two patients may be on the page.
    ids = Identifiers(mrns=(kim.mrn,), names=(PersonName("Kirn", "Daniel"),), dobs=(born,))
    assert decide(ids, both, S).action == "review"
    # Kirn's birth date and name: Kirn's page, not Kim's.
    ids = Identifiers(names=(PersonName("Kirn", "Daniel"),), dobs=(kirn.dob,))  # type: ignore[arg-type]
    assert decide(ids, both, S).mrn == kirn.mrn
    # Namesakes born the same day: the name alone cannot tell a misread from the other one.
    twin = RegisteredPatient("00770012", "Kirn", "Daniel", born, "M")
    ids = Identifiers(names=(PersonName("Kirn", "Daniel"),), dobs=(born,))
    assert decide(ids, [kim, twin], S).reason == "ambiguous candidates"


def test_a_misread_name_never_outweighs_a_contradicting_birth_date() -> None:
    ids = page(PersonName("Pefia", "Hannah"), dob=dt.date(1962, 4, 7))
    assert decide(ids, [HANNAH], S).reason == "identifier conflict"


# Glyph confusions as the test knows them (printed, read), written apart from misreads.py.
SHAPES = [("m", "rn"), ("rn", "m"), ("d", "cl"), ("cl", "d"), ("l", "i"), ("i", "l")]
SHAPES += [("e", "c"), ("c", "e"), ("w", "vv"), ("ñ", "fi"), ("ñ", "f"), ("h", "li")]


@settings(max_examples=300, deadline=None)
@given(
    record=st.text(alphabet="abcdeilmnorñwhv", min_size=3, max_size=9),
    shape=st.sampled_from(SHAPES),
    where=st.integers(min_value=0, max_value=8),
)
def test_the_lookup_keys_of_a_misread_reach_the_records_key(
    record: str, shape: tuple[str, str], where: int
) -> None:
    """Every record a reading may be a misread of is found by its folded index key."""
    printed, read = shape
    at = record.find(printed, min(where, len(record)))
    if at == -1:
        at = record.find(printed)
    if at == -1:
        return
    page = record[:at] + read + record[at + len(printed) :]
    if ocr_misread(page, record):
        assert letters_key(record) in misread_keys(page)
