"""Deciding whose document this is: file it, or send it to a clerk with the reason why.

Fellegi–Sunter style: each field adds an agreement or disagreement weight, candidates are
ranked by the sum. The weights only rank; filing is guarded by explicit rules, because a
misfiled document is a patient-safety incident and a needless review costs one click:

* exactly one candidate, with a clear margin over the runner-up;
* at least two independent identifiers agree (MRN+DOB, MRN+full name, full name+DOB);
  a name alone, or a day/month-swapped DOB, never counts;
* nothing on the document contradicts that candidate.

Candidate reasons are PHI-bearing explanations for clerks: store them, never log them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from scanner.identifying.dates import swapped_day_month
from scanner.identifying.identifiers import Identifiers
from scanner.identifying.misreads import ocr_misread
from scanner.identifying.names import PersonName, spelling_key, surname_parts
from scanner.matching.agreement import (
    FieldResult,
    FieldWeights,
    NameResult,
    best,
    compare_dob,
    compare_mrn,
    compare_name,
    compare_prior_mrn,
    compare_sex,
    mrn_key,
)

__all__ = [
    "REVIEW_REASONS",
    "BlockingQuery",
    "Candidate",
    "FieldWeights",
    "MatchDecision",
    "MatchSettings",
    "RegisteredPatient",
    "blocking_query",
    "decide",
]

NO_TEXT = "no text"
LOW_OCR_CONFIDENCE = "low ocr confidence"
NO_IDENTIFIERS = "no identifiers"
MULTIPLE_PATIENTS = "multiple patients on document"
UNKNOWN_PATIENT = "unknown patient"
IDENTIFIER_CONFLICT = "identifier conflict"
AMBIGUOUS = "ambiguous candidates"
NAME_ONLY = "name only"
SINGLE_IDENTIFIER = "single identifier"
LOW_SCORE = "low match score"
REVIEW_REASONS = (
    NO_TEXT,
    LOW_OCR_CONFIDENCE,
    NO_IDENTIFIERS,
    MULTIPLE_PATIENTS,
    UNKNOWN_PATIENT,
    IDENTIFIER_CONFLICT,
    AMBIGUOUS,
    NAME_ONLY,
    SINGLE_IDENTIFIER,
    LOW_SCORE,
)


@dataclass(frozen=True)
class RegisteredPatient:
    """One patient of the master index, as the matcher sees it (one of its candidates).

    Not :class:`records.patient_records.PatientRecord`, which is a record of an import file.
    """

    mrn: str
    last_name: str
    first_name: str
    dob: dt.date | None = None
    sex: str | None = None
    # Earlier MRNs of this patient, merged into this record (HL7 A40).
    prior_mrns: tuple[str, ...] = ()


class MatchSettings(BaseModel):
    """When a document may be filed without a clerk (``scanner.matching.decision`` config)."""

    model_config = ConfigDict(extra="forbid")

    auto_file_threshold: float = 14.0
    margin: float = Field(default=6.0, ge=0)
    weights: FieldWeights = Field(default_factory=FieldWeights)
    name_similarity_threshold: float = Field(default=0.9, ge=0.0, le=1.0)
    min_ocr_confidence: float = Field(default=55.0, ge=0.0, le=100.0)
    max_candidates: int = Field(default=5, ge=1)
    # Candidate lookup (scanner.matching.lookup): a block the rule must weigh that holds
    # more patients than this sends the document to review instead of being cut.
    max_lookup_rows: int = Field(default=500, ge=1)


@dataclass(frozen=True)
class Candidate:
    """A possible patient for a document, with its score and the reasons for it."""

    mrn: str
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class MatchDecision:
    """File to ``mrn``, or review for ``reason``; candidates ranked best first."""

    action: Literal["file", "review"]
    mrn: str | None
    reason: str | None
    candidates: tuple[Candidate, ...]
    # What was read but not weighed, and why (``guarantor: not the patient``).
    set_aside: tuple[str, ...] = ()


@dataclass(frozen=True)
class BlockingQuery:
    """What the record store should look candidates up by."""

    mrns: tuple[str, ...]
    dobs: tuple[dt.date, ...]
    last_names: tuple[str, ...]


@dataclass(frozen=True)
class _Scored:
    record: RegisteredPatient
    score: float
    reasons: tuple[str, ...]
    mrn_agrees: bool
    agreeing: frozenset[str]
    relevant: bool
    contradicted: bool
    # Only a name contradicts, and it is this record's name with one glyph misread
    # (Mamie for Marnie): the page may well be this patient's.
    misread_only: bool = False

    def candidate(self) -> Candidate:
        return Candidate(self.record.mrn, round(self.score, 2), self.reasons)


def _score(
    ids: Identifiers, record: RegisteredPatient, s: MatchSettings, merged: dict[str, str]
) -> _Scored:
    mrns = compare_mrn(ids.mrns, record.mrn, s.weights, record.prior_mrns)
    mrns += compare_prior_mrn(ids.prior_mrns, record.prior_mrns, s.weights)
    # A prior MRN the index merged into another candidate's record is that patient's.
    mrns += [
        FieldResult("differs", s.weights.mrn_disagree, "prior mrn merged into another record")
        for prior in ids.prior_mrns
        if merged.get(mrn_key(prior), record.mrn) != record.mrn
    ]
    dobs = compare_dob(ids.dobs, record.dob, s.weights)
    sexes = compare_sex(ids.sexes, record.sex, s.weights)
    threshold = s.name_similarity_threshold
    names = [
        compare_name(n, record.last_name, record.first_name, s.weights, threshold)
        for n in ids.names
    ]
    name = max(names, key=lambda r: (r.full_name_agrees, r.weight), default=None)
    chosen: list[FieldResult] = [best(mrns), best(dobs), best(sexes)]
    if name is not None:
        chosen += [name.last, name.first]
    # Any value that belongs to someone else contradicts, even if another value agrees.
    conflicts = [r for r in (*mrns, *dobs, *sexes) if r.level == "differs"]
    conflicts += [
        r for n in names if n.contradicts for r in (n.last, n.first) if r.level == "differs"
    ]
    # Another reading of the name that agrees only closely or was misread by OCR is shown too.
    also = [
        r
        for n in names
        if n is not name
        for r in (n.last, n.first)
        if r.level in ("close", "weak") and r.reason
    ]
    shown = [r for r in chosen if r.reason] + [r for r in (*conflicts, *also) if r not in chosen]
    agreeing = set()
    if best(mrns).level == "exact":
        agreeing.add("mrn")
    if best(dobs).level == "exact":
        agreeing.add("dob")
    if name is not None and name.full_name_agrees:
        agreeing.add("name")
    score = sum(r.weight for r in chosen) + sum(r.weight for r in conflicts if r not in chosen)
    # Blocking hands over anyone sharing a key; keep those with some real evidence for them.
    relevant = bool(agreeing) or best(dobs).level == "weak"
    relevant = relevant or (name is not None and name.last.level != "differs")
    return _Scored(
        record=record,
        score=score,
        reasons=tuple(dict.fromkeys(r.reason for r in shown if r.reason)),
        mrn_agrees="mrn" in agreeing,
        agreeing=frozenset(agreeing),
        relevant=relevant,
        contradicted=bool(conflicts),
        misread_only=bool(conflicts)
        and not any(r.level == "differs" for r in (*mrns, *dobs, *sexes))
        and _misread_only(ids.names, names, record),
    )


def _rank(
    ids: Identifiers, candidates: Sequence[RegisteredPatient], s: MatchSettings
) -> list[_Scored]:
    unique = {record.mrn: record for record in candidates}
    merged = {mrn_key(p): r.mrn for r in unique.values() for p in r.prior_mrns}
    scored = [_score(ids, record, s, merged) for record in unique.values()]
    relevant = [c for c in scored if c.relevant]
    return sorted(relevant, key=lambda c: (-c.score, c.record.mrn))


def _review_reason(ids: Identifiers, ranked: list[_Scored], s: MatchSettings) -> str | None:
    """Why the best candidate may not be filed automatically, or None when it may."""
    if len({c.record.mrn for c in ranked if c.mrn_agrees}) > 1:
        return MULTIPLE_PATIENTS
    if not ranked:
        return UNKNOWN_PATIENT
    top = ranked[0]
    if top.contradicted and len(top.agreeing) < 2 and not any(c.mrn_agrees for c in ranked):
        # No MRN on the page is anyone's, and nobody has both its name and its birth date:
        # the look-alikes are someone else, the patient is not in the index.
        return UNKNOWN_PATIENT
    if top.contradicted:
        others = {mrn_key(c.record.mrn) for c in ranked[1:]}
        stray = [m for m in ids.mrns if mrn_key(m) != mrn_key(top.record.mrn)]
        return (
            MULTIPLE_PATIENTS if any(mrn_key(m) in others for m in stray) else IDENTIFIER_CONFLICT
        )
    if _names_someone_else(ids.names, top.record, ranked[1:]):
        # A name on the page is exactly another candidate's and not this one's (a twin
        # whose given name is a nickname of this patient's): two patients may be here.
        return MULTIPLE_PATIENTS
    if not (ids.mrns or ids.dobs or ids.prior_mrns):
        return NAME_ONLY  # before ambiguity: with namesakes, the name is still all there is
    if any(not c.contradicted or c.misread_only for c in ranked[1:]):
        # Someone else fits every identifier on the page as well (a namesake whose birth
        # date is not on record, a twin under a nickname): the page cannot tell them apart.
        return AMBIGUOUS
    if len(ranked) > 1 and top.score - ranked[1].score < s.margin:
        return AMBIGUOUS
    if len(top.agreeing) < 2:
        return (
            NAME_ONLY
            if top.agreeing == {"name"} or not (ids.mrns or ids.dobs or ids.prior_mrns)
            else SINGLE_IDENTIFIER
        )
    if top.score < s.auto_file_threshold:
        return LOW_SCORE
    return None


def _misread_only(
    page_names: Sequence[PersonName], results: Sequence[NameResult], record: RegisteredPatient
) -> bool:
    """Whether the record's only contradictions are name parts OCR may have misread.

    Any glyph confusion counts here, even one that makes another given name: to take a twin
    for a misread would send a page to review, never file it.
    """
    return all(
        ocr_misread(page, mine)
        for name, result in zip(page_names, results, strict=True)
        for part, page, mine in (
            (result.last, name.last, record.last_name),
            (result.first, name.first, record.first_name),
        )
        if part.level == "differs"
    )


def _exactly(name: PersonName, record: RegisteredPatient) -> bool:
    page = (spelling_key(name.last), spelling_key(name.first))
    return page == (spelling_key(record.last_name), spelling_key(record.first_name))


def _names_someone_else(
    names: Sequence[PersonName], chosen: RegisteredPatient, others: Sequence[_Scored]
) -> bool:
    """Whether a page name is exactly another candidate's name and not the chosen one's."""
    return any(
        _exactly(name, other.record) and not _exactly(name, chosen)
        for name in names
        for other in others
        if other.record.mrn != chosen.mrn
    )


def decide(
    identifiers: Identifiers,
    candidates: Sequence[RegisteredPatient],
    settings: MatchSettings,
    *,
    ocr_confidence: float | None = None,
    has_text: bool = True,
) -> MatchDecision:
    """Decide whether a document can be filed to one patient or needs a clerk.

    Args:
        identifiers: what was read from the document.
        candidates: patients found by blocking (sharing an MRN, DOB or surname key); may
            include irrelevant patients, which are dropped.
        settings: thresholds and weights.
        ocr_confidence: mean OCR confidence of the document, None for a text layer.
        has_text: False when no page yielded any text.

    Returns:
        The decision; ``mrn`` is set only when ``action == "file"``.
    """
    ranked = _rank(identifiers, candidates, settings) if has_text else []
    shown = tuple(c.candidate() for c in ranked[: settings.max_candidates])
    aside = set_aside_reasons(identifiers)
    reason: str | None
    if not has_text:
        reason = NO_TEXT
    elif ocr_confidence is not None and ocr_confidence < settings.min_ocr_confidence:
        reason = LOW_OCR_CONFIDENCE
    elif identifiers.is_empty:
        reason = NO_IDENTIFIERS
    else:
        reason = _review_reason(identifiers, ranked, settings)
    if reason is None:
        return MatchDecision("file", ranked[0].record.mrn, None, shown, aside)
    return MatchDecision("review", None, reason, shown, aside)


_ROLE_NAMES = {
    "guarantor": "guarantor",
    "subscriber": "insurance subscriber",
    "emergency_contact": "emergency contact",
    "ordering": "ordering provider",
    "attending": "attending provider",
    "referring": "referring provider",
    "author": "author",
    "provider": "provider",
}


def set_aside_reasons(identifiers: Identifiers) -> tuple[str, ...]:
    """Why identifiers of other people on the page were not weighed, one phrase per role.

    ``guarantor name and dob: not the patient``; ``prior mrn: weighed only when merged into
    a candidate's record``. Phrases name roles and kinds, never values.
    """
    kinds: dict[str, list[str]] = {}
    for found in identifiers.set_aside:
        kinds.setdefault(found.role, [])
        if found.kind not in kinds[found.role]:
            kinds[found.role].append(found.kind)
    reasons = []
    for role, found_kinds in kinds.items():
        if role == "prior_mrn":
            reasons.append("prior mrn: not this hospital's current number; weighed only when "
                           "merged into a candidate's record")  # fmt: skip
            continue
        what = " and ".join(found_kinds)
        reasons.append(f"{_ROLE_NAMES.get(role, role)} {what}: not the patient")
    return tuple(reasons)


def blocking_query(identifiers: Identifiers) -> BlockingQuery:
    """The keys to look candidate patients up by.

    Dates of birth include their day/month swaps and surnames the parts of double-barrelled
    names, so that a clerk sees the likely patient even when the page has a slip.
    """
    dobs: list[dt.date] = []
    for dob in identifiers.dobs:
        dobs.append(dob)
        swapped = swapped_day_month(dob)
        if swapped is not None:
            dobs.append(swapped)
    last_names: list[str] = []
    for name in identifiers.names:
        last_names.append(name.last)
        last_names.extend(part.title() for part in surname_parts(name.last))
    return BlockingQuery(
        # Prior MRNs too: a merged record leads to its survivor.
        mrns=tuple(dict.fromkeys((*identifiers.mrns, *identifiers.prior_mrns))),
        dobs=tuple(dict.fromkeys(dobs)),
        last_names=tuple(dict.fromkeys(last_names)),
    )
