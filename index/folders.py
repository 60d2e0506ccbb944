"""The index folder on disk: open it, create it, build a fresh one beside it and swap it in.

The folder at ``IndexSettings.path`` belongs to the index alone: a rebuild replaces it whole.
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh import index as windex

from chartclerk_errors import SearchIndexError
from index.schema import build_schema, version_matches, write_version

logger = logging.getLogger(__name__)

_REAPPEAR_CHECKS = 10
_REAPPEAR_DELAY = 0.05


@dataclass
class OpenedIndex:
    """A Whoosh index opened at a folder, and whether its content must be rebuilt."""

    engine: Any
    needs_rebuild: bool
    inode: int


def open_or_create(path: Path) -> OpenedIndex:
    """Open the index at ``path``; create it empty when missing, stale or unreadable.

    Returns:
        The opened index. ``needs_rebuild`` is True when the folder was missing, had no or
        another schema version stamp, or could not be opened: it is then empty and the
        caller should refill it with :meth:`SearchIndex.rebuild`.
    """
    if path.exists() and not path.is_dir():
        raise SearchIndexError(f"search index path {path} is a file, not a folder")
    try:
        fresh = not path.exists() or not any(path.iterdir())
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if version_matches(path) and windex.exists_in(str(path)):
            engine = _try_open(path)
            if engine is not None:
                return OpenedIndex(engine, False, path.stat().st_ino)
        # A new data folder has no index yet: nothing is wrong. Anything else is worth a look.
        level = logging.INFO if fresh else logging.WARNING
        logger.log(level, "search index at %s is missing or stale; recreating it empty", path)
        engine = create_empty(path)
        return OpenedIndex(engine, True, path.stat().st_ino)
    except OSError as error:
        raise SearchIndexError(f"search index at {path} cannot be opened: {error}") from error


def _try_open(path: Path) -> Any | None:
    try:
        engine = windex.open_dir(str(path))
        engine.doc_count()  # reads the table of contents and segment list
    except Exception as error:  # a corrupt index fails in many ways; it is derived data
        logger.warning("search index at %s is unreadable (%s)", path, type(error).__name__)
        return None
    return engine


def create_empty(folder: Path) -> Any:
    """Create an empty index in ``folder`` (deleting an old one there) and stamp its version."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = windex.create_in(str(folder), build_schema())
    write_version(folder)
    return engine


def current_inode(path: Path) -> int | None:
    """Return the folder's inode, waiting briefly out a rebuild's swap; None when gone."""
    for _ in range(_REAPPEAR_CHECKS):
        try:
            return path.stat().st_ino
        except FileNotFoundError:
            time.sleep(_REAPPEAR_DELAY)
    return None


def fresh_folder(path: Path) -> Path:
    """Return a new, not yet existing sibling folder to build a replacement index in."""
    return path.with_name(f".{path.name}.rebuild-{uuid.uuid4().hex[:12]}")


def remove_leftovers(path: Path) -> None:
    """Delete folders a crashed rebuild left beside ``path`` (call under the rebuild lock)."""
    for pattern in (f".{path.name}.rebuild-*", f".{path.name}.old-*"):
        for leftover in path.parent.glob(pattern):
            logger.info("removing leftover search index folder %s", leftover.name)
            shutil.rmtree(leftover, ignore_errors=True)


def swap_in(fresh: Path, path: Path) -> None:
    """Replace the folder at ``path`` with ``fresh``.

    Two renames, each atomic: a reader sees the old index or the new one, or for a few
    microseconds no folder (which :func:`current_inode` waits out). A crash between them
    leaves no folder, and the next open recreates it with ``needs_rebuild`` set.
    """
    old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:12]}")
    if path.exists():
        path.rename(old)
    fresh.rename(path)
    shutil.rmtree(old, ignore_errors=True)
