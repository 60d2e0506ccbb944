"""The shared OCR queue: a page's limit counts running time; a stuck page ends only itself."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from clerk.app import App
from clerk.config import load_config
from records.patients import import_patients
from scanner.reading.document import _wait
from scanner.reading.schedule import URGENT, JobCrashedError, JobStuckError, PageScheduler
from scanner.reading.workers import make_pool
from synthetic import render_pages, write_registry_csv
from synthetic.files import write_tiff_multipage
from tests.conftest import write_config
from tests.scans import patients, scan, spec_for


@pytest.fixture
def scheduler() -> Iterator[PageScheduler]:
    instance = PageScheduler(make_pool, 2)
    yield instance
    instance.close()


def test_a_job_stuck_in_a_worker_ends_only_itself(scheduler: PageScheduler) -> None:
    # time.sleep stands for a decoder stuck in C, out of reach of tesseract's time limit.
    stuck = scheduler.submit(time.sleep, 60, limit=1.0)
    beside = scheduler.submit(time.sleep, 1.5, limit=30.0)
    queued = [scheduler.submit(os.getpid, limit=30.0) for _ in range(3)]
    started = time.monotonic()
    _wait(scheduler, [stuck, beside, *queued])
    assert time.monotonic() - started < 20
    with pytest.raises(JobStuckError):
        stuck.result()
    assert beside.result() is None, "the job running beside the stuck one ran again and ended"
    assert all(isinstance(f.result(), int) for f in queued)


def test_a_job_that_kills_its_worker_is_named_and_the_others_finish(
    scheduler: PageScheduler,
) -> None:
    others = [scheduler.submit(time.sleep, 0.3, limit=30.0) for _ in range(3)]
    crash = scheduler.submit(os._exit, 3, limit=30.0)
    after = scheduler.submit(os.getpid, limit=30.0)
    _wait(scheduler, [*others, crash, after])
    with pytest.raises(JobCrashedError):
        crash.result()
    assert [f.result() for f in others] == [None, None, None]
    assert isinstance(after.result(), int)


def test_urgent_jobs_and_bigger_pages_go_first(scheduler: PageScheduler) -> None:
    # Both workers busy, then a small page, a big page and an urgent job queue up.
    busy = [scheduler.submit(time.sleep, 1.0, limit=30.0) for _ in range(2)]
    order = [
        scheduler.submit(time.monotonic, cost=0.4),  # a fax page: 0.4 s expected
        scheduler.submit(time.monotonic, cost=1.0),  # a 300-dpi page
        scheduler.submit(time.monotonic, priority=URGENT),
    ]
    _wait(scheduler, [*busy, *order])
    small, big, urgent = (f.result() for f in order)
    assert urgent < big < small


def _hanging_tesseract(folder: Path, sha256: str) -> Path:
    """A `tesseract` that hangs on the one archived file named by its hash."""
    real = shutil.which("tesseract")
    assert real is not None
    folder.mkdir()
    script = folder / "tesseract"
    script.write_text(
        f'#!/bin/sh\ncase "$1" in *{sha256}*) exec sleep 600;; esac\nexec {real} "$@"\n'
    )
    script.chmod(0o755)
    return folder


@pytest.mark.needs_tesseract
def test_a_hanging_page_in_a_busy_batch_ends_only_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_config(write_config(tmp_path))
    limit = 10.0
    # The hang is a `tesseract` program on PATH, so pages are read by the program here; the
    # library engine's own time limit is tested in test_tessapi.py.
    settings.ocr = settings.ocr.model_copy(
        update={"page_timeout_seconds": limit, "engine": "program"}
    )
    drop = tmp_path / "drop"
    people = patients()
    hang = scan(drop, people[0], "png", "hang.png", content_seed=99)
    sha = hashlib.sha256(hang.read_bytes()).hexdigest()
    bin_dir = _hanging_tesseract(tmp_path / "bin", sha)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    # A long scan (a multi-page fax TIFF) and three ordinary files, all in flight at once.
    pages = []
    for i in range(3):
        pages += render_pages(spec_for(people[5], layout="fax", pages=2, content_seed=i), 7)
    long_scan = write_tiff_multipage(pages, drop / "long.tif")
    ordinary = [scan(drop, people[i], "png", f"ordinary{i}.png") for i in (1, 2, 3)]
    app = App(settings, actor="test-clerk")
    try:
        import_patients(
            app.store, write_registry_csv(people, tmp_path / "reg.csv"), actor=app.actor
        )
        files = [long_scan, hang, *ordinary]
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            outcomes = list(pool.map(app.ingestor.ingest, files))
        elapsed = time.monotonic() - started
        details = [app.store.get_document(o.document_id or 0) for o in outcomes]
    finally:
        app.close()
    assert elapsed > limit, "the batch outlasts one page's limit, so queued time would count"
    errors = {f.name: [p.error for p in d.pages] for f, d in zip(files, details, strict=True)}
    assert errors["hang.png"] == ["OCR time limit reached on this page"]
    assert outcomes[1].kind == "review"
    assert errors["long.tif"] == [None] * 6
    for name in ("ordinary1.png", "ordinary2.png", "ordinary3.png"):
        assert errors[name] == [None], name
    assert [o.kind for o in outcomes[2:]] == ["filed"] * 3


def test_a_page_queued_long_after_does_not_overtake_by_more_than_its_cost(
    scheduler: PageScheduler,
) -> None:
    busy = [scheduler.submit(time.sleep, 1.5, limit=30.0) for _ in range(2)]
    early = scheduler.submit(time.monotonic, cost=0.1)
    time.sleep(0.5)
    late_big = scheduler.submit(time.monotonic, cost=0.3)  # 0.2 s more, 0.5 s later
    _wait(scheduler, [*busy, early, late_big])
    assert early.result() < late_big.result()


def test_closing_waits_for_jobs_waited_for_and_ends_those_nobody_waits_for() -> None:
    scheduler = PageScheduler(make_pool, 2)
    # A file read ahead that nobody took, stuck in a decoder: dropped, it must not hold the
    # stop for its time limit (here 300 s).
    stuck = scheduler.submit(time.sleep, 300, limit=300.0)
    waited = scheduler.submit(time.sleep, 1.0, limit=30.0)
    time.sleep(0.5)  # both running
    scheduler.drop([stuck])
    started = time.monotonic()
    scheduler.close()
    assert time.monotonic() - started < 60, "the dropped job held the stop"
    assert waited.result() is None, "a job somebody waits for is finished, not ended"
    with pytest.raises(JobStuckError):
        stuck.result()


def test_a_pool_that_refuses_every_job_gives_the_queue_up_rather_than_loop() -> None:
    # As at the interpreter's exit: every new pool refuses work. Replacing the pool again
    # and again would never end.
    made: list[ProcessPoolExecutor] = []

    def shut_pool(workers: int) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(workers)
        pool.shutdown()
        made.append(pool)
        return pool

    scheduler = PageScheduler(shut_pool, 1)
    future = scheduler.submit(os.getpid)
    assert future.cancelled()
    assert len(made) == 2, "one fresh pool tried, then given up"
    scheduler.close()
