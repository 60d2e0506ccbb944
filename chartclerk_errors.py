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


class OcrTimeoutError(InputFileError):
    """Tesseract did not finish a page within the configured time limit."""


class OcrWorkerDiedError(InputFileError):
    """An OCR worker process died while reading a file (killed, out of memory)."""


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
