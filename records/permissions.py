"""STUB of the issue-9 permission table (replaced by branch i9 at merge)."""

from __future__ import annotations

import enum

from chartclerk_errors import ChartclerkError

ROLES: tuple[str, ...] = ("clerk", "supervisor", "viewer", "auditor")


class Action(enum.StrEnum):
    """Things a role may do."""

    SEARCH = "search"
    VIEW = "view"
    DOWNLOAD = "download"
    REVIEW = "review"
    REFILE = "refile"
    REPROCESS = "reprocess"
    REPROCESS_FILED = "reprocess_filed"
    QUARANTINE = "quarantine"
    IMPORT = "import"
    USERS = "users"
    AUDIT = "audit"
    STATUS = "status"
    DEFICIENCIES = "deficiencies"
    WAIVE = "waive"


_TABLE: dict[str, set[Action]] = {
    "clerk": {
        Action.SEARCH,
        Action.VIEW,
        Action.DOWNLOAD,
        Action.REVIEW,
        Action.REFILE,
        Action.REPROCESS,
        Action.STATUS,
        Action.DEFICIENCIES,
    },
    "supervisor": set(Action) - {Action.REPROCESS},
    "viewer": {Action.SEARCH, Action.VIEW, Action.STATUS},
    "auditor": {Action.AUDIT, Action.STATUS},
}
_TABLE["supervisor"].add(Action.REPROCESS)


class PermissionDenied(ChartclerkError):
    """The role may not do this."""


def allowed(role: str, action: Action) -> bool:
    """True when ``role`` may do ``action``."""
    return action in _TABLE.get(role, set())


def require(role: str | None, action: Action) -> None:
    """Raise PermissionDenied unless ``role`` may do ``action``."""
    if role is None or not allowed(role, action):
        raise PermissionDenied(f"not allowed: {action}")
