"""Labelled patient identifiers on the pages of a document: MRN, name, DOB, and the rest.

Only labelled values count: an 8-digit accession number is reported as an accession number,
never as an MRN, and a number with no label is only ever an ``unlabelled_numbers`` entry.
Every value carries a role (:mod:`scanner.identifying.roles`): the patient's, or a
guarantor's, subscriber's, emergency contact's, provider's, or a prior MRN. Only the
patient's make up ``mrns``, ``names``, ``dobs`` and ``sexes``.
Pure: pages in, identifiers out; nothing here logs, reads files or looks at the clock.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from scanner.identifying.dates import DateOrder, parse_first_date
from scanner.identifying.headers import header_names, sticker_names
from scanner.identifying.kept import Kept
from scanner.identifying.labels import (
    LabelFinder,
    LabelHit,
    WordLines,
    ends_cell,
    segments,
    text_below,
    word_lines,
    words_below,
)
from scanner.identifying.names import PersonName, parse_name, spelling_key
from scanner.identifying.numbers import CheckDigitScheme, check_digit_ok, read_code, read_number
from scanner.identifying.people import ProperNames, providers, subjects
from scanner.identifying.roles import (
    PATIENT,
    PRIOR_MRN,
    PROVIDER,
    PROVIDER_ROLES,
    SUBJECT,
    RoleSettings,
    Sections,
    line_roles,
    role_of,
    value_role,
)
from scanner.reading.pagetext import PageText

__all__ = [
    "Found",
    "IdentifierKind",
    "IdentifierSettings",
    "Identifiers",
    "PageFindings",
    "PersonName",
    "RoleSettings",
    "extract_identifiers",
    "find_on_page",
]

IdentifierKind = Literal[
    "mrn", "name", "dob", "service_date", "accession", "account", "encounter", "sex"
]
FoundValue = str | dt.date | PersonName

_SEX_WORDS = {"m": "M", "male": "M", "f": "F", "female": "F", "u": "U", "unknown": "U", "x": "X"}
_COMMA_FORM = re.compile(r"\s*[^\W\d_][\w'’\-]*(?:\s+[^\W\d_][\w'’\-]*){0,2}\s*[,;]")
# A number of 6 to 12 digits after no word character, '/', '.' or '-'. The look-behind comes
# after the first digit (it then sees that digit too): a pattern that begins with a digit
# is looked for digit by digit, one that begins with a look-behind at every character.
_UNLABELLED = re.compile(r"\d(?<![\w/.\-]\d)\d{5,11}(?![\w/\-])")


class IdentifierSettings(BaseModel):
    """How identifiers are labelled and shaped at this site (``filing.identifiers`` in config)."""

    model_config = ConfigDict(extra="forbid")

    mrn_labels: list[str] = Field(
        default_factory=lambda: [
            "MRN", "MR#", "Med Rec", "Med Rec No", "Medical Record", "Medical Record No.",
            "Medical Record Number", "Patient ID", "Pt ID", "Patient No", "Chart No",
            "Chart Number", "Chart #", "Unit No", "Unit Number", "Hospital No", "Hosp No",
            # how OCR misreads "MRN" on noisy scans (seen in the accuracy benchmark)
            "MR", "MBN", "MIN", "MAN", "MRM", "HRN", "NRN",
        ]
    )  # fmt: skip
    mrn_pattern: str = r"\d{6,10}"
    mrn_check_digit: CheckDigitScheme = "none"
    accession_labels: list[str] = Field(
        default_factory=lambda: [
            "Accession",
            "Accession No",
            "Acc No",
            "Acc #",
            "Accn",
            "Specimen ID",
        ]
    )
    account_labels: list[str] = Field(
        default_factory=lambda: [
            "Account",
            "Account No",
            "Acct",
            "Acct No",
            "Billing Account",
            "HAR",
        ]
    )
    encounter_labels: list[str] = Field(
        default_factory=lambda: [
            "Encounter", "Encounter No", "Enc #", "Visit #", "Visit No", "Visit Number", "Visit ID",
            "FIN", "CSN", "Episode",
        ]
    )  # fmt: skip
    dob_labels: list[str] = Field(
        default_factory=lambda: [
            "DOB",
            "Date of Birth",
            "Birth Date",
            "Birthdate",
            "D.O.B.",
            "Born",
            # how OCR misreads "DOB" on noisy scans
            "D0B",
            "DOR",
            "D0R",
            "DO8",
        ]
    )
    service_date_labels: list[str] = Field(
        default_factory=lambda: [
            "Date of Service", "DOS", "Service Date", "Collection Date", "Collected",
            "Date Collected", "Exam Date", "Date of Exam", "Procedure Date", "Date of Procedure",
            "Visit Date", "Date of Visit", "Admission Date", "Admit Date", "Date of Admission",
        ]
    )  # fmt: skip
    name_labels: list[str] = Field(
        default_factory=lambda: ["Patient", "Patient Name", "Name", "Pt Name"]
    )
    sex_labels: list[str] = Field(default_factory=lambda: ["Sex", "Gender"])
    stop_labels: list[str] = Field(
        default_factory=lambda: [
            "Age", "Room", "Bed", "Location", "Physician", "Provider", "Attending", "Ordering",
            "Referring", "Phone", "Address", "Ward", "Dept", "Status", "Priority", "Ordered",
            "Reported", "Received", "Specimen", "Unit", "Doctor", "Guarantor", "Insurance",
        ]
    )  # fmt: skip
    date_order: DateOrder = "mdy"
    two_digit_year_pivot: int = Field(default=30, ge=0, le=99)
    roles: RoleSettings = Field(default_factory=RoleSettings)


@dataclass(frozen=True)
class Found:
    """One identifier value, the page (1-based) it was read from, and whose it is.

    ``role`` is ``patient`` for the patient's own identifiers and document numbers, else
    ``guarantor``, ``subscriber``, ``emergency_contact``, a provider role (``ordering``,
    ``attending``, ``referring``, ``author``, ``provider``) or ``prior_mrn``.
    """

    kind: IdentifierKind
    value: FoundValue
    page: int
    role: str = PATIENT


@dataclass(frozen=True)
class Identifiers:
    """Everything that identifies the patient of a document, deduplicated, in reading order.

    ``found`` keeps each value with its page so a caller can tell where it came from.
    """

    mrns: tuple[str, ...] = ()
    names: tuple[PersonName, ...] = ()
    dobs: tuple[dt.date, ...] = ()
    service_dates: tuple[dt.date, ...] = ()
    accession_numbers: tuple[str, ...] = ()
    account_numbers: tuple[str, ...] = ()
    encounter_numbers: tuple[str, ...] = ()
    sexes: tuple[str, ...] = ()
    unlabelled_numbers: tuple[str, ...] = ()
    found: tuple[Found, ...] = ()
    prior_mrns: tuple[str, ...] = ()

    @classmethod
    def from_found(cls, found: Iterable[Found], unlabelled: Iterable[str] = ()) -> Identifiers:
        """Build from page-tagged values; a date labelled DOB is never also a service date.

        Only the patient's values make up ``mrns``, ``names``, ``dobs`` and ``sexes``.
        """
        items = tuple(dict.fromkeys(found))
        dobs = {f.value for f in items if f.kind == "dob"}
        items = tuple(f for f in items if not (f.kind == "service_date" and f.value in dobs))

        def values(kind: IdentifierKind, role: str = PATIENT) -> tuple[FoundValue, ...]:
            return tuple(dict.fromkeys(f.value for f in items if f.kind == kind and f.role == role))

        labelled = {v for f in items if isinstance(v := f.value, str)}
        return cls(
            mrns=tuple(str(v) for v in values("mrn")),
            names=tuple(v for v in values("name") if isinstance(v, PersonName)),
            dobs=tuple(v for v in values("dob") if isinstance(v, dt.date)),
            service_dates=tuple(v for v in values("service_date") if isinstance(v, dt.date)),
            accession_numbers=tuple(str(v) for v in values("accession")),
            account_numbers=tuple(str(v) for v in values("account")),
            encounter_numbers=tuple(str(v) for v in values("encounter")),
            sexes=tuple(str(v) for v in values("sex")),
            unlabelled_numbers=tuple(n for n in dict.fromkeys(unlabelled) if n not in labelled),
            found=items,
            prior_mrns=tuple(str(v) for v in values("mrn", PRIOR_MRN)),
        )

    @property
    def set_aside(self) -> tuple[Found, ...]:
        """Names, dates of birth and sexes of people other than the patient, and prior MRNs."""
        return tuple(f for f in self.found if f.role != PATIENT)

    @property
    def providers(self) -> tuple[Found, ...]:
        """The clinicians named, each once, with the most specific role read for them."""
        best: dict[tuple[str, str], Found] = {}
        for f in self.found:
            if f.role in PROVIDER_ROLES and isinstance(f.value, PersonName):
                key = (spelling_key(f.value.last), spelling_key(f.value.first))
                if key not in best or best[key].role == PROVIDER:
                    best[key] = f
        return tuple(best.values())

    def pages_of(self, kind: IdentifierKind, value: FoundValue) -> tuple[int, ...]:
        """The pages on which ``value`` was found labelled as ``kind``."""
        return tuple(sorted({f.page for f in self.found if f.kind == kind and f.value == value}))

    @property
    def is_empty(self) -> bool:
        """True when no MRN, name or date of birth was found."""
        return not (self.mrns or self.names or self.dobs or self.prior_mrns)


@functools.lru_cache(maxsize=16)
def _sections(roles_json: str) -> Sections:
    return Sections(RoleSettings.model_validate_json(roles_json))


@functools.lru_cache(maxsize=16)
def _finder(settings_json: str) -> LabelFinder:
    settings = IdentifierSettings.model_validate_json(settings_json)
    return LabelFinder(
        {
            # Role labels first: "Guarantor" is also a minor label, and a role wins a tie.
            **settings.roles.labels(),
            "mrn": settings.mrn_labels,
            "accession": settings.accession_labels,
            "account": settings.account_labels,
            "encounter": settings.encounter_labels,
            "dob": settings.dob_labels,
            "service_date": settings.service_date_labels,
            "name": settings.name_labels,
            "sex": settings.sex_labels,
            "stop": settings.stop_labels,
        }
    )


def _capitalised_comma_form(segment: str) -> bool:
    """``DOE, JANE`` or ``de la Cruz, Maria`` after a bare label; not ``in consultation, ...``.

    A surname is capitalised where it meets its comma; prose running on is not.
    """
    match = _COMMA_FORM.match(segment)
    return match is not None and match.group(0).rstrip(" ,;").split()[-1][:1].isupper()


# A label's kind, the text after it, whether it had a colon, whether it was one word.
_ReadKey = tuple[str, str, bool, bool]


class _Reader:
    """Turns the text after one label into a typed value for its kind.

    One reader serves every page read with its settings and day (see :func:`_reader`), and
    keeps what it read: a value depends only on those, the label's kind and colon and word
    count, and the text after it, and is immutable. A page reads most labels twice (from
    its text lines and its lines of words), and a document's pages repeat their header.
    """

    def __init__(
        self, settings: IdentifierSettings, today: dt.date | None, finder: LabelFinder | None = None
    ) -> None:
        self.settings = settings
        self.today = today
        self.finder = finder if finder is not None else _finder(settings.model_dump_json())
        self.mrn_pattern = re.compile(settings.mrn_pattern)
        self.proper_name = ProperNames(settings.roles)
        self.sections = _sections(settings.roles.model_dump_json())
        # A page reads most labels twice (from its text lines and its lines of words), a
        # document's pages repeat their header, and a dense page prints its role labels
        # again and again (Attending: Dr. ...).
        self._read: Kept[_ReadKey, FoundValue | None] = Kept(self._value)
        self._name: Kept[str, tuple[PersonName | None, bool]] = Kept(self.proper_name)
        # What a line gives after its labels, where it depends on the line and its section
        # alone (on a page with words): a document's pages repeat their header lines.
        self.line_values: Kept[tuple[str, str], tuple[_Value, ...]] = Kept(self._line_values)
        # The same for a line of words: which labels may take a value from below it.
        self.labels_over: Kept[str, tuple[tuple[LabelHit, ...], tuple[_OpenLabel, ...]]]
        self.labels_over = Kept(lambda text: _open_labels(text, self, self.finder))

    def _line_values(self, key: tuple[str, str]) -> tuple[_Value, ...]:
        line, section = key
        return tuple(_values_after_labels(line, section, self, self.finder, None))

    def read(self, kind: str, hit: LabelHit, segment: str) -> FoundValue | None:
        return self._read[(kind, segment, hit.has_colon, hit.words < 2)]

    def _value(self, key: _ReadKey) -> FoundValue | None:
        """The value of ``segment`` after a label of ``kind`` (with a colon; of one word)."""
        kind, segment, has_colon, one_word = key
        s = self.settings
        if kind == "mrn":
            mrn = read_number(segment, self.mrn_pattern)
            return mrn if mrn is not None and check_digit_ok(mrn, s.mrn_check_digit) else None
        if kind in ("accession", "account", "encounter"):
            return read_code(segment)
        if kind in ("dob", "service_date"):
            today, pivot = self.today, s.two_digit_year_pivot
            return parse_first_date(segment, order=s.date_order, today=today, pivot=pivot)
        if kind == "name":
            # "Patient" and "Name" alone are ordinary words: demand a colon or a comma form
            # right after them ("Patient DOE, JANE"), not a comma further on in the prose
            # ("the patient rested comfortably overnight.   Results reviewed with, ...").
            if not has_colon and one_word and not _capitalised_comma_form(segment):
                return None
            return parse_name(segment)
        if kind == "sex":
            words = segment.split()
            return _SEX_WORDS.get(words[0].strip(".:;,").lower()) if words else None
        return None

    def read_role(self, role: str, hit: LabelHit, segment: str) -> list[_Value]:
        """The value a role label carries itself: ``Guarantor: DOE, JOHN``, ``Prior MRN: 12``."""
        if role == PRIOR_MRN:
            mrn = self.read("mrn", hit, segment)
            return [("mrn", mrn, PRIOR_MRN)] if mrn is not None else []
        name, credentials = self._name[segment]
        if name is None:
            return []
        if role == SUBJECT:  # RE: whom a letter or fax is about
            return [("name", name, PROVIDER if credentials else PATIENT)]
        return [("name", name, role)]

    def name_role(self, segment: str, role: str) -> str:
        """A name printed with credentials (``Helen Abernathy, MD``) is a provider's."""
        if role == PATIENT and self._name[segment][1]:
            return PROVIDER
        return role


