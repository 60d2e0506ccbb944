"""Nothing stuck: claims, a missing inbox, unreadable entries across a crash, search in step."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

import scanner.pipeline as pipeline
from chartclerk_errors import ConfigError, StillBeingWrittenError
from clerk.app import App
from clerk.status import gather_status
from index import SearchFilters, SearchIndex
from records.audit import Actor
from records.patients import import_patients
from scanner.dropped import claim as claims
from scanner.dropped.claim import PROCESSING, FileInUseError, claim, left_claims
from scanner.dropped.watcher import InboxWatcher
from scanner.indexing import StoreIndexer
from synthetic import write_registry_csv
from tests.conftest import write_config
from tests.scans import patients, scan

CHARTCLERK = str(Path(sys.executable).with_name("chartclerk"))


@pytest.fixture
def inbox(app: App) -> Path:
    folder = app.settings.inbox.path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_an_unexpected_failure_puts_the_claimed_file_back_in_the_inbox(
    app: App, inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dropped = scan(inbox, patients()[0], "pdf_text", "b.pdf")

    def broken(*_args: object) -> None:
        raise RuntimeError("a bug, not the file and not the world")

    monkeypatch.setattr(pipeline.Ingestor, "_ingest_held", broken)
    with pytest.raises(RuntimeError):
        app.ingestor.ingest(dropped)
    # Back where it was dropped, so the watcher's retry finds it; nothing left half-claimed.
    assert dropped.exists()
    processing = inbox / PROCESSING
    assert not processing.exists() or not any(processing.iterdir())


class Crash(BaseException):
    """A SIGKILL at this instant: nothing after it runs, no handler catches it."""


# -- claiming ----------------------------------------------------------------------------------


def test_a_claimed_file_leaves_the_inbox_through_a_private_folder(app: App, inbox: Path) -> None:
    dropped = scan(inbox / "ward", patients()[0], "pdf_text", "a.pdf")
    outcome = app.ingestor.ingest(dropped)
    assert outcome.kind in ("filed", "review")
    assert not dropped.exists()
    processing = inbox / PROCESSING
    assert processing.is_dir() and not any(processing.iterdir())
    assert processing.stat().st_mode & 0o077 == 0
    doc = app.store.get_document(outcome.document_id or 0).summary
    assert doc.source_name == "a.pdf"


def test_a_refused_rename_means_wait_and_leaves_the_file(
    inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dropped = inbox / "held.pdf"
    dropped.write_bytes(b"%PDF-1.4 held by its writer")

    def refuse(self: Path, target: Path) -> Path:
        raise PermissionError(errno.EACCES, "sharing violation")

    monkeypatch.setattr(claims.Path, "rename", refuse)
    with pytest.raises(FileInUseError):
        claim(dropped, inbox)
    assert dropped.read_bytes() == b"%PDF-1.4 held by its writer"


def test_files_a_crash_left_in_the_processing_folder_are_taken_at_start(
    app: App, inbox: Path
) -> None:
    dropped = scan(inbox / "sub dir", patients()[1], "pdf_text", "crashed.pdf")
    held = claim(dropped, inbox)
    assert held is not None and not dropped.exists()
    [left] = left_claims(inbox)
    assert left.original == dropped and left.path == held.path
    assert app.ingestor.take_left_claims() == 1
    assert not any((inbox / PROCESSING).iterdir())
    [doc] = app.store.list_documents()
    assert doc.source_name == "crashed.pdf"


def test_a_file_changed_after_it_was_read_is_never_removed(
    app: App, inbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dropped = scan(inbox, patients()[2], "pdf_text", "growing.pdf")
    real = pipeline.decide_filing

    def writer_comes_back(*args: object, **kwargs: object) -> object:
        # The scanner appends its last page while the first ones are being read.
        [claimed] = [p for p in (inbox / PROCESSING).iterdir()]
        with claimed.open("ab") as out:
            out.write(b"\n% the rest of the scan\n")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "decide_filing", writer_comes_back)
    with pytest.raises(StillBeingWrittenError):
        app.ingestor.ingest(dropped)
    assert dropped.read_bytes().endswith(b"the rest of the scan\n"), "back in the inbox, whole"
    assert app.store.list_documents() == []
    monkeypatch.undo()
    assert app.ingestor.ingest(dropped).kind in ("filed", "review")


def test_polling_waits_longer_for_a_file_to_be_still(app: App) -> None:
    settings = app.settings.inbox
    assert settings.effective_stable_seconds == settings.stable_seconds
    polled = settings.model_copy(update={"polling": True})
    assert polled.effective_stable_seconds == 15.0


# -- a missing inbox ---------------------------------------------------------------------------


def test_watch_exits_2_with_one_line_when_the_inbox_is_missing(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    (tmp_path / "inbox").rmdir()  # the share is not mounted
    result = subprocess.run(
        [CHARTCLERK, "--config", str(config), "watch"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("chartclerk: inbox ")
    assert "does not exist" in result.stderr
    assert not (tmp_path / "inbox").exists(), "never created in place of the share"


def test_a_watcher_refuses_a_missing_inbox(app: App) -> None:
    app.settings.inbox.path.rmdir()  # the share is not mounted
    watcher = InboxWatcher(app.settings.inbox, lambda _p: None, workers=1)
    with pytest.raises(ConfigError, match="does not exist"):
        watcher.run(threading.Event())


def test_an_inbox_gone_while_running_shows_in_status_and_the_heartbeat(
    app: App, inbox: Path
) -> None:
    app.health.path = app.health_file
    told: list[str | None] = []

    def on_missing(message: str | None) -> None:
        told.append(message)
        app.health.inbox_missing(message)

    watcher = InboxWatcher(app.settings.inbox, lambda _p: None, workers=1, on_missing=on_missing)
    assert watcher.check_inbox()
    inbox.rename(inbox.with_name("unmounted"))
    assert not watcher.check_inbox() and watcher.scan() == 0
    assert told[-1] and "does not exist" in told[-1]
    status = gather_status(app)
    assert status["inbox"] == "missing" and "inbox_missing" in status["waiting_on"]
    assert app.health.snapshot()["inbox_missing"]
    inbox.with_name("unmounted").rename(inbox)
    assert watcher.check_inbox() and told[-1] is None
    assert gather_status(app)["inbox"] == "ok"


def test_an_unmounted_share_is_an_error_when_a_mount_is_required(app: App, inbox: Path) -> None:
    settings = app.settings.inbox.model_copy(update={"require_mount": True})
    watcher = InboxWatcher(settings, lambda _p: None, workers=1)
    with pytest.raises(ConfigError, match="not a mount point"):
        watcher.run(threading.Event())


def test_an_inbox_that_comes_back_is_watched_again(app: App, inbox: Path) -> None:
    settings = app.settings.inbox.model_copy(update={"stable_seconds": 0.3})
    taken: list[Path] = []
    watcher = InboxWatcher(settings, taken.append, workers=1)
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,))
    thread.start()
    try:
        time.sleep(0.5)
        inbox.rename(inbox.with_name("away"))
        assert wait_for(lambda: watcher._missing, 10)
        inbox.with_name("away").rename(inbox)
        assert wait_for(lambda: not watcher._missing, 15)
        time.sleep(0.5)
        (inbox / "after.pdf").write_bytes(b"%PDF-1.4 dropped after the share came back")
        assert wait_for(lambda: bool(taken), 15)
    finally:
        stop.set()
        thread.join(30)
    assert taken == [inbox / "after.pdf"]


def wait_for(check: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


# -- unreadable entries across a crash ---------------------------------------------------------


def _make_entry(inbox: Path, kind: str) -> Path:
    path = inbox / f"entry-{kind}"
    if kind == "empty":
        path.touch()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/etc/hostname")
    return path


@pytest.mark.parametrize("kind", ["empty", "fifo", "link"])
def test_an_unreadable_entry_gets_one_row_across_a_crash_before_its_move(
    app: App, inbox: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = _make_entry(inbox, kind)

    def crash(*_args: object, **_kwargs: object) -> None:
        raise Crash

    monkeypatch.setattr(pipeline, "quarantine_file", crash)
    with pytest.raises(Crash):
        app.ingestor.ingest(entry)
    assert app.store.counts_by_status()["quarantined"] == 1
    monkeypatch.undo()
    # The restart: the entry is still in the processing folder, and is taken again.
    assert app.ingestor.take_left_claims() == 1
    assert app.store.counts_by_status()["quarantined"] == 1
    assert not any((inbox / PROCESSING).iterdir())
    assert len(list(app.settings.store.quarantine_dir.iterdir())) == 1


# -- search follows the store ------------------------------------------------------------------


@pytest.fixture
def registered(app: App, tmp_path: Path) -> App:
    import_patients(
        app.store, write_registry_csv(patients(), tmp_path / "reg.csv"), actor=Actor("t", "cli")
    )
    return app


def test_a_rebuild_keeps_what_the_daemon_indexed_meanwhile(registered: App, tmp_path: Path) -> None:
    app = registered
    app.ingestor.ingest(
        scan(tmp_path, patients()[0], "pdf_text", "before.pdf"), release_source=False
    )
    app.indexer.flush()
    # `chartclerk reindex` in another process: its own index object on the same folder.
    other = SearchIndex(app.settings.index)
    rebuilder = StoreIndexer(app.store, other)
    real = rebuilder._documents

    def slow_read(ids: object) -> Iterator[object]:
        for n, doc in enumerate(real(None)):
            yield doc
            if n == 0:
                # Meanwhile the daemon stores and indexes a new document (in the old index).
                late = scan(tmp_path, patients()[1], "pdf_text", "during.pdf")
                app.ingestor.ingest(late, release_source=False)
                app.indexer.flush()

    rebuilder._documents = slow_read  # type: ignore[assignment,method-assign]
    try:
        rebuilder.rebuild()
    finally:
        other.close()
    store_ids = {d.id for d in app.store.list_documents()}
    assert len(store_ids) == 2
    fresh = SearchIndex(app.settings.index)
    try:
        assert fresh.ids() == store_ids
    finally:
        fresh.close()
    assert app.store.pending_index_ids() == []


def test_a_patients_new_name_reaches_the_index(registered: App, tmp_path: Path) -> None:
    app = registered
    person = patients()[0]
    outcome = app.ingestor.ingest(scan(tmp_path, person, "pdf_text", "a.pdf"), release_source=False)
    app.indexer.flush()
    assert outcome.kind == "filed"
    renamed = [
        replace(p, last_name="Quillfeather") if p.mrn == person.mrn else p for p in patients()
    ]
    import_patients(
        app.store, write_registry_csv(renamed, tmp_path / "reg2.csv"), actor=Actor("t", "cli")
    )
    assert outcome.document_id in app.store.pending_index_ids()
    app.indexer.catch_up()
    hits = app.search.search("name:Quillfeather", SearchFilters()).hits
    assert [h.id for h in hits] == [outcome.document_id]
