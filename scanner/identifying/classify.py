"""What kind of document this is (lab report, consent, ...), by weighted keywords.

A title near the top of the first page ("OPERATIVE REPORT") says far more than a phrase in
the body ("see operative report of 3/1"), so title hits weigh more. The :class:`Classifier`
protocol is the seam where a trained model could replace the keyword rules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scanner.reading.pagetext import PageText

OTHER = "other"
# What a keyword must not touch on either side to count as a whole phrase (text is lowercased).
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")

_DEFAULT_KEYWORDS: dict[str, list[str]] = {
    "lab_report": [
        "laboratory report", "lab report", "laboratory results", "specimen", "reference range",
        "collected", "hemoglobin", "glucose", "cbc", "complete blood count",
        "basic metabolic panel", "comprehensive metabolic panel", "urinalysis",
        "culture", "abnormal flag", "units",
    ],
    "radiology_report": [
        "radiology report", "radiology", "impression", "findings", "x-ray", "xray", "ct scan",
        "mri", "ultrasound", "contrast", "radiologist", "chest pa and lateral",
        "technique",
    ],
    "progress_note": [
        "progress note", "progress notes", "soap note", "subjective", "objective",
        "assessment and plan", "interval history", "daily note",
    ],
    "discharge_summary": [
        "discharge summary", "discharge diagnosis", "discharge diagnoses", "hospital course",
        "discharge medications", "discharge instructions", "date of discharge", "disposition",
    ],
    "history_physical": [
        "history and physical", "history & physical", "h&p", "chief complaint",
        "history of present illness", "past medical history", "review of systems",
        "physical examination", "social history", "family history",
    ],
    "operative_report": [
        "operative report", "operative note", "procedure note", "preoperative diagnosis",
        "postoperative diagnosis", "anesthesia", "estimated blood loss", "surgeon", "incision",
        "specimens removed", "complications",
    ],
    "consent": [
        "consent", "informed consent", "consent for", "i hereby authorize", "i authorize",
        "risks and benefits", "signature of patient", "witness", "i understand",
    ],
    "consult_note": [
        "consultation", "consult note", "consultation note", "reason for consultation",
        "reason for consult", "thank you for this referral", "requesting physician",
        "recommendations", "referring physician",
    ],
}  # fmt: skip

_DEFAULT_LOINC: dict[str, str] = {
    "lab_report": "11502-2",
    "radiology_report": "18748-4",
    "progress_note": "11506-3",
    "discharge_summary": "18842-5",
    "history_physical": "34117-2",
    "operative_report": "11504-8",
    "consent": "59284-0",
    "consult_note": "11488-4",
}


class ClassifySettings(BaseModel):
    """Keyword rules and LOINC codes for document types (``filing.classify`` in config)."""

    model_config = ConfigDict(extra="forbid")

    keywords: dict[str, list[str]] = Field(default_factory=lambda: dict(_DEFAULT_KEYWORDS))
    loinc: dict[str, str] = Field(default_factory=lambda: dict(_DEFAULT_LOINC))
    title_lines: int = Field(default=6, ge=0, description="first lines of page 1 read as title")
    title_weight: float = Field(default=5.0, ge=0)
    body_weight: float = Field(default=1.0, ge=0)
    max_body_hits_per_keyword: int = Field(default=3, ge=1)
    min_score: float = Field(default=3.0, ge=0)

    @model_validator(mode="after")
    def _loinc_types_known(self) -> ClassifySettings:
        unknown = sorted(set(self.loinc) - set(self.keywords))
        if unknown:
            raise ValueError(f"loinc codes for types without keywords: {', '.join(unknown)}")
        return self


@dataclass(frozen=True)
class Classification:
    """The document type, its LOINC code, a score and the keyword evidence for it."""

    doc_type: str
    loinc: str | None
    score: float
    reasons: tuple[str, ...]


class Classifier(Protocol):
    """Anything that can tell a document's type from its pages."""

    def classify(self, pages: Sequence[PageText]) -> Classification:
        """Classify a document."""
        ...


def _take(keyword: str, text: str) -> tuple[int, str]:
    """Count ``keyword`` as a whole phrase and blank it out so shorter keywords don't recount.

    A phrase is whole when no ASCII letter or digit touches it on either side. ``str.find``
    scans for it (a regex with a look-behind first cannot skip ahead, and cost a
    millisecond a keyword on a dense document); most keywords are not there at all.
    """
    count, pieces, start, size = 0, [], 0, len(keyword)
    at = text.find(keyword) if keyword else -1
    while at != -1:
        end = at + size
        if (at == 0 or text[at - 1] not in _WORD_CHARS) and (
            end == len(text) or text[end] not in _WORD_CHARS
        ):
            count += 1
            pieces += [text[start:at], " "]
            start = end
            at = text.find(keyword, end)
        else:
            at = text.find(keyword, at + 1)
    if not count:
        return 0, text
    pieces.append(text[start:])
    return count, "".join(pieces)


def _title_and_body(pages: Sequence[PageText], title_lines: int) -> tuple[str, str]:
    texts = [re.sub(r"[ \t]+", " ", page.text).lower() for page in pages]
    if not texts:
        return "", ""
    first = [line for line in texts[0].splitlines() if line.strip()]
    title = "\n".join(first[:title_lines])
    body = "\n".join(["\n".join(first[title_lines:]), *texts[1:]])
    return title, body


def _score_type(
    keywords: Sequence[str], title: str, body: str, s: ClassifySettings
) -> tuple[float, list[str]]:
    score, reasons = 0.0, []
    # Longest first: "radiology report" is one piece of evidence, not also "radiology".
    for key in sorted({k.lower() for k in keywords}, key=len, reverse=True):
        in_title, title = _take(key, title)
        if in_title:
            score += s.title_weight
            reasons.append(f"title: {key}")
        in_body, body = _take(key, body)
        hits = min(in_body, s.max_body_hits_per_keyword)
        if hits:
            score += s.body_weight * hits
            reasons.append(f"body: {key} x{hits}")
    return score, reasons


def classify(pages: Sequence[PageText], settings: ClassifySettings) -> Classification:
    """Classify a document by keyword rules.

    Args:
        pages: the document's pages in order.
        settings: keywords per type, LOINC codes and weights.

    Returns:
        The best-scoring type, or ``other`` (no LOINC code) when nothing scores at least
        ``settings.min_score``. Reasons name the keywords seen (never patient data).
    """
    title, body = _title_and_body(pages, settings.title_lines)
    best_type, best_score, best_reasons = OTHER, 0.0, []
    for doc_type, keywords in settings.keywords.items():
        score, reasons = _score_type(keywords, title, body, settings)
        if score > best_score:
            best_type, best_score, best_reasons = doc_type, score, reasons
    if best_score < settings.min_score:
        return Classification(OTHER, None, best_score, ())
    return Classification(best_type, settings.loinc.get(best_type), best_score, tuple(best_reasons))


@dataclass(frozen=True)
class KeywordClassifier:
    """The keyword rules behind the :class:`Classifier` protocol."""

    settings: ClassifySettings

    def classify(self, pages: Sequence[PageText]) -> Classification:
        """Classify a document with :func:`classify`."""
        return classify(pages, self.settings)