# Few: a reader keeps what it read (names, dates of birth), and yesterday's is not needed.
@functools.lru_cache(maxsize=2)
def _reader(settings_json: str, today: dt.date | None) -> _Reader:
    """The reader for these settings and this day, made from them as the finder is."""
    settings = IdentifierSettings.model_validate_json(settings_json)
    return _Reader(settings, today, _finder(settings_json))


_KINDS: dict[str, IdentifierKind] = {
    kind: kind
    for kind in ("mrn", "name", "dob", "service_date", "accession", "account", "encounter", "sex")
}
_Value = tuple[IdentifierKind, FoundValue, str]


def _page_values(page: PageText, reader: _Reader, finder: LabelFinder) -> list[_Value]:
    """Values labelled on one page: after the label on its line, else directly below it.

    Each value takes the role of its label and its section (see ``roles``).
    """
    values: list[_Value] = []
    lines = page.text.splitlines()
    roles_settings = reader.settings.roles
    sections = reader.sections.roles(lines, finder)
    for index, line in enumerate(lines):
        section = sections[index]
        if section is None:
            continue  # a heading: GUARANTOR, PATIENT INFORMATION
        if page.words:
            # Such a page reads what is under a label by word boxes (see below), so what a
            # line gives depends on it and its section alone. Most lines hold no label.
            if finder.find(line):
                values.extend(reader.line_values[(line, section)])
        else:
            below = functools.partial(text_below, lines, index)
            values.extend(_values_after_labels(line, section, reader, finder, below))
    if page.words:
        word_rows = word_lines(page.words)
        values.extend(_values_below_words(word_rows, reader, finder))
        if page.source == "ocr":  # stickers are pasted on paper, not on a text layer
            stickers = sticker_names(page.words, finder, word_rows)
            values.extend(("name", name, PATIENT) for name in stickers)
    values.extend(("name", n, role) for n, role in header_names(lines, finder, sections))
    s = reader.settings
    for name, dob in subjects(
        lines, roles_settings, order=s.date_order, today=reader.today, pivot=s.two_digit_year_pivot
    ):
        values.append(("name", name, PATIENT))
        if dob is not None:
            values.append(("dob", dob, PATIENT))
    values.extend(("name", name, PROVIDER) for name in providers(lines, roles_settings))
    return values


