"""Person names as printed on hospital paper, and the keys used to compare them.

Handles ``LAST, FIRST MIDDLE``, ``First M. Last``, hyphenated and apostrophe surnames
(``O'Brien`` also when OCR reads it as ``O’Brien`` or ``O Brien``) and all-caps printing.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from records.patient_records import letters_key
from records.patient_records import surname_parts as registry_surname_parts

_APOSTROPHES = "'’‘`´"
_QUOTES = '"“”„«»'
_LETTER = r"[^\W\d_]"  # any letter, accented ones included (Muñoz, Renée)
_TOKEN = re.compile(rf"{_LETTER}(?:{_LETTER}|['’‘`´])*(?:-{_LETTER}(?:{_LETTER}|['’‘`´])*)*\.?")
_SURNAME_PREFIXES = frozenset({"O", "D"})
_NOT_NAMES = frozenset(
    {
        "name", "patient", "unknown", "none", "report", "male", "female", "date", "dob", "mrn",
        "sex", "age", "page", "of", "the", "and", "test", "result", "results", "lab", "na",
        "n/a", "doe?", "room", "bed", "hospital", "medical", "center", "clinic", "dr", "md",
        "physician", "provider", "signature", "signed", "account", "visit", "id", "number",
        # minor labels: no longer cut a name when printed without a colon ("Ward" is a name)
        "attending", "ordering", "referring", "location", "phone", "address", "status",
        "priority", "insurance", "guarantor", "doctor", "information", "confidential",
    }
)  # fmt: skip


@dataclass(frozen=True)
class PersonName:
    """A patient's name as read from a page, title-cased, apostrophes normalised to ``'``."""

    last: str
    first: str
    middle: str | None = None


def _tidy(token: str) -> str:
    token = token.rstrip(".")
    for mark in _APOSTROPHES:
        token = token.replace(mark, "'")
    parts = re.split(r"([-'])", token)
    return "".join(part[:1].upper() + part[1:].lower() for part in parts)


def _name_tokens(segment: str, limit: int) -> list[str]:
    """The leading run of name-like tokens in ``segment`` (at most ``limit``)."""
    tokens: list[str] = []
    for word in segment.split():
        # OCR reads a speck after a word as a closing quote ("Perez”"): no name ends in one.
        raw = word.rstrip(_QUOTES) or word
        if not _TOKEN.fullmatch(raw) or raw.rstrip(".").lower() in _NOT_NAMES:
            break
        tokens.append(raw)
        if len(tokens) >= limit:
            break
    return tokens


def _join_prefix(tokens: list[str]) -> list[str]:
    """Glue a lone ``O``/``D`` onto the next token: OCR often drops the apostrophe."""
    if len(tokens) >= 2 and tokens[0].upper() in _SURNAME_PREFIXES:
        return [f"{tokens[0]}'{tokens[1]}", *tokens[2:]]
    return tokens


def _valid(name: PersonName) -> bool:
    return len(name.last.replace("'", "").replace("-", "")) >= 2 and len(name.first) >= 1


_SEMICOLON = re.compile(rf"(?<={_LETTER});(?=\s*{_LETTER})")


def parse_name(segment: str) -> PersonName | None:
    """Parse the patient name at the start of ``segment``.

    Args:
        segment: text after a name label, e.g. ``"DOE, JANE A"`` or ``"Jane A. Doe"``.

    Returns:
        The name, or None when the segment does not start with a plausible name.
    """
    # A table border before the value ("| DOE, JANE |") is no part of it.
    segment = re.split(r"\s{3,}|\t|\|", segment.strip().lstrip("|[ "), maxsplit=1)[0]
    # OCR reads the comma of "DOE, JANE" as a semicolon; a comma with nothing after it
    # ("THOMAS BAKER, - -") is a stray mark, not a LAST, FIRST form.
    segment = _SEMICOLON.sub(",", segment, count=1)
    if re.search(r",[^A-Za-z]*$", segment) and segment.count(",") == 1:
        segment = segment.partition(",")[0]
    if "," in segment:
        last_part, _, rest = segment.partition(",")
        last_tokens = _join_prefix(_name_tokens(last_part, 3))
        if not last_tokens or len(last_tokens) != len(_join_prefix(last_part.split())):
            return None
        if any(len(t.rstrip(".")) < 2 for t in last_tokens):
            return None  # "INFORMATION a, a ot": OCR specks, no surname has a one-letter part
        given = _name_tokens(rest, 2)
        if not given:
            return None
        middle = _tidy(given[1]) if len(given) > 1 else None
        name = PersonName(" ".join(_tidy(t) for t in last_tokens), _tidy(given[0]), middle)
        return name if _valid(name) else None
    tokens = _name_tokens(segment, 4)
    if len(tokens) >= 3 and tokens[-2].upper() in _SURNAME_PREFIXES and "." not in tokens[-2]:
        tokens = [*tokens[:-2], f"{tokens[-2]}'{tokens[-1]}"]
    if len(tokens) < 2:
        return None
    middle = " ".join(_tidy(t) for t in tokens[1:-1]) or None
    name = PersonName(_tidy(tokens[-1]), _tidy(tokens[0]), middle)
    return name if _valid(name) else None


def parse_bare_name(line: str) -> PersonName | None:
    """Parse a line that holds nothing but a ``LAST, FIRST [MIDDLE]`` name.

    Chart headers and addressograph stickers print the name unlabelled above the MRN line;
    only a line made entirely of name tokens around one comma counts, so an address
    (``Wrenfield, PA 19999``) or a sentence never does.

    Args:
        line: one line of a page.

    Returns:
        The name, or None when the line is anything else.
    """
    text = _SEMICOLON.sub(",", line.strip(), count=1)
    if text.count(",") != 1:
        return None
    last_part, rest = text.split(",")
    if not (1 <= len(last_part.split()) <= 3 and 1 <= len(rest.split()) <= 2):
        return None
    tokens = text.replace(",", " ").split()
    if not all(_TOKEN.fullmatch(t) and t.rstrip(".").lower() not in _NOT_NAMES for t in tokens):
        return None
    return parse_name(text)


def spelling_key(name: str) -> str:
    """A name's spelling for exact comparison: upper-case letters only, accents folded.

    ``O'Brien``/``OBRIEN``, ``Muñoz``/``MUNOZ``, ``Søren``/``SOREN``: the same key the
    patient index stores (one folding for both sides). Not the index's phonetic blocking
    key (:func:`records.patient_records.name_key`), which makes ``Smyth`` equal ``Smith``.
    """
    return letters_key(name)


def surname_parts(name: str) -> tuple[str, ...]:
    """The parts of a double-barrelled surname (``Smith-Jones`` → SMITH, JONES)."""
    return registry_surname_parts(name)


@functools.cache
def _nickname_index() -> dict[str, frozenset[int]]:
    # Beside this module (package data). Not through importlib.resources: its readers'
    # import alone cost the ingest process 0.02-0.03 s at its first document.
    text = Path(__file__).with_name("nicknames.txt").read_text(encoding="utf-8")
    index: dict[str, set[int]] = {}
    for number, line in enumerate(text.splitlines()):
        line = line.split("#", 1)[0].strip()
        for name in filter(None, (spelling_key(n) for n in line.split(","))):
            index.setdefault(name, set()).add(number)
    return {name: frozenset(groups) for name, groups in index.items()}


@functools.cache
def _nickname_groups() -> dict[int, frozenset[str]]:
    groups: dict[int, set[str]] = {}
    for name, numbers in _nickname_index().items():
        for number in numbers:
            groups.setdefault(number, set()).add(name)
    return {number: frozenset(names) for number, names in groups.items()}


@functools.lru_cache(maxsize=4096)
def nicknames_of(name: str) -> frozenset[str]:
    """The keys of every given name listed as a form of ``name`` (:func:`are_nicknames`)."""
    key = spelling_key(name)
    groups = _nickname_groups()
    found = {other for number in _nickname_index().get(key, ()) for other in groups[number]}
    return frozenset(found - {key})


def is_given_name(name: str) -> bool:
    """Whether ``name`` is a given name of the nickname list (Mamie, Ian), spelled as listed."""
    return spelling_key(name) in _nickname_index()


def are_nicknames(first: str, second: str) -> bool:
    """Whether two given names are listed as forms of one name (Bill and William)."""
    index = _nickname_index()
    a, b = spelling_key(first), spelling_key(second)
    return a != b and bool(index.get(a, frozenset()) & index.get(b, frozenset()))
