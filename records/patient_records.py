"""Patient records read from an import file, before they touch the database.

Every import format (CSV, FHIR, HL7 v2) turns its input into a stream of :data:`Item`:
an :class:`Upsert`, a :class:`Merge` or a :class:`BadRecord`. The normalisers here are shared
so that the three formats agree on what a valid MRN, name, date of birth and sex are.

Error messages name the field and the problem, never the value: they are printed and may be
logged, and the values are PHI.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import jellyfish

NAME_MAX = 120
KEY_MAX = 32
_MRN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
# Letters NFKD does not decompose into a base letter plus accents.
_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"})
_FOLD.update(str.maketrans({"đ": "d", "Đ": "D", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "TH"}))
_FOLD.update(str.maketrans({"ð": "d", "Ð": "D", "ı": "i", "ŀ": "l", "Ŀ": "L", "ħ": "h", "Ħ": "H"}))
# Every ASCII character that is not a letter, deleted from an upper-cased ASCII name.
_NOT_LETTERS = str.maketrans("", "", "".join(chr(c) for c in range(128) if not chr(c).isalpha()))
_SEX_CODES = {
    "M": "M",
    "MALE": "M",
    "F": "F",
    "FEMALE": "F",
    "O": "O",
    "OTHER": "O",
    "U": "U",
    "UNKNOWN": "U",
}


class RecordError(ValueError):
    """One record cannot be loaded; the message names the field, never its value."""


@dataclass(frozen=True)
class PatientRecord:
    """A patient as an import file states it, normalised."""

    mrn: str
    last_name: str
    first_name: str
    dob: date | None
    sex: str | None
    # Why no document may be filed to this record without a clerk (FHIR ``active: false``
    # or a ``replaced-by`` link); None for an active record.
    inactive: str | None = None


#: Fields of :class:`PatientRecord` an update may leave as the index holds them.
UPDATABLE_FIELDS = ("last_name", "first_name", "dob", "sex")


@dataclass(frozen=True)
class Upsert:
    """Add the patient, or update the one with the same MRN.

    ``keep`` names fields the message left empty (HL7: "no change"): an update leaves them
    as the index holds them. A field cleared on purpose (HL7 ``""``) is not in ``keep``.
    """

    number: int
    record: PatientRecord
    keep: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Merge:
    """Fold ``prior_mrn`` into the surviving patient ``record`` (HL7 A40)."""

    number: int
    record: PatientRecord
    prior_mrn: str
    keep: frozenset[str] = frozenset()


@dataclass(frozen=True)
class IdChange:
    """The patient known as ``prior_mrn`` is now ``record.mrn`` (HL7 A47)."""

    number: int
    record: PatientRecord
    prior_mrn: str
    keep: frozenset[str] = frozenset()


@dataclass(frozen=True)
class NotHandled:
    """A well-formed message chartclerk does not apply, to be done by hand (e.g. HL7 A37)."""

    number: int
    what: str


@dataclass(frozen=True)
class BadRecord:
    """A record that was skipped, with its line or record number and the reason."""

    number: int
    message: str


@dataclass(frozen=True)
class Skipped:
    """A well-formed record that does not change the master index (e.g. HL7 A03)."""

    number: int


Item = Upsert | Merge | IdChange | NotHandled | BadRecord | Skipped


def fold(text: str) -> str:
    """``text`` without accents: ``Muñoz`` → ``Munoz``, ``Søren`` → ``Soren``, ``ß`` → ``ss``.

    The one accent folding of the project: the patient index (its stored keys) and the
    page side (:func:`scanner.identifying.names.spelling_key`) both fold through here, so a
    name folds the same whichever side it was read on. NFKD splits a letter from its
    accents; a small table handles the letters that do not decompose (ø, æ, ß, ł, đ, œ, þ).
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@functools.lru_cache(maxsize=1 << 16)
def letters_key(text: str) -> str:
    """Upper-case letters A-Z only, accents folded: ``O'Brien``/``OBRIEN``, ``Søren``/``SOREN``.

    The key names are compared by on both sides (stored as ``last_key``/``first_key``).
    """
    if text.isascii():
        return text.upper().translate(_NOT_LETTERS)
    return "".join(ch for ch in fold(text).upper() if "A" <= ch <= "Z")


@functools.lru_cache(maxsize=1 << 16)
def surname_parts(name: str) -> tuple[str, ...]:
    """The keys of a double-barrelled surname's parts (``Smith-Jones`` → SMITH, JONES).

    Empty for a surname of one part.
    """
    parts = [key for key in map(letters_key, re.split(r"[-\s]+", name)) if key]
    return tuple(parts) if len(parts) > 1 else ()


def _phonetic(letters: str) -> str:
    return jellyfish.metaphone(letters)[:KEY_MAX] if letters else ""


def _letters(text: str) -> str:
    return letters_key(text)


