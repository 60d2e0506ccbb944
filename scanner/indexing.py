"""Keeping the search index in step with the record store.

The index is derived data: a failed write is logged and retried later (documents whose
``indexed_at`` lags their ``updated_at`` are pending), and ``reindex`` rebuilds it whole.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from chartclerk_errors import ChartclerkError
from index import IndexDocument, SearchIndex
from records.operations import is_rejected
from records.store import Store, now
from records.views import DocumentDetail, PatientView

log = logging.getLogger("chartclerk.index")


def index_document(detail: DocumentDetail, patient: PatientView | None) -> IndexDocument:
    """The search index's view of a stored document."""
    summary = detail.summary
    return IndexDocument(
        id=summary.id,
        patient_mrn=summary.patient_mrn,
        patient_name=f"{patient.first_name} {patient.last_name}" if patient else None,
        dob=patient.dob if patient else None,
        doc_type=summary.doc_type,
        service_date=detail.service_date,
        received_at=summary.received_at,
        status=summary.status,
        source_name=summary.source_name,
        text=detail.text,
        rejected=is_rejected(summary.status, summary.review_reason),
    )


#: Commits in a row that may skip merging small segments while documents keep coming.
UNMERGED_COMMITS = 8
#: Pages queued that make a commit without waiting for the delay (see StoreIndexer).
BURST_COMMIT_PAGES = 100


