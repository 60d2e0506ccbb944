"""The composition root: builds each part from its own settings section, on first use."""

from __future__ import annotations

import logging
import sys
from functools import cached_property
from pathlib import Path

from clerk.config import LoggingSettings, Settings, load_config
from index import SearchIndex
from records.audit import Actor
from records.store import Store
from scanner.indexing import StoreIndexer
from scanner.ocr import check_tesseract
from scanner.pipeline import Ingestor


def setup_logging(settings: LoggingSettings, *, to_stderr: bool = True) -> None:
    """Send the application log to stderr and, if configured, a file. Never PHI."""
    handlers: list[logging.Handler] = []
    if to_stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    if settings.file is not None:
        settings.file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(settings.file, encoding="utf-8"))
    logging.basicConfig(
        level=settings.level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    # Alembic announces every migration check at INFO; that is noise in a CLI's stderr.
    logging.getLogger("alembic").setLevel(logging.WARNING)


class App:
    """One configured chartclerk: store, search index, indexer and ingest pipeline."""

    def __init__(self, settings: Settings, actor: Actor | str) -> None:
        self.settings = settings
        # A plain name is for tests and scripts that build an App in Python; the command
        # line always passes the Actor of the process's own uid.
        self.actor = actor if isinstance(actor, Actor) else Actor(actor, "cli")

    @classmethod
    def from_config(cls, path: Path, actor: Actor | str) -> App:
        """Load ``path`` and build an app around it."""
        return cls(load_config(path), actor)

    @cached_property
    def store(self) -> Store:
        """The record store (database opened and migrated on first use)."""
        return Store(self.settings.store)

    @cached_property
    def search(self) -> SearchIndex:
        """The search index; rebuilt from the store when missing or of an old schema."""
        index = SearchIndex(self.settings.index)
        if index.needs_rebuild:
            StoreIndexer(self.store, index).rebuild()
        return index

    @cached_property
    def indexer(self) -> StoreIndexer:
        """Feeds the store's documents to the search index."""
        return StoreIndexer(self.store, self.search)

    @cached_property
    def ingestor(self) -> Ingestor:
        """The ingest pipeline, after checking tesseract and its languages are installed."""
        check_tesseract(self.settings.ocr.languages)
        return Ingestor(
            self.store,
            self.settings.ocr,
            self.settings.ingest,
            self.settings.filing,
            indexer=self.indexer,
            actor=self.actor,
        )

    def close(self) -> None:
        """Stop workers and release files and connections."""
        if "ingestor" in self.__dict__:
            self.ingestor.close()
        if "indexer" in self.__dict__:
            self.indexer.close()
        if "search" in self.__dict__:
            self.search.close()
        if "store" in self.__dict__:
            self.store.close()
