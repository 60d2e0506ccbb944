"""Failures classified, not enumerated: every place that catches around a file's content.

Each catch site is made to raise an exception class nobody has seen before; the file must
still end (page unread, or quarantine with a one-line reason), never loop. The world's
failures (disk full, tesseract missing, store locked) must be raised, to be waited out.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytesseract
import pytest

import scanner.ocr as ocr
import scanner.pipeline as pipeline
import scanner.reading.pages as pages
import scanner.tessapi as tessapi
from chartclerk_errors import (
    DiskFullError,
    InputFileError,
    NotReadyError,
    StoreLockedError,
    TesseractMissingError,
    content_reason,
    not_ready,
)
from clerk.app import App
from clerk.status import gather_status
from scanner.dropped.claim import PROCESSING
from scanner.reading.pages import PageJob, ReadOptions
from tests.scans import patients, scan


class BrandNewDecoderError(Exception):
    """What the next version of some decoder raises on a file it does not like."""

    def __init__(self, first: str, second: int) -> None:  # not re-creatable from args
        super().__init__(f"{first} at {second}")


OPTIONS = ReadOptions(
    dpi=72,
    max_pixels=10_000_000,
    timeout=30,
    languages="eng",
    min_confidence=0,
    min_words=0,
    max_pages=10,
)


def raiser(exc: BaseException) -> Callable[..., Any]:
    def fail(*_args: object, **_kwargs: object) -> Any:
        raise exc

    return fail


def pdf_job(tmp_path: Path) -> PageJob:
    path = scan(tmp_path, patients()[0], "pdf_text", "one.pdf")
    return PageJob(str(path), "pdf", 0, OPTIONS)


# -- the classification itself -----------------------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        BrandNewDecoderError("bad", 3),
        RecursionError("deep"),
        MemoryError(),
        ValueError("x"),
        OSError("broken data stream"),  # Pillow's way: an OSError without an errno
        KeyError("Root"),
        Exception("pdfminer.pdfparser.PDFSyntaxError: No /Root object!"),
    ],
)
def test_anything_a_decoder_raises_on_bytes_is_content(exc: BaseException) -> None:
    assert not_ready(exc) is None
    reason = content_reason(exc)
    assert "\n" not in reason and reason.startswith("unreadable")
    assert "Root" not in reason  # the decoder's message (it may quote the file) is not kept


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "disk_full"),
        (OSError(errno.EROFS, "Read-only file system"), "environment"),
        (StoreLockedError("database: database is locked"), "store_locked"),
        (TesseractMissingError("tesseract is not installed"), "tesseract_missing"),
    ],
)
def test_the_worlds_failures_are_named_and_retried(exc: BaseException, kind: str) -> None:
    failure = not_ready(exc)
    assert failure is not None and failure.kind == kind and failure.advice


# -- worker side: a page -----------------------------------------------------------------------


def test_a_text_layer_reader_surprise_makes_the_page_ocr_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = pdf_job(tmp_path)
    monkeypatch.setattr(ocr, "read_pdf_text_layer", raiser(BrandNewDecoderError("x", 1)))
    page = ocr.read_page(job)
    assert page.error is None and page.source == "ocr" and page.text.strip()


def test_an_ocr_surprise_leaves_the_page_unread_not_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = PageJob(str(scan(tmp_path, patients()[0], "png", "one.png")), "image", 0, OPTIONS)
    for exc in (BrandNewDecoderError("x", 1), RecursionError(), MemoryError()):
        monkeypatch.setattr(ocr, "_ocr_oriented", raiser(exc))
        page = ocr.read_page(job)
        assert page.text == "" and page.error and type(exc).__name__ in page.error


def test_a_page_raises_the_worlds_failures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    job = PageJob(str(scan(tmp_path, patients()[0], "png", "one.png")), "image", 0, OPTIONS)
    monkeypatch.setattr(ocr, "_ocr_oriented", raiser(OSError(errno.ENOSPC, "No space")))
    with pytest.raises(DiskFullError):
        ocr.read_page(job)
    monkeypatch.undo()
    # The tesseract program gone (ocr.engine: program, or no library to load) ...
    program = replace(job, options=replace(OPTIONS, engine="program"))
    monkeypatch.setattr(pytesseract, "image_to_data", raiser(pytesseract.TesseractNotFoundError()))
    with pytest.raises(TesseractMissingError):
        ocr.read_page(program)
    # ... or its library unable to load its language data (ocr.engine: library).
    unavailable = tessapi.EngineUnavailableError("no data")
    monkeypatch.setattr(tessapi, "engine", raiser(unavailable))
    with pytest.raises(TesseractMissingError):
        ocr.read_page(job)


def test_a_text_layer_reader_cannot_hide_the_worlds_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = pdf_job(tmp_path)
    monkeypatch.setattr(ocr, "read_pdf_text_layer", raiser(OSError(errno.EDQUOT, "Quota")))
    with pytest.raises(DiskFullError):
        ocr.read_page(job)


def test_a_second_look_surprise_is_no_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = pdf_job(tmp_path)
    monkeypatch.setattr(ocr, "_reread_top", raiser(BrandNewDecoderError("x", 2)))
    assert ocr.reread_top(job, 0, 0.3, 11) == []
    monkeypatch.setattr(ocr, "_reread_top", raiser(OSError(errno.ENOSPC, "No space")))
    with pytest.raises(DiskFullError):
        ocr.reread_top(job, 0, 0.3, 11)


# -- worker side: the file ---------------------------------------------------------------------


def test_planning_a_files_pages_turns_any_surprise_into_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "x.pdf"
    path.write_bytes(b"%PDF-1.4\n")
    for exc in (BrandNewDecoderError("x", 1), RecursionError(), MemoryError()):
        monkeypatch.setattr(pages, "_plan", raiser(exc))
        with pytest.raises(InputFileError, match=type(exc).__name__) as caught:
            pages.plan_pages(path, "application/pdf", OPTIONS, 20)
        # What crosses back from a worker must pickle: ours does, a decoder's may not.
        assert caught.value.__cause__ is None
    monkeypatch.setattr(pages, "_plan", raiser(OSError(errno.ENOSPC, "No space")))
    with pytest.raises(DiskFullError):
        pages.plan_pages(path, "application/pdf", OPTIONS, 20)


# -- daemon side: the pipeline -----------------------------------------------------------------


@pytest.fixture
def dropped(app: App, tmp_path: Path) -> Path:
    inbox = app.settings.inbox.path
    inbox.mkdir(parents=True, exist_ok=True)
    return scan(inbox, patients()[0], "pdf_text", "dropped.pdf")


def test_a_stage_surprise_quarantines_the_file_once_with_a_reason(
    app: App, dropped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "decide_filing", raiser(BrandNewDecoderError("x", 1)))
    outcome = app.ingestor.ingest(dropped)
    assert outcome.kind == "quarantined"
    assert outcome.reason == "unreadable: its decoder failed (BrandNewDecoderError)"
    assert not dropped.exists()
    assert not any((dropped.parent / PROCESSING).iterdir())
    assert app.store.counts_by_status()["quarantined"] == 1


def test_a_readers_surprise_from_the_pool_quarantines_the_file(
    app: App, dropped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "read_pages", raiser(RecursionError("deep")))
    outcome = app.ingestor.ingest(dropped)
    assert outcome.kind == "quarantined" and "RecursionError" in str(outcome.reason)


def test_the_worlds_failure_leaves_the_file_in_the_inbox_and_shows_in_status(
    app: App, dropped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.health.path = app.health_file
    monkeypatch.setattr(
        pipeline, "decide_filing", raiser(StoreLockedError("database: database is locked"))
    )
    with pytest.raises(StoreLockedError):
        app.ingestor.ingest(dropped)
    assert dropped.exists(), "put back where it was dropped, to be tried again"
    assert app.store.counts_by_status() == {"filed": 0, "review": 0, "quarantined": 0}
    status = gather_status(app)
    assert status["waiting_on"]["store_locked"]["advice"].startswith("the record store is locked")
    monkeypatch.undo()
    assert app.ingestor.ingest(dropped).kind in ("filed", "review")
    assert "store_locked" not in gather_status(app)["waiting_on"]


def test_a_second_look_surprise_on_the_pool_is_no_reading(app: App) -> None:
    class FakePool:
        def submit(self, *_args: object) -> Future[object]:
            future: Future[object] = Future()
            future.set_exception(BrandNewDecoderError("x", 1))
            return future

    app.ingestor.pool = lambda: FakePool()  # type: ignore[assignment,method-assign,return-value]
    assert app.ingestor._reread_on_pool() == []


def test_ingest_of_stray_bytes_before_the_pdf_header_reads_it(app: App, tmp_path: Path) -> None:
    """The reported case: pdfminer raises PdfminerException on the text layer."""
    source = scan(tmp_path, patients()[0], "pdf_text", "clean.pdf")
    stray = tmp_path / "stray.pdf"
    stray.write_bytes(b"trailer\n<< /Root 9 0 R /Size 3 >>\n" + source.read_bytes())
    outcome = app.ingestor.ingest(stray, release_source=False)
    assert outcome.kind in ("filed", "review")
    detail = app.store.get_document(outcome.document_id or 0)
    assert detail.pages and all(not p.error for p in detail.pages)


def test_not_ready_errors_keep_their_exit_codes() -> None:
    assert StoreLockedError("x").exit_code == 5
    assert TesseractMissingError("x").exit_code == 3
    assert isinstance(DiskFullError("x"), NotReadyError)
