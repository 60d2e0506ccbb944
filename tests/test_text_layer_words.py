"""A text layer's words and boxes: exactly pdfium's characters, and cheap to carry across."""

from __future__ import annotations

import pickle
import re
from array import array
from dataclasses import replace
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from scanner.identifying.identifiers import IdentifierSettings, extract_identifiers
from scanner.reading.document import FindOnPage, read_and_find
from scanner.reading.pages import PageJob, ReadOptions
from scanner.reading.pagetext import TextLayerWords, Word
from scanner.reading.textlayer import LINE_TOLERANCE, read_pdf_text_layer
from synthetic.files import text_of, write_text_pdf
from tests.scans import patients, spec_for

OPTIONS = ReadOptions(300, 80_000_000, 60.0, "eng", 60.0, 8, 200)
TODAY = date(2026, 12, 5)
SETTINGS = IdentifierSettings()


def _oracle(path: Path, index: int) -> list[tuple[str, float, float, float, float, int]]:
    """Words as pdfium's own wrapper gives them, one character box at a time.

    A word is a run of non-space characters; its box spans its first and last characters'
    loose boxes; words whose tops are within LINE_TOLERANCE of a line's first word share
    that line, left to right.
    """
    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[index]
        height = page.get_height()
        textpage = page.get_textpage()
        count = textpage.count_chars()
        text = "".join(textpage.get_text_range(i, 1) or " " for i in range(count))
        boxes = []
        for match in re.finditer(r"\S+", text):
            first = textpage.get_charbox(match.start(), loose=True)
            last = textpage.get_charbox(match.end() - 1, loose=True)
            left, bottom = min(first[0], last[0]), min(first[1], last[1])
            right, top = max(first[2], last[2]), max(first[3], last[3])
            boxes.append((match.group(), left, height - top, right, height - bottom))
        textpage.close()
        page.close()
    finally:
        pdf.close()
    lines: list[list[tuple[str, float, float, float, float]]] = []
    for box in sorted(boxes, key=lambda b: (b[2], b[1])):
        if lines and abs(box[2] - lines[-1][0][2]) <= LINE_TOLERANCE:
            lines[-1].append(box)
        else:
            lines.append([box])
    return [
        (t, left, top, right - left, bottom - top, number)
        for number, line in enumerate(lines, 1)
        for t, left, top, right, bottom in sorted(line, key=lambda b: b[1])
    ]


def _columns_and_turns(path: Path) -> Path:
    """Two columns of text at the same heights, a rotated margin note and mixed sizes."""
    pdf = canvas.Canvas(str(path), pagesize=letter, invariant=True)
    width, height = letter
    for row in range(30):
        y = height - 60 - row * 14
        pdf.setFont("Helvetica", 10)
        pdf.drawString(40, y, f"Left column line {row} Na+ 140 mmol/L (135-145)")
        pdf.setFont("Courier", 9 if row % 2 else 11)
        pdf.drawString(330, y + (row % 3) - 1, f"MRN: {10000000 + row}  DOB: 03/14/1962")
    pdf.saveState()
    pdf.translate(20, 200)
    pdf.rotate(90)
    pdf.setFont("Helvetica", 8)
    pdf.drawString(0, 0, "Printed sideways by the EHR, page 1 of 1")
    pdf.restoreState()
    pdf.setFont("Times-Roman", 14)
    pdf.drawString(40, 60, "Café Müller — signed électroniquement, 12/01/2026")
    pdf.showPage()
    pdf.save()
    return path


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("textlayer")
    made = [_columns_and_turns(folder / "columns.pdf")]
    for n, patient in enumerate(patients()[:4]):
        made.append(write_text_pdf(text_of(spec_for(patient, pages=2)), folder / f"d{n}.pdf"))
    return made


def test_words_boxes_and_lines_are_pdfiums_characters(pdfs: list[Path]) -> None:
    for path in pdfs:
        for index in range(len(pdfium.PdfDocument(str(path)))):
            page = read_pdf_text_layer(str(path), index)
            assert page is not None
            expected = _oracle(path, index)
            assert len(expected) > 20
            got = [(w.text, w.left, w.top, w.width, w.height, w.line) for w in page.words]
            assert got == expected
            assert all(w.conf == 100.0 and w.block == w.par == 0 for w in page.words)
            lines: dict[int, list[str]] = {}
            for word in expected:
                lines.setdefault(word[5], []).append(word[0])
            assert page.text == "\n".join(" ".join(words) for words in lines.values())


def test_words_cross_to_the_ingest_process_as_they_were(pdfs: list[Path]) -> None:
    for path in pdfs:
        page = read_pdf_text_layer(str(path), 0)
        assert page is not None and isinstance(page.words, TextLayerWords)
        made = tuple(page.words)
        crossed = pickle.loads(pickle.dumps(page, protocol=pickle.HIGHEST_PROTOCOL))
        assert len(crossed.words) == len(made)
        assert tuple(crossed.words) == made, "the same words, boxes and line numbers"
        assert all(type(w) is Word for w in crossed.words)
        assert crossed == page and hash(crossed.words) == hash(made)
        # The boxes travel as one array, not an object a word.
        assert len(pickle.dumps(page.words)) < 40 * len(made) + len(page.text) + 200


def test_boxes_that_do_not_fit_the_text_are_refused() -> None:
    TextLayerWords("MRN: 123\nDOB", array("d", [0.0] * 12))
    with pytest.raises(ValueError, match="box values"):
        TextLayerWords("MRN: 123\nDOB", array("d", [0.0] * 8))
    assert list(TextLayerWords("", array("d"))) == []


def test_findings_found_again_after_crossing_use_the_same_words(tmp_path: Path) -> None:
    # Findings stale in the ingest process (the day turned): they are found again there from
    # the words that crossed, and must be what a fresh reading finds, table columns included.
    spec = spec_for(patients()[5], pages=2, layout="table")
    path = write_text_pdf(text_of(spec), tmp_path / "t.pdf")
    find = FindOnPage(SETTINGS.model_dump_json(), date(2026, 12, 4))
    crossed = [
        pickle.loads(pickle.dumps(read_and_find(PageJob(str(path), "pdf", i, OPTIONS), find)))
        for i in range(2)
    ]
    fresh = [p for i in range(2) if (p := read_pdf_text_layer(str(path), i)) is not None]
    assert len(fresh) == 2
    again = extract_identifiers(crossed, SETTINGS, today=TODAY)
    assert again == extract_identifiers(fresh, SETTINGS, today=TODAY)
    assert patients()[5].mrn in again.mrns
    wordless = [replace(p, words=()) for p in fresh]
    assert extract_identifiers(wordless, SETTINGS, today=TODAY) != again, (
        "the table's values are found only with the words"
    )
