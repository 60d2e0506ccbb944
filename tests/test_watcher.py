"""Odd writers against a real InboxWatcher (in-process) and the real `chartclerk watch`."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import scanner.dropped.watcher
from clerk.app import App
from records.views import DocumentSummary
from scanner.dropped.watcher import InboxWatcher
from tests.crashkit import Daemon, Drop, Report, make_workspace, verify, wait_until
from tests.scans import patients, scan

pytestmark = pytest.mark.needs_tesseract

STABLE = 0.5


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Distinct small text PDFs (no OCR needed), as bytes."""
    folder = tmp_path_factory.mktemp("pdfs")
    return [
        scan(folder, patients()[i], "pdf_text", f"p{i}.pdf", pages=2).read_bytes() for i in range(6)
    ]


@contextmanager
def watching(
    app: App, handle: Callable[[Path], object] | None = None, **changes: object
) -> Iterator[InboxWatcher]:
    """A real watcher with its observer and ingest threads, stopped when the block ends."""
    settings = app.settings.inbox.model_copy(update={"stable_seconds": STABLE, **changes})
    settings.path.mkdir(parents=True, exist_ok=True)
    watcher = InboxWatcher(settings, handle or app.ingestor.ingest, workers=2)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), name="test-watcher")
    thread.start()
    try:
        time.sleep(0.3)  # the observer is scheduled and the catch-up scan done
        yield watcher
    finally:
        stop.set()
        thread.join(60)
        assert not thread.is_alive()


def inbox(app: App) -> Path:
    return app.settings.inbox.path


def docs(app: App) -> list[DocumentSummary]:
    return app.store.list_documents()


def settled(app: App, count: int, timeout: float = 30) -> list[DocumentSummary]:
    """Wait until ``count`` documents exist and the inbox holds no takeable file."""

    def done() -> bool:
        left = [p for p in inbox(app).rglob("*") if p.is_file() and not p.name.startswith(".")]
        return len(docs(app)) >= count and not left

    assert wait_until(done, timeout), (len(docs(app)), list(inbox(app).rglob("*")))
    time.sleep(STABLE * 2)  # and nothing more arrives
    return docs(app)