def _values_after_labels(
    line: str,
    section: str,
    reader: _Reader,
    finder: LabelFinder,
    below: Callable[[Sequence[LabelHit], int], str] | None,
) -> list[_Value]:
    """Values after the labels of one line, under ``section``.

    A label with nothing after it takes its value from ``below(hits, which)``, the text
    under it, where given (a page without words).
    """
    hits = finder.find(line)
    if not hits:
        return []  # most lines of a dense page: no label, so nothing to read after one
    values: list[_Value] = []
    roles = line_roles(hits, section)
    for which, segment in enumerate(segments(line, hits)):
        hit = hits[which]
        named = role_of(hit)
        if named is not None:
            values.extend(reader.read_role(named, hit, segment))
            continue
        kind = _KINDS.get(hit.kind)
        if kind is None:
            continue
        value = reader.read(kind, hit, segment)
        if value is None:
            # "DOB (Age): 03/14/1962": a minor label may sit between label and value.
            segment = _through_stop_labels(line, hits, which)
            value = reader.read(kind, hit, segment)
        if value is None and below is not None and _blank(segment) and _header(kind, hit):
            segment = _first_segment(below(hits, which), finder)
            value = reader.read(kind, hit, segment)
        if value is not None:
            role = value_role(kind, roles[which])
            if kind == "name":
                role = reader.name_role(segment, role)
            values.append((kind, value, role))
    return values


