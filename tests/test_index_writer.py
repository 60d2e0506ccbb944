"""The background index writer: larger commits during a burst, prompt ones otherwise."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from clerk.app import App
from index import IndexDocument, IndexSettings, SearchIndex
from records.audit import Actor
from records.patients import import_patients
from scanner.indexing import UNMERGED_COMMITS, StoreIndexer
from synthetic import write_registry_csv
from tests.scans import patients, scan


@dataclass
class Commit:
    at: float
    ids: list[int]
    merge: bool


class RecordingIndex(SearchIndex):
    """The real index, noting when each add committed what (the writer's policy is tested)."""

    def __init__(self, settings: IndexSettings) -> None:
        super().__init__(settings)
        self.commits: list[Commit] = []
        self.merges: list[float] = []
        self.guard = threading.Lock()

    def merge(self) -> None:
        super().merge()
        with self.guard:
            self.merges.append(time.monotonic())

    def add(self, docs: Iterable[IndexDocument], merge: bool = True) -> int:
        listed = list(docs)
        written = super().add(listed, merge=merge)
        with self.guard:
            self.commits.append(Commit(time.monotonic(), [d.id for d in listed], merge))
        return written


@pytest.fixture
def stored(app: App, tmp_path: Path) -> App:
    """Four stored documents, already indexed by the app's own writer."""
    people = patients()
    import_patients(
        app.store, write_registry_csv(people, tmp_path / "reg.csv"), actor=Actor("t", "cli")
    )
    drop = tmp_path / "drop"
    for number, person in enumerate(people[:4]):
        scan(drop, person, "pdf_text", f"doc{number}.pdf")
    for path in sorted(drop.iterdir()):
        app.ingestor.ingest(path, release_source=False)
    app.indexer.close()
    assert len(app.store.list_documents()) == 4
    return app


@pytest.fixture
def recording(stored: App) -> Iterable[RecordingIndex]:
    index = RecordingIndex(stored.settings.index)
    yield index
    index.close()


def test_a_burst_is_written_in_few_commits_each_document_within_the_delay(
    stored: App, recording: RecordingIndex
) -> None:
    ids = [d.id for d in stored.store.list_documents()]
    writer = StoreIndexer(stored.store, recording, flush_seconds=0.3, max_delay_seconds=1.0)
    enqueued: list[tuple[float, int]] = []
    try:
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < 3.0:  # one document every 50 ms for 3 s
            doc_id = ids[n % len(ids)]
            enqueued.append((time.monotonic(), doc_id))
            writer.enqueue([doc_id])
            n += 1
            time.sleep(0.05)
        burst_end = time.monotonic()
        time.sleep(1.0)  # quiet: what is left is written
        assert not writer._queued
    finally:
        writer.close()
    during = [c for c in recording.commits if c.at < burst_end]
    # A commit every flush_seconds would make 10 of them; the delay allows 3 or 4.
    assert 2 <= len(during) <= 5
    assert not any(c.merge for c in during)  # a burst's commits leave merging for later
    # The quiet after the burst merges: its last commit, or a merge of its own.
    assert recording.commits[-1].merge or recording.merges
    # Each document was committed after it was enqueued, and within the delay (with slack
    # for a loaded machine).
    for at, doc_id in enqueued:
        written = [c.at for c in recording.commits if c.at >= at and doc_id in c.ids]
        assert written, doc_id
        assert min(written) - at <= 1.0 + 2.0


def test_a_lone_document_is_written_once_the_queue_is_quiet(
    stored: App, recording: RecordingIndex
) -> None:
    doc_id = stored.store.list_documents()[0].id
    writer = StoreIndexer(stored.store, recording, flush_seconds=0.2, max_delay_seconds=5.0)
    try:
        at = time.monotonic()
        writer.enqueue([doc_id])
        deadline = at + 3.0
        while not recording.commits and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        writer.close()
    first = recording.commits[0]
    assert first.ids == [doc_id]
    assert first.merge
    assert 0.2 <= first.at - at <= 0.2 + 1.5  # not before the quiet period, long before 5 s


def test_close_writes_what_is_queued_at_once(stored: App, recording: RecordingIndex) -> None:
    ids = [d.id for d in stored.store.list_documents()]
    writer = StoreIndexer(stored.store, recording, flush_seconds=30, max_delay_seconds=60)
    writer.enqueue(ids)
    stamp_before = time.monotonic()
    writer.close()
    assert time.monotonic() - stamp_before < 10
    assert sorted(i for c in recording.commits for i in c.ids) == sorted(ids)
    assert stored.store.pending_index_ids() == []


def test_unmerged_commits_in_a_row_are_bounded(stored: App, recording: RecordingIndex) -> None:
    doc_id = stored.store.list_documents()[0].id
    writer = StoreIndexer(stored.store, recording)
    for _ in range(2 * UNMERGED_COMMITS):
        writer.enqueue([doc_id])
        writer.flush(merge=False)
    writer.close()
    merges = [c.merge for c in recording.commits]
    assert len(merges) == 2 * UNMERGED_COMMITS
    run = longest = 0
    for merged in merges:
        run = 0 if merged else run + 1
        longest = max(longest, run)
    assert longest == UNMERGED_COMMITS - 1
    assert merges.count(True) == 2
    with SearchIndex(stored.settings.index) as index:
        assert doc_id in index.ids()


def test_a_burst_of_many_pages_is_written_without_waiting_for_the_delay(
    stored: App, recording: RecordingIndex
) -> None:
    # What a batch leaves queued is written after its last page, on one core: the writer
    # commits once burst_pages pages are queued instead of letting a batch pile up.
    ids = [d.id for d in stored.store.list_documents()]
    writer = StoreIndexer(
        stored.store, recording, flush_seconds=30, max_delay_seconds=60, burst_pages=25
    )
    try:
        writer.enqueue(ids[:1], pages=10)
        writer.enqueue(ids[1:2], pages=10)
        time.sleep(0.5)
        assert recording.commits == []  # 20 pages: the delays still decide
        at = time.monotonic()
        writer.enqueue(ids[2:3], pages=10)  # 30 pages
        deadline = at + 10
        while not recording.commits and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [c.ids for c in recording.commits] == [sorted(ids[:3])]
        assert not recording.commits[0].merge  # documents were still coming: a burst
        writer.enqueue(ids[3:4], pages=10)  # the count starts again after a commit
        time.sleep(0.5)
        assert len(recording.commits) == 1
    finally:
        writer.close()
    assert sorted(i for c in recording.commits for i in c.ids) == sorted(ids)


def test_flush_soon_writes_what_is_queued_without_waiting(
    stored: App, recording: RecordingIndex
) -> None:
    # `chartclerk ingest` calls it as its last files are read, so that the commit runs
    # beside their reading rather than after it.
    ids = [d.id for d in stored.store.list_documents()]
    writer = StoreIndexer(stored.store, recording, flush_seconds=30, max_delay_seconds=60)
    try:
        writer.enqueue(ids[:2], pages=2)
        time.sleep(0.3)
        assert recording.commits == []
        writer.flush_soon()
        deadline = time.monotonic() + 10
        while not recording.commits and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [c.ids for c in recording.commits] == [sorted(ids[:2])]
        assert not recording.commits[0].merge  # a burst's commit: merging waits
        writer.enqueue(ids[2:], pages=2)  # after it, the usual delays again
        time.sleep(0.3)
        assert len(recording.commits) == 1
    finally:
        writer.close()
    assert sorted(i for c in recording.commits for i in c.ids) == sorted(ids)


def test_ingest_asks_for_the_commit_once_only_the_last_files_are_left() -> None:
    from concurrent.futures import Future
    from types import SimpleNamespace

    from clerk.cli import _near_the_end

    calls: list[int] = []
    futures: list[Future[object]] = [Future() for _ in range(5)]
    app = SimpleNamespace(
        settings=SimpleNamespace(ocr=SimpleNamespace(workers=2)),
        indexer=SimpleNamespace(flush_soon=lambda: calls.append(len(calls))),
    )
    _near_the_end(app, futures)  # type: ignore[arg-type]
    for done, future in enumerate(futures, 1):
        future.set_result(None)
        # Five files on two workers: once three are done, two are left being read.
        assert calls == ([0] if done >= 3 else [])
    few: list[Future[object]] = [Future() for _ in range(2)]
    _near_the_end(app, few)  # type: ignore[arg-type]
    for future in few:
        future.set_result(None)
    assert calls == [0]  # no more files than workers: the close writes everything
