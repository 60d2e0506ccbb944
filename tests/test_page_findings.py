"""Identifiers found where a page is read (a worker) are the ones the ingest would find."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from scanner.identifying.identifiers import (
    IdentifierSettings,
    extract_identifiers,
    find_on_page,
    findings_key,
)
from scanner.reading.document import FindOnPage, read_and_find
from scanner.reading.pages import PageJob, ReadOptions
from synthetic.files import text_of, write_text_pdf
from tests.scans import patients, scan, spec_for

OPTIONS = ReadOptions(300, 80_000_000, 60.0, "eng", 60.0, 8, 200)
TODAY = date(2026, 12, 5)
SETTINGS = IdentifierSettings()


def test_a_text_layer_page_comes_back_with_the_identifiers_the_ingest_would_find(
    tmp_path: Path,
) -> None:
    spec = spec_for(patients()[3], pages=2)
    mrn = patients()[3].mrn
    path = write_text_pdf(text_of(spec), tmp_path / "t.pdf")
    find = FindOnPage(SETTINGS.model_dump_json(), TODAY)
    pages = [read_and_find(PageJob(str(path), "pdf", i, OPTIONS), find) for i in range(2)]
    for page in pages:
        # Found with settings that crossed a process boundary as JSON: still the same key,
        # so the ingest takes them rather than finding them again.
        assert page.findings is not None
        assert page.findings.key == findings_key(SETTINGS, TODAY)
    carried = extract_identifiers(pages, SETTINGS, today=TODAY)
    fresh = extract_identifiers([replace(p, findings=None) for p in pages], SETTINGS, today=TODAY)
    assert carried == fresh
    assert mrn in carried.mrns


@pytest.mark.needs_tesseract
def test_an_ocr_page_comes_back_with_its_identifiers(tmp_path: Path) -> None:
    patient = patients()[1]
    path = scan(tmp_path, patient, "png", "p.png")
    find = FindOnPage(SETTINGS.model_dump_json(), TODAY)
    page = read_and_find(PageJob(str(path), "image", 0, OPTIONS), find)
    assert page.source == "ocr" and page.findings is not None
    assert extract_identifiers([page], SETTINGS, today=TODAY) == extract_identifiers(
        [replace(page, findings=None)], SETTINGS, today=TODAY
    )


def test_findings_made_with_other_settings_or_another_day_are_not_taken(tmp_path: Path) -> None:
    spec = spec_for(patients()[3], pages=1)
    mrn = patients()[3].mrn
    path = write_text_pdf(text_of(spec), tmp_path / "t.pdf")
    page = read_and_find(
        PageJob(str(path), "pdf", 0, OPTIONS), FindOnPage(SETTINGS.model_dump_json(), TODAY)
    )
    # Findings that claim nothing was on the page, stamped with another site's labels:
    # taking them would lose the MRN.
    other = SETTINGS.model_copy(update={"mrn_labels": ["Chart No"]})
    empty = find_on_page(replace(page, text="", words=()), other, today=TODAY)
    assert empty.values == () and empty.key != findings_key(SETTINGS, TODAY)
    assert mrn in extract_identifiers([replace(page, findings=empty)], SETTINGS, today=TODAY).mrns
    stale = find_on_page(replace(page, text="", words=()), SETTINGS, today=date(2026, 12, 4))
    assert mrn in extract_identifiers([replace(page, findings=stale)], SETTINGS, today=TODAY).mrns