def _through_stop_labels(line: str, hits: Sequence[LabelHit], which: int) -> str:
    """The text after label ``which`` up to the next label that is not a minor one.

    A role label is no minor one: ``Name: Guarantor: DOE, JOHN`` gives the patient no name.
    """
    later = [h.start for h in hits[which + 1 :] if h.kind in _KINDS or role_of(h) is not None]
    return line[hits[which].value_start : later[0] if later else len(line)]


def _header(kind: str, hit: LabelHit) -> bool:
    """Whether a label may take its value from the line below: a name needs a real header."""
    return kind != "name" or hit.has_colon or hit.words >= 2


def _blank(segment: str) -> bool:
    """True when a label has no value after it on its line (a column header, a form field).

    Only such a label takes its value from below: ``Patient reports ...`` is prose, and the
    next line is not its value.
    """
    return not any(ch.isalnum() for ch in segment)


def _first_segment(text: str, finder: LabelFinder) -> str:
    """Text up to the first label in it: a value cell never carries another field's label."""
    hits = finder.find(text)
    return text[: hits[0].start] if hits else text


def _values_below_words(lines: WordLines, reader: _Reader, finder: LabelFinder) -> list[_Value]:
    """Values in a table row under a header row of labels, located by word boxes.

    A role word heading a column with another label (``Guarantor Name``) gives that column
    its role and is then left out, so the value below goes to the column's label.
    """
    values: list[_Value] = []
    for index, text in enumerate(lines.texts):
        if not finder.find(text):
            continue  # most lines: no label, so none open to a value below
        hits, open_labels = reader.labels_over[text]
        for which, kind, role, in_cell in open_labels:
            if in_cell and not ends_cell(lines[index], hits[which]):
                continue
            below = _first_segment(words_below(lines, index, hits, which), finder)
            value = reader.read(kind, hits[which], below)
            if value is not None:
                role = value_role(kind, role)
                if kind == "name":
                    role = reader.name_role(below, role)
                values.append((kind, value, role))
    return values


