"""Leaving the inbox: releasing a stored file, or setting a bad one aside in quarantine."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

from chartclerk_files import atomic_path
from scanner.dropped.intake import Intake, file_identity

log = logging.getLogger("chartclerk.ingest")
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def same_file_still_there(intake: Intake) -> bool:
    """True when the inbox still holds exactly the version of the file that was read."""
    try:
        return file_identity(intake.path.lstat()) == intake.identity
    except FileNotFoundError:
        return False


def display_name(path: Path) -> str:
    """A file name safe to store and show: undecodable bytes and control characters replaced."""
    return _printable(path.name)


def display_path(path: Path) -> str:
    """The full path, made safe the same way as :func:`display_name`."""
    return _printable(str(path))


def _printable(text: str) -> str:
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def quarantine_name(document_id: int, path: Path) -> str:
    """A file name for the quarantine folder that no odd inbox name can escape from."""
    safe = UNSAFE.sub("_", display_name(path)).strip("._")[:120] or "file"
    return f"{document_id:06d}-{safe}"


def quarantine_file(path: Path, folder: Path, document_id: int, *, copy: bool) -> None:
    """Put the dropped file (a copy, or the entry itself) into the quarantine folder.

    With ``copy`` the bytes were read and archived, so a copy is made for the operator and
    the inbox file is released by the caller. Without it (unreadable, a link, a FIFO) the
    entry itself is moved out of the inbox so it is not taken again.
    """
    target = folder / quarantine_name(document_id, path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        if copy:
            if not target.exists():
                # Through a temporary name: a crash mid-copy must not leave a torn copy
                # that a later duplicate of the same file would take for a whole one.
                with atomic_path(target) as partial:
                    shutil.copyfile(path, partial, follow_symlinks=False)
        else:
            shutil.move(path, target)
    except OSError as exc:
        log.error(
            "document %d: could not place the file in quarantine: %s", document_id, exc.strerror
        )


def entry_key(path: Path) -> str | None:
    """Device, inode and change time of an entry: the same entry, untouched, after a crash."""
    try:
        info = path.lstat()
    except OSError:
        return None
    return f"{info.st_dev}:{info.st_ino}:{info.st_ctime_ns}"
