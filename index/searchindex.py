"""The search index facade: the only class the rest of chartclerk uses to index and search."""

from __future__ import annotations

import contextlib
import functools
import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from filelock import FileLock
from filelock import Timeout as FileLockTimeout
from whoosh.index import LockError

from chartclerk_errors import SearchIndexError
from index import folders
from index.analysis import fold_text_fields
from index.codec import FastCodec
from index.models import IndexDocument, IndexSettings, SearchFilters, SearchHit, SearchResult
from index.schema import build_schema, document_fields, write_version

if TYPE_CHECKING:
    from index.querying import QueryBuilder

logger = logging.getLogger(__name__)


PARALLEL_REBUILD_MIN_DOCS = 5000


@contextlib.contextmanager
def engine_errors(action: str) -> Iterator[None]:
    """Turn whatever the engine raises during ``action`` into a one-line SearchIndexError."""
    try:
        yield
    except SearchIndexError:
        raise
    except OSError as error:
        raise SearchIndexError(f"search index {action} failed: {error}") from error
    except Exception as error:  # the engine's errors are not typed; messages may carry text
        raise SearchIndexError(f"search index {action} failed ({type(error).__name__})") from error


class SearchIndex:
    """Full-text index of documents, kept in one folder.

    Safe to share between threads of one process (calls are serialised); several processes
    may open the same folder: writers take turns through the engine's own lock file.
    """

    def __init__(self, settings: IndexSettings) -> None:
        """Open the index at ``settings.path``, creating it when missing (see needs_rebuild)."""
        self._settings = settings
        self._path = Path(settings.path)
        self._lock = threading.RLock()
        self._searcher: Any = None
        self._opened = folders.open_or_create(self._path)
        # Taken around "write, then record it was written" by every process, and by a
        # rebuild around its swap: a write can then never land in an index being replaced
        # without the rebuild seeing it.
        self._write_lock = FileLock(str(self._path.with_name(f".{self._path.name}.write.lock")))

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the index's write lock (shared by every process on this index folder).

        Raises:
            SearchIndexError: another process held it too long (a rebuild swapping).
        """
        try:
            self._write_lock.acquire(timeout=self._settings.lock_timeout_seconds * 6)
        except FileLockTimeout as error:
            raise SearchIndexError(f"search index at {self._path} is busy (write lock)") from error
        try:
            yield
        finally:
            self._write_lock.release()

    @classmethod
    def open(cls, settings: IndexSettings) -> SearchIndex:
        """Open (or create) the index described by ``settings``."""
        return cls(settings)

    @property
    def needs_rebuild(self) -> bool:
        """True when the index was (re)created empty and should be refilled from the store.

        That is: its folder was missing, carried no or another schema version, or could not
        be read. It becomes False after a successful :meth:`rebuild`.
        """
        return self._opened.needs_rebuild

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release open files. The object must not be used afterwards."""
        with self._lock:
            self._close_searcher()

    # -- writing ---------------------------------------------------------------------------

    def add(self, docs: Iterable[IndexDocument], merge: bool = True) -> int:
        """Add or replace (by id) documents, committing every ``commit_batch`` documents.

        Args:
            docs: the documents.
            merge: let each commit merge small segments (the engine's default). A writer
                that commits again and again during a burst passes False, and calls
                :meth:`merge` when the burst is over: otherwise the same small segments
                are merged again at every commit.

        Returns:
            The number of documents written.
        """
        written = 0
        iterator = iter(docs)
        while batch := list(islice(iterator, self._settings.commit_batch)):
            with self._lock, engine_errors("update"):
                writer = self._writer()
                try:
                    for doc in batch:
                        writer.update_document(**document_fields(doc))
                except BaseException:
                    writer.cancel()
                    raise
                writer.commit(merge=merge)
            written += len(batch)
            logger.debug("indexed documents %s", [doc.id for doc in batch])
        return written

    def merge(self) -> None:
        """Merge small segments, as a commit of :meth:`add` does unless told not to."""
        with self._lock, engine_errors("merge"):
            writer = self._writer()
            try:
                writer.commit()
            except BaseException:
                writer.cancel()
                raise

    def remove(self, doc_id: int) -> bool:
        """Remove a document from the index; return False when it was not there."""
        with self._lock, engine_errors("delete"):
            writer = self._writer()
            try:
                removed = writer.delete_by_term("id", str(doc_id))
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
        logger.debug("removed document %d from the index (%d entries)", doc_id, removed)
        return bool(removed)

    def _writer(self, **options: Any) -> Any:
        """Take the engine's writer lock, retrying a bounded number of times."""
        engine = self._engine()
        delay = self._settings.retry_delay_seconds
        attempts = self._settings.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                writer = engine.writer(
                    timeout=self._settings.lock_timeout_seconds, codec=FastCodec(), **options
                )
            except LockError:
                if attempt == attempts:
                    break
                logger.info("search index writer lock busy (attempt %d/%d)", attempt, attempts)
                time.sleep(delay)
                delay *= 2
            else:
                if fold_text_fields(writer.schema):
                    logger.info("search index: text fields upgraded to the faster indexing")
                return writer
        raise SearchIndexError(
            f"search index at {self._path} is locked by another writer "
            f"(gave up after {attempts} attempts)"
        )

    # -- rebuilding ------------------------------------------------------------------------

    def rebuild(
        self,
        docs: Iterable[IndexDocument],
        total: int | None = None,
        progress: Callable[[int], None] | None = None,
        settle: Callable[[], None] | None = None,
    ) -> int:
        """Build a new index from ``docs`` in a fresh folder, then swap it in.

        On any failure the fresh folder is deleted and the old index stays as it was.
        The swap happens under the write lock (see :meth:`writing`), and ``settle`` runs
        right after it, still under the lock: the caller adds there what other processes
        wrote to the old index while the new one was being built.

        Args:
            docs: every document that should be searchable (the store's whole content).
            total: how many ``docs`` there are, if known; only used in log lines.
            progress: called with the number of documents done so far, now and then.
            settle: run under the write lock right after the swap (see above).

        Returns:
            The number of documents indexed.
        """
        lock = FileLock(str(self._path.with_name(f".{self._path.name}.rebuild.lock")))
        try:
            with lock.acquire(timeout=self._settings.lock_timeout_seconds):
                return self._rebuild_locked(docs, total, progress, settle)
        except FileLockTimeout as error:
            raise SearchIndexError(
                f"search index at {self._path} is already being rebuilt"
            ) from error

    def _rebuild_locked(
        self,
        docs: Iterable[IndexDocument],
        total: int | None,
        progress: Callable[[int], None] | None,
        settle: Callable[[], None] | None = None,
    ) -> int:
        folders.remove_leftovers(self._path)
        fresh = folders.fresh_folder(self._path)
        try:
            with engine_errors("rebuild"):
                count = self._fill(fresh, docs, total, progress)
                write_version(fresh)
        except BaseException:
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        with self.writing():
            with self._lock, engine_errors("swap"):
                self._close_searcher()
                folders.swap_in(fresh, self._path)
                self._opened = folders.open_or_create(self._path)
            if settle is not None:
                settle()
        logger.info("search index rebuilt: %d documents (expected %s)", count, total)
        return count

    def _fill(
        self,
        folder: Path,
        docs: Iterable[IndexDocument],
        total: int | None,
        progress: Callable[[int], None] | None,
    ) -> int:
        settings = self._settings
        engine = folders.create_empty(folder)
        # Extra indexing processes pay off only on a large rebuild (100,000 documents: 355
        # docs/s with one, 838 with two); a small one would spend longer starting them.
        procs = settings.procs if (total or 0) >= PARALLEL_REBUILD_MIN_DOCS else 1
        # One big commit; multisegment skips the final merge when several procs are used.
        writer = engine.writer(
            limitmb=settings.limitmb, procs=procs, multisegment=procs > 1, codec=FastCodec()
        )
        count = 0
        try:
            for doc in docs:
                writer.add_document(**document_fields(doc))
                count += 1
                if progress is not None and count % settings.commit_batch == 0:
                    progress(count)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        if progress is not None:
            progress(count)
        return count

    # -- reading ---------------------------------------------------------------------------

    def search(
        self,
        query: str,
        filters: SearchFilters | None = None,
        limit: int = 10,
        page: int = 1,
    ) -> SearchResult:
        """Run a query (Whoosh syntax, see :mod:`index.querying`) and return one page of hits.

        Raises:
            SearchIndexError: the query is malformed (one-line message) or the index failed.
        """
        if limit < 1 or page < 1:
            raise SearchIndexError("search limit and page must be at least 1")
        from index.querying import configure_highlighting, filter_query, restrict

        include_rejected = filters is not None and filters.include_rejected
        parsed = restrict(
            self._queries.parse(query), filter_query(filters), include_rejected=include_rejected
        )
        with self._lock, engine_errors("search"):
            results = self._current_searcher().search(parsed, limit=page * limit)
            configure_highlighting(results, self._settings.snippet_chars)
            page_hits = results[(page - 1) * limit : page * limit]
            hits = [self._hit(hit) for hit in page_hits]
            # An exact count makes Whoosh run the query a second time without a limit; the
            # estimate is exact for single-term queries and close for the rest.
            if results.has_exact_length():
                total = len(results)
            else:
                total = max(results.estimated_length(), len(results.top_n))
            return SearchResult(hits=hits, total=total, page=page, limit=limit)

    @functools.cached_property
    def _queries(self) -> QueryBuilder:
        # Built at the first search: the query parser and highlighter are not imported by a
        # process that only writes (``chartclerk ingest``: 0.02-0.03 s of its start).
        from index.querying import QueryBuilder

        return QueryBuilder(build_schema())

    def _hit(self, hit: Any) -> SearchHit:
        from index.querying import snippet

        return SearchHit(
            id=int(hit["id"]),
            source_name=hit.get("source_name", ""),
            patient_mrn=hit.get("mrn"),
            doc_type=hit.get("doc_type"),
            score=float(hit.score or 0.0),
            snippet=snippet(hit, self._settings.snippet_chars),
        )

    def doc_count(self) -> int:
        """Return the number of documents in the index."""
        with self._lock, engine_errors("count"):
            return int(self._current_searcher().doc_count())

    def ids(self) -> set[int]:
        """Return the ids of all indexed documents (to compare with the store)."""
        with self._lock, engine_errors("listing"):
            reader = self._current_searcher().reader()
            if not reader.doc_count():
                return set()  # an empty index has no id column to read
            column = reader.column_reader("id")
            return {int(_as_text(column[docnum])) for docnum in reader.all_doc_ids()}

    # -- engine objects --------------------------------------------------------------------

    def _engine(self) -> Any:
        """Return the engine's index, reopening it when its folder was swapped or deleted."""
        inode = folders.current_inode(self._path)
        if inode != self._opened.inode:
            self._close_searcher()
            was_stale = self._opened.needs_rebuild
            self._opened = folders.open_or_create(self._path)
            self._opened.needs_rebuild = self._opened.needs_rebuild or was_stale
        return self._opened.engine

    def _current_searcher(self) -> Any:
        engine = self._engine()
        if self._searcher is not None and not self._searcher.up_to_date():
            # Not Searcher.refresh(): it reuses segment readers and so misses deletions
            # committed to an existing segment (update_document of an older document).
            self._close_searcher()
        if self._searcher is None:
            self._searcher = engine.searcher()
        return self._searcher

    def _close_searcher(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None


def _as_text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
