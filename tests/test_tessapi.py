"""Tesseract's library in the worker reads exactly as the tesseract program does."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from scanner import ocr, tessapi
from scanner.reading.pages import PageJob, ReadOptions, load_frame
from synthetic import render_pages
from synthetic.files import write_tiff_multipage
from tests.scans import patients, scan, spec_for

LIBRARY = ReadOptions(300, 80_000_000, 60.0, "eng", 60.0, 8, 200, engine="library")
PROGRAM = replace(LIBRARY, engine="program")

needs_library = pytest.mark.skipif(
    not tessapi.available(), reason="tesseract's library is not installed"
)


def words(reading: ocr._Reading) -> list[tuple[str, float, float, float]]:
    return [(w.text, w.left, w.top, round(w.conf, 3)) for w in reading.words]


@pytest.mark.needs_tesseract
@needs_library
def test_the_library_reads_a_file_as_the_program_does(tmp_path: Path) -> None:
    path = scan(tmp_path, patients()[2], "png", "page.png")
    by_library = ocr._ocr(str(path), tmp_path, "eng", 60.0, 60.0, "library")
    by_program = ocr._ocr(str(path), tmp_path, "eng", 60.0, 60.0, "program")
    assert by_library.words, "the page has words"
    assert words(by_library) == words(by_program)
    assert by_library.text == by_program.text


@pytest.mark.needs_tesseract
@needs_library
@pytest.mark.parametrize("mode", ["L", "1"])
def test_the_library_reads_a_decoded_page_as_the_program_reads_its_pnm(
    tmp_path: Path, mode: str
) -> None:
    # A TIFF frame or a PDF page is decoded in Python; the program was handed it as a
    # PGM (greyscale) or PBM (1-bit) file, the library gets its pixels.
    pages = render_pages(spec_for(patients()[4], pages=2), 7)
    tiff = write_tiff_multipage([p.convert(mode) for p in pages], tmp_path / "two.tif")
    frame = load_frame(tiff, 1, 80_000_000)
    assert frame.mode == mode
    top = frame.crop((0, 0, frame.width, frame.height // 3))
    for psm in (3, 11):
        by_library = ocr._ocr(top, tmp_path, "eng", 60.0, 60.0, "library", psm)
        by_program = ocr._ocr(top, tmp_path, "eng", 60.0, 60.0, "program", psm)
        assert by_library.words, "the top of the page has words"
        assert words(by_library) == words(by_program), f"psm {psm}"


@pytest.mark.needs_tesseract
@needs_library
def test_the_library_tells_which_way_up_a_page_is_as_the_program_does(tmp_path: Path) -> None:
    path = scan(tmp_path, patients()[5], "png", "turned.png", degradations=("rotate_180",))
    page = load_frame(path, 0, 80_000_000)
    half = page.resize((page.width // 2, page.height // 2), Image.Resampling.BOX)
    for image in (page, half, page.convert("1")):
        by_library = ocr._detect_rotation(image, tmp_path, 60.0, "library")
        by_program = ocr._detect_rotation(image, tmp_path, 60.0, "program")
        assert by_library == by_program, image.size
        assert by_library[0] == 180 and by_library[1] > 0


@pytest.mark.needs_tesseract
@needs_library
def test_a_page_past_its_time_limit_in_the_library_ends_only_that_page(tmp_path: Path) -> None:
    path = scan(tmp_path, patients()[1], "png", "slow.png")
    hurried = replace(LIBRARY, timeout=0.05)
    page = ocr.read_page(PageJob(str(path), "image", 0, hurried))
    assert page.error == "OCR time limit reached on this page"
    again = ocr.read_page(PageJob(str(path), "image", 0, LIBRARY))
    assert again.error is None and patients()[1].mrn in again.text, "the engine reads on"


@pytest.mark.needs_tesseract
@needs_library
def test_a_pass_records_the_cpu_it_cost_with_either_engine(tmp_path: Path) -> None:
    path = scan(tmp_path, patients()[3], "png", "page.png")
    for options in (LIBRARY, PROGRAM):
        page = ocr.read_page(PageJob(str(path), "image", 0, options))
        (read,) = page.passes
        assert read.kind == "read"
        # A 300-dpi page takes tesseract a good part of a second of CPU either way.
        assert 0.1 < read.cpu_seconds < 20 * read.seconds, (options.engine, read)
        assert read.to_json()["cpu_seconds"] == round(read.cpu_seconds, 3)


def test_tsv_is_parsed_with_or_without_its_header_and_a_last_empty_cell() -> None:
    body = "1\t1\t0\t0\t0\t0\t0\t0\t10\t10\t-1\n5\t1\t1\t1\t1\t1\t2\t3\t4\t5\t91.5\tMRN\n"
    header = "\t".join(tessapi.TSV_FIELDS) + "\n"
    for tsv in (body, header + body):
        data = tessapi.parse_tsv(tsv)
        assert data["text"] == ["", "MRN"]
        assert data["conf"] == [-1, 91], "whole numbers, as pytesseract gives them"
        assert data["left"] == [0, 2]


@pytest.mark.needs_tesseract
def test_an_unreadable_image_file_is_an_error_of_the_page_not_a_crash(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    Image.new("L", (40, 40), 255).save(bad)
    bad.write_bytes(bad.read_bytes()[:30])  # the header only
    library = tessapi.engine("eng")
    if library is None:
        pytest.skip("tesseract's library is not installed")
    with pytest.raises(tessapi.EngineError):
        library.tsv(str(bad), tessapi.PSM_AUTO, 10.0)
