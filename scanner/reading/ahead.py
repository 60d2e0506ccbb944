"""Reading the first files of ``chartclerk ingest`` while the program is still starting.

The ingest process needs about a second to import itself, open the store and the index, and
claim, hash and archive its first file; its OCR workers are ready in under half of that.
So the command names its first files to the workers at once (before importing anything
heavy), and each worker reads one of them *ahead*: it copies the file's bytes to a private
folder, hashing what it copies, plans its pages and reads them for a short time budget.

What is read ahead is a guess, never a record. The pipeline takes the file as always (claim,
hash, archive) and keeps the reading ahead only when it was made from bytes with the same
sha256, of the same media type, with the same reading options: the very reading it would
have made. Anything else (another version of the file, a changed setting, an error, a
crash) costs only the time; the file is then read as usual. Nothing is stored, moved or
logged with a file's name here.

This module imports only the standard library and the scheduler at the top: the command
imports it before the rest of the program. What a worker needs is imported in the worker.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from scanner.reading.defaults import IGNORE_PATTERNS, INGEST
from scanner.reading.schedule import GRACE_SECONDS, PageScheduler
from scanner.reading.workers import make_pool, worker_count

if TYPE_CHECKING:
    from scanner.reading.document import FindOnPage
    from scanner.reading.pages import PageJob, ReadOptions
    from scanner.reading.pagetext import PageText

# Pages of one file read ahead until this many seconds have passed (one page at least):
# about what the ingest process needs to start, so its workers do not wait for it.
BUDGET_SECONDS = 0.3
# Files read ahead: as many as the command takes in at once by default (each waits for its
# own), enough to keep the workers busy through the ingest process's start.
FILES_AHEAD = INGEST.documents_in_flight
# ... and for a batch of text-layer PDFs, whose pages take milliseconds: eight such files
# were read before the ingest process was ready (a fifth of a second of idle cores).
TEXT_FILES_AHEAD = 4 * FILES_AHEAD
# A bigger file is left to the pipeline: copying it would cost more than it saves.
MAX_BYTES = 64 * 2**20
# The most a page read ahead may take (its settings' limit, if less): bounds the job's own
# time limit, set before the settings are read. A page that runs out comes back in error,
# and the pipeline reads it again with the configured limit.
PAGE_TIMEOUT_CAP = 600.0
# How much of a file is looked at for a font before the workers start (see Plan).
TEXT_PDF_PEEK = 2**20
# The private folders of copies read ahead: ``chartclerk-ahead-<worker pid>-...``.
PREFIX = "chartclerk-ahead-"


@dataclass(frozen=True)
class ReadAhead:
    """A file's pages as a worker read them ahead, and what they were read from and with.

    ``jobs`` plans every page; ``pages`` are the first ``len(pages)`` of them, read. Their
    paths name the worker's private copy, which is gone: :meth:`for_file` points them at
    the archived file.
    """

    sha256: str
    media_type: str
    options: ReadOptions
    text_layer_min_chars: int
    jobs: tuple[PageJob, ...]
    pages: tuple[PageText, ...]

    def for_file(self, path: Path) -> ReadAhead:
        """The same reading, its jobs pointing at ``path`` (the archived copy)."""
        from dataclasses import replace

        where = str(path)
        pages = tuple(
            page if page.job is None else replace(page, job=replace(page.job, path=where))
            for page in self.pages
        )
        return replace(self, jobs=tuple(replace(j, path=where) for j in self.jobs), pages=pages)


# -- in the ingest process ------------------------------------------------------------------

_scheduler: PageScheduler | None = None
_ahead: dict[str, Future[ReadAhead | None]] = {}


@dataclass(frozen=True)
class Plan:
    """What ``chartclerk ingest`` will read first: its configuration and first files.

    ``needs_tesseract``: whether the first files may need OCR (anything but PDFs that
    carry text). A worker loads tesseract's model (0.1 s of CPU) as it starts only for a
    batch that may need it: a batch of text-layer PDFs never does, and a page that needs
    OCR after all loads it then.
    """

    config: str
    files: tuple[str, ...]
    needs_tesseract: bool = True


def preload(planned: Plan) -> None:
    """Import what reading and identifying a text-layer page takes, before the workers fork.

    For a batch of text-layer PDFs (see :class:`Plan`'s ``needs_tesseract``): forked after this,
    the workers share the modules instead of importing them each (0.1-0.15 s of CPU a
    worker), and the ingest process imports them anyway. The configuration's reading and
    identifying settings are read here too, once, instead of once in every worker (the
    YAML library's import and the settings' checks: 0.02-0.03 s of CPU a worker). For a
    batch that needs OCR the workers start at once instead: the first page's way to
    tesseract is what counts.
    """
    import gc

    from scanner.identifying import identifiers  # noqa: F401 - shared by the workers
    from scanner.reading import document  # noqa: F401 - the jobs' functions

    # A configuration that cannot be read is the command's to report; the workers then try
    # it themselves and read nothing ahead, as before. Only a plain file is read here: a
    # pipe or a terminal (``--config /dev/stdin``) can be read once, and that is the
    # command's reading (a forked worker's stdin is /dev/null).
    with contextlib.suppress(Exception):
        if stat.S_ISREG(Path(planned.config).stat().st_mode):
            _reading(planned.config)
            _finding(planned.config)
    # What exists now is shared by the workers as it is: the collector's passes over it
    # would copy every page it touches into each of them.
    gc.freeze()


def plan(argv: list[str]) -> Plan | None:
    """The files ``chartclerk ingest`` names in ``argv`` that are read ahead, or None.

    Files are taken as the command will take them: each file named, and the files of each
    folder named (skipping hidden names; the command's own skip list comes with the
    settings). None for another command, or when there is no file to read.
    """
    command = _ingest_arguments(argv)
    if command is None:
        return None
    config, paths = command
    files = _first_files(paths, max(TEXT_FILES_AHEAD, worker_count(0)))
    if not files:
        return None
    first = files[:FILES_AHEAD]
    return Plan(config, tuple(files), needs_tesseract=not all(map(_text_pdf, first)))


def start(planned: Plan | None) -> None:
    """Have the workers read ahead the files ``planned`` (see :func:`plan`).

    Called by the console script before the rest of the program is imported.
    """
    global _scheduler
    if planned is None:
        return
    config = planned.config
    workers = worker_count(0)
    files = planned.files
    if planned.needs_tesseract:
        # As many as the command takes in at once, images first: each needs tesseract,
        # whose first page is what the start is waiting for; a PDF may be a text layer read
        # in milliseconds (the pipeline takes its files in its own order and waits for
        # each one's reading ahead). A batch of text layers is read in the pipeline's order.
        files = tuple(sorted(files[: max(FILES_AHEAD, workers)], key=_not_an_image))
    _sweep()
    scheduler = PageScheduler(make_pool, workers)
    # A page begun within the budget has its own time limit, read ahead at most
    # PAGE_TIMEOUT_CAP (the settings are not known here; a page past it is read again).
    limit = BUDGET_SECONDS + PAGE_TIMEOUT_CAP + GRACE_SECONDS
    for path in files:
        _ahead[path] = scheduler.submit(read_ahead, path, config, BUDGET_SECONDS, limit=limit)
    _scheduler = scheduler


def abandon() -> None:
    """Stop a reading ahead nobody took (the command ended before its pipeline started).

    Called by the console script as the command ends, whatever ended it: otherwise its
    queued jobs would hold the interpreter's exit. Copies left by workers it had to end are
    removed.
    """
    global _scheduler
    scheduler, _scheduler = _scheduler, None
    _give_up(scheduler)


def take_scheduler(workers: int) -> PageScheduler | None:
    """The scheduler the reading ahead runs on, for an ingestor of ``workers`` workers.

    It is handed over once. When the settings ask for another number of workers the
    reading ahead is given up (its scheduler stopped) and None is returned.
    """
    global _scheduler
    scheduler, _scheduler = _scheduler, None
    if scheduler is None or scheduler.workers == workers:
        return scheduler
    _give_up(scheduler)
    return None


def _give_up(scheduler: PageScheduler | None) -> None:
    """Drop every reading ahead not taken, stop ``scheduler``, and sweep up the copies."""
    left = untaken()
    if scheduler is not None:
        scheduler.drop(left)
        scheduler.close()
    _sweep()


def take(path: Path) -> Future[ReadAhead | None] | None:
    """The reading ahead of the file dropped at ``path``, if one was started (once)."""
    return _ahead.pop(str(Path(path).absolute()), None)


def untaken() -> list[Future[ReadAhead | None]]:
    """Every reading ahead not taken yet, taken now: nobody will wait for them any more."""
    left = list(_ahead.values())
    _ahead.clear()
    return left


def _plain_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def _head(path: str, size: int) -> bytes | None:
    """The first ``size`` bytes of a file, or None when it cannot be read.

    Opened as intake opens a dropped file: never through a link, never waiting on a FIFO.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        return os.read(fd, size)
    except OSError:
        return None
    finally:
        os.close(fd)


def _text_pdf(path: str) -> bool:
    """Whether a file looks like a PDF that carries text (a font in its first MiB)."""
    head = _head(path, TEXT_PDF_PEEK)
    # A scanner's image-only PDF has no font; one whose fonts sit in compressed object
    # streams looks like it too, and only loses the saving.
    return head is not None and head.startswith(b"%PDF-") and b"/Font" in head


def _not_an_image(path: str) -> bool:
    from scanner.dropped.intake import sniff

    head = _head(path, 16)
    return head is None or not (sniff(head) or "").startswith("image/")


def _ingest_arguments(argv: list[str]) -> tuple[str, list[str]] | None:
    """The configuration file and the paths of an ``ingest`` command line, else None."""
    config = "config.yaml"
    args = iter(argv)
    for arg in args:
        if arg == "--config":
            config = next(args, config)
        elif arg.startswith("--config="):
            config = arg.removeprefix("--config=")
        elif arg == "ingest":
            break
        elif not arg.startswith("-"):
            return None  # another command
    else:
        return None
    paths: list[str] = []
    options_done = False
    for arg in args:
        if arg == "--" and not options_done:
            options_done = True
        elif options_done or not arg.startswith("-"):
            paths.append(arg)
    return str(Path(config).absolute()), paths


def _first_files(paths: list[str], limit: int) -> list[str]:
    """The first files the command will take: each file named, then each folder's, in order.

    A folder's files are listed as the command lists them (``files_in``, sorted), skipping
    the names no site takes (the site's own list comes with the settings, loaded later).
    """
    from scanner.dropped.stability import files_in

    files: list[str] = []
    for path in paths:
        if len(files) >= limit:
            break
        if _plain_file(Path(path)):
            files.append(str(Path(path).absolute()))
        elif Path(path).is_dir() and not Path(path).is_symlink():
            try:
                found = sorted(files_in(Path(path), IGNORE_PATTERNS))
            except OSError:
                continue
            # Plain files only: a link or a FIFO is the pipeline's to refuse, not read.
            plain = (p for p in found if _plain_file(p))
            files.extend(str(p.absolute()) for p in itertools.islice(plain, limit - len(files)))
    return files[:limit]


# -- in an OCR worker -----------------------------------------------------------------------


def read_ahead(path: str, config: str, budget: float) -> ReadAhead | None:
    """Copy a file privately, plan its pages and read them for ``budget`` seconds.

    Runs in an OCR worker. Returns None for anything that is not a plain readable file of a
    known kind, or that the pipeline would refuse or quarantine: the pipeline finds out for
    itself and says why. Reading errors on one page come back on that page, as always.
    """
    try:
        options, min_chars, max_bytes = _reading(config)
    except Exception:  # noqa: BLE001 - the command reports a bad configuration itself
        return None
    with _private_file() as (copy, target):
        copied = _copy(path, target, min(max_bytes, MAX_BYTES))
        if copied is None:
            return None
        sha256, media_type = copied
        return _read(copy, sha256, media_type, options, min_chars, config, budget)


@contextlib.contextmanager
def _private_file() -> Iterator[tuple[Path, BinaryIO]]:
    """A file in a folder only this worker's user can reach, removed when the block ends.

    In shared memory (/dev/shm) where there is one: a scan's copy never reaches a disk.
    (An anonymous memory file would vanish even with a killed worker, but the PDF library
    resolves its /proc path to a name that does not exist.)
    """
    prefix = f"{PREFIX}{os.getpid()}-"
    with tempfile.TemporaryDirectory(prefix=prefix, dir=_copies_folder()) as folder:
        copy = Path(folder) / "file"
        # 0600 whatever the umask the worker was started under (invariant 9).
        fd = os.open(copy, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w+b") as handle:
            yield copy, handle


def _copies_folder() -> str | None:
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None  # noqa: S108


def _sweep() -> None:
    """Remove the copies of workers that were ended before they could remove their own.

    A worker killed mid-read (a page past its time limit ends its pool; a crash; the
    daemon killed) leaves its private folder behind; its name carries the worker's pid.
    """
    import shutil

    folder = Path(_copies_folder() or tempfile.gettempdir())
    try:
        entries = [p for p in folder.iterdir() if p.name.startswith(PREFIX)]
    except OSError:
        return
    for entry in entries:
        pid = entry.name.removeprefix(PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: not ours to judge
    return True


def _read(
    copy: Path,
    sha256: str,
    media_type: str,
    options: ReadOptions,
    min_chars: int,
    config: str,
    budget: float,
) -> ReadAhead | None:
    from scanner.reading.pages import plan_pages
    from scanner.reading.textlayer import close_open_pdf

    began = time.monotonic()
    # The worker keeps its last PDF open by path, and a descriptor's path names another
    # file once the number is reused: nothing of a PDF read before may be taken for this one.
    close_open_pdf()
    try:
        jobs = plan_pages(copy, media_type, options, min_chars)
        # The first page straight to the reader, its identifiers found once it is read:
        # the identifying code is still loading (scanner.reading.workers).
        pages: list[PageText] = [_found(_read_page(jobs[0]), config)] if jobs else []
        for job in jobs[1:]:
            if time.monotonic() - began > budget:
                break
            pages.append(_found(_read_page(job), config))
    except Exception:  # noqa: BLE001 - a file the pipeline quarantines, tesseract missing,
        return None  # anything: the pipeline reads the file itself and says what is wrong
    finally:
        close_open_pdf()  # the private copy is removed next
    return ReadAhead(sha256, media_type, options, min_chars, tuple(jobs), tuple(pages))


def _read_page(job: PageJob) -> PageText:
    """Read one page ahead, within this job's own time limit (a page past it is read again).

    The page keeps the job as planned, with the configured options, for a second look.
    """
    from dataclasses import replace

    from scanner.ocr import read_page

    capped = replace(
        job, options=replace(job.options, timeout=min(job.options.timeout, PAGE_TIMEOUT_CAP))
    )
    page = read_page(capped)
    return page if page.job is None else replace(page, job=job)


def _found(page: PageText, config: str) -> PageText:
    from scanner.reading.document import with_findings

    return with_findings(page, _finding(config))


@functools.lru_cache(maxsize=2)
def _reading(config: str) -> tuple[ReadOptions, int, int]:
    """How pages are read, from the configuration file's ``ocr`` and ``ingest`` sections.

    Taken as written over the defaults, unchecked: pydantic is not loaded yet, and need
    not be. The ingest process keeps the reading only when its own checked options are
    equal, so a value it would read otherwise (or refuse) costs time, never the truth.
    """
    from types import SimpleNamespace

    from scanner.reading.defaults import INGEST, OCR
    from scanner.reading.pages import ReadOptions

    raw = _raw(config)
    ocr = SimpleNamespace(**{**OCR._asdict(), **_section(raw, "ocr")})
    ingest = SimpleNamespace(**{**INGEST._asdict(), **_section(raw, "ingest")})
    options = ReadOptions.from_settings(ocr, ingest)  # type: ignore[arg-type]
    return options, int(ocr.text_layer_min_chars), int(float(ingest.max_file_mb) * 2**20)


def _section(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise ValueError(f"configuration: {key}: not a mapping")
    return value


@functools.lru_cache(maxsize=2)
def _finding(config: str) -> FindOnPage:
    """How identifiers are found: settings as the ingest process has them, and the day.

    Findings made with other settings or on another day are found again by the ingest
    process (``identifiers.findings_key``), so a difference here costs time, not truth.
    """
    import datetime as dt

    from scanner.identifying.identifiers import IdentifierSettings
    from scanner.reading.document import FindOnPage

    filing = _section(_raw(config), "filing")
    identifiers = IdentifierSettings.model_validate(filing.get("identifiers") or {})
    return FindOnPage(identifiers.model_dump_json(), dt.date.today())


@functools.lru_cache(maxsize=2)
def _raw(config: str) -> dict[str, Any]:
    import yaml

    # libyaml's loader where it is built in: a tenth of the pure-Python one's time.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load(Path(config).read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506
    if not isinstance(raw, dict):
        raise ValueError("configuration: not a mapping")
    return raw


def _copy(path: str, target: BinaryIO, max_bytes: int) -> tuple[str, str] | None:
    """Copy a plain file's bytes, hashing them: (sha256, media type), or None."""
    import hashlib

    from scanner.dropped.intake import sniff

    try:
        # As intake opens a dropped file: never through a link, never waiting on a FIFO.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    digest = hashlib.sha256()
    head = b""
    try:
        with os.fdopen(fd, "rb") as source:
            info = os.fstat(source.fileno())
            if not stat.S_ISREG(info.st_mode) or not 0 < info.st_size <= max_bytes:
                return None
            size = 0
            while chunk := source.read(1 << 20):
                head = head or chunk[:1024]
                size += len(chunk)
                if size > max_bytes:
                    return None  # still growing: the pipeline waits for it
                digest.update(chunk)
                target.write(chunk)
        target.flush()
    except OSError:
        return None
    media_type = sniff(head)
    if media_type is None:
        return None
    return digest.hexdigest(), media_type
