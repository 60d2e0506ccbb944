"""Reading every page of a stored file on the shared OCR workers, in page order.

Everything that touches the file's bytes with a C library (pdfium counting a PDF's pages,
Pillow counting frames, rendering, tesseract) runs in a worker process: a hostile file that
crashes one of them kills a worker, not the daemon. The pages join the one queue of every
document in flight (``scanner.reading.schedule``), largest first.
"""

from __future__ import annotations

from concurrent.futures import Future, wait
from pathlib import Path
from typing import Any

from chartclerk_errors import InputFileError
from scanner.ocr import read_page
from scanner.reading.pages import PageJob, ReadOptions, plan_pages
from scanner.reading.pagetext import PageText
from scanner.reading.schedule import (
    URGENT,
    JobCrashedError,
    JobStuckError,
    PageScheduler,
)

# How often a waiting document looks for a worker stuck past its page's time limit.
CHECK_SECONDS = 1.0
# Beyond a page's own time limit (which the worker enforces on every tesseract pass),
# what rendering and decoding may take before its worker is taken for stuck.
GRACE_SECONDS = 60.0


def read_pages(
    path: Path,
    media_type: str,
    options: ReadOptions,
    text_layer_min_chars: int,
    scheduler: PageScheduler,
) -> list[PageText]:
    """Read every page of a file on the shared workers (text layer, else OCR), in order.

    A page that hangs or kills its worker comes back unread (``error`` set); the others
    read on.

    Raises:
        InputFileError: the file cannot be opened as pages at all.
    """
    limit = options.timeout + GRACE_SECONDS
    plan = scheduler.submit(
        plan_pages, path, media_type, options, text_layer_min_chars, priority=URGENT, limit=limit
    )
    try:
        jobs: list[PageJob] = _wait(scheduler, [plan])[0].result()
    except JobStuckError as exc:
        raise InputFileError("the file could not be opened in time (reader stuck)") from exc
    except JobCrashedError as exc:
        raise InputFileError("the file crashed the reader") from exc
    futures = [scheduler.submit(read_page, job, cost=job.cost, limit=limit) for job in jobs]
    pages = [
        _page(job, future) for job, future in zip(jobs, _wait(scheduler, futures), strict=True)
    ]
    pages.sort(key=lambda page: page.number)
    return pages


def run_urgent(scheduler: PageScheduler, fn: Any, *args: Any, limit: float) -> Any:
    """Run one job a document waits on alone (a second look) ahead of the queued pages.

    Raises:
        JobStuckError: it ran past ``limit`` (its worker was ended).
        JobCrashedError: it killed its worker, twice.
    """
    future = scheduler.submit(fn, *args, priority=URGENT, limit=limit)
    return _wait(scheduler, [future])[0].result()


def _wait(scheduler: PageScheduler, futures: list[Future[Any]]) -> list[Future[Any]]:
    """Wait for every job, ending workers stuck past their job's limit meanwhile."""
    try:
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=CHECK_SECONDS)
            scheduler.check_overdue()
        return futures
    except BaseException:
        scheduler.cancel(futures)
        raise


def _page(job: PageJob, future: Future[PageText]) -> PageText:
    try:
        return future.result()
    except JobStuckError:
        return PageText(number=job.number, text="", error="page did not finish in time (stuck)")
    except JobCrashedError:
        return PageText(number=job.number, text="", error="page crashed the reader")
