"""Whom a document is about, what it is, and whether it may be filed without a clerk."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from records.store import Store
from scanner.identifying.classify import Classifier, ClassifySettings, KeywordClassifier
from scanner.identifying.identifiers import Identifiers, IdentifierSettings, extract_identifiers
from scanner.identifying.names import PersonName
from scanner.identifying.roles import PATIENT, PRIOR_MRN, PROVIDER_ROLES
from scanner.matching.decision import (
    AMBIGUOUS,
    LOW_SCORE,
    NAME_ONLY,
    NO_IDENTIFIERS,
    SINGLE_IDENTIFIER,
    UNKNOWN_PATIENT,
    MatchDecision,
    MatchSettings,
)
from scanner.matching.lookup import match_patient
from scanner.ocr import Region, reread_top
from scanner.reading.pages import PageJob
from scanner.reading.pagetext import OcrPass, PageText, Word

#: The best candidate's record is marked inactive by the patient feed (FHIR ``active:
#: false`` or ``replaced-by``): a clerk decides where the document belongs.
INACTIVE_PATIENT = "patient record inactive"
# Review reasons that more identifiers can resolve (see ``recoverable``). A conflict or a
# second patient never goes away by reading more: extra readings only ever add identifiers.
RECOVERABLE = frozenset(
    {NO_IDENTIFIERS, SINGLE_IDENTIFIER, NAME_ONLY, UNKNOWN_PATIENT, AMBIGUOUS, LOW_SCORE}
)
Rereader = Callable[[PageJob, int, Region, int, Sequence[float]], list[PageText]]
"""Reads part of an OCR'd page again: (job, rotation, region, psm, angles)."""
# Words that mark where a patient label or identifier block is on a page.
LABEL_WORD = re.compile(
    r"^(MRN|DOB|Name|Patient|Sex|Med|Rec|Acct|Account|Birth|Born|ID|Pt)\b", re.IGNORECASE
)
# A word read this badly on the top of page 1 is most likely part of a crooked label
# (when it has letters or digits: rule lines and borders read as low-confidence "_" or "|").
GARBLED_CONFIDENCE = 70.0
ALNUM = re.compile(r"[A-Za-z0-9]")
# Around the words found, how much more of the page to read (label lines beside them).
MARGIN_X, MARGIN_Y = 0.04, 0.035


