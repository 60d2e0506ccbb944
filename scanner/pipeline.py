"""The ingest pipeline: one dropped file → a stored, identified, indexed document.

    intake ─▶ archive ─▶ read pages ─▶ identify ─▶ classify ─▶ match ─▶ file ─▶ index ─▶ release

A file leaves the inbox only after its bytes are in the archive (hash verified) and its
document row is committed; a failure at any stage quarantines the file with a reason.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, Protocol

from chartclerk_errors import ChartclerkError, InputFileError, OcrWorkerDiedError
from records.audit import SYSTEM, Actor
from records.store import NewDocument, NewPage, Store
from records.views import DocumentSummary
from scanner.dropped.intake import Intake, take
from scanner.dropped.quarantine import display_name, display_path, quarantine_file, release
from scanner.matching.filing import Filing, FilingSettings, decide_filing
from scanner.ocr import make_pool, reread_top
from scanner.reading.document import read_pages
from scanner.reading.pages import ReadOptions
from scanner.reading.pagetext import PageText
from scanner.settings import IngestSettings, OcrSettings

log = logging.getLogger("chartclerk.ingest")

OutcomeKind = Literal["filed", "review", "quarantined", "duplicate", "gone"]


@dataclass(frozen=True)
class Outcome:
    """What became of one dropped file."""

    kind: OutcomeKind
    document_id: int | None
    reason: str | None = None


class DocumentIndexer(Protocol):
    """What the pipeline needs of the search side: index documents after they commit."""

    def enqueue(self, ids: Sequence[int]) -> None:
        """Add or update these documents in the search index soon; never raises."""


class Ingestor:
    """Runs files through the pipeline; safe to call from several threads at once."""

    def __init__(
        self,
        store: Store,
        ocr: OcrSettings,
        ingest: IngestSettings,
        filing: FilingSettings,
        indexer: DocumentIndexer | None = None,
        actor: Actor = SYSTEM,
    ) -> None:
        self.store = store
        # Recorded as who took each file in: `system` for the daemon, the OS account for
        # `chartclerk ingest`.
        self.actor = actor
        self.ocr = ocr
        self.ingest_settings = ingest
        self.filing = filing
        self.indexer = indexer
        self.options = ReadOptions(
            dpi=ocr.dpi,
            max_pixels=int(ingest.max_page_megapixels * 1_000_000),
            timeout=ocr.page_timeout_seconds,
            languages=ocr.languages,
            min_confidence=ocr.orientation_min_confidence,
            min_words=ocr.orientation_min_words,
            max_pages=ingest.max_pages,
        )
        self._pool: ProcessPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        # Two copies of one file dropped at once must not both become documents. Striped
        # by hash prefix, so the daemon holds a fixed number of locks however long it runs.
        self._hash_locks = [threading.Lock() for _ in range(64)]

    def close(self) -> None:
        """Stop the OCR workers."""
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None

    def pool(self) -> ProcessPoolExecutor:
        """The OCR worker pool, started on first use (and again after a worker died)."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = make_pool(self.ocr.workers)
            return self._pool

    def _replace_pool(self, broken: ProcessPoolExecutor) -> None:
        """Retire a pool that lost or hung a worker; the next call to pool() starts anew.

        Only the pool that failed is retired: another thread may already have replaced it.
        """
        with self._pool_lock:
            if self._pool is not broken:
                return
            self._pool = None
        # A hung worker ignores shutdown; end it, or it holds a core for good. The
        # executor keeps its processes in a private map; there is no public way.
        for process in list((broken._processes or {}).values()):
            process.terminate()
        broken.shutdown(wait=False, cancel_futures=True)

    def _read(self, archived: Path, media_type: str) -> list[PageText]:
        """Read the pages; a worker death is retried once on a fresh pool.

        The death may be another file's doing (a page that crashed a worker shared by
        every document in flight), so one failure does not condemn this file.
        """
        for attempt in (1, 2):
            pool = self.pool()
            try:
                return read_pages(
                    archived, media_type, self.options, self.ocr.text_layer_min_chars, pool
                )
            except OcrWorkerDiedError:
                self._replace_pool(pool)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def ingest(self, path: Path, *, release_source: bool = True) -> Outcome:
        """Run one file through every stage; never raises for a bad file.

        Args:
            path: the dropped file.
            release_source: remove the file once it is stored (the inbox's way); False
                leaves it where it is (``chartclerk ingest`` of a file outside the inbox).
        """
        if not path.exists() and not path.is_symlink():
            return Outcome("gone", None)
        try:
            intake = take(path, int(self.ingest_settings.max_file_mb * 2**20))
        except InputFileError as exc:
            return self._quarantine(path, None, str(exc), release_source)
        with self._lock_for(intake.sha256):
            return self._ingest_taken(intake, release_source)

    def _lock_for(self, sha256: str) -> threading.Lock:
        return self._hash_locks[int(sha256[:8], 16) % len(self._hash_locks)]

    def _ingest_taken(self, intake: Intake, release_source: bool) -> Outcome:
        existing = self.store.find_by_sha(intake.sha256)
        if existing is not None:
            return self._duplicate(intake, existing, release_source)
        archived = self.store.archive.store(intake.path, intake.sha256)
        if intake.media_type is None:
            reason = "not a PDF or an image (unrecognised contents)"
            return self._quarantine(intake.path, intake, reason, release_source, archived=True)
        try:
            pages = self._read(archived, intake.media_type)
        except InputFileError as exc:
            return self._quarantine(intake.path, intake, str(exc), release_source, archived=True)
        filing = decide_filing(
            pages, self.store, self.filing, date.today(), reread=self._reread_on_pool
        )
        doc_id = self.store.add_document(_new_document(intake, pages, filing, self.actor))
        log.info(
            "document %d stored from %s…: %s, %d pages",
            doc_id,
            intake.sha256[:12],
            filing.status,
            len(pages),
        )
        self._index(doc_id)
        if release_source:
            release(intake)
        return Outcome(filing.status, doc_id, filing.review_reason)  # type: ignore[arg-type]

    def _reread_on_pool(self, *args: Any) -> list[PageText]:
        # A second look at a page is OCR too: on the workers, not beside them. It is a
        # bonus: when it fails, the document goes to review as it would have anyway.
        pool = self.pool()
        try:
            return pool.submit(reread_top, *args).result(timeout=self.options.timeout * 6 + 60)
        except (BrokenProcessPool, TimeoutError):
            self._replace_pool(pool)
            return []

    def _index(self, doc_id: int) -> None:
        if self.indexer is not None:
            self.indexer.enqueue([doc_id])

    def _duplicate(
        self, intake: Intake, existing: DocumentSummary, release_source: bool
    ) -> Outcome:
        doc_id, status, existing_name = existing.id, existing.status, existing.source_name
        # The same name and bytes again is most often this very file, stored just before a
        # crash and taken again at the restart; say so rather than call it a duplicate.
        name = display_name(intake.path)
        kind = "received again" if name == existing_name else "duplicate received"
        self.store.add_event(doc_id, kind, {"source_name": name}, actor=self.actor)
        log.info("duplicate of document %d (%s…) released", doc_id, intake.sha256[:12])
        if status == "quarantined":
            quarantine_file(intake.path, self.store.settings.quarantine_dir, doc_id, copy=True)
        if release_source:
            release(intake)
        return Outcome("duplicate", doc_id)

    def _quarantine(
        self,
        path: Path,
        intake: Intake | None,
        reason: str,
        release_source: bool,
        *,
        archived: bool = False,
    ) -> Outcome:
        try:
            if intake is not None and not archived:
                self.store.archive.store(path, intake.sha256)
            doc_id = self.store.add_document(
                NewDocument(
                    sha256=intake.sha256 if intake else None,
                    source_name=display_name(path),
                    source_path=display_path(path),
                    status="quarantined",
                    media_type=intake.media_type if intake else None,
                    size_bytes=intake.size_bytes if intake else None,
                    review_reason=reason,
                    events=[("received", None), ("quarantined", {"reason": reason})],
                    actor=self.actor,
                )
            )
        except ChartclerkError as exc:
            log.error("could not record quarantine of a file: %s", exc)
            raise
        log.warning("document %d quarantined: %s", doc_id, reason)
        # Bytes that were read are archived, so the operator gets a copy; an entry that
        # could not be read (a link, a FIFO, no permission) is moved out of the inbox.
        copy = intake is not None or not release_source
        quarantine_file(path, self.store.settings.quarantine_dir, doc_id, copy=copy)
        if intake is not None and release_source:
            release(intake)
        self._index(doc_id)
        return Outcome("quarantined", doc_id, reason)


def _new_document(
    intake: Intake, pages: list[PageText], filing: Filing, actor: Actor
) -> NewDocument:
    confidences = [p.confidence for p in pages if p.confidence is not None]
    events: list[tuple[str, dict[str, object] | None]] = [
        ("received", {"source_name": display_name(intake.path), "bytes": intake.size_bytes}),
        ("read", {"pages": len(pages), "ocr_pages": len(confidences)}),
        (filing.status, {"reason": filing.review_reason, "mrn": filing.patient_mrn}),
    ]
    return NewDocument(
        sha256=intake.sha256,
        source_name=display_name(intake.path),
        source_path=display_path(intake.path),
        status=filing.status,
        media_type=intake.media_type,
        size_bytes=intake.size_bytes,
        patient_mrn=filing.patient_mrn,
        doc_type=filing.doc_type,
        review_reason=filing.review_reason,
        ocr_confidence=sum(confidences) / len(confidences) if confidences else None,
        service_date=filing.service_date,
        decision=filing.decision,
        pages=[_new_page(p) for p in pages],
        identifiers=filing.identifiers,
        events=events,
        actor=actor,
    )


def _new_page(page: PageText) -> NewPage:
    return NewPage(page.number, page.text, page.confidence, page.source, page.rotation, page.error)
