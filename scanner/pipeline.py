"""The ingest pipeline: one dropped file → a stored, identified, indexed document.

    intake ─▶ archive ─▶ read pages ─▶ identify ─▶ classify ─▶ match ─▶ file ─▶ index ─▶ release

A file leaves the inbox only after its bytes are in the archive (hash verified) and its
document row is committed; a failure at any stage quarantines the file with a reason.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, Protocol

from chartclerk_errors import (
    InputFileError,
    NotReadyError,
    StillBeingWrittenError,
    content_reason,
    not_ready,
)
from records import operations
from records.audit import SYSTEM, Actor
from records.store import NewDocument, NewPage, Store
from records.views import DocumentSummary
from scanner.dropped.claim import Claim, claim, left_claims, unclaim
from scanner.dropped.intake import Intake, sniff_file, take
from scanner.dropped.quarantine import (
    display_name,
    display_path,
    entry_key,
    quarantine_file,
    same_file_still_there,
)
from scanner.health import Health
from scanner.identifying.classify import Classifier, KeywordClassifier
from scanner.matching.filing import Filing, FilingSettings, decide_filing
from scanner.ocr import reread_top
from scanner.reading import ahead
from scanner.reading.document import (
    FindOnPage,
    read_pages,
    result_or_none,
    run_urgent,
)
from scanner.reading.pages import ReadOptions
from scanner.reading.pagetext import PageText
from scanner.reading.schedule import GRACE_SECONDS, JobCrashedError, JobStuckError, PageScheduler
from scanner.reading.workers import make_pool, worker_count
from scanner.settings import IngestSettings, OcrSettings

log = logging.getLogger("chartclerk.ingest")

OutcomeKind = Literal["filed", "review", "quarantined", "duplicate", "gone"]


@dataclass(frozen=True)
class Outcome:
    """What became of one dropped file."""

    kind: OutcomeKind
    document_id: int | None
    reason: str | None = None
    # Whether tesseract read a page of it (so tesseract is known to work again).
    ocr_ran: bool = False


class DocumentIndexer(Protocol):
    """What the pipeline needs of the search side: index documents after they commit."""

    def enqueue(self, ids: Sequence[int], pages: int = 1) -> None:
        """Index these documents (``pages`` pages in all) soon; never raises."""


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
        *,
        inbox: Path | None = None,
        health: Health | None = None,
    ) -> None:
        self.store = store
        # Recorded as who took each file in: `system` for the daemon, the OS account for
        # `chartclerk ingest`.
        self.actor = actor
        # Files in the inbox are claimed (moved into its processing folder) before reading.
        self.inbox = inbox
        self.health = health or Health()
        self.ocr = ocr
        self.ingest_settings = ingest
        self.filing = filing
        self.indexer = indexer
        # The seam for another classifier (a trained model): anything with .classify(pages).
        self.classifier: Classifier = KeywordClassifier(filing.classify)
        self.options = ReadOptions.from_settings(ocr, ingest)
        self._identifier_settings = filing.identifiers.model_dump_json()
        # Every document's pages share the workers through one queue, largest first.
        # `chartclerk ingest` started it before the program loaded, reading its first files.
        workers = worker_count(ocr.workers)
        self.scheduler = ahead.take_scheduler(workers) or PageScheduler(make_pool, workers)
        # Two copies of one file dropped at once must not both become documents. Striped
        # by hash prefix, so the daemon holds a fixed number of locks however long it runs.
        self._hash_locks = [threading.Lock() for _ in range(64)]

    def close(self) -> None:
        """Stop the OCR workers (ending those reading ahead a file nobody took)."""
        self.scheduler.drop(ahead.untaken())
        self.scheduler.close()

    def pool(self) -> ProcessPoolExecutor:
        """The OCR worker pool, started on first use (and again after a worker died)."""
        return self.scheduler.pool()

    def _read(
        self, archived: Path, media_type: str, read_ahead: ahead.ReadAhead | None = None
    ) -> list[PageText]:
        """Read the pages on the shared workers; a page that hangs or crashes is unread.

        Each page's identifiers are found there too, beside the reading. ``read_ahead``:
        what a worker read of these very bytes while the program started.
        """
        find = FindOnPage(self._identifier_settings, date.today())
        return read_pages(
            archived,
            media_type,
            self.options,
            self.ocr.text_layer_min_chars,
            self.scheduler,
            find,
            read_ahead,
        )

    def _read_ahead(self, held: Claim, intake: Intake) -> ahead.ReadAhead | None:
        """What a worker read ahead of this file, if it read these bytes as we would."""
        future = ahead.take(held.original)
        if future is None:
            return None
        found: ahead.ReadAhead | None = result_or_none(self.scheduler, future)
        if (
            found is None
            or found.sha256 != intake.sha256
            or found.media_type != intake.media_type
            or found.options != self.options
            or found.text_layer_min_chars != self.ocr.text_layer_min_chars
            # A page the worker could not read ahead is read again the usual way: whatever
            # went wrong there (its private copy, its time) must not decide this page.
            or any(page.error is not None for page in found.pages)
        ):
            log.debug("a reading ahead was not of these bytes or settings, or failed; read again")
            return None
        log.debug("%d of %d pages read ahead", len(found.pages), len(found.jobs))
        return found

    def ingest(self, path: Path, *, release_source: bool = True) -> Outcome:
        """Run one file through every stage; never raises for anything a file holds.

        A file in the inbox is claimed first (moved into the processing folder), so a writer
        still holding it makes the claim fail rather than the reading see half a file.

        Args:
            path: the dropped file.
            release_source: remove the file once it is stored (the inbox's way); False
                leaves it where it is (``chartclerk ingest`` of a file outside the inbox).

        Raises:
            NotReadyError: the world failed (store locked or full, disk full, tesseract
                missing, archive unwritable, the file still being written). The file is
                back where it was dropped and is tried again; nothing was stored.
        """
        if not path.exists() and not path.is_symlink():
            return Outcome("gone", None)
        if not release_source or self.inbox is None or not _under(path, self.inbox):
            # Only the inbox's own files are claimed: a file elsewhere (another disk, a
            # test's folder) is read where it is.
            return self.ingest_claim(Claim.in_place(path), release_source=release_source)
        try:
            held = claim(path, self.inbox)
        except NotReadyError as exc:
            self.health.failed(exc)
            raise
        if held is None:
            return Outcome("gone", None)
        return self.ingest_claim(held, release_source=release_source)

    def take_left_claims(self) -> int:
        """Take again the files a crash left in the processing folder; returns how many.

        One that must wait (the store locked...) is put back in the inbox for the watcher.
        """
        if self.inbox is None:
            return 0
        held_files = left_claims(self.inbox)
        for held in held_files:
            try:
                self.ingest_claim(held)
            except NotReadyError:
                continue  # back in the inbox; the watcher tries it again
            except Exception as exc:  # noqa: BLE001 - a start-up must not fail on one file
                log.error("a file left by a crash could not be taken: %s", type(exc).__name__)
        return len(held_files)

    def ingest_claim(self, held: Claim, *, release_source: bool = True) -> Outcome:
        """Run a claimed file through every stage (a crash's leftovers are taken this way).

        Raises:
            NotReadyError: as :meth:`ingest`; the claimed file is put back in the inbox.
        """
        try:
            outcome = self._ingest_held(held, release_source)
        except Exception as exc:
            failure = not_ready(exc)
            if failure is None:
                # Not the world's and not the file's own (a bug, an integrity error): the
                # file goes back to the inbox, never left in the processing folder.
                if release_source:
                    with contextlib.suppress(OSError):
                        unclaim(held)
                raise
            self.health.failed(failure)
            log.warning("file waits (%s): %s", failure.kind, failure)
            if release_source:
                try:
                    unclaim(held)
                except OSError as undo:
                    # Left in the processing folder: taken again at the next start.
                    log.error("could not put a waiting file back: %s", undo.strerror)
            raise failure from exc
        finally:
            # Not read after all (a duplicate, refused, gone, waiting): its reading ahead,
            # if any, is waited for by nobody.
            unread = ahead.take(held.original)
            if unread is not None:
                self.scheduler.drop([unread])
        self.health.succeeded(ocr_ran=outcome.ocr_ran)
        return outcome

    def _ingest_held(self, held: Claim, release_source: bool) -> Outcome:
        try:
            intake = take(held.path, int(self.ingest_settings.max_file_mb * 2**20))
        except InputFileError as exc:
            return self._quarantine(held, None, str(exc), release_source)
        with self._lock_for(intake.sha256):
            try:
                return self._ingest_taken(held, intake, release_source)
            except Exception as exc:  # noqa: BLE001 - classified: the world's is raised again
                if not_ready(exc) is not None:
                    raise
                # Whatever the file's bytes made a decoder or a stage raise ends the file.
                log.warning("a stage failed on %s… (%s)", intake.sha256[:12], type(exc).__name__)
                existing = self.store.find_by_sha(intake.sha256)
                if existing is not None:
                    return self._duplicate(held, intake, existing, release_source)
                return self._quarantine(held, intake, content_reason(exc), release_source)

    def _lock_for(self, sha256: str) -> threading.Lock:
        return self._hash_locks[int(sha256[:8], 16) % len(self._hash_locks)]

    def _ingest_taken(self, held: Claim, intake: Intake, release_source: bool) -> Outcome:
        existing = self.store.find_by_sha(intake.sha256)
        if existing is not None:
            return self._duplicate(held, intake, existing, release_source)
        archived = self.store.archive.store(intake.path, intake.sha256)
        if intake.media_type is None:
            reason = "not a PDF or an image (unrecognised contents)"
            return self._quarantine(held, intake, reason, release_source, archived=True)
        try:
            pages = self._read(archived, intake.media_type, self._read_ahead(held, intake))
        except InputFileError as exc:
            return self._quarantine(held, intake, str(exc), release_source, archived=True)
        filing = self._decide(pages)
        if not same_file_still_there(intake):
            # A writer added to the file after it was read: store the whole file, later.
            raise StillBeingWrittenError("the file changed while it was read")
        doc_id = self.store.add_document(_new_document(held, intake, pages, filing, self.actor))
        log.info(
            "document %d stored from %s…: %s, %d pages",
            doc_id,
            intake.sha256[:12],
            filing.status,
            len(pages),
        )
        self._index(doc_id, len(pages))
        if filing.status == "filed":
            # Chart completeness looks at the patient's chart again (records.deficiency_store).
            self.store.documents_moved([filing.patient_mrn], [doc_id], actor=self.actor)
        self._release(held, intake, release_source)
        ocr_ran = any(p.source == "ocr" and p.error is None for p in pages)
        return Outcome(filing.status, doc_id, filing.review_reason, ocr_ran)  # type: ignore[arg-type]

    def _release(self, held: Claim, intake: Intake, release_source: bool) -> None:
        """Remove a stored file, unless it changed since it was read: that is put back."""
        if not release_source:
            return
        if same_file_still_there(intake):
            intake.path.unlink(missing_ok=True)
        else:
            # Never remove what a writer changed after it was read: it is a new version,
            # taken again from the inbox.
            log.warning("file changed after it was read (%s…); taken again", intake.sha256[:12])
            unclaim(held)

    def _decide(self, pages: list[PageText]) -> Filing:
        return decide_filing(
            pages,
            self.store,
            self.filing,
            date.today(),
            reread=self._reread_on_pool,
            classifier=self.classifier,
        )

    def read_again(self, document_id: int, *, force: bool, actor: Actor) -> Outcome:
        """Read a stored document again from its archived original and decide afresh.

        The reading it replaces is kept (``records.operations.store_reading``). A filed
        document is read again only with ``force``; the caller checks who may force.

        Raises:
            NotFoundError: no such document.
            StoreError: the document may not be read again or has no intact original.
        """
        original = operations.original_for_reprocess(self.store, document_id, force=force)
        media_type = original.media_type or sniff_file(original.path)
        fields: dict[str, Any]
        if media_type is None:
            fields = _quarantined("not a PDF or an image (unrecognised contents)")
        else:
            try:
                pages = self._read(original.path, media_type)
            except InputFileError as exc:
                fields = _quarantined(str(exc))
            else:
                fields = _filing_fields(pages, self._decide(pages))
        summary = operations.store_reading(
            self.store,
            document_id,
            NewDocument(sha256=None, source_name="", source_path="", **fields),
            actor=actor,
        )
        log.info("document %d read again: %s", document_id, summary.status)
        return Outcome(summary.status, document_id, summary.review_reason)  # type: ignore[arg-type]

    def _reread_on_pool(self, *args: Any) -> list[PageText]:
        # A second look at a page is OCR too: on the workers, not beside them, ahead of
        # the queued pages (its document waits on it). It is a bonus: when it fails, the
        # document goes to review as it would have anyway.
        limit = self.options.timeout + GRACE_SECONDS
        try:
            readings: list[PageText] = run_urgent(self.scheduler, reread_top, *args, limit=limit)
        except (JobStuckError, JobCrashedError):
            return []
        except Exception as exc:  # noqa: BLE001 - classified: the world's is raised again
            if not_ready(exc) is not None:
                raise
            return []
        return readings

    def _index(self, doc_id: int, pages: int = 1) -> None:
        if self.indexer is not None:
            self.indexer.enqueue([doc_id], pages)

    def _duplicate(
        self, held: Claim, intake: Intake, existing: DocumentSummary, release_source: bool
    ) -> Outcome:
        doc_id, status, existing_name = existing.id, existing.status, existing.source_name
        # The same name and bytes again is most often this very file, stored just before a
        # crash and taken again at the restart; say so rather than call it a duplicate.
        name = display_name(held.original)
        kind = "received again" if name == existing_name else "duplicate received"
        self.store.add_event(doc_id, kind, {"source_name": name}, actor=self.actor)
        log.info("duplicate of document %d (%s…) released", doc_id, intake.sha256[:12])
        if status == "quarantined":
            quarantine_file(intake.path, self.store.settings.quarantine_dir, doc_id, copy=True)
        self._release(held, intake, release_source)
        return Outcome("duplicate", doc_id)

    def _quarantine(
        self,
        held: Claim,
        intake: Intake | None,
        reason: str,
        release_source: bool,
        *,
        archived: bool = False,
    ) -> Outcome:
        path = held.path
        if intake is not None and release_source and not same_file_still_there(intake):
            # Half a file reads as a broken one: a writer that came back is not done.
            raise StillBeingWrittenError("the file changed while it was read")
        # An entry read not at all (a link, a FIFO, empty) has no hash to know it again by:
        # its file identity keeps a crash between the row and the move from making two rows.
        key = entry_key(path) if intake is None else None
        doc_id = self.store.find_quarantined_entry(key) if key is not None else None
        if doc_id is None:
            if intake is not None and not archived:
                self.store.archive.store(path, intake.sha256)
            doc_id = self.store.add_document(
                NewDocument(
                    sha256=intake.sha256 if intake else None,
                    source_name=display_name(held.original),
                    source_path=display_path(held.original),
                    status="quarantined",
                    media_type=intake.media_type if intake else None,
                    size_bytes=intake.size_bytes if intake else None,
                    review_reason=reason,
                    events=[("received", None), ("quarantined", {"reason": reason})],
                    actor=self.actor,
                ),
                entry_key=key,
            )
            log.warning("document %d quarantined: %s", doc_id, reason)
            self._index(doc_id)
        # Bytes that were read are archived, so the operator gets a copy; an entry that
        # could not be read (a link, a FIFO, no permission) is moved out of the inbox.
        copy = intake is not None or not release_source
        quarantine_file(path, self.store.settings.quarantine_dir, doc_id, copy=copy)
        if intake is not None:
            self._release(held, intake, release_source)
        return Outcome("quarantined", doc_id, reason)


def _new_document(
    held: Claim, intake: Intake, pages: list[PageText], filing: Filing, actor: Actor
) -> NewDocument:
    confidences = [p.confidence for p in pages if p.confidence is not None]
    events: list[tuple[str, dict[str, object] | None]] = [
        ("received", {"source_name": display_name(held.original), "bytes": intake.size_bytes}),
        ("read", {"pages": len(pages), "ocr_pages": len(confidences)}),
        (filing.status, {"reason": filing.review_reason, "mrn": filing.patient_mrn}),
    ]
    return NewDocument(
        sha256=intake.sha256,
        source_name=display_name(held.original),
        source_path=display_path(held.original),
        media_type=intake.media_type,
        size_bytes=intake.size_bytes,
        events=events,
        actor=actor,
        **_filing_fields(pages, filing),
    )


def _filing_fields(pages: list[PageText], filing: Filing) -> dict[str, Any]:
    """What a reading and its decision store on a document (new or read again)."""
    confidences = [p.confidence for p in pages if p.confidence is not None]
    return {
        "status": filing.status,
        "patient_mrn": filing.patient_mrn,
        "doc_type": filing.doc_type,
        "doc_type_loinc": filing.doc_type_loinc,
        "review_reason": filing.review_reason,
        "ocr_confidence": sum(confidences) / len(confidences) if confidences else None,
        "service_date": filing.service_date,
        "decision": filing.decision,
        "pages": [_new_page(p, filing) for p in pages],
        "identifiers": filing.identifiers,
        "people": filing.people,
    }


def _quarantined(reason: str) -> dict[str, Any]:
    return {"status": "quarantined", "review_reason": reason}


def _new_page(page: PageText, filing: Filing) -> NewPage:
    passes = [*page.passes, *(filing.second_look_passes if page.number == 1 else ())]
    return NewPage(
        page.number,
        page.text,
        page.confidence,
        page.source,
        page.rotation,
        page.error,
        [p.to_json() for p in passes],
    )


def _under(path: Path, folder: Path) -> bool:
    try:
        return path.absolute().is_relative_to(folder.absolute())
    except OSError:
        return False
