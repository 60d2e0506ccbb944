"""Reading every page of a stored file on the shared OCR workers, in page order.

Everything that touches the file's bytes with a C library (pdfium counting a PDF's pages,
Pillow counting frames, rendering, tesseract) runs in a worker process: a hostile file that
crashes one of them kills a worker, not the daemon. The pages join the one queue of every
document in flight (``scanner.reading.schedule``), largest first.
"""

from __future__ import annotations

import datetime as dt
import functools
from concurrent.futures import Future, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chartclerk_errors import InputFileError
from scanner.ocr import read_page
from scanner.reading.pages import PageJob, ReadOptions, plan_pages
from scanner.reading.pagetext import PageText
from scanner.reading.schedule import (
    CHECK_SECONDS,
    GRACE_SECONDS,
    URGENT,
    JobCrashedError,
    JobStuckError,
    PageScheduler,
)

if TYPE_CHECKING:
    from scanner.identifying.identifiers import IdentifierSettings
    from scanner.reading.ahead import ReadAhead


@dataclass(frozen=True)
class FindOnPage:
    """Find each page's identifiers where it is read, with these settings (as JSON) and day."""

    settings_json: str
    today: dt.date | None


def read_pages(
    path: Path,
    media_type: str,
    options: ReadOptions,
    text_layer_min_chars: int,
    scheduler: PageScheduler,
    find: FindOnPage | None = None,
    ahead: ReadAhead | None = None,
) -> list[PageText]:
    """Read every page of a file on the shared workers (text layer, else OCR), in order.

    A page that hangs or kills its worker comes back unread (``error`` set); the others
    read on. With ``find``, each page also comes back with its identifiers found (see
    :func:`read_and_find`). With ``ahead`` (this file's pages as a worker read them while
    the program started, checked by the caller to be of these bytes and options), its plan
    and pages are taken and only the pages it did not reach are read.

    Raises:
        InputFileError: the file cannot be opened as pages at all.
    """
    limit = options.timeout + GRACE_SECONDS
    if ahead is not None:
        here = ahead.for_file(path)
        jobs, done = list(here.jobs), list(here.pages)
    else:
        jobs, done = _plan(path, media_type, options, text_layer_min_chars, scheduler), []
    left = jobs[len(done) :]
    futures = [
        scheduler.submit(read_page, job, cost=job.cost, limit=limit)
        if find is None
        else scheduler.submit(read_and_find, job, find, cost=job.cost, limit=limit)
        for job in left
    ]
    pages = done + [
        _page(job, future) for job, future in zip(left, _wait(scheduler, futures), strict=True)
    ]
    pages.sort(key=lambda page: page.number)
    return pages


def _plan(
    path: Path,
    media_type: str,
    options: ReadOptions,
    text_layer_min_chars: int,
    scheduler: PageScheduler,
) -> list[PageJob]:
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
    return jobs


def read_and_find(job: PageJob, find: FindOnPage) -> PageText:
    """Read one page and find its identifiers; runs in a worker process.

    Identification is pure Python and costs as much as reading a dense text-layer page:
    done here, it runs on every worker at once instead of one after another in the ingest
    process. A failure to find is no failure to read: the page comes back without findings
    and is looked at again by ``extract_identifiers``.
    """
    return with_findings(read_page(job), find)


def with_findings(page: PageText, find: FindOnPage) -> PageText:
    """A page read, with its identifiers found (see :func:`read_and_find`)."""
    if page.error is not None or not page.text.strip():
        return page
    from scanner.identifying.identifiers import find_on_page  # only the workers need it here

    try:
        findings = find_on_page(page, _settings(find.settings_json), today=find.today)
    except Exception:  # noqa: BLE001 - the ingest process finds them again, and reports
        return page
    return replace(page, findings=findings)


@functools.lru_cache(maxsize=4)
def _settings(settings_json: str) -> IdentifierSettings:
    from scanner.identifying.identifiers import IdentifierSettings

    return IdentifierSettings.model_validate_json(settings_json)


def run_urgent(scheduler: PageScheduler, fn: Any, *args: Any, limit: float) -> Any:
    """Run one job a document waits on alone (a second look) ahead of the queued pages.

    Raises:
        JobStuckError: it ran past ``limit`` (its worker was ended).
        JobCrashedError: it killed its worker, twice.
    """
    future = scheduler.submit(fn, *args, priority=URGENT, limit=limit)
    return _wait(scheduler, [future])[0].result()


def result_or_none(scheduler: PageScheduler, future: Future[Any]) -> Any:
    """A job's result once it is done, or None when it failed in any way (a guess's job)."""
    try:
        return _wait(scheduler, [future])[0].result()
    except Exception:  # noqa: BLE001 - stuck, crashed, cancelled or raised: no result
        return None


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
