"""Reading the top of page 1 again when a document's identification is incomplete.

The re-reader is a stand-in here (no tesseract): it returns what a clean second reading of
a crooked sticker would give, so the tests pin down how its identifiers are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest

from clerk.app import App
from records.audit import Actor
from records.patients import import_patients
from scanner.matching.filing import FilingSettings, SecondLookSettings, decide_filing
from scanner.reading.pages import PageJob, ReadOptions
from scanner.reading.pagetext import PageText
from synthetic import SyntheticPatient, generate_patients, write_registry_csv

TODAY = date(2026, 1, 15)
OPTIONS = ReadOptions(300, 80_000_000, 60.0, "eng", 55.0, 10, 200)
JOB = PageJob("/nonexistent/scan.png", "image", 0, OPTIONS)


@pytest.fixture
def registry(app: App, tmp_path: Path) -> list[SyntheticPatient]:
    people = generate_patients(30, seed=11)
    import_patients(
        app.store, write_registry_csv(people, tmp_path / "r.csv"), actor=Actor("test", "cli")
    )
    return people


class FakeReader:
    """Returns fixed texts as the readings of the top of the page; counts its calls."""

    def __init__(self, *texts: str) -> None:
        self.texts = list(texts)
        self.calls: list[int] = []

    def __call__(
        self, job: PageJob, rotation: int, fraction: float, psm: int, angles: Sequence[float]
    ) -> list[PageText]:
        self.calls.append(psm)
        text = self.texts.pop(0) if self.texts else ""
        return [PageText(job.number, text, confidence=90.0, source="ocr")] if text else []


def page(text: str, *, job: PageJob | None = JOB, source: str = "ocr") -> PageText:
    return PageText(1, text, confidence=90.0 if source == "ocr" else None, source=source, job=job)  # type: ignore[arg-type]


def dob(p: SyntheticPatient) -> str:
    return p.dob.strftime("%m/%d/%Y")


def test_a_second_reading_completes_a_single_identifier(
    app: App, registry: list[SyntheticPatient]
) -> None:
    p = registry[0]
    reader = FakeReader(f"{p.last_name.upper()}, {p.first_name.upper()}\nDOB: {dob(p)}")
    filing = decide_filing(
        [page(f"LAB REPORT\nMRN: {p.mrn}\nResults normal.")],
        app.store,
        FilingSettings(),
        TODAY,
        reread=reader,
    )
    assert (filing.status, filing.patient_mrn) == ("filed", p.mrn)
    assert reader.calls == [11]
    assert filing.decision is not None
    assert filing.decision["second_look"]["recovered"] is True
    assert ("dob", p.dob.isoformat(), 1) in filing.identifiers


def test_a_contradicting_second_reading_sends_to_review(
    app: App, registry: list[SyntheticPatient]
) -> None:
    p, other = registry[0], next(q for q in registry[1:] if q.dob != registry[0].dob)
    reader = FakeReader(f"DOB: {dob(other)}", f"DOB: {dob(p)}")
    filing = decide_filing(
        [page(f"LAB REPORT\nMRN: {p.mrn}\nResults normal.")],
        app.store,
        FilingSettings(),
        TODAY,
        reread=reader,
    )
    # The other DOB is kept even when a later reading agrees: nothing read is dropped.
    assert filing.status == "review"
    assert filing.review_reason in ("identifier conflict", "multiple patients on document")


def test_a_fully_identified_page_is_not_read_again(
    app: App, registry: list[SyntheticPatient]
) -> None:
    p = registry[0]
    reader = FakeReader()
    filing = decide_filing(
        [page(f"MRN: {p.mrn}\nDOB: {dob(p)}\nPatient Name: {p.last_name}, {p.first_name}")],
        app.store,
        FilingSettings(),
        TODAY,
        reread=reader,
    )
    assert filing.status == "filed"
    assert reader.calls == []
    assert filing.decision is not None and "second_look" not in filing.decision


@pytest.mark.parametrize("source", ["text_layer", "no job"])
def test_only_ocr_pages_are_read_again(
    app: App, registry: list[SyntheticPatient], source: str
) -> None:
    p = registry[0]
    reader = FakeReader(f"DOB: {dob(p)}")
    one = (
        page(f"MRN: {p.mrn}", job=None, source="text_layer")
        if source == "text_layer"
        else page(f"MRN: {p.mrn}", job=None)
    )
    filing = decide_filing([one], app.store, FilingSettings(), TODAY, reread=reader)
    assert filing.status == "review"
    assert reader.calls == []


def test_nothing_new_leaves_the_decision_alone(app: App, registry: list[SyntheticPatient]) -> None:
    p = registry[0]
    reader = FakeReader(f"MRN: {p.mrn}")
    filing = decide_filing(
        [page(f"MRN: {p.mrn}")], app.store, FilingSettings(), TODAY, reread=reader
    )
    assert (filing.status, filing.review_reason) == ("review", "single identifier")
    assert reader.calls == [psm for psm, _ in SecondLookSettings().passes]
    assert filing.decision is not None
    assert filing.decision["second_look"]["recovered"] is False


def test_second_look_can_be_turned_off(app: App, registry: list[SyntheticPatient]) -> None:
    p = registry[0]
    reader = FakeReader(f"DOB: {dob(p)}")
    off = FilingSettings(second_look=SecondLookSettings(enabled=False))
    filing = decide_filing([page(f"MRN: {p.mrn}")], app.store, off, TODAY, reread=reader)
    assert filing.status == "review"
    assert reader.calls == []


@pytest.mark.needs_tesseract
def test_reread_top_reads_a_crooked_sticker(tmp_path: Path) -> None:
    from scanner.identifying.identifiers import IdentifierSettings, extract_identifiers
    from scanner.ocr import read_page, reread_top
    from tests.scans import patients, scan

    p = patients()[3]
    path = scan(tmp_path, p, "png", "sticker.png", layout="sticker")
    job = PageJob(str(path), "image", 0, OPTIONS)
    first = read_page(job)
    assert first.job == job  # an OCR'd page knows how to be read again
    readings = reread_top(job, first.rotation, 0.33, 11, (0.0,))
    assert len(readings) == 1 and readings[0].number == 1
    assert readings[0].height < first.height / 2
    found = extract_identifiers(readings, IdentifierSettings(), today=TODAY)
    assert p.mrn in found.mrns
    assert reread_top(PageJob(str(tmp_path / "gone.png"), "image", 0, OPTIONS), 0, 0.3, 11) == []


def test_an_unknown_patient_with_contradicted_candidates_is_not_read_again(
    app: App, registry: list[SyntheticPatient]
) -> None:
    p = registry[0]
    reader = FakeReader(f"{p.last_name}, {p.first_name}")
    # Someone else's MRN next to this patient's DOB: no further reading removes the clash.
    filing = decide_filing(
        [page(f"MRN: 99999999\nDOB: {dob(p)}")], app.store, FilingSettings(), TODAY, reread=reader
    )
    assert (filing.status, filing.review_reason) == ("review", "unknown patient")
    assert reader.calls == []
