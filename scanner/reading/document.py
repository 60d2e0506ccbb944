"""Reading every page of a stored file on the worker pool, in page order.

Everything that touches the file's bytes with a C library (pdfium counting a PDF's pages,
Pillow counting frames, rendering, tesseract) runs in a worker process: a hostile file that
crashes one of them kills a worker, not the daemon.
"""

from __future__ import annotations

from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from chartclerk_errors import OcrWorkerDiedError
from scanner.ocr import read_page
from scanner.reading.pages import ReadOptions, plan_pages
from scanner.reading.pagetext import PageText


class PageTimeoutError(OcrWorkerDiedError):
    """A worker did not answer in time (stuck in a decoder); its pool must be replaced."""


def read_pages(
    path: Path,
    media_type: str,
    options: ReadOptions,
    text_layer_min_chars: int,
    pool: ProcessPoolExecutor,
) -> list[PageText]:
    """Read every page of a file in parallel on ``pool`` (text layer, else OCR), in order.

    Raises:
        InputFileError: the file cannot be opened as pages at all.
        OcrWorkerDiedError: a worker died or hung; the caller replaces the pool.
    """
    # The worker enforces tesseract's own time limit per pass; this one only guards
    # against a worker that never answers (stuck decoding a hostile file).
    patience = options.timeout * 6 + 60
    futures: list[Future[PageText]] = []
    try:
        jobs = pool.submit(plan_pages, path, media_type, options, text_layer_min_chars).result(
            timeout=patience
        )
        futures = [pool.submit(read_page, job) for job in jobs]
        pages = [future.result(timeout=patience) for future in futures]
    except BrokenProcessPool as exc:
        raise OcrWorkerDiedError("an OCR worker died while reading this file") from exc
    except TimeoutError as exc:
        raise PageTimeoutError("a page did not finish reading (worker stuck)") from exc
    finally:
        for future in futures:
            future.cancel()
    pages.sort(key=lambda page: page.number)
    return pages