class SecondLookSettings(BaseModel):
    """Reading the label region of page 1 again when a document's identification is incomplete.

    A patient label pasted crooked over the letterhead is often garbled in the page's own
    reading; read on its own with other segmentation modes it usually comes out clean. Only
    a page whose top has badly read words is read again, and only the region of its label
    (see ``label_region``); ``top_fraction`` is how far down the label is looked for.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    top_fraction: float = Field(default=0.33, gt=0.0, le=1.0)
    # "top": the whole top_fraction is read again; "label": only the region of the label
    # found in it (see ``label_region``), a smaller image, but on the sticker benchmark it
    # filed fewer documents than the whole top (1 of 4 against 2), so it is not the default.
    region: Literal["top", "label"] = "top"
    # (tesseract page segmentation mode, degrees to turn the region counter-clockwise),
    # tried in order until the document may be filed: sparse text, one uniform block, then
    # turned by two degrees either way (a crooked sticker or a skewed scan). A pass costs
    # about a fifth of reading the page; +2 degrees in block mode never paid off in the
    # accuracy benchmark.
    passes: list[tuple[int, float]] = Field(
        default_factory=lambda: [(11, 0.0), (6, 0.0), (11, -2.0), (11, 2.0), (6, -2.0)]
    )


class FilingSettings(BaseModel):
    """Settings of the identify, classify and match stages."""

    model_config = ConfigDict(extra="forbid")

    identifiers: IdentifierSettings = Field(default_factory=IdentifierSettings)
    matching: MatchSettings = Field(default_factory=MatchSettings)
    classify: ClassifySettings = Field(default_factory=ClassifySettings)
    second_look: SecondLookSettings = Field(default_factory=SecondLookSettings)


@dataclass(frozen=True)
class Filing:
    """The outcome of identify → classify → match for one document."""

    status: str
    patient_mrn: str | None
    review_reason: str | None
    doc_type: str | None
    service_date: date | None
    decision: dict[str, Any] | None
    identifiers: list[tuple[str, str, int | None]] = field(default_factory=list)
    doc_type_loinc: str | None = None
    # The tesseract passes of the second look, paid for page 1.
    second_look_passes: tuple[OcrPass, ...] = ()
    # Other people the document names: (role, kind, value, page); providers among them.
    people: list[tuple[str, str, str, int | None]] = field(default_factory=list)


def decide_filing(
    pages: Sequence[PageText],
    store: Store,
    settings: FilingSettings,
    today: date,
    *,
    reread: Rereader = reread_top,
    classifier: Classifier | None = None,
) -> Filing:
    """Identify, classify and match a read document; file it only when it is safe to.

    ``today`` bounds dates of birth (none is in the future) and reads two-digit years.
    When the identification is incomplete (see ``recoverable``), the top of page 1 is read
    again with ``reread`` (on the OCR pool, in the daemon) and what it finds is added to the
    document's identifiers: more identifiers can complete an agreement or add a
    contradiction, never remove one. The type comes from ``classifier`` (the keyword rules
    of ``settings.classify`` when None).
    """
    identifiers = extract_identifiers(pages, settings.identifiers, today=today)
    kind = (classifier or KeywordClassifier(settings.classify)).classify(pages)
    confidences = [p.confidence for p in pages if p.confidence is not None]
    has_text = any(p.text.strip() for p in pages)

    def match(ids: Identifiers) -> MatchDecision:
        return _match(ids, store, settings, min(confidences) if confidences else None, has_text)

    decision = match(identifiers)
    unread = [p.number for p in pages if p.error]
    look: dict[str, Any] | None = None
    look_passes: list[OcrPass] = []
    job = pages[0].job if pages else None
    if (
        job is not None
        and not unread
        and _worth_second_look(decision, identifiers, pages, settings.second_look)
    ):
        identifiers, decision, look = _second_look(
            pages[0], job, identifiers, decision, match, settings, today, reread, look_passes
        )
    reason = decision.reason
    status = decision.action if decision.action == "file" else "review"
    if unread:
        # A document with unread pages is never filed: the page a clerk cannot see may be
        # someone else's.
        status = "review"
        reason = f"page(s) {', '.join(map(str, unread))} could not be read"
    return Filing(
        status="filed" if status == "file" else "review",
        patient_mrn=decision.mrn if status == "file" else None,
        review_reason=None if status == "file" else reason,
        doc_type=kind.doc_type,
        doc_type_loinc=kind.loinc,
        service_date=identifiers.service_dates[0] if identifiers.service_dates else None,
        decision=_decision_json(decision, look),
        identifiers=identifier_rows(identifiers),
        second_look_passes=tuple(look_passes),
        people=people_rows(identifiers),
    )


def _match(
    ids: Identifiers,
    store: Store,
    settings: FilingSettings,
    ocr_confidence: float | None,
    has_text: bool,
) -> MatchDecision:
    decision = match_patient(
        ids, store, settings.matching, ocr_confidence=ocr_confidence, has_text=has_text
    )
    if decision.action == "file" and decision.mrn is not None:
        # FHIR active: false or a replaced-by link: nothing is filed there without a clerk.
        chosen = store.patients_by_mrn([decision.mrn]).get(decision.mrn)
        if chosen is None or chosen.inactive:
            return replace(decision, action="review", mrn=None, reason=INACTIVE_PATIENT)
    return decision


def _worth_second_look(
    decision: MatchDecision,
    identifiers: Identifiers,
    pages: Sequence[PageText],
    look: SecondLookSettings,
) -> bool:
    if not (look.enabled and recoverable(decision) and pages[0].source == "ocr"):
        return False
    # A page that gave an MRN, a name and a date of birth, none of which any registered
    # patient shares, is most likely a patient new to this hospital (outside records):
    # reading it again would cost five passes and find the same.
    complete = bool(identifiers.mrns and identifiers.names and identifiers.dobs)
    if decision.reason == UNKNOWN_PATIENT and complete:
        return False
    # A page whose top read cleanly holds nothing a second reading could read better: a
    # crooked sticker always leaves badly read words. (A page without word boxes cannot
    # tell, and is read again.)
    first = pages[0]
    return not first.words or any(_garbled(w, first, look.top_fraction) for w in first.words)


def _garbled(word: Word, page: PageText, fraction: float) -> bool:
    """A word of the top of the page that tesseract read badly and that is not a rule line."""
    return (
        word.top < page.height * fraction
        and word.conf < GARBLED_CONFIDENCE
        and len(ALNUM.findall(word.text)) >= 2
    )


def recoverable(decision: MatchDecision) -> bool:
    """Whether more identifiers read from the document could let it be filed.

    An unknown patient with candidates is one whom something on the page contradicts;
    only a patient with no candidate at all may turn up with a better-read identifier.
    """
    if decision.action != "review" or decision.reason not in RECOVERABLE:
        return False
    return decision.reason != UNKNOWN_PATIENT or not decision.candidates


def _second_look(
    page: PageText,
    job: PageJob,
    identifiers: Identifiers,
    decision: MatchDecision,
    match: Callable[[Identifiers], MatchDecision],
    settings: FilingSettings,
    today: date,
    reread: Rereader,
    spent: list[OcrPass],
) -> tuple[Identifiers, MatchDecision, dict[str, Any]]:
    """Read the top of ``page`` again, pass by pass, until the document may be filed.

    Every reading's identifiers are added to the document's (as found on that page); the
    decision is made afresh on the union, so a contradicting extra sends it to review.
    """
    look = settings.second_look
    started = time.perf_counter()
    passes = 0
    recovered_by: list[float] | None = None
    region: Region = (
        label_region(page, look.top_fraction)
        if look.region == "label"
        else (0.0, 0.0, 1.0, look.top_fraction)
    )
    for psm, angle in look.passes:
        passes += 1
        readings = reread(job, page.rotation, region, psm, (angle,))
        spent.extend(p for r in readings for p in r.passes)
        extra = extract_identifiers(
            [_as_page(r, page.number) for r in readings], settings.identifiers, today=today
        )
        merged = _merge(identifiers, extra)
        if merged == identifiers:
            continue
        identifiers, decision = merged, match(merged)
        if decision.action == "file":
            recovered_by = [psm, angle]
            break
        if not recoverable(decision):
            break
    summary = {
        "passes": passes,
        "seconds": round(time.perf_counter() - started, 3),
        "recovered": decision.action == "file",
        "recovered_by": recovered_by,
    }
    return identifiers, decision, summary


def label_region(page: PageText, fraction: float) -> Region:
    """Where on the page a patient label or identifier block is: what a second look reads.

    The words of the top ``fraction`` of the page that are identifier labels (MRN, DOB,
    Name, ...) or read badly (a crooked sticker garbles them) mark it; the region is their
    box with a margin for the label lines beside them. With no such word, or on a page
    without word boxes, it is the whole top ``fraction``.
    """
    whole: Region = (0.0, 0.0, 1.0, fraction)
    if not page.words or page.width <= 0 or page.height <= 0:
        return whole
    marks = [
        w
        for w in page.words
        if _garbled(w, page, fraction)
        or (w.top < page.height * fraction and LABEL_WORD.match(w.text))
    ]
    if not marks:
        return whole
    left = min(w.left for w in marks) / page.width - MARGIN_X
    top = min(w.top for w in marks) / page.height - MARGIN_Y
    right = max(w.right for w in marks) / page.width + MARGIN_X
    bottom = max(w.bottom for w in marks) / page.height + MARGIN_Y
    return (max(0.0, left), max(0.0, top), min(1.0, right), min(1.0, max(bottom, top + 0.02)))


def _as_page(reading: PageText, number: int) -> PageText:
    return PageText(
        number=number,
        text=reading.text,
        words=reading.words,
        confidence=reading.confidence,
        source="ocr",
        rotation=reading.rotation,
        width=reading.width,
        height=reading.height,
    )


def _merge(base: Identifiers, extra: Identifiers) -> Identifiers:
    """Everything in ``base`` and everything new in ``extra``; nothing is ever dropped."""
    return Identifiers.from_found(
        (*base.found, *extra.found), (*base.unlabelled_numbers, *extra.unlabelled_numbers)
    )


def _decision_json(decision: MatchDecision, look: dict[str, Any] | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action": decision.action,
        "reason": decision.reason,
        "candidates": [asdict(c) for c in decision.candidates],
        "set_aside": list(decision.set_aside),
    }
    if look is not None:
        data["second_look"] = look
    return data


def _text(value: object) -> str:
    if isinstance(value, PersonName):
        return f"{value.last}, {value.first}" + (f" {value.middle}" if value.middle else "")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def identifier_rows(identifiers: Identifiers) -> list[tuple[str, str, int | None]]:
    """The patient's identifiers (and prior MRNs, as ``prior_mrn``) as (kind, value, page)."""
    rows: list[tuple[str, str, int | None]] = []
    for found in identifiers.found:
        if found.role == PATIENT:
            rows.append((found.kind, _text(found.value), found.page))
        elif found.role == PRIOR_MRN:
            rows.append(("prior_mrn", _text(found.value), found.page))
    return rows


def people_rows(identifiers: Identifiers) -> list[tuple[str, str, str, int | None]]:
    """Everyone else the document names, as (role, kind, value, page): providers once each."""
    rows: list[tuple[str, str, str, int | None]] = [
        (found.role, found.kind, _text(found.value), found.page)
        for found in identifiers.set_aside
        if found.role not in PROVIDER_ROLES and found.role != PRIOR_MRN
    ]
    rows += [(f.role, "name", _text(f.value), f.page) for f in identifiers.providers]
    return rows
