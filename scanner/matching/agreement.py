"""Field-by-field agreement between what a page says and one patient-index record.

Each comparison returns a :class:`FieldResult`: a level (how strongly the field agrees), a
Fellegi–Sunter weight and a phrase a clerk can read. Levels, not weights, drive the safety
rules in :mod:`scanner.matching.decision`; weights only rank candidates.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import jellyfish
from pydantic import BaseModel, ConfigDict
from rapidfuzz.distance import JaroWinkler

from scanner.identifying.dates import swapped_day_month
from scanner.identifying.misreads import ocr_misread
from scanner.identifying.names import (
    PersonName,
    are_nicknames,
    is_given_name,
    spelling_key,
    surname_parts,
)

# exact/close count as an agreeing identifier; weak helps ranking only; differs contradicts.
Level = Literal["exact", "close", "weak", "absent", "differs"]
_RANK: dict[Level, int] = {"differs": 0, "absent": 1, "weak": 2, "close": 3, "exact": 4}
# Sounding alike is not enough on its own: John and Jane share a metaphone key.
PHONETIC_FLOOR = 0.8


class FieldWeights(BaseModel):
    """Log2 agreement/disagreement weights, roughly log2(m/u) and log2((1-m)/(1-u))."""

    model_config = ConfigDict(extra="forbid")

    mrn_agree: float = 10.0
    mrn_disagree: float = -10.0
    dob_agree: float = 7.0
    dob_swapped: float = 2.0
    dob_disagree: float = -7.0
    last_agree: float = 5.0
    last_similar: float = 3.5
    last_disagree: float = -4.0
    first_agree: float = 4.0
    first_nickname: float = 3.0
    first_similar: float = 2.5
    first_phonetic: float = 2.0
    first_initial: float = 1.0
    first_disagree: float = -4.0
    sex_agree: float = 0.5
    sex_disagree: float = -3.0


@dataclass(frozen=True)
class FieldResult:
    """How one field of a page compares with one record."""

    level: Level
    weight: float = 0.0
    reason: str | None = None


ABSENT = FieldResult("absent")


def mrn_key(mrn: str) -> str:
    """MRNs compare without leading zeros: ``00482913`` and ``482913`` are one number."""
    return mrn.strip().lstrip("0") or "0"


def compare_mrn(
    page_mrns: Sequence[str], mrn: str, w: FieldWeights, priors: Sequence[str] = ()
) -> list[FieldResult]:
    """One result per MRN on the page: each either is the record's MRN or contradicts it.

    ``priors`` are the record's earlier MRNs, merged into it: paper still bearing one is the
    same patient's.
    """
    merged = {mrn_key(p) for p in priors}
    results = []
    for page in page_mrns:
        if mrn_key(page) == mrn_key(mrn):
            results.append(FieldResult("exact", w.mrn_agree, "mrn exact"))
        elif mrn_key(page) in merged:
            results.append(FieldResult("exact", w.mrn_agree, "mrn merged into this record"))
        else:
            results.append(FieldResult("differs", w.mrn_disagree, "mrn differs"))
    return results


def compare_prior_mrn(
    page_priors: Sequence[str], priors: Sequence[str], w: FieldWeights
) -> list[FieldResult]:
    """Prior or outside MRNs printed on the page: agreement only when the record holds them.

    A prior MRN that was merged into this record is the patient's own; any other may be
    another facility's number (which may equal anyone's here by chance) and says nothing
    about this record either way.
    """
    own = {mrn_key(p) for p in priors}
    return [
        FieldResult("exact", w.mrn_agree, "prior mrn merged into this record")
        for page in page_priors
        if mrn_key(page) in own
    ]


def compare_dob(
    page_dobs: Sequence[dt.date], dob: dt.date | None, w: FieldWeights
) -> list[FieldResult]:
    """One result per date of birth on the page; a day/month swap is only weak evidence."""
    if dob is None:
        return []
    results = []
    for page in page_dobs:
        if page == dob:
            results.append(FieldResult("exact", w.dob_agree, "dob exact"))
        elif swapped_day_month(page) == dob:
            results.append(FieldResult("weak", w.dob_swapped, "dob day/month swapped"))
        else:
            results.append(FieldResult("differs", w.dob_disagree, "dob differs"))
    return results


@functools.lru_cache(maxsize=1 << 16)
def _sound(key: str) -> tuple[str, str]:
    # Names repeat (a block of Smiths, a vocabulary compared again and again): code once.
    return jellyfish.metaphone(key), jellyfish.nysiis(key)


def sounds_alike(a: str, b: str) -> bool:
    """Whether two name keys share a Metaphone or a NYSIIS code (the rule's phonetic test)."""
    if not (a and b):
        return False
    (metaphone_a, nysiis_a), (metaphone_b, nysiis_b) = _sound(a), _sound(b)
    return metaphone_a == metaphone_b or nysiis_a == nysiis_b


def compare_last(page: str, record: str, w: FieldWeights, threshold: float) -> FieldResult:
    """Compare surnames: exact, hyphenated part, Jaro-Winkler close, sounds alike, or differs."""
    a, b = spelling_key(page), spelling_key(record)
    if not a or not b:
        return ABSENT
    if a == b:
        return FieldResult("exact", w.last_agree, "last name exact")
    parts_a, parts_b = set(surname_parts(page)) or {a}, set(surname_parts(record)) or {b}
    if parts_a & parts_b:
        return FieldResult("close", w.last_similar, "last name matches one part of a double name")
    similarity = JaroWinkler.similarity(a, b)
    if similarity >= threshold:
        return FieldResult("close", w.last_similar, f"last name similar ({similarity:.2f})")
    if similarity >= PHONETIC_FLOOR and sounds_alike(a, b):
        return FieldResult("close", w.last_similar, "last name phonetic match")
    if ocr_misread(page, record):
        # Pefia for Peña, Kirn for Kim: perhaps the record's name with one glyph misread, so
        # no contradiction - but no agreement either: Clay and Day, Horn and Hom are real
        # surnames, and a misread alone must never be what files a page.
        return FieldResult("weak", w.last_similar, "last name misread by ocr")
    return FieldResult("differs", w.last_disagree, "last name differs")


def compare_first(page: str, record: str, w: FieldWeights, threshold: float) -> FieldResult:
    """Compare given names: exact, nickname, close spelling, sounds alike, initial, or differs."""
    a, b = spelling_key(page), spelling_key(record)
    if not a or not b:
        return ABSENT
    if a == b:
        return FieldResult("exact", w.first_agree, "first name exact")
    if len(a) == 1 or len(b) == 1:
        if a[0] == b[0]:
            return FieldResult("weak", w.first_initial, "first initial matches")
        return FieldResult("differs", w.first_disagree, "first initial differs")
    if are_nicknames(a, b):
        nick = f"{page.title()}={record.title()}"
        return FieldResult("close", w.first_nickname, f"first name nickname {nick}")
    similarity = JaroWinkler.similarity(a, b)
    if similarity >= threshold:
        return FieldResult("close", w.first_similar, f"first name similar ({similarity:.2f})")
    if similarity >= PHONETIC_FLOOR and sounds_alike(a, b):
        return FieldResult("close", w.first_phonetic, "first name phonetic match")
    if ocr_misread(page, record) and not is_given_name(page):
        # Kcvin for Kevin; but Mamie is a name of its own, not Marnie misread. Weak, as for
        # surnames: it takes away a contradiction, it never adds an agreement.
        return FieldResult("weak", w.first_similar, "first name misread by ocr")
    return FieldResult("differs", w.first_disagree, "first name differs")


@dataclass(frozen=True)
class NameResult:
    """How one name on the page compares with the record's name."""

    last: FieldResult
    first: FieldResult

    @property
    def full_name_agrees(self) -> bool:
        """Both surname and given name agree at least closely."""
        return self.last.level in ("exact", "close") and self.first.level in ("exact", "close")

    @property
    def contradicts(self) -> bool:
        """Either part of the name belongs to somebody else."""
        return "differs" in (self.last.level, self.first.level)

    @property
    def weight(self) -> float:
        """The summed weight of both parts."""
        return self.last.weight + self.first.weight


def compare_name(
    page: PersonName, last: str, first: str, w: FieldWeights, threshold: float
) -> NameResult:
    """Compare a page name with a record's name, also trying first/last the other way round."""
    result = NameResult(
        compare_last(page.last, last, w, threshold), compare_first(page.first, first, w, threshold)
    )
    if (
        result.contradicts
        and spelling_key(page.last) == spelling_key(first)
        and spelling_key(page.first) == spelling_key(last)
    ):
        # "JANE DOE" printed surname-first without a comma: same person, weaker evidence.
        swapped = FieldResult("weak", w.last_similar, "name order reversed")
        return NameResult(swapped, FieldResult("weak", 0.0, None))
    return result


def compare_sex(page_sexes: Sequence[str], sex: str | None, w: FieldWeights) -> list[FieldResult]:
    """One result per sex marker on the page; unknown values on either side say nothing."""
    record = (sex or "").strip().upper()[:1]
    if record not in ("M", "F"):
        return []
    results = []
    for page in page_sexes:
        if page not in ("M", "F"):
            continue
        if page == record:
            results.append(FieldResult("exact", w.sex_agree, "sex agrees"))
        else:
            results.append(FieldResult("differs", w.sex_disagree, "sex differs"))
    return results


def best(results: Sequence[FieldResult]) -> FieldResult:
    """The strongest agreement among several values of one field."""
    return max(results, key=lambda r: (_RANK[r.level], r.weight), default=ABSENT)
