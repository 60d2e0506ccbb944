"""Reading every page of a stored file on the worker pool, in page order."""

from __future__ import annotations

from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from chartclerk_errors import OcrWorkerDiedError
from scanner.ocr import read_page
from scanner.pages import ReadOptions, plan_pages
from scanner.pagetext import PageText


def read_pages(
    path: Path,
    media_type: str,
    options: ReadOptions,
    text_layer_min_chars: int,
    pool: Executor,
) -> list[PageText]:
    """Read every page of a file in parallel on ``pool`` (text layer, else OCR), in order.

    Raises:
        InputFileError: the file cannot be opened as pages at all.
    """
    jobs = plan_pages(path, media_type, options, text_layer_min_chars)
    futures: list[tuple[int, Future[PageText]]] = [
        (job.number, pool.submit(read_page, job)) for job in jobs
    ]
    pages: list[PageText] = []
    for number, future in futures:
        # The worker enforces tesseract's time limit; this one only guards against a
        # worker that never answers (killed, stuck decoding).
        try:
            pages.append(future.result(timeout=options.timeout * 6 + 60))
        except BrokenProcessPool as exc:
            for _, other in futures:
                other.cancel()
            raise OcrWorkerDiedError("an OCR worker died while reading this file") from exc
        except TimeoutError:
            pages.append(PageText(number=number, text="", error="page did not finish reading"))
    pages.sort(key=lambda page: page.number)
    return pages