# A label that may take its value from below: its index among the line's labels, its kind,
# its role, and whether it must end its cell (a name label with text after it).
_OpenLabel = tuple[int, IdentifierKind, str, bool]


def _open_labels(
    text: str, reader: _Reader, finder: LabelFinder
) -> tuple[tuple[LabelHit, ...], tuple[_OpenLabel, ...]]:
    """What a line of words' text alone tells of the values below it.

    Its labels (role words heading a column left out), and those of them that may take a
    value from the line below.
    """
    found = finder.find(text)
    if not found:
        return (), ()
    found_roles = line_roles(found, PATIENT)
    keep = [i for i in range(len(found)) if not _role_prefix(text, found, i)]
    hits = tuple(found[i] for i in keep)
    roles = [found_roles[i] for i in keep]
    open_labels: list[_OpenLabel] = []
    for which, segment in enumerate(segments(text, hits)):
        kind = _KINDS.get(hits[which].kind)
        if kind is None:
            continue
        in_cell = False
        if kind == "name":
            # A name label takes a value from below only as a column header ("Patient
            # Name", "Name:"), alone in its cell when text follows it on the line; a bare
            # "Patient" ending a line is prose running on.
            hit = hits[which]
            if not (hit.has_colon or hit.words >= 2):
                continue
            in_cell = not _blank(segment)
        elif reader.read(kind, hits[which], segment) is not None:
            continue
        open_labels.append((which, kind, roles[which], in_cell))
    return hits, tuple(open_labels)


