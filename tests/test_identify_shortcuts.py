"""Shortcuts taken for speed in identification give what the plain way gives.

Each shortcut skips work that provably cannot find anything (a line without a title or a
credential in it, a line of words no label needs) or keeps what was read for the next page.
The reference here is the plain way it replaced, run on generated pages and on lines made of
the pieces the shortcut looks for, in every order, with the shipped settings and with others.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.identifying.identifiers import (
    _UNLABELLED,
    IdentifierSettings,
    PageFindings,
    _reader,
    find_on_page,
)
from scanner.identifying.labels import (
    LabelFinder,
    LabelHit,
    WordLine,
    is_rule,
    word_cells,
    word_lines,
    words_below,
)
from scanner.identifying.names import PersonName
from scanner.identifying.people import (
    _matches,
    _name_before,
    _patterns,
    _proper_name,
    _subject_phrases,
    providers,
)
from scanner.identifying.roles import RoleSettings, Sections
from scanner.reading.pagetext import PageText, Word
from synthetic import DocumentSpec, generate_patients
from synthetic.content import text_of
from synthetic.spec import BASE_LAYOUTS, DOC_TYPES, ROLE_LAYOUTS

SHIPPED = RoleSettings()
OTHERS = RoleSettings(
    titles=["Dr.", "Prof", "Dr med.", "doc"],
    credentials=["M.D.", "MD", "PA-C", "PA", "D.O.", "Ph.D.", "RN"],
)
# Words with non-ASCII letters, which case folding may match to ASCII ones (ſ to s, K to k).
FOLDED = RoleSettings(
    titles=["Dré", "Dr", "ſir", "Doc"],
    subject_phrases=["your patient", "ſeñor paciente", "mi  paciente", "my\tpatient"],
)
ASCII_FIRST = RoleSettings(
    titles=["Dré", "DOC.", "Kt"], subject_phrases=["your pat-ient", "Our Señor", "re: pt"]
)


def plain_providers(lines: Sequence[str], roles: RoleSettings) -> list[PersonName]:
    """Every title and credential pattern run over every line, as ``providers`` used to."""
    p = _patterns(roles.model_dump_json())
    found: list[PersonName] = []
    for line in lines:
        for match in p.title.finditer(line):
            name, _ = _proper_name(line[match.end() :], p, False, False)
            if name is not None:
                found.append(name)
        for match in p.credential.finditer(line):
            name = _name_before(line[: match.start()], p)
            if name is not None:
                found.append(name)
    return found


def test_generated_pages_give_the_same_providers() -> None:
    patients = generate_patients(30, seed=17)
    pages = 0
    for i, patient in enumerate(patients):
        for layout in (*BASE_LAYOUTS, *ROLE_LAYOUTS):
            spec = DocumentSpec(
                patient, DOC_TYPES[i % len(DOC_TYPES)], layout=layout, content_seed=i
            )
            for page in text_of(spec):
                for lines in (page.splitlines(), page.upper().splitlines(), [page]):
                    for roles in (SHIPPED, OTHERS):
                        assert providers(lines, roles) == plain_providers(lines, roles)
                pages += 1
    assert pages >= 300


PEOPLE = [
    "Dr", "Dr.", "DR", "dr.", "Doctor", "DOCTOR", "Prof", "Dr med.", "doc", "Helen", "Abernathy",
    "ABERNATHY, HELEN", "O'Brien", "Smith-Jones", "J.", "MD", "M.D.", "M.D", "md", "DO", "D.O.",
    "DOB", "PA-C", "PA", "PhD", "Ph.D.", "RN", "NP", ",", ", ", ".", ":", ";", ")", "(", "/", " ",
    "  ", "\n", "\t", "|", "12", "03/14/1962", "Signed by", "Attending:", "ſ", "K", "é", "x",
    "Dré", "DRÉ", "dre", "Kt", "kt", "DOC.", "ſir", "sir",
]  # fmt: skip


@settings(max_examples=800, deadline=None)
@given(
    st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=16),
    st.lists(st.sampled_from(PEOPLE), max_size=8),
    st.sampled_from(
        [SHIPPED, OTHERS, FOLDED, ASCII_FIRST, RoleSettings(titles=[], credentials=[])]
    ),
)
def test_lines_of_names_titles_and_credentials_give_the_same_providers(
    first: list[str], second: list[str], roles: RoleSettings
) -> None:
    for lines in (
        ["".join(first), "".join(second)],
        [" ".join(first), " ".join(second), ""],
        ["".join(first) + "\n" + " ".join(second)],  # a caller's line may hold a newline
        "".join(first + ["\n"] + second).splitlines(),
    ):
        assert providers(lines, roles) == plain_providers(lines, roles), lines


def plain_word_lines(words: Sequence[Word]) -> list[WordLine]:
    """Words grouped into lines and every line made at once, as ``word_lines`` used to."""
    kept = [w for w in words if w.text.strip() and not is_rule(w.text)]
    kept.sort(key=lambda w: (w.top, w.left))
    rows: list[list[Word]] = []
    row: list[Word] = []
    row_top = bottom = 0.0
    for word in kept:
        if row and row_top <= word.top + word.height / 2 <= bottom:
            row.append(word)
            bottom = max(bottom, word.top + word.height)
        else:
            row = [word]
            rows.append(row)
            row_top, bottom = word.top, word.top + word.height
    lines = []
    for row in rows:
        row.sort(key=lambda w: w.left)
        texts = [w.text for w in row]
        offsets = tuple(itertools.accumulate([len(t) + 1 for t in texts[:-1]], initial=0))
        lines.append(WordLine(tuple(row), " ".join(texts), offsets))
    return lines


WORD_TEXTS = ["MRN:", "00482913", "DOE,", "JANE", "|", "-|", "—", "_", "", " ", "a|b", "DOB", "~"]
coordinate = st.floats(-50, 900, allow_nan=False)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.builds(
            Word,
            st.one_of(st.sampled_from(WORD_TEXTS), st.text(max_size=5)),
            coordinate,
            coordinate,
            st.floats(0, 200, allow_nan=False),
            st.sampled_from([0.0, 8.0, 10.0, 10.5, 33.0]),
        ),
        max_size=60,
    )
)
def test_word_lines_are_the_lines_made_at_once(words: list[Word]) -> None:
    lines = word_lines(words)
    expected = plain_word_lines(words)
    assert lines.texts == [line.text for line in expected]
    assert list(lines) == expected
    assert lines[1:3] == expected[1:3] and lines[-2:] == expected[-2:]
    for line in lines:
        for offset in range(len(line.text) + 1):
            plain = max(i for i, start in enumerate(line.offsets) if start <= offset)
            assert line.word_at(offset) == line.words[plain]


HONORIFIC_PIECES = [
    "Mr", "Mr.", "Mrs.", "MRS", "Ms", "Miss", "Mx.", "mr.", "Dear", "Jane", "Roe", "ROE, JANE",
    "born", "03/14/1962", "your patient", ",", ".", " ", "  ", "\n", "(", "é", "ſ", "x", "Mrs.Mr",
]  # fmt: skip


@settings(max_examples=800, deadline=None)
@given(
    st.lists(st.sampled_from(HONORIFIC_PIECES), min_size=1, max_size=20),
    st.sampled_from([SHIPPED, RoleSettings(honorifics=["Mr.", "Mrs.", "M.", "Sra."])]),
)
def test_honorifics_are_found_where_the_whole_pattern_finds_them(
    pieces: list[str], roles: RoleSettings
) -> None:
    p = _patterns(roles.model_dump_json())
    for text in ("".join(pieces), " ".join(pieces)):
        expected = [m.span() for m in p.honorific.finditer(text)]
        assert [m.span() for m in _matches(p.honorific, p.honorific_words, text)] == expected


def test_values_kept_from_page_to_page_serve_only_their_own_settings_and_day() -> None:
    # A date of birth that reads as another date day first: 03/04/1962 and 04/03/1962.
    patient = next(p for p in generate_patients(40, seed=5) if p.dob.month < p.dob.day <= 12)
    texts = [
        t
        for layout in ("labelled", "table", "face_sheet", "letter")
        for t in text_of(DocumentSpec(patient, "lab_report", layout=layout, date_format="us"))
    ]
    pages = [PageText(1, text) for text in texts]
    settings = IdentifierSettings()
    today = dt.date(2025, 6, 30)

    def fresh(page: PageText, day: dt.date | None) -> PageFindings:
        _reader.cache_clear()
        return find_on_page(page, settings, today=day)

    expected_mdy = [fresh(page, today) for page in pages]
    expected_none = [fresh(page, None) for page in pages]
    settings.date_order = "dmy"  # settings changed in place between pages: read again
    expected_dmy = [fresh(page, today) for page in pages]
    assert [f.values for f in expected_dmy] != [f.values for f in expected_mdy]
    for page, mdy, none, dmy in zip(pages, expected_mdy, expected_none, expected_dmy, strict=True):
        settings.date_order = "mdy"
        assert find_on_page(page, settings, today=today).values == mdy.values
        assert find_on_page(page, settings, today=None).values == none.values
        settings.date_order = "dmy"
        assert find_on_page(page, settings, today=today).values == dmy.values


SUBJECT_PIECES = [
    "your", "YOUR", "Your", "our", "Our", "mutual", "my", "patient", "Patient", "PATIENT",
    "pat-ient", "pt", "re:", "RE:", "señor", "Señor", "seNor", "ſeñor", "paciente", "mi",
    "Jane", "Roe", "hours", "tour", "x", "_", "1", ",", ".", " ", "  ", "\t", "\n", "(", "é",
    "K", "ſ",
]  # fmt: skip


@settings(max_examples=800, deadline=None)
@given(
    st.lists(st.sampled_from(SUBJECT_PIECES), min_size=1, max_size=20),
    st.sampled_from(
        [SHIPPED, FOLDED, ASCII_FIRST, RoleSettings(subject_phrases=[" your patient", "x"])]
    ),
)
def test_subject_phrases_are_found_where_the_whole_pattern_finds_them(
    pieces: list[str], roles: RoleSettings
) -> None:
    p = _patterns(roles.model_dump_json())
    for text in ("".join(pieces), " ".join(pieces), " ".join(pieces).upper()):
        expected = [m.span() for m in p.subject.finditer(text)]
        assert [m.span() for m in _subject_phrases(p, text)] == expected, text


def test_the_shipped_settings_take_the_ascii_shortcuts() -> None:
    # Else the property tests above would compare the plain way with itself.
    for roles in (SHIPPED, OTHERS, ASCII_FIRST):
        p = _patterns(roles.model_dump_json())
        assert p.subject_starts is not None and p.title_words_ascii is not None
    p = _patterns(FOLDED.model_dump_json())  # "ſir" and "ſeñor" may be "sir" and "señor"
    assert p.subject_starts is None and p.title_words_ascii is None


@settings(max_examples=800, deadline=None)
@given(st.text(alphabet="0123456789٣a_/.-: \n", max_size=60))
def test_unlabelled_numbers_are_those_the_look_behind_first_finds(text: str) -> None:
    plain = re.compile(r"(?<![\w/.\-])\d{6,12}(?![\w/\-])")  # as it was written first
    assert _UNLABELLED.findall(text) == plain.findall(text)


def test_headings_kept_from_page_to_page_are_those_looked_at_afresh() -> None:
    # One Sections serves every finder made with its role settings: what it keeps of a
    # line must not hold the finder's part (whether a heading in capitals holds a label).
    shipped = IdentifierSettings()
    other = shipped.model_copy(update={"stop_labels": [*shipped.stop_labels, "Ward Clerk"]})
    finders = [
        LabelFinder({"stop": settings.stop_labels, "mrn": settings.mrn_labels})
        for settings in (shipped, other)
    ]
    kept = Sections(RoleSettings())
    patients = generate_patients(20, seed=23)
    changed = 0
    for i, patient in enumerate(patients):
        for layout in (*BASE_LAYOUTS, *ROLE_LAYOUTS):
            spec = DocumentSpec(patient, DOC_TYPES[i % len(DOC_TYPES)], layout=layout)
            for page in text_of(spec):
                lines = [*page.splitlines(), "WARD CLERK:", "GUARANTOR", "Name: Roe, Jane"]
                for finder in (*finders, *reversed(finders)):
                    fresh = Sections(RoleSettings()).roles(lines, finder)
                    assert kept.roles(lines, finder) == fresh
                first, second = (Sections(RoleSettings()).roles(lines, f) for f in finders)
                changed += first != second
    assert changed > 0  # the finders do tell some headings apart


def _with_words(number: int, text: str) -> PageText:
    """A text-layer page of ``text``: each word in a box where a printer would put it."""
    words = []
    for row, line in enumerate(text.splitlines()):
        at = 0
        for token in line.split(" "):
            if token:
                words.append(Word(token, 40.0 + 6 * at, 40.0 + 12 * row, 6.0 * len(token), 10.0))
            at += len(token) + 1
    return PageText(number, text, words=tuple(words), source="text_layer")


def test_lines_kept_from_page_to_page_give_what_each_page_gives_afresh() -> None:
    # A line's values are kept by line and section: the same line under a GUARANTOR heading
    # and under the patient's must give each its own.
    patients = generate_patients(12, seed=29)
    pages: list[PageText] = []
    for i, patient in enumerate(patients):
        for layout in (*BASE_LAYOUTS, *ROLE_LAYOUTS):
            spec = DocumentSpec(patient, DOC_TYPES[i % len(DOC_TYPES)], layout=layout)
            for text in text_of(spec):
                pages.append(_with_words(len(pages) + 1, text))
                labelled = "\n".join(line for line in text.splitlines() if ":" in line)
                pages.append(_with_words(len(pages) + 1, f"GUARANTOR\n{labelled}"))
    today = dt.date(2025, 6, 30)
    for found_with in (IdentifierSettings(), IdentifierSettings(date_order="dmy")):
        _reader.cache_clear()
        afresh = {}
        for page in pages:
            _reader.cache_clear()
            afresh[page.number] = find_on_page(page, found_with, today=today).values
        _reader.cache_clear()
        for page in [*pages, *reversed(pages)]:
            assert find_on_page(page, found_with, today=today).values == afresh[page.number]
    roles = {role for values in afresh.values() for _, _, role in values}
    assert {"patient", "guarantor"} <= roles


def plain_words_below(
    lines: Sequence[WordLine], index: int, hits: list[LabelHit], which: int
) -> str:
    """``words_below`` as first written: every word's distance to every label, cells made anew."""
    if index + 1 >= len(lines):
        return ""
    line, below = lines[index], lines[index + 1]
    if below.top - line.bottom > 3 * max(1.0, line.bottom - line.top):
        return ""
    cells = word_cells(below)
    if len(cells) == len(hits) == len(word_cells(line)):
        return cells[which]
    spans = []
    for hit in hits:
        first = line.word_at(hit.start)
        last = line.word_at(max(hit.start, hit.value_start - 1))
        spans.append((first.left, last.right))
    tolerance = 2 * max(1.0, line.bottom - line.top)
    chosen = []
    for word in below.words:
        start, end = word.left, word.right
        distances = [max(left - end, start - right, 0.0) for left, right in spans]
        nearest = distances.index(min(distances))
        if nearest == which and distances[nearest] <= tolerance:
            chosen.append(word.text)
    return " ".join(chosen)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.builds(
            Word,
            st.sampled_from(["MRN", "DOB", "Name", "DOE,", "JANE", "00482913", "x"]),
            st.floats(0, 400, allow_nan=False),
            st.sampled_from([10.0, 11.0, 22.0, 23.0, 40.0]),
            st.floats(1, 80, allow_nan=False),
            st.sampled_from([8.0, 10.0]),
        ),
        min_size=2,
        max_size=24,
    ),
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 8)), min_size=1, max_size=5),
)
def test_words_below_a_label_are_those_nearest_to_it(
    words: list[Word], spans: list[tuple[int, int]]
) -> None:
    lines = word_lines(words)
    for index, line in enumerate(lines):
        size = len(line.text)
        starts = sorted({min(start, size - 1) for start, _ in spans})
        hits = [
            LabelHit("mrn", start, min(size, start + 1 + length), True)
            for start, (_, length) in zip(starts, spans, strict=False)
        ]
        for which in range(len(hits)):
            expected = plain_words_below(list(lines), index, hits, which)
            assert words_below(lines, index, hits, which) == expected
