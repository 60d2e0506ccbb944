"""Claiming a dropped file before reading it: a rename into a private processing folder.

On a network share "unchanged for a while" is a guess: attribute caches lag and scanners
pause mid-file. A rename is a question the file server answers: SMB refuses to rename a file
a writer still holds open, so a refused rename means "wait". The processing folder is inside
the inbox (the same file system, so the rename is atomic) and hidden, so the watcher never
lists it. What a crash leaves there is taken again at the next start.
"""

from __future__ import annotations

import errno
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

from chartclerk_errors import NotReadyError

PROCESSING = ".chartclerk-processing"
# A writer still holding the file (SMB sharing violation) or a share that refuses renames
# for a moment: wait and try again.
_BUSY = {errno.EACCES, errno.EPERM, errno.EBUSY, errno.ETXTBSY, errno.EAGAIN}


class FileInUseError(NotReadyError):
    """The file could not be claimed: a writer still holds it. It is tried again."""

    kind = "file_in_use"
    advice = "a file could not be claimed (a writer still holds it open); it is tried again"


@dataclass(frozen=True)
class Claim:
    """A file being processed: where it was dropped, and where it is read from now.

    Attributes:
        original: the path it was dropped at (its name is the document's source name).
        path: where it is now; the same as ``original`` when it was not claimed (a file
            ``chartclerk ingest`` reads outside the inbox and leaves in place).
    """

    original: Path
    path: Path

    @classmethod
    def in_place(cls, path: Path) -> Claim:
        """A file read where it is, not moved."""
        return cls(path, path)

    @property
    def claimed(self) -> bool:
        """True when the file was moved into the processing folder."""
        return self.path != self.original


def processing_folder(inbox: Path) -> Path:
    """The inbox's private processing folder, made (0700) when missing."""
    folder = inbox / PROCESSING
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _claimed_name(relative: Path) -> str:
    # One flat folder, no folder per claim: the watcher's recursive inotify watch would
    # chase folders made and removed many times a second. The name carries where the file
    # was dropped (so a crash's leftovers keep their source path), quoted to one level.
    token = uuid.uuid4().hex[:16]
    quoted = quote(os.fsencode(relative), safe="")
    return f"{token}~{quoted}" if len(quoted) <= 200 else f"{token}~{quote(relative.name)[:200]}"


def claim(path: Path, inbox: Path) -> Claim | None:
    """Move a dropped file into the processing folder (an atomic rename).

    Returns:
        The claim, or None when the file is gone (another process took it).

    Raises:
        FileInUseError: the rename was refused (a writer still holds the file).
    """
    try:
        relative = path.relative_to(inbox)
    except ValueError:
        relative = Path(path.name)
    target = processing_folder(inbox) / _claimed_name(relative)
    try:
        path.rename(target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno in _BUSY:
            raise FileInUseError("a dropped file could not be claimed (in use)") from None
        raise
    return Claim(path, target)


def unclaim(held: Claim) -> Path:
    """Put a claimed file back where it was dropped, to be taken again; returns where it is.

    When a new file has taken its name meanwhile, it stays in the processing folder and is
    taken at the next start.
    """
    if not held.claimed or not (held.path.exists() or held.path.is_symlink()):
        return held.path
    try:
        held.original.parent.mkdir(parents=True, exist_ok=True)
        # link + unlink, not rename: never replace a file that took the name meanwhile.
        os.link(held.path, held.original, follow_symlinks=False)
    except FileExistsError:
        return held.path
    except OSError:
        # No hard links on this share: a rename is the best there is.
        if held.original.exists() or held.original.is_symlink():
            return held.path
        held.path.rename(held.original)
        return held.original
    held.path.unlink()
    return held.original


def left_claims(inbox: Path) -> list[Claim]:
    """Files a crash left in the processing folder, to be taken again at start."""
    root = inbox / PROCESSING
    if not root.is_dir():
        return []
    claims: list[Claim] = []
    for entry in sorted(root.iterdir()):
        token, sep, quoted = entry.name.partition("~")
        if not sep or entry.is_dir() and not entry.is_symlink():
            continue
        relative = Path(os.fsdecode(unquote_to_bytes(quoted)))
        if relative.is_absolute() or ".." in relative.parts:
            relative = Path(relative.name)
        claims.append(Claim(inbox / relative, entry))
    return claims
