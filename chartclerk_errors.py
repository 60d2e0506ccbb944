"""The one exception root of chartclerk and its exit-code table.

Every part (records, scanner, index, clerk) raises subclasses of :class:`ChartclerkError`;
the command line has a single handler that prints ``str(error)`` on one line and exits with
``error.exit_code``. Messages must never carry PHI (names, MRNs, dates of birth, OCR text).
"""

from __future__ import annotations


class ChartclerkError(Exception):
    """Root of every error chartclerk raises on purpose."""

    exit_code = 1


class ConfigError(ChartclerkError):
    """The configuration file is missing, malformed, or names something unusable."""

    exit_code = 2


class MissingDependencyError(ChartclerkError):
    """An outside program (tesseract, a language pack) is not installed."""

    exit_code = 3


class InputFileError(ChartclerkError):
    """A dropped file cannot be read: it is quarantined with this message as the reason."""

    exit_code = 4


class StoreError(ChartclerkError):
    """The record store refused an operation (unknown id, wrong state, disk full, locked)."""

    exit_code = 5


class NotFoundError(StoreError):
    """A document, patient or other record asked for by id does not exist."""

    exit_code = 6


class SearchIndexError(ChartclerkError):
    """The full-text index could not be read or written."""

    exit_code = 7


class ImportFileError(ChartclerkError):
    """A patient import file could not be read at all (bad rows are reported, not raised)."""

    exit_code = 8


def error_origin(exc: BaseException) -> str:
    """Where an exception was raised, as ``type at package/module.py:line``, for a log line.

    The innermost frame of the traceback names the file and line; the exception's message is
    left out because it may quote a name, an MRN or a page's text.
    """
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return type(exc).__name__
    parts = tb.tb_frame.f_code.co_filename.replace("\\", "/").split("/")
    return f"{type(exc).__name__} at {'/'.join(parts[-2:])}:{tb.tb_lineno}"


class AuditChainError(ChartclerkError):
    """The audit trail's hash chain is broken: an entry was altered, removed, inserted or moved."""

    exit_code = 9


class PermissionDenied(ChartclerkError):  # noqa: N818 - the name other faces code against
    """The acting user's role does not allow this action (or the caller has no role at all)."""

    exit_code = 10


class AuthError(ChartclerkError):
    """A sign-in failed: unknown name, wrong password or disabled account (one message for all)."""

    exit_code = 11


class AccountThrottled(AuthError):  # noqa: N818 - named in the issue-9 API
    """Too many failed sign-ins in a row: the account must wait before the next attempt."""

    def __init__(self, retry_after_seconds: float) -> None:
        super().__init__(f"too many failed sign-ins; try again in {int(retry_after_seconds) + 1} s")
        self.retry_after_seconds = retry_after_seconds


# -- Failures of the world, not of a file ------------------------------------------------------
#
# One place names what is retried: the store locked or full, the disk full, tesseract missing,
# the archive unwritable. Everything else a file's processing raises is the file's own doing
# (its bytes made a decoder fail) and ends it: that page unread, or the file quarantined.


class NotReadyError(ChartclerkError):
    """The world is not ready for this file; it waits where it is and is tried again.

    ``kind`` is the key ``chartclerk status`` shows it under; ``advice`` says what to do.
    """

    kind = "environment"
    advice = "files wait in the inbox and are retried"


class StoreLockedError(NotReadyError, StoreError):
    """Another program holds the database's write lock for longer than the busy timeout."""

    kind = "store_locked"
    advice = "the record store is locked by another program; files wait and are retried"


class StoreFullError(NotReadyError, StoreError):
    """The database cannot grow (its disk is full or its size limit reached)."""

    kind = "store_full"
    advice = "the record store's disk is full; free space, files wait and are retried"


class StoreUnavailableError(NotReadyError, StoreError):
    """The database cannot be written at all (read-only, I/O error, cannot be opened)."""

    kind = "store_unavailable"
    advice = "the record store cannot be written; check its disk and permissions"


class DiskFullError(NotReadyError):
    """No space left for a temporary page image, a copy or a log."""

    kind = "disk_full"
    advice = "a disk chartclerk writes to is full; free space, files wait and are retried"


class ArchiveUnwritableError(NotReadyError, StoreError):
    """The archive of originals cannot be written (permissions, read-only, I/O error)."""

    kind = "archive_unwritable"
    advice = "the archive of original files cannot be written; check its folder's permissions"


class StillBeingWrittenError(NotReadyError):
    """The file changed while it was read: a writer still holds it. Taken again once still."""

    kind = "still_being_written"
    advice = "a file changed while it was read; it is taken again once it stops changing"


class TesseractMissingError(NotReadyError, MissingDependencyError):
    """Tesseract (or its data) vanished while the daemon runs: OCR waits until it is back."""

    kind = "tesseract_missing"
    advice = "tesseract is not installed; apt-get install tesseract-ocr tesseract-ocr-eng"


_DISK_FULL = {28, 122}  # ENOSPC, EDQUOT
# Errors the operating system reports about our own files and folders, never about a
# file's contents: read-only file system, permission, I/O error, out of file handles.
_OS_NOT_READY = {30, 13, 1, 5, 24, 23}  # EROFS, EACCES, EPERM, EIO, EMFILE, ENFILE


def not_ready(exc: BaseException) -> NotReadyError | None:
    """The environmental failure ``exc`` is, or None when a file's own content caused it.

    Decoders signal bad bytes in every way (their own exception classes, ``OSError``
    without an errno, ``struct.error``, ``RecursionError``, ``MemoryError`` on one page);
    none of those is a reason to retry. Only the errors named here are.
    """
    if isinstance(exc, NotReadyError):
        return exc
    if isinstance(exc, OSError) and exc.errno is not None:
        if exc.errno in _DISK_FULL:
            return DiskFullError(f"no space left on a disk chartclerk writes to ({exc.strerror})")
        if exc.errno in _OS_NOT_READY:
            return NotReadyError(f"the system refused a file operation ({exc.strerror})")
    return None


def content_reason(exc: BaseException) -> str:
    """A one-line, PHI-free reason for a file or page a decoder could not read.

    Only the exception's type is named: decoders' messages may quote the file's text.
    """
    if isinstance(exc, ChartclerkError):
        text = str(exc).strip().splitlines()
        return text[0][:200] if text else type(exc).__name__
    if isinstance(exc, RecursionError):
        return "unreadable: structure nested too deep (RecursionError)"
    if isinstance(exc, MemoryError):
        return "unreadable: too large to decode in memory (MemoryError)"
    return f"unreadable: its decoder failed ({type(exc).__name__})"