class StoreIndexer:
    """Feeds committed documents from the store to the search index.

    The pipeline hands documents over with :meth:`enqueue`; a background thread commits
    them in batches, because one index commit per document costs more than reading a
    text-layer document. What is queued but not yet written is still pending in the store
    (``indexed_at``), so a crash loses nothing: :meth:`catch_up` takes it at the next start.

    When to commit: once no document has come for ``flush_seconds`` (a clerk's action, or
    the end of a burst, is searchable that long after it), or once the oldest queued
    document has waited ``max_delay_seconds`` (during a burst of ingest: larger commits,
    each document still searchable within about that long), or once ``burst_pages`` pages
    are queued: what is still queued when a batch ends is written after its last page is
    read, on one core while the others have nothing left to do, so it is kept to about
    that many pages (a tenth of a second for dense ones). Each commit writes a segment,
    and a segment's cost is mostly per distinct word, so two documents a commit cost a
    dense page about four times the CPU of twenty a commit, and ten (100 pages) a tenth more
    (``benchmarks/bench_index_cost.py``).
    Commits during a burst leave the merging of small segments to the commit that ends it
    (or to every :data:`UNMERGED_COMMITS`-th), so that the same small segments are not merged
    again and again.
    """

    def __init__(
        self,
        store: Store,
        search: SearchIndex,
        flush_seconds: float = 0.5,
        max_delay_seconds: float = 2.0,
        burst_pages: int = BURST_COMMIT_PAGES,
    ) -> None:
        self.store = store
        self.search = search
        self.flush_seconds = flush_seconds
        self.max_delay_seconds = max(max_delay_seconds, flush_seconds)
        self.burst_pages = burst_pages
        self._pages = 0  # pages of the documents queued
        self._soon = False  # flush_soon was called since the last commit
        self._lock = threading.Lock()
        self._queued: set[int] = set()
        self._queue_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._first_queued = 0.0  # monotonic time the oldest queued document came
        self._last_queued = 0.0  # ... and the newest
        self._unmerged = 0  # commits since the last one that merged small segments

    def enqueue(self, ids: Sequence[int], pages: int = 1) -> None:
        """Index these documents (``pages`` pages in all) soon, in a batch with others."""
        with self._queue_lock:
            moment = time.monotonic()
            if not self._queued:
                self._first_queued = moment
            self._last_queued = moment
            self._queued.update(ids)
            self._pages += max(pages, 1)
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="index-writer", daemon=True)
                self._thread.start()
            elif self._pages >= self.burst_pages:
                self._wake.set()

    def _due(self) -> float | None:
        """When the queue should be written (monotonic time); None when it is empty."""
        if not self._queued:
            return None
        if self._soon or self._pages >= self.burst_pages:
            return self._last_queued
        quiet = self._last_queued + self.flush_seconds
        return min(quiet, self._first_queued + self.max_delay_seconds)

    def _run(self) -> None:
        while True:
            with self._queue_lock:
                due = self._due()
            wait = self.flush_seconds if due is None else max(due - time.monotonic(), 0.0)
            self._wake.wait(wait)
            self._wake.clear()
            with self._queue_lock:
                stopping, due = self._stopping, self._due()
                # Documents still coming (the last one less than flush_seconds ago): a burst.
                burst = time.monotonic() < self._last_queued + self.flush_seconds
            if stopping or (due is not None and due <= time.monotonic()):
                self.flush(merge=stopping or not burst)
            elif due is None and not burst and self._unmerged:
                self._merge()  # the burst ended on a commit that did not merge
            with self._queue_lock:
                if self._stopping and not self._queued:
                    return

    def flush(self, merge: bool = True) -> None:
        """Write everything queued so far.

        Args:
            merge: let the commit merge small segments; False during a burst (see the
                class's docstring), and then at most :data:`UNMERGED_COMMITS` times in a row.
        """
        with self._queue_lock:
            ids, self._queued, self._pages = sorted(self._queued), set(), 0
            self._soon = False
        if ids:
            merge = merge or self._unmerged + 1 >= UNMERGED_COMMITS
            self.index_documents(ids, merge=merge)
            self._unmerged = 0 if merge else self._unmerged + 1

    def flush_soon(self) -> None:
        """Write what is queued now, as part of a burst (a batch's end is near).

        ``chartclerk ingest`` calls it as its last documents are being read: the commit
        then runs beside their reading instead of after it, on one core, and the one that
        ends the batch holds only those last documents.
        """
        with self._queue_lock:
            self._soon = True
            if self._thread is not None:
                self._wake.set()

    def _merge(self) -> None:
        try:
            with self._lock, self.search.writing():
                self.search.merge()
            self._unmerged = 0
        except ChartclerkError as exc:
            log.warning("index merge deferred: %s", exc)

    def close(self) -> None:
        """Write what is queued and stop the background writer."""
        with self._queue_lock:
            thread, self._stopping = self._thread, True
        if thread is not None:
            self._wake.set()
            thread.join()
            with self._queue_lock:
                self._thread = None
        self.flush()
        if self._unmerged:
            self._merge()

    def _documents(self, ids: Sequence[int] | None) -> Iterator[IndexDocument]:
        for batch in _batched(self.store.iter_details(ids), 200):
            patients = self.store.patients_by_mrn([d.summary.patient_mrn or "" for d in batch])
            for detail in batch:
                yield index_document(detail, patients.get(detail.summary.patient_mrn or ""))

    def index_documents(self, ids: list[int], merge: bool = True) -> None:
        """Index these documents now; on failure they stay pending for a later retry.

        Args:
            ids: the documents.
            merge: let the commit merge small segments (see :meth:`SearchIndex.add`).
        """
        stamp = now()
        try:
            # Written and recorded under the index's write lock, which a rebuild in another
            # process takes around its swap: it sees this write and carries it over.
            with self._lock, self.search.writing():
                self.search.add(self._documents(ids), merge=merge)
                self.store.mark_indexed(ids, stamp)
        except ChartclerkError as exc:
            log.warning("index update deferred for %d document(s): %s", len(ids), exc)

    def catch_up(self) -> int:
        """Index every document changed since the index last took it; returns how many."""
        pending = self.store.pending_index_ids()
        if pending:
            self.index_documents(pending)
        return len(pending)

    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Rebuild the whole index from the store; returns the number of documents."""
        stamp = now()
        total = self.store.count_documents()

        def settle() -> None:
            # Under the write lock, right after the swap: what the daemon stored or indexed
            # (into the old index) while this rebuild read the store goes into the new one.
            changed = self.store.changed_since(stamp)
            self.store.mark_all_indexed(stamp)
            if changed:
                again = now()
                self.search.add(self._documents(changed))
                self.store.mark_indexed(changed, again)

        with self._lock:
            return self.search.rebuild(
                self._documents(None), total=total, progress=progress, settle=settle
            )


def _batched(items: Iterator[DocumentDetail], size: int) -> Iterator[list[DocumentDetail]]:
    batch: list[DocumentDetail] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
