"""Names in running text: the subject of a letter, and providers by their title or credentials.

A referral letter names its patient in prose (``I saw your patient Jane Roe (date of birth
03/14/1961)``, ``RE: Jane Roe``, ``Mrs. Jane Roe, born March 14, 1961``); a signature names
its author (``Helen Abernathy, MD``). Only capitalised words make a name here, so a sentence
never does. Pure: text and settings in, names out.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from scanner.identifying.dates import DateOrder, parse_first_date
from scanner.identifying.kept import Kept
from scanner.identifying.names import PersonName
from scanner.identifying.roles import RoleSettings

_CAP = r"[^\W\d_a-z][^\W\d_]*(?:['’\-][^\W\d_]+)*"  # Roe, O'Brien, Smith-Jones, MUÑOZ
_INITIAL = r"[^\W\d_a-z]\."
_NOT_NAMES = frozenset(
    {"the", "and", "dob", "date", "born", "mrn", "patient", "hospital", "medical", "center",
     "clinic", "department", "re", "dear", "sincerely", "regards", "thank", "you", "fax",
     "from", "to", "cc", "attn", "phone", "tel", "relationship", "pages", "page", "your",
     "our", "his", "her", "their", "this", "who", "was", "is"}
)  # fmt: skip
# Compiled once: proper_name runs on every title, credential and role label of a page.
_FIRST_CELL = re.compile(r"\s{2,}|\t|\|")
_COMMA_NAME = re.compile(rf"({_CAP}(?:\s+{_CAP})?)\s*,\s*({_CAP})(?:\s+({_CAP}|{_INITIAL}))?")
_TOKEN = re.compile(r"\S+")
_NAME_WORD = re.compile(rf"{_CAP}|{_INITIAL}")
_INITIAL_ONLY = re.compile(_INITIAL)
_COMMA_NAME_AT_END = re.compile(rf"({_CAP}(?:\s+{_CAP})?)\s*,\s*({_CAP})(?:\s+{_INITIAL})?\s*$")
_NAME_RUN_AT_END = re.compile(rf"((?:(?:{_CAP}|{_INITIAL})\s+){{1,2}}{_CAP})\s*$")
_DOB_CUE = re.compile(
    r"^[\s,;(\[]*(?:born(?:\s+on)?|dob|d\.o\.b\.?|date\s+of\s+birth)\b[\s:#]*", re.I
)


def _alternation(words: Sequence[str]) -> str:
    return "|".join(re.escape(w.rstrip(".")) for w in sorted(words, key=len, reverse=True))


@dataclass(frozen=True)
class _Patterns:
    title: re.Pattern[str]
    honorific: re.Pattern[str]
    subject: re.Pattern[str]
    credential: re.Pattern[str]
    credentials: frozenset[str]
    # What every match of ``title``, ``credential`` and ``honorific`` holds, as patterns
    # that begin with a word, which Python's engine looks for quickly (see ``_lines_holding``
    # and ``_matches``); None where a word is empty after its dots.
    title_words: re.Pattern[str] | None
    credential_words: re.Pattern[str] | None
    honorific_words: re.Pattern[str]
    # The same for ASCII text in lower case, where Python's engine looks for words quickly
    # also when they may be in any case (see ``_ascii_words``); None where it cannot.
    title_words_ascii: re.Pattern[str] | None
    subject_starts: re.Pattern[str] | None


@functools.lru_cache(maxsize=8)
def _patterns(settings_json: str) -> _Patterns:
    s = RoleSettings.model_validate_json(settings_json)
    titles = _alternation(s.titles)
    honorifics = _alternation(s.honorifics)
    phrases = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in s.subject_phrases)
    creds = _alternation(s.credentials)
    return _Patterns(
        title=re.compile(rf"(?<![\w.])(?:{titles})\.?\s+", re.I),
        honorific=re.compile(rf"(?<![\w.])(?:{honorifics})\.?\s+"),
        subject=re.compile(rf"(?<![\w])(?:{phrases}),?\s+", re.I),
        credential=re.compile(rf"(?<=[\w.]),?\s*(?:{creds})\.?(?=$|[\s,;)/])(?!\s*\d)"),
        credentials=frozenset(c.upper().replace(".", "") for c in s.credentials),
        title_words=re.compile(f"(?:{titles})", re.I) if _all_words(s.titles) else None,
        honorific_words=re.compile(f"(?:{honorifics})"),
        credential_words=(
            re.compile(rf"(?:{creds})\.?(?=$|[\s,;)/])") if _all_words(s.credentials) else None
        ),
        title_words_ascii=(
            _ascii_words([w.rstrip(".") for w in s.titles]) if _all_words(s.titles) else None
        ),
        # A subject phrase begins with its first word, after no letter, digit or "_".
        subject_starts=_ascii_words([p.split(" ")[0] for p in s.subject_phrases], r"[^a-z0-9_]"),
    )


def _all_words(words: Sequence[str]) -> bool:
    return all(w.rstrip(".") for w in words)


def _ascii_words(words: Sequence[str], before: str = "") -> re.Pattern[str] | None:
    """Where ``words`` (in any case) may begin in an ASCII text in lower case, or None.

    Each word stands for its lower-case ASCII beginning (up to its first other character):
    on an ASCII text a case-blind match of a word is a match of its lower case there (and
    no non-ASCII character of a word, which case folding may match to an ASCII one, is
    looked for). None when a word begins with no ASCII character, or there are none.

    Args:
        words: the words, each as a regular expression would spell it literally.
        before: a character class to match right before a word (its match is then that
            one character, so every place is found, also within another's word); else the
            match is the beginning of a word.
    """
    beginnings = set()
    for word in words:
        end = next((i for i, c in enumerate(word) if not c.isascii()), len(word))
        if end == 0:
            return None
        beginnings.add(re.escape(word[:end].lower()))
    if not beginnings:
        return None
    alternation = "|".join(sorted(beginnings, key=len, reverse=True))
    return re.compile(f"{before}(?={alternation})" if before else f"(?:{alternation})")


def _tidy(token: str) -> str:
    token = token.rstrip(".,")
    return "-".join(p[:1].upper() + p[1:].lower() for p in token.replace("’", "'").split("-"))


def proper_name(
    text: str, settings: RoleSettings, *, strip_titles: bool = True, prose: bool = False
) -> tuple[PersonName | None, bool]:
    """The capitalised name at the start of ``text``, and whether credentials follow it.

    ``Dr. Helen Abernathy``, ``ABERNATHY, HELEN MD``, ``Jane A. Roe (date of birth ...``.
    Titles and honorifics before the name are skipped. In ``prose`` a ``LAST, FIRST`` form
    counts only in capitals: ``Jane Roe, Your results`` is a name and a new sentence.

    Returns:
        ``(name, has_credentials)``; the name is None when no first and last name lead.
    """
    return _proper_name(text, _patterns(settings.model_dump_json()), strip_titles, prose)


class ProperNames:
    """:func:`proper_name` with one site's settings, their patterns looked up once."""

    def __init__(self, settings: RoleSettings) -> None:
        """Names read with ``settings`` (titles, honorifics, credentials)."""
        self._patterns = _patterns(settings.model_dump_json())

    def __call__(
        self, text: str, *, strip_titles: bool = True, prose: bool = False
    ) -> tuple[PersonName | None, bool]:
        """See :func:`proper_name`."""
        return _proper_name(text, self._patterns, strip_titles, prose)


def _proper_name(
    text: str, p: _Patterns, strip_titles: bool, prose: bool
) -> tuple[PersonName | None, bool]:
    text = _FIRST_CELL.split(text.strip().lstrip("|:;-* "), maxsplit=1)[0]
    for _ in range(2):
        match = p.title.match(text) or (p.honorific.match(text) if strip_titles else None)
        if match:
            text = text[match.end() :]
    comma = _COMMA_NAME.match(text)
    tokens: list[str] = []
    if comma and (not prose or comma.group(0).isupper()):
        last, first, middle = comma.group(1), comma.group(2), comma.group(3)
        words = {first.lower(), *last.lower().split()}
        if first.upper().replace(".", "") not in p.credentials and not words & _NOT_NAMES:
            if middle and middle.upper().replace(".", "") in p.credentials:
                middle = None
            end = comma.end(2) if middle is None else comma.end(3)
            surname = " ".join(_tidy(t) for t in last.split())
            name = PersonName(surname, _tidy(first), _tidy(middle) if middle else None)
            return (_plausible(name), bool(p.credential.match(text[end:])))
    for match in _TOKEN.finditer(text):
        raw = match.group(0)
        word = raw.rstrip(",;:")
        if not _NAME_WORD.fullmatch(word) or word.lower() in _NOT_NAMES:
            break
        if word.upper().replace(".", "") in p.credentials and len(tokens) >= 2:
            break
        if raw.endswith(":"):
            break  # the next field's label (From:, Phone:)
        tokens.append(word)
        if raw != word or len(tokens) >= 4:
            break
    if len(tokens) < 2 or _INITIAL_ONLY.fullmatch(tokens[-1]):
        return None, False
    rest = text[text.find(tokens[-1]) + len(tokens[-1]) :]
    name = PersonName(
        _tidy(tokens[-1]), _tidy(tokens[0]), " ".join(_tidy(t) for t in tokens[1:-1]) or None
    )
    return _plausible(name), bool(p.credential.match(rest))


def _plausible(name: PersonName) -> PersonName | None:
    if len(name.last.replace("'", "").replace("-", "")) < 2 or len(name.first.rstrip(".")) < 2:
        return None
    return name


def _prose(lines: Sequence[str]) -> str:
    """A page's lines joined into running text: a name may break across lines."""
    return " ".join(line.strip() for line in lines if line.strip())


def subjects(
    lines: Sequence[str],
    settings: RoleSettings,
    *,
    order: DateOrder = "mdy",
    today: dt.date | None = None,
    pivot: int = 30,
) -> list[tuple[PersonName, dt.date | None]]:
    """Whom a letter is about, from its prose, with the date of birth given next to it.

    ``your patient NAME (date of birth DATE)`` and an honorific name followed by its birth
    date (``Mrs. NAME, born DATE``, ``Dear Ms. NAME``) are the subject.
    """
    p = _patterns(settings.model_dump_json())
    text = _prose(lines)
    found: list[tuple[PersonName, dt.date | None]] = []
    starts = [m.end() for m in _subject_phrases(p, text)]
    for match in _matches(p.honorific, p.honorific_words, text):
        name, _ = _proper_name(text[match.end() :], p, True, True)
        salutation = text[max(0, match.start() - 6) : match.start()].strip().lower() == "dear"
        if name is not None and (salutation or _birth_follows(text, match.end(), name)):
            starts.append(match.start())
    for start in starts:
        name, credentials = _proper_name(text[start:], p, True, True)
        if name is None or credentials:
            continue
        dob = None
        cue = _birth_cue(text, start, name)
        if cue is not None:
            dob = parse_first_date(text[cue : cue + 40], order=order, today=today, pivot=pivot)
        found.append((name, dob))
    return found


def _matches(
    pattern: re.Pattern[str], words: re.Pattern[str], text: str
) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, where every match of ``pattern`` begins with ``words``.

    ``pattern`` opens with a look-behind, so ``finditer`` tries it at every character of a
    page (0.1 ms of a dense one); ``words`` are words in a set case (honorifics), which
    Python's engine looks for by their first letters (not so for words in any case: there
    the look-behind is the quicker test). Only where ``words`` matches can ``pattern``
    begin, and ``match`` at a position sees the text before it as ``finditer`` does.
    ``pattern`` never matches empty.
    """
    at = 0
    while (candidate := words.search(text, at)) is not None:
        at = candidate.start()
        match = pattern.match(text, at)
        if match is None:
            at += 1
        else:
            yield match
            at = max(match.end(), at + 1)


def _subject_phrases(p: _Patterns, text: str) -> Iterator[re.Match[str]]:
    """``p.subject.finditer(text)``: the subject phrases (``your patient``) in ``text``."""
    if p.subject_starts is None or not text.isascii():
        return p.subject.finditer(text)
    # ``subject`` opens with a look-behind, so ``finditer`` tries it at every character of
    # the page (0.15 ms of a dense one): try it only where a phrase's first word begins,
    # found in the text in lower case (a space before it, so a phrase may begin it).
    places = (m.start() for m in p.subject_starts.finditer(" " + text.lower()))
    return _matches_at(p.subject, places, text)


def _matches_at(
    pattern: re.Pattern[str], places: Iterable[int], text: str
) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``, where ``pattern`` can begin only at ``places`` (in order).

    ``pattern`` never matches empty; ``match`` at a place sees the text before it as
    ``finditer`` does.
    """
    end = 0
    for at in places:
        if at < end:
            continue  # inside the match before (matches do not overlap)
        match = pattern.match(text, at)
        if match is not None:
            yield match
            end = match.end()


def _after_name(text: str, start: int, name: PersonName) -> int | None:
    """Where the text after ``name`` (as read at ``start``) begins."""
    window = text[start : start + 80]
    match = re.search(re.escape(name.last.split()[-1]), window, re.I)
    return start + match.end() if match else None


def _birth_cue(text: str, start: int, name: PersonName) -> int | None:
    end = _after_name(text, start, name)
    if end is None:
        return None
    match = _DOB_CUE.match(text[end : end + 30])
    return end + match.end() if match else None


def _birth_follows(text: str, start: int, name: PersonName) -> bool:
    return _birth_cue(text, start, name) is not None


def providers(lines: Sequence[str], settings: RoleSettings) -> list[PersonName]:
    """Names marked as a clinician's by a title (``Dr. Helen Abernathy``) or credentials.

    Only for keeping a document's providers: these names are never taken for the patient's.
    """
    settings_json = settings.model_dump_json()
    p = _patterns(settings_json)
    on_line = _providers_by_line(settings_json)
    found: list[PersonName] = []
    text = "\n".join(lines)
    ends = list(itertools.accumulate(len(line) + 1 for line in lines))
    if p.title_words_ascii is not None and text.isascii():
        # Titles are words in any case, for which the engine tries every position; in the
        # text in lower case it looks for their first letter (0.04 ms of a dense page).
        titled = _lines_holding(p.title_words_ascii, text.lower(), ends)
    else:
        titled = _lines_holding(p.title_words, text, ends)
    credited = _lines_holding(p.credential_words, text, ends)
    for index, line in enumerate(lines):
        # A line outside ``titled`` (``credited``) holds no title (credentials) at all.
        if titled is None or credited is None or index in titled or index in credited:
            found.extend(on_line[line])
    return found


@functools.lru_cache(maxsize=8)
def _providers_by_line(settings_json: str) -> Kept[str, tuple[PersonName, ...]]:
    """:func:`_providers_on` with these settings, kept by line.

    A document's pages repeat the lines that name its clinicians (``Attending: Dr. ...``,
    ``Electronically signed by ...``): 0.25 ms of a dense page to read them again.
    """
    p = _patterns(settings_json)
    return Kept(lambda line: _providers_on(line, p))


def _providers_on(line: str, p: _Patterns) -> tuple[PersonName, ...]:
    """The names on ``line`` after a title, then those before credentials."""
    found: list[PersonName] = []
    for match in p.title.finditer(line):
        name, _ = _proper_name(line[match.end() :], p, False, False)
        if name is not None:
            found.append(name)
    for match in p.credential.finditer(line):
        name = _name_before(line[: match.start()], p)
        if name is not None:
            found.append(name)
    return tuple(found)


def _lines_holding(
    words: re.Pattern[str] | None, text: str, ends: Sequence[int]
) -> set[int] | None:
    """The indexes of the lines in which ``words`` matches (a superset), or None for all.

    ``text`` is the lines joined by newlines, ``ends`` where each line's newline ends.

    ``title`` and ``credential`` open with a look-behind, so Python's engine tries them at
    every character of every line (0.5 ms of a dense page); a line can hold a match of
    them only where it holds a match of ``words``, which one scan of the page finds. The
    scan of the lines joined finds, for every place a line matches ``words``, a match that
    covers that place (matches are leftmost and cannot be empty): the lines each match
    spans are the superset. (Where ``credential_words`` looks ahead for a line's end, ``$``,
    the joined text has the newline, which the look-ahead takes as a space.)
    """
    if words is None:
        return None
    found: set[int] = set()
    for match in words.finditer(text):
        first = bisect.bisect_right(ends, match.start())
        last = bisect.bisect_right(ends, max(match.start(), match.end() - 1))
        found.update(range(first, last + 1))
    return found


def _name_before(text: str, p: _Patterns) -> PersonName | None:
    """The name that ends ``text`` (``... Helen Abernathy``, ``ABERNATHY, HELEN``)."""
    comma = _COMMA_NAME_AT_END.search(text)
    if comma:
        before = text[: comma.start()].rstrip()
        if not before or before[-1] in ":;|(":
            return _proper_name(comma.group(0), p, True, False)[0]
    run = _NAME_RUN_AT_END.search(text)
    if run is None:
        return None
    return _proper_name(run.group(1), p, True, False)[0]
