"""What each page cost: the tesseract passes, orientation paid once, the label region."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clerk.cli import cli
from scanner.identifying.identifiers import IdentifierSettings, extract_identifiers
from scanner.matching.filing import label_region
from scanner.ocr import read_page, reread_top
from scanner.reading.pages import PageJob, ReadOptions
from scanner.reading.textlayer import read_pdf_text_layer
from synthetic.files import text_of, write_text_pdf
from tests.scans import patients, scan, spec_for

OPTIONS = ReadOptions(300, 80_000_000, 60.0, "eng", 60.0, 8, 200)


def kinds(page: object) -> list[str]:
    return [p.kind for p in page.passes]  # type: ignore[attr-defined]


def test_a_text_layer_reads_words_lines_and_boxes(tmp_path: Path) -> None:
    spec = spec_for(patients()[2], pages=2)
    path = write_text_pdf(text_of(spec), tmp_path / "t.pdf")
    for index, expected in enumerate(text_of(spec)):
        page = read_pdf_text_layer(str(path), index)
        assert page is not None
        assert page.source == "text_layer" and page.passes == ()
        assert page.text.split() == expected.split()
        assert [line.split() for line in page.text.splitlines()] == [
            line.split() for line in expected.splitlines() if line.strip()
        ]
        mrn = next(w for w in page.words if w.text == spec.patient.mrn)  # type: ignore[union-attr]
        assert 0 < mrn.left < mrn.right < page.width
        assert 0 < mrn.top < mrn.bottom < page.height / 2, "the MRN sits near the top"


def test_a_missing_pdf_page_has_no_text_layer(tmp_path: Path) -> None:
    path = write_text_pdf(["one page"], tmp_path / "t.pdf")
    assert read_pdf_text_layer(str(path), 3) is None


@pytest.mark.needs_tesseract
def test_an_upright_page_costs_one_reading(tmp_path: Path) -> None:
    path = scan(tmp_path, patients()[1], "png", "clean.png")
    page = read_page(PageJob(str(path), "image", 0, OPTIONS))
    assert kinds(page) == ["read"]
    assert page.passes[0].seconds > 0 and page.passes[0].why == "page"


@pytest.mark.needs_tesseract
def test_an_upside_down_page_costs_one_more_reading(tmp_path: Path) -> None:
    path = scan(tmp_path, patients()[1], "png", "turned.png", degradations=("rotate_180",))
    page = read_page(PageJob(str(path), "image", 0, OPTIONS))
    assert page.rotation == 180
    assert kinds(page).count("read") == 2, page.passes
    assert "orientation" in kinds(page)
    assert patients()[1].mrn in page.text


@pytest.mark.needs_tesseract
def test_a_noisy_upright_page_is_not_read_turned(tmp_path: Path) -> None:
    # Demanding more strong words than the page has makes every page "read badly".
    strict = ReadOptions(300, 80_000_000, 60.0, "eng", 60.0, 10_000, 200)
    path = scan(tmp_path, patients()[1], "png", "noisy.png", degradations=("noise", "jpeg"))
    page = read_page(PageJob(str(path), "image", 0, strict))
    assert page.rotation == 0
    assert kinds(page).count("read") <= 2, page.passes
    assert kinds(page)[1] == "orientation"


@pytest.mark.needs_tesseract
def test_the_second_look_reads_the_label_not_the_top_third(tmp_path: Path) -> None:
    p = patients()[3]
    path = scan(tmp_path, p, "png", "sticker.png", layout="sticker")
    job = PageJob(str(path), "image", 0, OPTIONS)
    first = read_page(job)
    left, top, right, bottom = label_region(first, 0.33)
    assert (right - left) * (bottom - top) < 0.5 * 0.33, "much less than the top third"
    readings = reread_top(job, first.rotation, (left, top, right, bottom), 11, (0.0,))
    assert len(readings) == 1
    assert [x.kind for x in readings[0].passes] == ["second_look"]
    found = extract_identifiers(readings, IdentifierSettings(), today=date(2026, 1, 15))
    assert p.mrn in found.mrns


@pytest.mark.needs_tesseract
def test_documents_show_lists_each_pages_passes(tmp_path: Path, config_path: Path) -> None:
    path = scan(tmp_path / "drop", patients()[4], "tiff", "two.tif", pages=2)
    runner = CliRunner()
    base = ["--config", str(config_path)]
    result = runner.invoke(cli, [*base, "ingest", "--json", str(path)])
    assert result.exit_code == 0, result.output
    doc_id = json.loads(result.stdout)[0]["id"]
    shown = runner.invoke(cli, [*base, "documents", "show", str(doc_id), "--json"])
    assert shown.exit_code == 0, shown.output
    pages = json.loads(shown.stdout)["page_texts"]
    assert len(pages) == 2
    for page in pages:
        assert page["passes"], page
        first = page["passes"][0]
        assert first["kind"] == "read" and first["why"] == "page"
        assert isinstance(first["seconds"], float) and first["seconds"] > 0
        assert isinstance(first["cpu_seconds"], float) and first["cpu_seconds"] > 0


def test_a_scanned_pdf_page_is_read_at_its_own_resolution(tmp_path: Path) -> None:
    from PIL import ImageChops, ImageStat

    from scanner.reading.pages import render_pdf_page
    from synthetic import render_pages
    from synthetic.files import write_image_pdf

    fax = render_pages(spec_for(patients()[1], layout="fax"), 7)[0]  # 200 dpi, bilevel
    path = write_image_pdf([fax], tmp_path / "fax.pdf")
    page = render_pdf_page(path, 0, 300, 89_000_000)
    assert page.size == fax.size, "not blown up to 300 dpi"
    difference = ImageStat.Stat(ImageChops.difference(page, fax.convert("L"))).mean[0]
    assert difference < 5, "the page's own pixels, not a negative"


@pytest.mark.needs_tesseract
def test_a_cleanly_read_page_bound_for_review_is_not_read_again(
    tmp_path: Path, app: object
) -> None:
    from scanner.matching.filing import FilingSettings, decide_filing

    calls: list[int] = []

    def reader(*args: object) -> list[object]:
        calls.append(1)
        return []

    path = scan(tmp_path, patients()[6], "png", "name-only.png", show_mrn=False, show_dob=False)
    page = read_page(PageJob(str(path), "image", 0, OPTIONS))
    filing = decide_filing(
        [page],
        app.store,  # type: ignore[attr-defined]
        FilingSettings(),
        date(2026, 1, 15),
        reread=reader,  # type: ignore[arg-type]
    )
    assert filing.status == "review"
    assert calls == [], "nothing on the page was read badly: nothing to read better"