def write_in_chunks(path: Path, data: bytes, chunks: int, pause: float) -> None:
    with path.open("wb") as out:
        step = -(-len(data) // chunks)
        for start in range(0, len(data), step):
            out.write(data[start : start + step])
            out.flush()
            time.sleep(pause)


@pytest.mark.parametrize("polling", [False, True], ids=["inotify", "polling"])
def test_a_file_written_in_chunks_is_taken_once_whole(
    app: App, pdfs: list[bytes], polling: bool
) -> None:
    data = pdfs[0]
    with watching(app, polling=polling, poll_interval_seconds=0.2):
        # Eight writes over about three seconds, each pause well inside the stability wait.
        write_in_chunks(inbox(app) / "slow.pdf", data, chunks=8, pause=STABLE * 0.6)
        stored = settled(app, 1)
    assert [(d.sha256, d.status) for d in stored] == [(sha(data), "review")]
    assert stored[0].pages == 2


def test_a_file_created_empty_and_written_later_is_not_taken_empty(
    app: App, pdfs: list[bytes]
) -> None:
    target = inbox(app) / "late.pdf"
    with watching(app):
        target.touch()
        time.sleep(STABLE * 4)  # a scanner that opens the file, then takes its time
        assert docs(app) == [], "an empty file still being written was taken"
        target.write_bytes(pdfs[1])
        stored = settled(app, 1)
    assert [d.sha256 for d in stored] == [sha(pdfs[1])]


def test_a_part_file_is_ignored_until_renamed_into_place(app: App, pdfs: list[bytes]) -> None:
    part = inbox(app) / "fax.pdf.part"
    with watching(app, polling=True, poll_interval_seconds=0.2):
        part.write_bytes(pdfs[2])
        time.sleep(STABLE * 4)
        assert docs(app) == []
        part.rename(inbox(app) / "fax.pdf")
        stored = settled(app, 1)
    assert [(d.source_name, d.sha256) for d in stored] == [("fax.pdf", sha(pdfs[2]))]


def test_a_rewritten_file_is_taken_with_its_final_content(app: App, pdfs: list[bytes]) -> None:
    target = inbox(app) / "again.pdf"
    with watching(app):
        target.write_bytes(pdfs[3][: len(pdfs[3]) // 2])  # a first, broken attempt
        time.sleep(STABLE / 3)
        target.write_bytes(pdfs[3])
        stored = settled(app, 1)
    assert [(d.sha256, d.status) for d in stored] == [(sha(pdfs[3]), "review")]


def test_a_folder_moved_in_at_once_is_taken_whole(
    app: App, pdfs: list[bytes], tmp_path: Path
) -> None:
    batch = tmp_path / "batch"
    (batch / "sub").mkdir(parents=True)
    for i, data in enumerate(pdfs[:3]):
        (batch / ("sub" if i == 2 else "") / f"b{i}.pdf").write_bytes(data)
    with watching(app):
        batch.rename(inbox(app) / "batch")
        stored = settled(app, 3)
    assert sorted(str(d.sha256) for d in stored) == sorted(sha(d) for d in pdfs[:3])


def test_the_same_file_dropped_twice_at_once_is_one_document(
    app: App, pdfs: list[bytes], tmp_path: Path
) -> None:
    for name in ("copy1.pdf", "copy2.pdf"):
        (tmp_path / name).write_bytes(pdfs[4])
    with watching(app):
        for name in ("copy1.pdf", "copy2.pdf"):
            (tmp_path / name).rename(inbox(app) / name)
        stored = settled(app, 1)
    assert [d.sha256 for d in stored] == [sha(pdfs[4])]
    events = [e.kind for e in app.store.get_document(stored[0].id).events]
    assert events.count("duplicate received") == 1


def test_a_restart_takes_files_left_in_the_inbox(app: App, pdfs: list[bytes]) -> None:
    with watching(app):
        (inbox(app) / "before.pdf").write_bytes(pdfs[0])
        settled(app, 1)
    # Dropped while the daemon is down: no event will ever tell of these.
    (inbox(app) / "down1.pdf").write_bytes(pdfs[1])
    (inbox(app) / "nested").mkdir()
    (inbox(app) / "nested" / "down2.pdf").write_bytes(pdfs[2])
    with watching(app):
        stored = settled(app, 3)
    assert sorted(str(d.sha256) for d in stored) == sorted(sha(d) for d in pdfs[:3])


def test_hidden_and_temporary_files_are_left_alone(app: App, pdfs: list[bytes]) -> None:
    ignored = [".hidden.pdf", "~$lock.pdf", "Thumbs.db", "copy.tmp", "dl.crdownload", "x.part"]
    (inbox(app) / ".sync").mkdir(parents=True)
    with watching(app):
        for name in ignored:
            (inbox(app) / name).write_bytes(pdfs[0])
        (inbox(app) / ".sync" / "inside.pdf").write_bytes(pdfs[0])
        (inbox(app) / "real.pdf").write_bytes(pdfs[1])
        time.sleep(STABLE * 4)
        assert wait_until(lambda: len(docs(app)) == 1, 20)
    assert [d.sha256 for d in docs(app)] == [sha(pdfs[1])]
    assert all((inbox(app) / name).exists() for name in ignored)
    assert (inbox(app) / ".sync" / "inside.pdf").exists()


def test_a_failed_ingest_is_retried_without_a_change_or_restart(
    app: App, pdfs: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scanner.dropped.watcher, "RETRY_SECONDS", 0.2)
    calls: list[Path] = []

    def flaky(path: Path) -> object:
        calls.append(path)
        if len(calls) == 1:
            raise OSError("disk full (simulated)")
        return app.ingestor.ingest(path)

    with watching(app, handle=flaky):
        (inbox(app) / "flaky.pdf").write_bytes(pdfs[5])
        stored = settled(app, 1)
    assert len(calls) == 2
    assert [d.sha256 for d in stored] == [sha(pdfs[5])]


@pytest.mark.slow
def test_sigterm_finishes_the_file_in_hand_and_exits_0(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    sources = [
        scan(ws.stage, patients()[0], "png", "page.png"),
        scan(ws.stage, patients()[1], "pdf_text", "a.pdf", pages=3),
        scan(ws.stage, patients()[2], "pdf_image", "b.pdf"),
    ]
    drops = []
    for source in sources:
        shutil.copyfile(source, ws.inbox / source.name)
        drops.append(Drop(source.name, hashlib.sha256(source.read_bytes()).hexdigest(), "copy"))
    daemon = Daemon(ws)
    try:
        assert wait_until(lambda: "catch-up scan" in ws.log.read_text(errors="replace"), 30)
        time.sleep(STABLE + 1.0)  # taken and being read (the OCR pool is starting)
        assert daemon.alive()
        daemon.proc.send_signal(signal.SIGTERM)
        code = daemon.proc.wait(90)
    finally:
        daemon.kill()
    assert code == 0, ws.log.read_text(errors="replace")
    archive = ws.data / "archive"
    assert not [p for p in archive.rglob("*") if p.name.startswith(".tmp-")]
    report = verify(ws, drops, Report(), reindex=False)
    assert not report.problems, report.lines()
    # Whatever was in hand was finished: stored and released, never half done.
    assert report.filed + report.review + report.waiting == len(drops)
    assert report.filed + report.review >= 1
    os.sync()
