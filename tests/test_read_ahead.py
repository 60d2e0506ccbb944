"""Files read ahead while ``chartclerk ingest`` starts: kept only when they are the same reading.

A reading ahead is a guess made from a private copy of a file before the pipeline has taken
it. These tests check that it is the reading the pipeline would make, that it is used, and
above all that a file changed since (or read with other settings) is never filed on it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest

from clerk.app import App
from clerk.config import load_config
from records.audit import Actor
from records.patients import import_patients
from scanner.ocr import read_page
from scanner.reading import ahead
from scanner.reading.pages import ReadOptions, plan_pages
from scanner.reading.pagetext import PageText
from scanner.reading.schedule import PageScheduler
from scanner.reading.workers import make_pool
from synthetic import write_registry_csv
from synthetic.files import text_of, write_text_pdf
from tests.conftest import write_config as write_test_config
from tests.scans import patients, scan, spec_for


def write_config(folder: Path) -> Path:
    """A test configuration with as many OCR workers as the command starts early."""
    path = write_test_config(folder)
    text = path.read_text().replace("workers: 2 ", f"workers: {ahead.worker_count(0)} ")
    path.write_text(text)
    return path


def test_the_command_line_names_the_config_and_the_files() -> None:
    assert ahead._ingest_arguments(["ingest", "a.pdf", "--json", "b"]) == (
        str(Path("config.yaml").absolute()),
        ["a.pdf", "b"],
    )
    assert ahead._ingest_arguments(["--config", "/s/c.yaml", "ingest", "x"]) == (
        "/s/c.yaml",
        ["x"],
    )
    assert ahead._ingest_arguments(["--config=/s/c.yaml", "ingest", "--", "-odd.pdf"]) == (
        "/s/c.yaml",
        ["-odd.pdf"],
    )
    # Other commands read nothing ahead, even when a later word is "ingest".
    assert ahead._ingest_arguments(["search", "ingest"]) is None
    assert ahead._ingest_arguments(["watch"]) is None


def test_the_first_files_are_taken_as_the_command_takes_them(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    for name in ("b.pdf", "a.pdf", ".hidden.pdf", "c.pdf"):
        (folder / name).write_bytes(b"%PDF-1.4\n")
    (folder / "sub").mkdir()
    (folder / "link.pdf").symlink_to(folder / "a.pdf")
    single = tmp_path / "one.png"
    single.write_bytes(b"x")
    files = ahead._first_files([str(single), str(folder), str(tmp_path / "gone")], 3)
    # Named files first, then a folder's plain files by name; no hidden name, no link, no
    # folder, nothing missing, and no more than asked.
    assert files == [str(single), str(folder / "a.pdf"), str(folder / "b.pdf")]


@pytest.fixture
def scheduler() -> Iterator[PageScheduler]:
    running = PageScheduler(make_pool, 2)
    yield running
    running.close()


@pytest.mark.needs_tesseract
def test_a_file_read_ahead_is_the_reading_of_its_bytes(
    tmp_path: Path, scheduler: PageScheduler
) -> None:
    config = write_config(tmp_path)
    patient = patients()[2]
    pdf = write_text_pdf(text_of(spec_for(patient, pages=3)), tmp_path / "t.pdf")
    png = scan(tmp_path, patient, "png", "p.png")
    settings = load_config(config)
    options = ReadOptions.from_settings(settings.ocr, settings.ingest)
    min_chars = settings.ocr.text_layer_min_chars
    for path, media_type in ((pdf, "application/pdf"), (png, "image/png")):
        future = scheduler.submit(ahead.read_ahead, str(path), str(config), 10.0)
        got = future.result(timeout=120)
        assert got is not None
        assert got.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert got.media_type == media_type
        assert (got.options, got.text_layer_min_chars) == (options, min_chars)
        # Read from a private copy, now gone; pointed at the file, it is the file's plan
        # and the file's pages, page by page.
        here = got.for_file(path)
        assert here.jobs == tuple(plan_pages(path, media_type, options, min_chars))
        assert len(here.pages) == len(here.jobs)  # a generous budget: every page
        # Their identifiers found there too (the first page's once it was read).
        assert all(p.findings is not None for p in here.pages)
        for job, page in zip(here.jobs, here.pages, strict=True):
            direct = read_page(job)
            assert (page.number, page.text, page.source) == (
                direct.number,
                direct.text,
                direct.source,
            )
            assert page.job is None or page.job.path == str(path)
        for temp in {Path(tempfile.gettempdir()), Path("/dev/shm")}:  # noqa: S108
            if temp.is_dir():
                assert not any(p.name.startswith("chartclerk-ahead-") for p in temp.iterdir())


def test_what_the_pipeline_would_refuse_is_not_read_ahead(
    tmp_path: Path, scheduler: PageScheduler
) -> None:
    config = write_config(tmp_path)
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    unknown = tmp_path / "notes.txt"
    unknown.write_text("not a scan")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\nnot really a pdf")
    link = tmp_path / "link.pdf"
    link.symlink_to(broken)
    fifo = tmp_path / "pipe.pdf"
    os.mkfifo(fifo)
    bad_config = tmp_path / "bad.yaml"
    bad_config.write_text("ocr: [not, a, mapping]\n")
    pdf = write_text_pdf(text_of(spec_for(patients()[1])), tmp_path / "t.pdf")
    jobs = [
        (empty, config),
        (unknown, config),
        (broken, config),
        (link, config),
        (fifo, config),
        (tmp_path / "gone.pdf", config),
        (pdf, bad_config),
    ]
    futures = [scheduler.submit(ahead.read_ahead, str(p), str(c), 1.0) for p, c in jobs]
    assert [f.result(timeout=60) for f in futures] == [None] * len(jobs)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, App]]:
    config = write_config(tmp_path)
    app = App(load_config(config), actor="test-clerk")
    csv = write_registry_csv(patients(), tmp_path / "registry.csv")
    import_patients(app.store, csv, actor=Actor("test", "cli"))
    yield config, app
    app.close()
    # A reading ahead nobody took is given up with its scheduler.
    left = ahead.take_scheduler(-1)
    assert left is None


def _start(config: Path, *paths: Path) -> None:
    ahead.start(ahead.plan(["--config", str(config), "ingest", "--json", *map(str, paths)]))


@pytest.mark.needs_tesseract
def test_the_pipeline_takes_a_reading_ahead_of_the_same_bytes(
    site: tuple[Path, App], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config, app = site
    patient = patients()[4]
    folder = tmp_path / "drop"
    folder.mkdir()
    path = scan(folder, patient, "pdf_text", "chart.pdf", pages=2)
    _start(config, folder)
    caplog.set_level(logging.DEBUG, logger="chartclerk.ingest")
    outcome = app.ingestor.ingest(path, release_source=False)
    assert "2 of 2 pages read ahead" in caplog.text
    assert (outcome.kind, app.store.get_document(outcome.document_id or 0).summary.patient_mrn) == (
        "filed",
        patient.mrn,
    )
    # The same file read the usual way (another copy, so not a duplicate) is the same.
    again = folder / "again.pdf"
    again.write_bytes(path.read_bytes() + b"\n%")
    usual = app.ingestor.ingest(again, release_source=False)
    first = app.store.get_document(outcome.document_id or 0)
    second = app.store.get_document(usual.document_id or 0)
    assert [p.text for p in first.pages] == [p.text for p in second.pages]
    assert (first.summary.status, first.summary.patient_mrn, first.summary.doc_type) == (
        second.summary.status,
        second.summary.patient_mrn,
        second.summary.doc_type,
    )


@pytest.mark.needs_tesseract
def test_a_file_changed_after_it_was_read_ahead_is_read_again(
    site: tuple[Path, App], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config, app = site
    first, second = patients()[4], patients()[6]
    folder = tmp_path / "drop"
    folder.mkdir()
    path = scan(folder, first, "pdf_text", "chart.pdf", pages=1)
    _start(config, path)
    # Wait for the reading ahead of the first patient's page, then put another patient's
    # page in its place, as a scanner overwriting a file would.
    scheduler = app.ingestor.scheduler
    pending = ahead._ahead[str(path.absolute())]
    assert pending.result(timeout=120) is not None
    replacement = scan(tmp_path, second, "pdf_text", "other.pdf", pages=1)
    path.write_bytes(replacement.read_bytes())
    caplog.set_level(logging.DEBUG, logger="chartclerk.ingest")
    outcome = app.ingestor.ingest(path, release_source=False)
    assert "not of these bytes or settings" in caplog.text
    detail = app.store.get_document(outcome.document_id or 0)
    assert detail.summary.patient_mrn == second.mrn
    assert first.mrn not in detail.text.replace(" ", "")
    assert scheduler is app.ingestor.scheduler


@pytest.mark.needs_tesseract
def test_a_reading_ahead_with_other_settings_is_not_taken(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    # The reading ahead follows a configuration whose pages are rendered at another dpi.
    text = config.read_text().replace("dpi: 300", "dpi: 200")
    assert text != config.read_text()
    (other / "config.yaml").write_text(text)
    path = scan(tmp_path, patients()[1], "png", "p.png")
    _start(other / "config.yaml", path)
    app = App(load_config(config), actor="test-clerk")
    try:
        caplog.set_level(logging.DEBUG, logger="chartclerk.ingest")
        app.ingestor.ingest(path, release_source=False)
        assert "not of these bytes or settings" in caplog.text
    finally:
        app.close()


def test_an_ingestor_of_another_size_gives_the_reading_ahead_up(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    path = write_text_pdf(text_of(spec_for(patients()[1])), tmp_path / "t.pdf")
    _start(config, path)
    assert ahead.take_scheduler(7) is None
    assert ahead.take(path) is None
    # And with the size it was started for, it is handed over once.
    _start(config, path)
    started = ahead.take_scheduler(ahead.worker_count(0))
    assert started is not None
    try:
        assert ahead.take_scheduler(ahead.worker_count(0)) is None
        future = ahead.take(path)
        assert future is not None
        got = future.result(timeout=60)
        assert got is not None and got.jobs and got.pages
    finally:
        started.close()


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"dpi: 300": "dpi: 200", "max_pages: 500": "max_pages: 40"},
        {"engine: library": "engine: program", "languages: eng": "languages: eng+osd"},
    ],
)
def test_a_worker_reads_the_settings_as_the_ingest_process_does(
    tmp_path: Path, changes: dict[str, str]
) -> None:
    # The worker reads the configuration without pydantic; what it makes of it must be
    # what the checked settings make of it, or every reading ahead is thrown away.
    path = write_config(tmp_path)
    text = path.read_text()
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    path.write_text(text)
    settings = load_config(path)
    options, min_chars, max_bytes = ahead._reading(str(path))
    assert options == ReadOptions.from_settings(settings.ocr, settings.ingest)
    assert min_chars == settings.ocr.text_layer_min_chars
    assert max_bytes == int(settings.ingest.max_file_mb * 2**20)


def test_a_worker_reads_missing_sections_as_their_defaults(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("data_dir: var\n")
    settings = load_config(path)
    options, min_chars, _ = ahead._reading(str(path))
    assert options == ReadOptions.from_settings(settings.ocr, settings.ingest)
    assert min_chars == settings.ocr.text_layer_min_chars


def test_the_first_workers_are_forked_only_while_no_other_thread_runs() -> None:
    from scanner.reading import workers

    def method_of_early_pool() -> str:
        workers.start_workers_early(1)
        pool = workers.make_pool(1)
        try:
            assert pool.submit(os.getpid).result(timeout=60) != os.getpid()
            context = pool._mp_context  # noqa: SLF001 - which start method the pool uses
            assert context is not None
            return str(context.get_start_method())
        finally:
            pool.shutdown(wait=True)

    alone = threading.active_count() == 1
    assert method_of_early_pool() == ("fork" if alone else "spawn")
    # Another thread that might hold a lock: the workers are spawned, never forked.
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert method_of_early_pool() == "spawn"
    finally:
        stop.set()
        other.join()


@pytest.mark.needs_tesseract
def test_a_page_that_failed_when_read_ahead_is_read_again(
    site: tuple[Path, App], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config, app = site
    patient = patients()[4]
    path = scan(tmp_path, patient, "pdf_text", "chart.pdf", pages=1)
    settings = load_config(config)
    options = ReadOptions.from_settings(settings.ocr, settings.ingest)
    min_chars = settings.ocr.text_layer_min_chars
    # What a worker would hand back had its copy of the page failed to read: the right
    # bytes and settings, and a page in error.
    failed = ahead.ReadAhead(
        hashlib.sha256(path.read_bytes()).hexdigest(),
        "application/pdf",
        options,
        min_chars,
        tuple(plan_pages(path, "application/pdf", options, min_chars)),
        (PageText(number=1, text="", error="page crashed the reader"),),
    )
    done: Future[ahead.ReadAhead | None] = Future()
    done.set_result(failed)
    app.ingestor  # noqa: B018 - takes its scheduler now, as the command does
    ahead._ahead[str(path.absolute())] = done
    caplog.set_level(logging.DEBUG, logger="chartclerk.ingest")
    outcome = app.ingestor.ingest(path, release_source=False)
    assert "or failed; read again" in caplog.text
    detail = app.store.get_document(outcome.document_id or 0)
    assert [p.error for p in detail.pages] == [None]
    assert (outcome.kind, detail.summary.patient_mrn) == ("filed", patient.mrn)


def test_a_copy_read_ahead_is_private_and_gone_after() -> None:
    with ahead._private_file() as (copy, handle):
        handle.write(b"%PDF-1.4\n")
        assert copy.stat().st_mode & 0o777 == 0o600
        assert copy.parent.stat().st_mode & 0o777 == 0o700
        assert copy.parent.name.startswith(f"{ahead.PREFIX}{os.getpid()}-")
        if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK):  # noqa: S108
            assert copy.parent.parent == Path("/dev/shm")  # noqa: S108 - never on a disk
    assert not copy.parent.exists()


def test_copies_left_by_ended_workers_are_swept() -> None:
    folder = Path(ahead._copies_folder() or tempfile.gettempdir())
    # A pid no process has (above the kernel's maximum) and a live one (this process's).
    dead = folder / f"{ahead.PREFIX}{2**23 + 17}-abc"
    live = folder / f"{ahead.PREFIX}{os.getpid()}-abc"
    for left in (dead, live):
        left.mkdir(mode=0o700)
        (left / "file").write_bytes(b"a patient's scan")
    try:
        ahead._sweep()
        assert not dead.exists()
        assert (live / "file").exists(), "a running worker's copy is its own to remove"
    finally:
        shutil.rmtree(dead, ignore_errors=True)
        shutil.rmtree(live, ignore_errors=True)


@pytest.mark.needs_tesseract
def test_a_command_that_fails_before_its_pipeline_starts_still_exits(tmp_path: Path) -> None:
    # The workers were given files to read ahead; the configuration is then refused. The
    # command must end (exit 2, one line) with its workers and their copies gone.
    config = write_config(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text(config.read_text() + "\nno_such_section: {}\n")
    drop = tmp_path / "drop"
    drop.mkdir()
    for i in range(6):
        scan(drop, patients()[i], "png", f"p{i}.png")
    chartclerk = Path(sys.executable).with_name("chartclerk")
    before = set(Path(ahead._copies_folder() or tempfile.gettempdir()).iterdir())
    done = subprocess.run(
        [str(chartclerk), "--config", str(bad), "ingest", str(drop)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        check=False,
    )
    assert done.returncode == 2
    assert "no_such_section" in done.stderr
    after = set(Path(ahead._copies_folder() or tempfile.gettempdir()).iterdir())
    assert not [p for p in after - before if p.name.startswith(ahead.PREFIX)]


def test_a_fifo_or_a_link_in_a_folder_named_is_never_opened_to_be_read_ahead(
    tmp_path: Path,
) -> None:
    # Opening a FIFO waits for a writer: the command would hang before it even started.
    folder = tmp_path / "drop"
    folder.mkdir()
    os.mkfifo(folder / "a-pipe.pdf")
    (folder / "b-link.png").symlink_to(tmp_path / "elsewhere.png")
    (tmp_path / "elsewhere.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / "d.pdf").write_bytes(b"%PDF-1.4\n")
    files = ahead._first_files([str(folder)], 8)
    assert files == [str(folder / "c.png"), str(folder / "d.pdf")]
    assert sorted(files, key=ahead._not_an_image)[0] == str(folder / "c.png")
    assert ahead._not_an_image(str(folder / "a-pipe.pdf"))  # opened without waiting


def test_the_first_worker_warms_up_alone_where_the_others_would_share_its_core() -> None:
    from scanner.reading.workers import _Turns

    def second_turn(free_cores: int) -> bool:
        turns = _Turns("spawn", free_cores)
        turns.wait_for_first()  # the first worker's turn: never waits
        warmer = threading.Timer(0.1, turns.warm)
        warmer.start()
        try:
            turns.wait_for_first()  # the second's
            return turns._first_warm.is_set()  # noqa: SLF001 - did it wait for the first?
        finally:
            warmer.join()

    assert second_turn(free_cores=1), "no free core: the second waited for the first"
    assert not second_turn(free_cores=2), "a free core: the second warmed up at once"


def test_only_a_batch_that_may_need_ocr_has_its_workers_load_tesseract(tmp_path: Path) -> None:
    person = patients()[0]
    text = scan(tmp_path, person, "pdf_text", "text.pdf", pages=1)
    image_pdf = scan(tmp_path, person, "pdf_image", "scanned.pdf", pages=1)
    png = scan(tmp_path, person, "png", "page.png")

    def plan(*paths: Path) -> ahead.Plan | None:
        return ahead.plan(["ingest", *map(str, paths)])

    texts = plan(text, text)
    assert texts is not None and not texts.needs_tesseract
    for batch in ((image_pdf,), (png,), (text, png), (text, image_pdf)):
        planned = plan(*batch)
        assert planned is not None and planned.needs_tesseract, batch
    assert plan(tmp_path / "missing.pdf") is None  # nothing to read: the workers warm up


@pytest.mark.needs_tesseract
def test_a_worker_started_cold_loads_tesseract_for_the_first_page_that_needs_it(
    tmp_path: Path,
) -> None:
    from scanner.reading import workers

    png = scan(tmp_path, patients()[1], "png", "page.png")
    options = ReadOptions(300, 80_000_000, 120.0, "eng", 60.0, 8, 200)
    [job] = plan_pages(png, "image/png", options, 20)
    workers.start_workers_early(1, warm=False)
    pool = workers.make_pool(1)
    try:
        page = pool.submit(read_page, job).result(timeout=120)
    finally:
        pool.shutdown(wait=True)
    assert page.error is None and page.source == "ocr"
    assert patients()[1].last_name.upper() in page.text.upper()


def test_a_batch_of_text_pdfs_is_read_further_ahead_than_one_that_needs_ocr(
    tmp_path: Path,
) -> None:
    person = patients()[2]
    texts = [scan(tmp_path, person, "pdf_text", f"t{i:02d}.pdf", pages=1) for i in range(12)]
    png = scan(tmp_path, person, "png", "a.png")  # sorts first in the folder listing
    for paths, expected in (
        (texts, len(texts)),  # text layers: all twelve (up to TEXT_FILES_AHEAD)
        ([png, *texts], ahead.FILES_AHEAD),  # may need OCR: the usual eight
    ):
        planned = ahead.plan(["ingest", *map(str, paths)])
        assert planned is not None
        ahead.start(planned)
        try:
            assert len(ahead._ahead) == expected  # noqa: SLF001 - what was submitted
        finally:
            ahead.abandon()
    assert ahead.FILES_AHEAD < len(texts) <= ahead.TEXT_FILES_AHEAD
    # A batch of text layers is read in the pipeline's order, an image further down too.
    ordered = [*texts[: ahead.FILES_AHEAD], png, *texts[ahead.FILES_AHEAD :]]
    planned = ahead.plan(["ingest", *map(str, ordered)])
    assert planned is not None and not planned.needs_tesseract
    ahead.start(planned)
    try:
        assert list(ahead._ahead) == [str(p) for p in ordered]  # noqa: SLF001
    finally:
        ahead.abandon()


def test_workers_forked_while_the_collector_is_off_turn_it_on() -> None:
    # The console script keeps the collector off while it imports; its forked workers
    # must not inherit that for the rest of their lives.
    import gc

    from scanner.reading import workers

    gc.disable()
    try:
        workers.start_workers_early(1, warm=False)
    finally:
        gc.enable()
    pool = workers.make_pool(1)
    try:
        assert pool.submit(gc.isenabled).result(timeout=60) is True
    finally:
        pool.shutdown(wait=True)


@pytest.fixture
def settings_read_afresh() -> Iterator[None]:
    """The settings caches emptied; what ``preload`` freezes for the collector, thawed after."""
    import gc

    for cached in (ahead._reading, ahead._finding, ahead._raw):
        cached.cache_clear()
    yield
    gc.unfreeze()


def _settings_made_again(config: str) -> tuple[int, int]:
    """In a worker: how many times reading the settings below had to read them anew."""
    before = (ahead._reading.cache_info().misses, ahead._finding.cache_info().misses)
    ahead._reading(config)
    ahead._finding(config)
    after = (ahead._reading.cache_info().misses, ahead._finding.cache_info().misses)
    return after[0] - before[0], after[1] - before[1]


@pytest.mark.usefixtures("settings_read_afresh")
def test_a_text_batch_reads_its_settings_once_before_the_workers_fork(tmp_path: Path) -> None:
    # Each worker would otherwise import the YAML library and check the settings itself.
    from scanner.reading import workers

    config = str(write_config(tmp_path))
    ahead.preload(ahead.Plan(config, (), needs_tesseract=False))
    assert ahead._reading.cache_info().currsize == 1
    assert ahead._finding.cache_info().currsize == 1
    workers.start_workers_early(1, warm=False)
    pool = workers.make_pool(1)
    try:
        assert pool.submit(_settings_made_again, config).result(timeout=60) == (0, 0)
        # Another configuration is still read in the worker, as before.
        (tmp_path / "other").mkdir()
        other = str(write_config(tmp_path / "other"))
        assert pool.submit(_settings_made_again, other).result(timeout=60) == (1, 1)
    finally:
        pool.shutdown(wait=True)


@pytest.mark.usefixtures("settings_read_afresh")
def test_a_configuration_that_cannot_be_read_is_left_to_the_command(tmp_path: Path) -> None:
    broken = tmp_path / "config.yaml"
    broken.write_text("ocr: [not, a, mapping\n")
    ahead.preload(ahead.Plan(str(broken), (), needs_tesseract=False))  # does not raise
    assert ahead._reading.cache_info().currsize == 0  # nothing kept: workers try it again


@pytest.mark.usefixtures("settings_read_afresh")
def test_a_configuration_that_is_no_plain_file_is_left_for_the_command(tmp_path: Path) -> None:
    # A pipe can be read once (``--config /dev/stdin``): that reading is the command's.
    import threading

    fifo = tmp_path / "config.yaml"
    os.mkfifo(fifo)
    done = threading.Event()

    def preload() -> None:
        ahead.preload(ahead.Plan(str(fifo), (), needs_tesseract=False))
        done.set()

    thread = threading.Thread(target=preload, daemon=True)
    thread.start()
    try:
        assert done.wait(30), "preload opened the pipe and waits for a writer"
    finally:
        if not done.is_set():
            # Let the blocked open finish so the thread can end.
            with open(fifo, "w"):  # noqa: PTH123
                pass
    assert ahead._raw.cache_info().misses == 0
