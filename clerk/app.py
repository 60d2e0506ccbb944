"""The composition root: builds each part from its own settings section, on first use."""

from __future__ import annotations

import logging
import os
import sys
from functools import cached_property
from pathlib import Path

from chartclerk_errors import ConfigError
from clerk.config import LoggingSettings, Settings, load_config
from clerk.identity import cli_role
from index import SearchIndex
from records import audit
from records.audit import Actor
from records.deficiency_store import analyze
from records.permissions import Action, allowed, require
from records.store import Store, now
from scanner.health import Health
from scanner.indexing import StoreIndexer
from scanner.ocr import check_tesseract
from scanner.pipeline import Ingestor


def setup_logging(settings: LoggingSettings, *, to_stderr: bool = True) -> None:
    """Send the application log to stderr and, if configured, a file. Never PHI."""
    handlers: list[logging.Handler] = []
    if to_stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
    if settings.file is not None:
        settings.file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Created 0600 whatever the umask: the log names documents and hash prefixes.
        os.close(os.open(settings.file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        handlers.append(logging.FileHandler(settings.file, encoding="utf-8"))
    logging.basicConfig(
        level=settings.level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    # Alembic announces every migration check at INFO; that is noise in a CLI's stderr.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def check_private(data_dir: Path) -> None:
    """Create the data folder 0700, or refuse one that group or others can enter.

    Raises:
        ConfigError: the folder is open to group or others (exit code 2), named.
    """
    if not data_dir.exists():
        data_dir.mkdir(mode=0o700, parents=True)
        return
    mode = data_dir.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigError(
            f"data folder {data_dir} is open to group or others (mode {mode:04o}); "
            f"run: chmod 700 {data_dir}"
        )


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
    def role(self) -> str | None:
        """The role this app's actor acts with (clerk/identity.py: the command-line rule)."""
        return cli_role(self.actor, self.settings.data_dir, self.store)

    def authorize(self, action: Action) -> None:
        """Go on only if the actor's role allows ``action``; a refusal is an audit entry.

        Raises:
            PermissionDenied: the role does not allow it, or there is no role.
        """
        role = self.role
        if not allowed(role or "", action):
            with self.store.session() as s:
                audit.record(
                    s,
                    self.actor,
                    "permission denied",
                    outcome="denied",
                    detail=f"action={action.value} role={role}",
                )
        require(role, action)

    def act_as_daemon(self) -> None:
        """From now on this app acts as the service itself (``system``, channel ``daemon``)."""
        if "ingestor" in self.__dict__:
            raise RuntimeError("the ingest pipeline was built before the daemon took over")
        self.actor = audit.SYSTEM

    @cached_property
    def store(self) -> Store:
        """The record store (database opened and migrated on first use)."""
        store = Store(self.settings.store)
        completeness = self.settings.completeness
        store.on_documents_moved = lambda mrns, ids, actor: analyze(
            store, completeness, now=now(), mrns=mrns, document_ids=ids, actor=actor
        )
        return store

    @cached_property
    def search(self) -> SearchIndex:
        """The search index; rebuilt from the store when missing or of an old schema."""
        index = SearchIndex(self.settings.index)
        # A new data folder's index was just created empty, as the store is: nothing to refill.
        if index.needs_rebuild and self.store.count_documents():
            StoreIndexer(self.store, index).rebuild()
        return index

    @cached_property
    def indexer(self) -> StoreIndexer:
        """Feeds the store's documents to the search index."""
        return StoreIndexer(self.store, self.search)

    @cached_property
    def health(self) -> Health:
        """The environmental failures now in force; the daemon writes them for ``status``."""
        return Health()

    @property
    def health_file(self) -> Path:
        """Where the daemon writes its health board, beside the database."""
        return self.settings.data_dir / "daemon-health.json"

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
            inbox=self.settings.inbox.path,
            health=self.health,
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