def _role_prefix(line: str, hits: Sequence[LabelHit], index: int) -> bool:
    """Whether hit ``index`` is a role word directly followed by another label."""
    if role_of(hits[index]) is None or index + 1 >= len(hits):
        return False
    return not line[hits[index].value_start : hits[index + 1].start].strip(" '’s")


@dataclass(frozen=True)
class PageFindings:
    """What one page gave, found where it was read (a worker), and what it was found with.

    ``key`` names the settings and day: findings made under others are found again.
    """

    key: str
    values: tuple[_Value, ...]
    unlabelled: tuple[str, ...]


def findings_key(settings: IdentifierSettings, today: dt.date | None) -> str:
    """What page findings depend on besides the page: the settings and the day."""
    return _findings_key(settings.model_dump_json(), today)


def _findings_key(settings_json: str, today: dt.date | None) -> str:
    return f"{today}|{settings_json}"


def find_on_page(
    page: PageText, settings: IdentifierSettings, *, today: dt.date | None = None
) -> PageFindings:
    """The identifiers on one page, to be carried with it to :func:`extract_identifiers`.

    Finding them where the page is read spreads the work of a dense page (an EHR printout
    of 5,000 characters) over the OCR workers instead of the one ingest process.
    """
    settings_json = settings.model_dump_json()  # for the finder and the key: one dump
    values = _page_values(page, _reader(settings_json, today), _finder(settings_json))
    return PageFindings(
        _findings_key(settings_json, today), tuple(values), tuple(_UNLABELLED.findall(page.text))
    )


def extract_identifiers(
    pages: Sequence[PageText], settings: IdentifierSettings, *, today: dt.date | None = None
) -> Identifiers:
    """Find the labelled identifiers on every page of a document.

    Args:
        pages: the document's pages as read (text layer or OCR).
        settings: label spellings and value shapes for this site.
        today: the date of processing; dates after it are discarded and two-digit years
            resolved so that a date of birth is never in the future. Without it, two-digit
            years up to ``settings.two_digit_year_pivot`` are read as 20xx.

    Returns:
        The identifiers, each value also recorded with its page in ``found``.
    """
    key = findings_key(settings, today)
    found: list[Found] = []
    unlabelled: list[str] = []
    for page in pages:
        findings = page.findings
        if findings is None or findings.key != key:
            findings = find_on_page(page, settings, today=today)
        found.extend(Found(kind, value, page.number, role) for kind, value, role in findings.values)
        unlabelled.extend(findings.unlabelled)
    return Identifiers.from_found(found, unlabelled)
