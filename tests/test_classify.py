"""Document type classification by keyword rules (synthetic documents)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.identifying.classify import (
    Classification,
    Classifier,
    ClassifySettings,
    KeywordClassifier,
    _take,
    classify,
)
from scanner.reading.pagetext import PageText

S = ClassifySettings()


def pages(*texts: str) -> list[PageText]:
    return [PageText(number, text) for number, text in enumerate(texts, start=1)]


CASES = [
    (
        "ST. MARY HOSPITAL\n"
        "LABORATORY REPORT\n"
        "Patient: DOE, JANE\n"
        "GLUCOSE 5.5 mmol/L  Reference Range 3.9-5.6",
        "lab_report",
    ),
    (
        "Complete Blood Count\nHemoglobin 13.2 g/dL\nSpecimen: blood  Collected: 05/20/2024",
        "lab_report",
    ),
    (
        "RADIOLOGY REPORT\nEXAM: CHEST PA AND LATERAL\nFINDINGS: clear lungs.\nIMPRESSION: normal.",
        "radiology_report",
    ),
    (
        "MRI BRAIN WITHOUT CONTRAST\nTechnique: ...\nFindings: ...\nImpression: no acute findings",
        "radiology_report",
    ),
    (
        "PROGRESS NOTE\n"
        "Subjective: feels better.\n"
        "Objective: afebrile.\n"
        "Assessment and Plan: continue.",
        "progress_note",
    ),
    (
        "DISCHARGE SUMMARY\nHospital Course: uneventful.\nDischarge Medications: none",
        "discharge_summary",
    ),
    (
        "HISTORY AND PHYSICAL\n"
        "Chief Complaint: cough\n"
        "History of Present Illness: 3 days\n"
        "Review of Systems: neg",
        "history_physical",
    ),
    (
        "H&P\nChief complaint: chest pain\nPast Medical History: HTN\nSocial History: none",
        "history_physical",
    ),
    (
        "OPERATIVE REPORT\n"
        "Preoperative Diagnosis: appendicitis\n"
        "Postoperative Diagnosis: same\n"
        "Estimated Blood Loss: 10 mL",
        "operative_report",
    ),
    (
        "INFORMED CONSENT FOR SURGERY\n"
        "I hereby authorize Dr. X to perform...\n"
        "Risks and benefits were explained.\n"
        "Witness: ____",
        "consent",
    ),
    (
        "CONSULTATION NOTE\nReason for Consultation: chest pain\nRecommendations: stress test",
        "consult_note",
    ),
    (
        "Thank you for this referral.\nReason for consult: rash\nRecommendations: topical steroid",
        "consult_note",
    ),
    ("Dear Ms. Doe, your appointment is on Tuesday.", "other"),
    ("", "other"),
    ("Fax cover sheet\nPages: 3", "other"),
]


@pytest.mark.parametrize(("text", "doc_type"), CASES)
def test_classify(text: str, doc_type: str) -> None:
    result = classify(pages(text), S)
    assert result.doc_type == doc_type


@pytest.mark.parametrize(
    ("doc_type", "loinc"),
    [
        ("lab_report", "11502-2"),
        ("radiology_report", "18748-4"),
        ("progress_note", "11506-3"),
        ("discharge_summary", "18842-5"),
        ("history_physical", "34117-2"),
        ("operative_report", "11504-8"),
        ("consent", "59284-0"),
        ("consult_note", "11488-4"),
    ],
)
def test_loinc_table(doc_type: str, loinc: str) -> None:
    text = next(t for t, d in CASES if d == doc_type)
    result = classify(pages(text), S)
    assert (result.doc_type, result.loinc) == (doc_type, loinc)
    assert result.score > 0 and result.reasons


def test_other_has_no_loinc() -> None:
    result = classify(pages("Fax cover sheet"), S)
    assert result == Classification("other", None, 0.0, ())


def test_title_outweighs_body_mentions() -> None:
    text = (
        "PROGRESS NOTE\n"
        "Patient seen on rounds.\n"
        "Vitals stable.\nNo distress.\nLabs reviewed.\nAfebrile.\n"
        "See operative report and radiology report; discharge summary pending.\n"
    )
    result = classify(pages(text), S)
    assert result.doc_type == "progress_note"
    assert "title: progress note" in result.reasons


def test_title_only_on_first_page() -> None:
    first = "Some cover letter\nfrom the clinic"
    second = "OPERATIVE REPORT\nSurgeon: X\nPreoperative Diagnosis: hernia"
    result = classify(pages(first, second), S)
    assert result.doc_type == "operative_report"
    assert not any(r.startswith("title:") for r in result.reasons)


def test_body_repeats_are_capped() -> None:
    spam = "\n".join(["x"] * 10 + ["specimen"] * 50)
    result = classify(pages(spam), ClassifySettings(max_body_hits_per_keyword=2))
    assert result.score == 2.0


def test_keywords_are_words_not_substrings() -> None:
    assert classify(pages("MRIDULA\nCONSENTED\nunitsx"), S).doc_type == "other"


def test_custom_rules() -> None:
    custom = ClassifySettings(
        keywords={"ekg": ["electrocardiogram", "ekg"]}, loinc={"ekg": "11524-6"}
    )
    result = classify(pages("ELECTROCARDIOGRAM\nSinus rhythm"), custom)
    assert (result.doc_type, result.loinc) == ("ekg", "11524-6")


def test_settings_validation() -> None:
    with pytest.raises(ValueError, match="kewords"):
        ClassifySettings.model_validate({"kewords": {}})
    with pytest.raises(ValueError, match="ekg"):
        ClassifySettings(keywords={"lab_report": ["lab"]}, loinc={"ekg": "11524-6"})


def test_keyword_classifier_fits_the_protocol() -> None:
    classifier: Classifier = KeywordClassifier(S)
    assert classifier.classify(pages(CASES[0][0])).doc_type == "lab_report"


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=3))
def test_random_pages_never_raise(texts: list[str]) -> None:
    result = classify(pages(*texts), S)
    assert result.doc_type in {*S.keywords, "other"}
    assert (result.loinc is None) == (result.doc_type == "other")


def _regex_take(keyword: str, text: str) -> tuple[int, str]:
    # The rule as a regular expression, written apart from the scanner's str.find loop.
    pattern = r"(?<![a-z0-9])" + re.escape(keyword) + r"(?![a-z0-9])"
    rest, count = re.subn(pattern, " ", text)
    return count, rest


@settings(max_examples=300, deadline=None)
@given(
    keyword=st.text(alphabet="ab 1-", min_size=1, max_size=4),
    text=st.text(alphabet="ab 1-\né", max_size=40),
)
def test_taking_a_keyword_counts_and_blanks_whole_phrases_only(keyword: str, text: str) -> None:
    assert _take(keyword, text) == _regex_take(keyword, text)