@functools.lru_cache(maxsize=65536)
def name_key(last_name: str) -> str:
    """The phonetic blocking key stored with a patient's last name.

    The key is the Metaphone code of the *first hyphen-separated part* of the name, with
    accents folded and everything but the letters A-Z dropped (so apostrophes and spaces do
    not count: ``O'Brien``, ``O Brien`` and ``OBrien`` share a key, as do ``Van der Berg`` and
    ``Vanderberg``). The table holds one key per patient, so a double-barrelled
    ``Garcia-Lopez`` is stored under ``Garcia``; :func:`lookup_keys` makes every part of a
    name read off a page a probe, which finds it from ``Garcia`` and from ``Garcia-Lopez``.
    It is not found from ``Lopez`` alone: candidate lookup also probes the date of birth,
    which still finds it, and a name alone never files a document anyway.

    Args:
        last_name: The last name as registered or as read.

    Returns:
        The key, at most 32 characters; empty when the name has no letters.
    """
    first_part = fold(last_name).split("-", 1)[0]
    return _phonetic(_letters(first_part))


def lookup_keys(last_name: str) -> set[str]:
    """Every stored key a last name read off a page could match.

    The whole name (hyphens, spaces and apostrophes dropped) and each hyphen- or
    space-separated part of two letters or more: ``Garcia Lopez`` read where ``Garcia-Lopez``
    was printed still probes ``Garcia``.

    Args:
        last_name: A last name as read, possibly OCR-damaged.

    Returns:
        Non-empty keys; an empty set when the name has no letters.
    """
    parts = re.split(r"[-\s]+", fold(last_name))
    keys = {name_key(last_name), _phonetic(_letters(last_name))}
    keys.update(_phonetic(_letters(part)) for part in parts if len(_letters(part)) >= 2)
    keys.discard("")
    return keys


def clean_mrn(value: str | None) -> str:
    """The MRN stripped of surrounding whitespace.

    Raises:
        RecordError: the MRN is missing or holds characters an MRN cannot have.
    """
    mrn = (value or "").strip()
    if not mrn:
        raise RecordError("missing MRN")
    if not _MRN.fullmatch(mrn):
        raise RecordError("MRN is not 1-32 letters, digits, '.', '_' or '-'")
    return mrn


def clean_name(value: str | None, field: str, *, required: bool) -> str:
    """A name with runs of whitespace collapsed.

    Raises:
        RecordError: the name is required and empty, or longer than the column.
    """
    name = " ".join((value or "").split())
    if required and not name:
        raise RecordError(f"missing {field}")
    if len(name) > NAME_MAX:
        raise RecordError(f"{field} is longer than {NAME_MAX} characters")
    return name


def clean_sex(value: str | None) -> str | None:
    """``M``, ``F``, ``O``, ``U`` (also ``male``/``female``/...), or None when empty.

    Raises:
        RecordError: any other value.
    """
    text = (value or "").strip().upper()
    if not text:
        return None
    if text not in _SEX_CODES:
        raise RecordError("sex is not one of M, F, O, U")
    return _SEX_CODES[text]


def parse_iso_date(value: str | None) -> date | None:
    """A ``YYYY-MM-DD`` date of birth, or None when empty.

    Raises:
        RecordError: the text is not a real ``YYYY-MM-DD`` date, or lies in the future.
    """
    text = (value or "").strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise RecordError("dob is not a YYYY-MM-DD date")
    try:
        dob = date.fromisoformat(text)
    except ValueError as exc:
        raise RecordError("dob is not a valid date") from exc
    return _plausible(dob)


def _plausible(dob: date) -> date:
    if dob.year < 1850 or dob > date.today():
        raise RecordError("dob is out of range")
    return dob


def parse_hl7_date(value: str | None) -> date | None:
    """An HL7 ``YYYYMMDD[HHMM[SS]][+ZZZZ]`` timestamp's date, or None when empty.

    Raises:
        RecordError: the text does not start with a real ``YYYYMMDD`` date.
    """
    text = (value or "").strip()
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})(\d{2,6}(\.\d+)?)?([+-]\d{4})?", text)
    if not match:
        raise RecordError("PID-7 is not a YYYYMMDD[HHMM] date")
    try:
        dob = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as exc:
        raise RecordError("PID-7 is not a valid date") from exc
    return _plausible(dob)


def make_record(
    mrn: str | None, last: str | None, first: str | None, dob: date | None, sex: str | None
) -> PatientRecord:
    """A validated record from already-parsed parts.

    Raises:
        RecordError: the MRN, a name or the sex is not acceptable.
    """
    return PatientRecord(
        mrn=clean_mrn(mrn),
        last_name=clean_name(last, "last_name", required=True),
        first_name=clean_name(first, "first_name", required=False),
        dob=dob,
        sex=clean_sex(sex),
    )
