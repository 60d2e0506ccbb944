"""Keeping the search index in step with the record store.

The index is derived data: a failed write is logged and retried later (documents whose
``indexed_at`` lags their ``updated_at`` are pending), and ``reindex`` rebuilds it whole.
"""

from __future__ import annotations

import logging
import threading
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


class StoreIndexer:
    """Feeds committed documents from the store to the search index.

    The pipeline hands documents over with :meth:`enqueue`; a background thread commits
    them in batches, because one index commit per document costs more than reading a
    text-layer document. What is queued but not yet written is still pending in the store
    (``indexed_at``), so a crash loses nothing: :meth:`catch_up` takes it at the next start.
    """

    def __init__(self, store: Store, search: SearchIndex, flush_seconds: float = 0.5) -> None:
        self.store = store
        self.search = search
        self.flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._queued: set[int] = set()
        self._queue_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def enqueue(self, ids: Sequence[int]) -> None:
        """Index these documents soon, in a batch with others."""
        with self._queue_lock:
            self._queued.update(ids)
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="index-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            self.flush()
            with self._queue_lock:
                if self._stopping and not self._queued:
                    return

    def flush(self) -> None:
        """Write everything queued so far."""
        with self._queue_lock:
            ids, self._queued = sorted(self._queued), set()
        if ids:
            self.index_documents(ids)

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

    def _documents(self, ids: Sequence[int] | None) -> Iterator[IndexDocument]:
        for batch in _batched(self.store.iter_details(ids), 200):
            patients = self.store.patients_by_mrn([d.summary.patient_mrn or "" for d in batch])
            for detail in batch:
                yield index_document(detail, patients.get(detail.summary.patient_mrn or ""))

    def index_documents(self, ids: list[int]) -> None:
        """Index these documents now; on failure they stay pending for a later retry."""
        stamp = now()
        try:
            # Written and recorded under the index's write lock, which a rebuild in another
            # process takes around its swap: it sees this write and carries it over.
            with self._lock, self.search.writing():
                self.search.add(self._documents(ids))
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
